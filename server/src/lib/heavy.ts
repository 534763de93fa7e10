/**
 * Fairness for heavy operations (contact search, segment preview, exports, imports): how many may run
 * at once per token and per workspace (beyond that, 429 with Retry-After), and where the reads run —
 * on worker threads with connections of their own, so the API's event loop stays free for everyone else.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorBodySchema } from '@rebound/shared';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { type Database, lentWriteTurn } from '../db/client';
import type { AppEnv, AuthContext } from './env';
import { ApiError } from './errors';
import {
  type FromWorker,
  fromWire,
  type HeavyThreadData,
  type JsonTask,
  jsonTasks,
  type StreamTask,
  streamTasks,
  type ToWorker,
  URGENT_TASKS,
} from './heavy-tasks';
import { jsonContent } from './openapi';

declare module 'hono' {
  interface ContextVariableMap {
    heavy: HeavyWork;
  }
}

/** Bounded heavy work (a search, a preview, an import), or a download streamed for as long as it is read. */
export type HeavyKind = 'work' | 'download';

export const HEAVY_DEFAULTS = {
  perToken: 4,
  perWorkspace: 8,
  downloadsPerToken: 2,
  downloadsPerWorkspace: 4,
  downloadStallMs: 60_000,
  maxCustomFieldKeys: 200,
} as const;
/** The longest Retry-After a refused caller is given. */
const MAX_RETRY_AFTER_SECONDS = 30;

export interface HeavyOptions {
  /** Heavy operations one token may run at once. */
  perToken?: number;
  /** Heavy operations one workspace may run at once, all its tokens together. */
  perWorkspace?: number;
  /**
   * Downloads (CSV exports) one token, and one workspace, may stream at once. They are counted apart
   * from searches, previews and imports: a download lasts as long as its reader reads, and a few slow
   * or stalled ones must not keep a workspace's agents from searching.
   */
  downloadsPerToken?: number;
  downloadsPerWorkspace?: number;
  /** A download that makes no progress this long (its reader stopped reading, or its thread died) is ended. */
  downloadStallMs?: number;
  /** Distinct custom-field keys a workspace may hold; also the most custom columns an export has. */
  maxCustomFieldKeys?: number;
  /**
   * The database's libSQL URL, for the heavy threads to open. Without it (or for :memory:) the heavy
   * reads run on the API's thread: fine for tests, not for a server.
   */
  databaseUrl?: string | undefined;
  authToken?: string | undefined;
  /** Heavy threads; by default one per spare core (at most 4), always at least one. */
  threads?: number;
  /** Threads for the bounded reads of the log (pages, counts); one by default. */
  readThreads?: number;
}

export interface HeavyFile {
  filename: string;
  stream: ReadableStream<Uint8Array>;
}

interface Thread {
  worker: Worker;
  /** Open work: runs waiting for their answer and files not yet read to the end (for picking a thread). */
  busy: number;
  /** Runs handed to the thread and not answered yet (the fair queue keeps this at runsPerThread). */
  running: number;
  handlers: Map<number, (message: FromWorker) => void>;
}

/** One waiting to run: the workspace it is for, and how to start it once a thread is free. */
interface Waiting {
  start: (thread: Thread) => void;
}

/**
 * Worker threads started on first use, each with its own read connection. Work waits in one queue per
 * workspace and the queues take turns: a workspace sending a hundred reads at once waits for its own,
 * while another's read goes next.
 */
class HeavyPool {
  #threads: Thread[] = [];
  #nextId = 1;
  readonly #queues = new Map<number, Waiting[]>();
  /**
   * Runs of URGENT_TASKS, one queue per workspace as the others: handed out before any queued run,
   * workspaces taking turns, and never two in a row while a queued run waits, so a flood of stops
   * starves nobody.
   */
  readonly #urgent = new Map<number, Waiting[]>();
  #urgentLast = false;
  /** Reads still waiting for their turn, by what they read (see `shareWaiting`). */
  readonly #waiting = new Map<string, Promise<unknown>>();
  /** Reads answered by joining one that waited (for the benchmark and the tests). */
  joined = 0;
  /** Runs handed to a thread and not answered yet, by workspace (the cap below). */
  readonly #runningBy = new Map<number, number>();
  /**
   * Runs one workspace may have on the threads at once: all but one thread's worth, so that another
   * workspace's read always finds a thread within the time of its own (a workspace's hundred scans
   * filled every thread, and the queues' turns only began when one of them ended). One thread: no cap,
   * as there is nothing to keep free. Urgent runs (stops) are short and not held back by it.
   */
  readonly #cap: number;

  constructor(
    private readonly data: HeavyThreadData,
    private readonly size: number,
    /**
     * Runs handed to one thread at once; the rest wait in the fair queue, not in the thread's port.
     * Short reads: two, so the thread never idles between them. Scans: one, so that another
     * workspace's turn waits for one scan at most.
     */
    private readonly runsPerThread = 1,
    /**
     * A read asked for while the very same read (same workspace, task and arguments) still waits in
     * the queue joins it instead of queuing again: one read, one answer for both. Only one not yet
     * handed to a thread is joined, so the answer is read after every caller asked, and a caller that
     * wrote just before reading sees its write. Every agent's panel asks for the same first page.
     */
    private readonly shareWaiting = false,
  ) {
    this.#cap = size > 1 ? (size - 1) * runsPerThread : Number.POSITIVE_INFINITY;
  }

  #start(): Thread {
    const worker = new Worker(fileURLToPath(new URL('./heavy-thread.mjs', import.meta.url)), { workerData: this.data });
    // Idle heavy threads never keep the process alive.
    worker.unref();
    const thread: Thread = { worker, busy: 0, running: 0, handlers: new Map() };
    const fail = (message: string) => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      for (const [id, handle] of [...thread.handlers]) handle({ type: 'error', id, error: { message } });
      this.#dispatch();
    };
    worker.on('message', (message: FromWorker) => thread.handlers.get(message.id)?.(message));
    worker.on('error', (error) => fail(error.stack ?? error.message));
    worker.on('exit', (code) => fail(`the heavy thread exited (code ${code})`));
    this.#threads.push(thread);
    return thread;
  }

  /** The thread to hand the next run to: an idle one, a new one while there is room, else the least loaded with room. */
  #free(): Thread | undefined {
    const idle = this.#threads.find((t) => t.busy === 0);
    if (idle) return idle;
    if (this.#threads.length < this.size) return this.#start();
    const open = this.#threads.filter((t) => t.running < this.runsPerThread);
    return open.reduce<Thread | undefined>((best, t) => (!best || t.busy < best.busy ? t : best), undefined);
  }

  /** The first workspace in turn whose runs are under the cap, and its queue. */
  #nextQueued(): [number, Waiting[]] | undefined {
    for (const entry of this.#queues) if ((this.#runningBy.get(entry[0]) ?? 0) < this.#cap) return entry;
    return undefined;
  }

  /** Hands waiting runs to free threads, one workspace after another. */
  #dispatch() {
    for (;;) {
      const queued = this.#nextQueued();
      const urgent = this.#urgent.entries().next();
      if (!queued && urgent.done) return;
      const thread = this.#free();
      if (!thread) return;
      this.#urgentLast = !urgent.done && (!queued || !this.#urgentLast);
      const turns = this.#urgentLast ? this.#urgent : this.#queues;
      const [workspaceId, queue] = (this.#urgentLast ? urgent.value : queued) as [number, Waiting[]];
      const waiting = queue.shift() as Waiting;
      // The workspace goes to the back of the turn order (a Map iterates in insertion order).
      turns.delete(workspaceId);
      if (queue.length > 0) turns.set(workspaceId, queue);
      waiting.start(thread);
    }
  }

  /** Queues a run for the workspace; resolves with the thread it ran on and the thread's answer. */
  #run(
    workspaceId: number,
    task: string,
    args: unknown,
    id: number,
    onStart?: () => void,
    db?: Database,
  ): Promise<{ thread: Thread; answer: FromWorker }> {
    return new Promise((resolve) => {
      const start = (thread: Thread) => {
        onStart?.();
        thread.busy++;
        thread.running++;
        this.#runningBy.set(workspaceId, (this.#runningBy.get(workspaceId) ?? 0) + 1);
        // A run that writes (a re-send) takes this thread's write turn before each write (holdWriteTurn).
        const turn = db ? lentWriteTurn(db) : undefined;
        thread.handlers.set(id, (answer) => {
          if (answer.type === 'turn') {
            const reply = (refused?: string) =>
              thread.worker.postMessage({ type: 'turn', id, ...(refused && { refused }) } satisfies ToWorker);
            return turn ? turn.lend(reply) : reply('no database');
          }
          if (answer.type === 'turnDone') return turn?.giveBack();
          turn?.end();
          thread.handlers.delete(id);
          thread.running--;
          const left = (this.#runningBy.get(workspaceId) ?? 1) - 1;
          if (left > 0) this.#runningBy.set(workspaceId, left);
          else this.#runningBy.delete(workspaceId);
          resolve({ thread, answer });
          this.#dispatch();
        });
        thread.worker.postMessage({ type: 'run', id, task, args } satisfies ToWorker);
      };
      const turns = URGENT_TASKS.has(task) ? this.#urgent : this.#queues;
      const queue = turns.get(workspaceId);
      if (queue) queue.push({ start });
      else turns.set(workspaceId, [{ start }]);
      this.#dispatch();
    });
  }

  /** Sends one message for the request `id` and resolves with the thread's answer to it. */
  #ask(thread: Thread, message: ToWorker): Promise<FromWorker> {
    return new Promise((resolve) => {
      thread.handlers.set(message.id, (answer) => {
        thread.handlers.delete(message.id);
        resolve(answer);
      });
      thread.worker.postMessage(message);
    });
  }

  /** `share`: this run may be joined as a waiting read is (shareWaiting), for one pool that shares none by default. */
  run(workspaceId: number, task: string, args: unknown, share = this.shareWaiting, db?: Database): Promise<unknown> {
    if (!share) return this.#runOne(workspaceId, task, args, undefined, db);
    const key = JSON.stringify([workspaceId, task, args]);
    const waiting = this.#waiting.get(key);
    if (waiting) {
      this.joined++;
      return waiting;
    }
    // Handed to a thread at once when one is free: then there is nothing waiting to join. While this
    // read waits, any identical one joins it, so the entry under `key` is this read's when it starts.
    let started = false;
    const answer = this.#runOne(workspaceId, task, args, () => {
      started = true;
      this.#waiting.delete(key);
    });
    if (!started) this.#waiting.set(key, answer);
    return answer;
  }

  async #runOne(
    workspaceId: number,
    task: string,
    args: unknown,
    onStart?: () => void,
    db?: Database,
  ): Promise<unknown> {
    const { thread, answer } = await this.#run(workspaceId, task, args, this.#nextId++, onStart, db);
    thread.busy--;
    if (answer.type === 'result') return answer.value;
    throw answer.type === 'error' ? fromWire(answer.error) : new Error(`heavy thread answered ${answer.type}`);
  }

  /** A file made on a heavy thread, one chunk per read: a slow client slows the thread's reads, not memory. */
  async open(workspaceId: number, task: string, args: unknown): Promise<HeavyFile> {
    const id = this.#nextId++;
    const { thread, answer: first } = await this.#run(workspaceId, task, args, id);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      thread.busy--;
      thread.handlers.delete(id);
    };
    if (first.type !== 'result') {
      finish();
      throw first.type === 'error' ? fromWire(first.error) : new Error(`heavy thread answered ${first.type}`);
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const answer = await this.#ask(thread, { type: 'pull', id });
          if (answer.type === 'chunk') return controller.enqueue(answer.value);
          finish();
          if (answer.type === 'end') return controller.close();
          controller.error(answer.type === 'error' ? fromWire(answer.error) : new Error('heavy thread: no chunk'));
        },
        cancel: () => {
          if (done) return;
          thread.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
          finish();
        },
      },
      { highWaterMark: 0 },
    );
    return { filename: (first.value as { filename: string }).filename, stream };
  }

  /** Lets each thread finish its work and close its connection, then end. */
  async close(): Promise<void> {
    const threads = this.#threads;
    this.#threads = [];
    await Promise.all(
      threads.map(async ({ worker }) => {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage({ type: 'close', id: 0 } satisfies ToWorker);
        await exited;
      }),
    );
  }
}

/** One per app: the running counts and the heavy threads. */
export class HeavyWork {
  readonly perToken: number;
  readonly perWorkspace: number;
  readonly downloadsPerToken: number;
  readonly downloadsPerWorkspace: number;
  readonly downloadStallMs: number;
  readonly maxCustomFieldKeys: number;
  readonly #running = new Map<string, number>();
  /** Refusals per token in the current second, to spread the retries of a caller far over its limit. */
  readonly #refused = new Map<number, { second: number; count: number }>();
  readonly #pool: HeavyPool | undefined;
  /**
   * The bounded reads every agent's panel makes at once (a page of the log, its counts): a thread of
   * their own, so that they never wait behind a scan or an export, and the API's loop never runs them.
   */
  readonly #reads: HeavyPool | undefined;
  /** The database the heavy threads open (the import thread too); undefined: heavy work runs on the API's thread. */
  readonly threadDatabase: HeavyThreadData['heavyThread'] | undefined;

  constructor(options: HeavyOptions = {}) {
    this.perToken = options.perToken ?? HEAVY_DEFAULTS.perToken;
    this.perWorkspace = options.perWorkspace ?? HEAVY_DEFAULTS.perWorkspace;
    this.downloadsPerToken = options.downloadsPerToken ?? HEAVY_DEFAULTS.downloadsPerToken;
    this.downloadsPerWorkspace = options.downloadsPerWorkspace ?? HEAVY_DEFAULTS.downloadsPerWorkspace;
    this.downloadStallMs = options.downloadStallMs ?? HEAVY_DEFAULTS.downloadStallMs;
    this.maxCustomFieldKeys = options.maxCustomFieldKeys ?? HEAVY_DEFAULTS.maxCustomFieldKeys;
    const url = options.databaseUrl;
    if (url && !url.includes(':memory:')) {
      const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
      this.threadDatabase = { url, authToken: options.authToken };
      this.#pool = new HeavyPool({ heavyThread: this.threadDatabase }, threads);
      this.#reads = new HeavyPool(
        { heavyThread: this.threadDatabase, interactive: true },
        options.readThreads ?? 1,
        2,
        true,
      );
    }
  }

  /** The limits of a kind of heavy operation: per token, per workspace. */
  limitsOf(kind: HeavyKind): { perToken: number; perWorkspace: number } {
    return kind === 'download'
      ? { perToken: this.downloadsPerToken, perWorkspace: this.downloadsPerWorkspace }
      : { perToken: this.perToken, perWorkspace: this.perWorkspace };
  }

  /** Takes a slot of the kind for the token and its workspace; undefined when either is full. The release is idempotent. */
  acquire(auth: Pick<AuthContext, 'tokenId' | 'workspaceId'>, kind: HeavyKind = 'work'): (() => void) | undefined {
    const { perToken, perWorkspace } = this.limitsOf(kind);
    const keys = [`${kind}:token:${auth.tokenId}`, `${kind}:workspace:${auth.workspaceId}`] as const;
    if ((this.#running.get(keys[0]) ?? 0) >= perToken) return undefined;
    if ((this.#running.get(keys[1]) ?? 0) >= perWorkspace) return undefined;
    for (const key of keys) this.#running.set(key, (this.#running.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const left = (this.#running.get(key) ?? 1) - 1;
        if (left > 0) this.#running.set(key, left);
        else this.#running.delete(key);
      }
    };
  }

  /**
   * How long a refused caller should wait: a second, plus a second per limit's worth of refusals this
   * token already got this second, so 100 requests against a limit of 4 come back spread over 25 s
   * instead of all at once (each refusal still costs the API's thread a token check).
   */
  retryAfter(tokenId: number, now = Date.now()): number {
    const second = Math.floor(now / 1000);
    const current = this.#refused.get(tokenId);
    const count = current?.second === second ? current.count + 1 : 1;
    if (this.#refused.size > 10_000) this.#refused.clear();
    this.#refused.set(tokenId, { second, count });
    return Math.min(MAX_RETRY_AFTER_SECONDS, 1 + Math.floor((count - 1) / this.perToken));
  }

  /**
   * Runs a heavy read for the workspace on a heavy thread (or here, without one) and answers its JSON
   * value. `share`: a pure read every caller may get the same answer to (send it, never modify it), which
   * joins the same one still waiting its turn, as the read thread's do: fifty agents asking the same
   * summary cost one scan, not fifty in the workspace's queue.
   */
  run<K extends JsonTask>(
    db: Database,
    workspaceId: number,
    task: K,
    args: Parameters<(typeof jsonTasks)[K]>[1],
    share = false,
  ): Promise<Awaited<ReturnType<(typeof jsonTasks)[K]>>> {
    if (this.#pool) return this.#pool.run(workspaceId, task, args, share, db) as never;
    return (jsonTasks[task] as (db: Database, a: unknown) => Promise<never>)(db, args);
  }

  /**
   * A bounded read (a page, kept counts) on the read thread (or here, without one). Its answer may be
   * shared with callers that asked for the same read at once (shareWaiting): send it, never modify it.
   */
  read<K extends JsonTask>(
    db: Database,
    workspaceId: number,
    task: K,
    args: Parameters<(typeof jsonTasks)[K]>[1],
  ): Promise<Awaited<ReturnType<(typeof jsonTasks)[K]>>> {
    if (this.#reads) return this.#reads.run(workspaceId, task, args) as never;
    return (jsonTasks[task] as (db: Database, a: unknown) => Promise<never>)(db, args);
  }

  /** Opens a heavy file (an export) for the workspace on a heavy thread (or here, without one). */
  open<K extends StreamTask>(
    db: Database,
    workspaceId: number,
    task: K,
    args: Parameters<(typeof streamTasks)[K]>[1],
  ): Promise<HeavyFile> {
    if (this.#pool) return this.#pool.open(workspaceId, task, args);
    return (streamTasks[task] as (db: Database, a: unknown) => Promise<HeavyFile>)(db, args);
  }

  /** Reads of the read thread answered by joining the same read waiting its turn (see HeavyPool's shareWaiting). */
  get joinedReads(): number {
    return this.#reads?.joined ?? 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool?.close(), this.#reads?.close()]);
  }
}

/**
 * Lets the slot go when the body has been sent (or the client went away), not when the handler returns;
 * and ends a download that makes no progress for `stallMs`, neither asked for more by its reader nor
 * given its next chunk by its thread: a reader that stopped reading would otherwise hold its slot (and
 * the export's place on its thread) for as long as its connection stays open.
 */
function releasedWhenSent(
  body: ReadableStream<Uint8Array>,
  release: () => void,
  stallMs: number,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    clearTimeout(timer);
    release();
  };
  // Restarts the wait for the next sign of progress.
  const arm = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (ended) return;
      end();
      controller.error(new Error(`download stalled for ${stallMs} ms`));
      reader.cancel('stalled').catch(() => {});
    }, stallMs);
    timer.unref?.();
  };
  return new ReadableStream<Uint8Array>(
    {
      start: arm,
      async pull(controller) {
        arm(controller);
        try {
          const next = await reader.read();
          if (ended) return;
          if (next.done) {
            end();
            return controller.close();
          }
          arm(controller);
          controller.enqueue(next.value);
        } catch (error) {
          if (ended) return;
          end();
          controller.error(error);
        }
      },
      async cancel(reason) {
        end();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The 429 a heavy route may answer, for its OpenAPI contract. */
export const heavyResponses = {
  429: {
    ...jsonContent(
      ErrorBodySchema,
      'Too many heavy operations running for this token or workspace: retry after Retry-After seconds.',
    ),
    headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'Seconds to wait.' } },
  },
} as const;

/** A heavy slot of the kind for the caller's token and workspace, or the 429 with Retry-After when either is full. */
export function takeHeavySlot(c: Context<AppEnv>, kind: HeavyKind = 'work'): () => void {
  const heavy = c.get('heavy');
  const release = heavy.acquire(c.get('auth'), kind);
  if (release) return release;
  const seconds = heavy.retryAfter(c.get('auth').tokenId);
  c.header('Retry-After', String(seconds));
  throw new ApiError(429, kind === 'download' ? 'too_many_downloads' : 'too_many_heavy_operations', {
    ...heavy.limitsOf(kind),
    seconds,
  });
}

/**
 * Route middleware for heavy operations of a kind (after the permission check): a token or workspace
 * already running its limit gets 429 with Retry-After in the one error shape; others wait for nothing.
 * A streamed answer keeps its slot until it has been sent.
 */
function heavyMiddleware(kind: HeavyKind) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const release = takeHeavySlot(c, kind);
    let handedOver = false;
    try {
      await next();
      const streamed = c.res.body && !c.res.headers.get('Content-Type')?.includes('json');
      if (streamed && c.res.body) {
        c.res = new Response(releasedWhenSent(c.res.body, release, c.get('heavy').downloadStallMs), c.res);
        handedOver = true;
      }
    } finally {
      if (!handedOver) release();
    }
  });
}

/** Searches, previews and imports: bounded work on a heavy thread. */
export const heavyOperation = heavyMiddleware('work');
/** Downloads (CSV exports): streamed for as long as their reader reads, so counted apart. */
export const heavyDownload = heavyMiddleware('download');
