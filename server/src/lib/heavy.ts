/**
 * Fairness for heavy operations (contact search, segment preview, exports, imports): how many may run
 * at once per token and per workspace (beyond that, 429 with Retry-After), and where the reads run —
 * on worker threads with connections of their own, so the API's event loop stays free for everyone else.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorBodySchema } from '@rebound/shared';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client';
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
} from './heavy-tasks';
import { jsonContent } from './openapi';

declare module 'hono' {
  interface ContextVariableMap {
    heavy: HeavyWork;
  }
}

export const HEAVY_DEFAULTS = { perToken: 4, perWorkspace: 8, maxCustomFieldKeys: 200 } as const;
/** The longest Retry-After a refused caller is given. */
const MAX_RETRY_AFTER_SECONDS = 30;

export interface HeavyOptions {
  /** Heavy operations one token may run at once. */
  perToken?: number;
  /** Heavy operations one workspace may run at once, all its tokens together. */
  perWorkspace?: number;
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
}

export interface HeavyFile {
  filename: string;
  stream: ReadableStream<Uint8Array>;
}

interface Thread {
  worker: Worker;
  busy: number;
  handlers: Map<number, (message: FromWorker) => void>;
}

/** Worker threads started on first use, each with its own read connection; work goes to the least busy. */
class HeavyPool {
  #threads: Thread[] = [];
  #nextId = 1;

  constructor(
    private readonly data: HeavyThreadData,
    private readonly size: number,
  ) {}

  #pick(): Thread {
    const idle = this.#threads.reduce<Thread | undefined>(
      (best, t) => (!best || t.busy < best.busy ? t : best),
      undefined,
    );
    if (idle && (idle.busy === 0 || this.#threads.length >= this.size)) return idle;
    const worker = new Worker(fileURLToPath(new URL('./heavy-thread.mjs', import.meta.url)), { workerData: this.data });
    // Idle heavy threads never keep the process alive.
    worker.unref();
    const thread: Thread = { worker, busy: 0, handlers: new Map() };
    const fail = (message: string) => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      for (const [id, handle] of [...thread.handlers]) handle({ type: 'error', id, error: { message } });
    };
    worker.on('message', (message: FromWorker) => thread.handlers.get(message.id)?.(message));
    worker.on('error', (error) => fail(error.stack ?? error.message));
    worker.on('exit', (code) => fail(`the heavy thread exited (code ${code})`));
    this.#threads.push(thread);
    return thread;
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

  async run(task: string, args: unknown): Promise<unknown> {
    const thread = this.#pick();
    thread.busy++;
    try {
      const answer = await this.#ask(thread, { type: 'run', id: this.#nextId++, task, args });
      if (answer.type === 'result') return answer.value;
      throw answer.type === 'error' ? fromWire(answer.error) : new Error(`heavy thread answered ${answer.type}`);
    } finally {
      thread.busy--;
    }
  }

  /** A file made on a heavy thread, one chunk per read: a slow client slows the thread's reads, not memory. */
  async open(task: string, args: unknown): Promise<HeavyFile> {
    const thread = this.#pick();
    const id = this.#nextId++;
    thread.busy++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      thread.busy--;
      thread.handlers.delete(id);
    };
    const first = await this.#ask(thread, { type: 'run', id, task, args });
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
  readonly maxCustomFieldKeys: number;
  readonly #running = new Map<string, number>();
  /** Refusals per token in the current second, to spread the retries of a caller far over its limit. */
  readonly #refused = new Map<number, { second: number; count: number }>();
  readonly #pool: HeavyPool | undefined;
  /** The database the heavy threads open (the import thread too); undefined: heavy work runs on the API's thread. */
  readonly threadDatabase: HeavyThreadData['heavyThread'] | undefined;

  constructor(options: HeavyOptions = {}) {
    this.perToken = options.perToken ?? HEAVY_DEFAULTS.perToken;
    this.perWorkspace = options.perWorkspace ?? HEAVY_DEFAULTS.perWorkspace;
    this.maxCustomFieldKeys = options.maxCustomFieldKeys ?? HEAVY_DEFAULTS.maxCustomFieldKeys;
    const url = options.databaseUrl;
    if (url && !url.includes(':memory:')) {
      const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
      this.threadDatabase = { url, authToken: options.authToken };
      this.#pool = new HeavyPool({ heavyThread: this.threadDatabase }, threads);
    }
  }

  /** Takes a slot for the token and its workspace; undefined when either is full. The release is idempotent. */
  acquire(auth: Pick<AuthContext, 'tokenId' | 'workspaceId'>): (() => void) | undefined {
    const keys = [`token:${auth.tokenId}`, `workspace:${auth.workspaceId}`] as const;
    if ((this.#running.get(keys[0]) ?? 0) >= this.perToken) return undefined;
    if ((this.#running.get(keys[1]) ?? 0) >= this.perWorkspace) return undefined;
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

  /** Runs a heavy read on a heavy thread (or here, without one) and answers its JSON value. */
  run<K extends JsonTask>(
    db: Database,
    task: K,
    args: Parameters<(typeof jsonTasks)[K]>[1],
  ): Promise<Awaited<ReturnType<(typeof jsonTasks)[K]>>> {
    if (this.#pool) return this.#pool.run(task, args) as never;
    return (jsonTasks[task] as (db: Database, a: unknown) => Promise<never>)(db, args);
  }

  /** Opens a heavy file (an export) on a heavy thread (or here, without one). */
  open<K extends StreamTask>(db: Database, task: K, args: Parameters<(typeof streamTasks)[K]>[1]): Promise<HeavyFile> {
    if (this.#pool) return this.#pool.open(task, args);
    return (streamTasks[task] as (db: Database, a: unknown) => Promise<HeavyFile>)(db, args);
  }

  close(): Promise<void> {
    return this.#pool?.close() ?? Promise.resolve();
  }
}

/** Lets the slot go when the body has been sent (or the client went away), not when the handler returns. */
function releasedWhenSent(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await reader.read();
          if (!next.done) return controller.enqueue(next.value);
          release();
          controller.close();
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      async cancel(reason) {
        release();
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

/**
 * Route middleware for heavy operations (after the permission check): a token or workspace already
 * running its limit gets 429 with Retry-After in the one error shape; others wait for nothing.
 */
export const heavyOperation = createMiddleware<AppEnv>(async (c, next) => {
  const heavy = c.var.heavy;
  const release = heavy.acquire(c.var.auth);
  if (!release) {
    const seconds = heavy.retryAfter(c.var.auth.tokenId);
    c.header('Retry-After', String(seconds));
    throw new ApiError(429, 'too_many_heavy_operations', {
      perToken: heavy.perToken,
      perWorkspace: heavy.perWorkspace,
      seconds,
    });
  }
  let handedOver = false;
  try {
    await next();
    const streamed = c.res.body && !c.res.headers.get('Content-Type')?.includes('json');
    if (streamed && c.res.body) {
      c.res = new Response(releasedWhenSent(c.res.body, release), c.res);
      handedOver = true;
    }
  } finally {
    if (!handedOver) release();
  }
});
