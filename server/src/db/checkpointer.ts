/**
 * WAL checkpoints of local files on a thread of their own (one per JavaScript thread that opens
 * databases: the API's and the engine's each have one). By default SQLite checkpoints inside the
 * commit that takes the WAL past 1,000 pages: that commit copies about 4 MB into the database file
 * and syncs it, up to 28 ms on the writer's thread, and the synchronous driver holds that thread's
 * event loop meanwhile (the engine's sends and outcomes, the API's requests). Here a thread runs
 * PASSIVE checkpoints, which never wait for a reader or a writer, every CHECKPOINT_EVERY_MS while the
 * WAL grows. Writers keep their own automatic checkpoint as a backstop at WRITER_CHECKPOINT_PAGES,
 * should this thread fall behind or a writer commit without pause (a checkpoint that races commits
 * cannot let the WAL start over; the writer's, by then a few pages, usually can). The thread rests
 * between rounds at least as long as a round took, and steps aside once the backstop is due, so that
 * the writers' checkpoint finds the lock free.
 */
import { Worker } from 'node:worker_threads';
import type { Client } from '@libsql/client';
import { logError } from '../lib/log';
import { sleep } from '../lib/timers';

/** How often, at most, the thread looks at each watched file's WAL (a round that took longer rests as long). */
export const CHECKPOINT_EVERY_MS = 100;

/** The writers' own checkpoint, left as a backstop: about 40 MB of WAL at 4 KB pages. */
export const WRITER_CHECKPOINT_PAGES = 10_000;

/**
 * How long the thread leaves the checkpoint lock to the writers once the WAL is past their backstop:
 * under commits without pause only their checkpoint lets the WAL start over.
 */
export const BACKSTOP_REST_MS = 1_000;

/** How many times a checkpoint thread that died is started again in this thread's life. */
const RESTARTS = 3;

let worker: Worker | undefined;
let restarts = 0;

/**
 * Whether the checkpoint thread may call into the driver: IDLE, BUSY while it does, CLOSED once this
 * thread is exiting. A thread ended in the middle of a driver call aborts the whole process (the
 * driver asserts on the call that fails, and its panics abort), as a command that ended while the
 * thread opened its connection did; so the exit waits for the call in hand, and none starts after.
 */
const gate = new Int32Array(new SharedArrayBuffer(4));
const IDLE = 0;
const BUSY = 1;
const CLOSED = 2;

function closeGate() {
  // A checkpoint round takes milliseconds; the bound only keeps a wedged one from holding the exit.
  const deadline = Date.now() + 5_000;
  while (Atomics.compareExchange(gate, 0, IDLE, CLOSED) === BUSY && Date.now() < deadline)
    Atomics.wait(gate, 0, BUSY, 100);
}
// Free when no thread ever started: the gate is idle, and shuts at once.
process.once('exit', closeGate);

/** Open handles per file: a file is watched while one of this thread's handles has it open. */
const watched = new Map<string, number>();

function thread(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./checkpoint-thread.mjs', import.meta.url), {
      workerData: {
        everyMs: CHECKPOINT_EVERY_MS,
        backstopPages: WRITER_CHECKPOINT_PAGES,
        backstopRestMs: BACKSTOP_REST_MS,
        gate: gate.buffer,
      },
      // Plain JavaScript needing only the driver: none of this process's flags (`--input-type`, loaders).
      execArgv: [],
    });
    // It never keeps the process alive; if it dies, writers' backstop checkpoints still run.
    worker.unref();
    const started = worker;
    started.on('error', (error) => logError('the WAL checkpoint thread stopped', error));
    started.on('exit', () => {
      if (worker !== started) return;
      worker = undefined;
      // Died in the middle of a call: the gate is not left shut for the next thread.
      Atomics.compareExchange(gate, 0, BUSY, IDLE);
      // Started again for the files still open, a few times; after that the backstop alone.
      if (watched.size > 0 && restarts++ < RESTARTS)
        for (const path of watched.keys()) thread().postMessage({ type: 'watch', path });
    });
  }
  return worker;
}

/** Checkpoints `path` on the checkpoint thread until the returned function is called. */
export function watchCheckpoints(path: string): () => void {
  const count = watched.get(path) ?? 0;
  watched.set(path, count + 1);
  if (count === 0) thread().postMessage({ type: 'watch', path });
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (watched.get(path) ?? 1) - 1;
    if (left > 0) watched.set(path, left);
    else {
      watched.delete(path);
      worker?.postMessage({ type: 'unwatch', path });
    }
  };
}

/**
 * Copies the whole WAL into the database file and empties it, now (what a test or a benchmark does
 * before copying the file or measuring). The checkpoint thread may hold the checkpoint lock for a moment,
 * and SQLite answers "busy" rather than wait for it: asked again until it is done.
 */
export async function checkpointNow(client: Client, giveUpMs = 5_000): Promise<void> {
  const RETRY_MS = 20;
  for (let waited = 0; ; waited += RETRY_MS) {
    const row = (await client.execute('PRAGMA wal_checkpoint(TRUNCATE)')).rows[0];
    if (Number(row?.[0]) === 0) return;
    if (waited >= giveUpMs)
      throw new Error(`the WAL could not be checkpointed: the database stayed busy for ${giveUpMs / 1000} s`);
    await sleep(RETRY_MS);
  }
}
