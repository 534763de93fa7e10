/**
 * The engine's storage-fault pause. When the database refuses writes (locked by someone else past
 * the busy timeout, disk full, I/O error) the engine pauses instead of dropping work: claims and
 * sends wait, and the write that failed is retried until the database takes it again.
 */
import { storageFault } from '../db/client';
import { sleep } from '../lib/timers';

/** Retry delays while paused: short at first (a lock held briefly), then a cheap probe every few seconds. */
const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 2000;

/** Set while the database refuses writes: claims and sends wait for `resumed`. */
interface Pause {
  since: number;
  resumed: Promise<void>;
  resume: () => void;
}

export class WritePause {
  private pause: Pause | undefined;

  constructor(private readonly log: (message: string, error?: unknown) => void) {}

  /** True while the database refuses writes and the engine waits for it. */
  get active(): boolean {
    return this.pause !== undefined;
  }

  /**
   * Runs a write until the database takes it. A storage fault pauses the engine: claims and sends
   * wait (a send needs its "dispatched" mark written first, and its outcome written after), outcomes
   * already received stay in memory with the write that failed, and that write is retried with
   * backoff; the first retry that gets through resumes everything. Logged once per pause, not per
   * write. Every write here is atomic (one statement, batch or transaction), so a failed one left
   * nothing half done and is simply run again. There is no giving up: a stop() during a pause waits
   * for the database, because what this process holds (outcomes, batches it never sent) is known
   * nowhere else. Any other error is thrown as before.
   */
  async durably<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await write();
        // Only a write that had failed ends a pause: on a full disk, a write that needs no new page
        // (an update that changes nothing) goes through and proves nothing.
        if (attempt > 0) this.resume();
        return result;
      } catch (error) {
        const fault = storageFault(error);
        if (!fault) throw error;
        this.enter(fault);
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        await sleep(backoff * (0.75 + Math.random() / 2));
      }
    }
  }

  /** Returns once the engine is not paused. */
  async whileWritable(): Promise<void> {
    while (this.pause) await this.pause.resumed;
  }

  private enter(fault: Error): void {
    if (this.pause) return;
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.pause = { since: Date.now(), resumed, resume };
    // A log line, not an event: events live in the database that is refusing writes.
    this.log(
      'paused: the database refuses writes; claims and sends wait, outcomes already received are kept in memory and retried',
      fault,
    );
  }

  private resume(): void {
    const pause = this.pause;
    if (!pause) return;
    this.pause = undefined;
    this.log(`resumed: the database takes writes again after ${Date.now() - pause.since} ms`);
    pause.resume();
  }
}
