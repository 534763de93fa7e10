import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient, type InArgs, type InStatement, type TransactionMode } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { logError } from '../lib/log';
import { WRITER_CHECKPOINT_PAGES, watchCheckpoints } from './checkpointer';
import { attachFastReads } from './fast-read';
import * as schema from './schema';

export { checkpointNow } from './checkpointer';

export type Database = LibSQLDatabase<typeof schema>;
/** A transaction's handle, as `db.transaction(async (tx) => …)` passes it. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
/** What a statement runs on: the database itself or one of its transactions. */
export type Queryable = Database | Tx;

export interface DatabaseConfig {
  /** file:path, libsql://host, http(s)://host or ws(s)://host. */
  url: string;
  authToken?: string | undefined;
  /** Busy timeout for local files, in ms. */
  busyTimeoutMs?: number;
}

export interface DatabaseHandle {
  db: Database;
  client: Client;
  close(): void;
}

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** What kind of libSQL a URL points at; unknown schemes are refused with a clear message. */
export function describeDatabaseUrl(url: string): { kind: 'file' | 'remote'; path?: string } {
  if (url.startsWith('file:')) {
    const raw = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    return { kind: 'file', path: resolve(raw.split('?')[0] ?? raw) };
  }
  if (/^(libsql|https?|wss?):\/\//.test(url)) return { kind: 'remote' };
  throw new Error(
    `DATABASE_URL "${url}" is not a libSQL URL. Use file:data/rebound.db, libsql://<host>, http(s)://<host> or ws(s)://<host>.`,
  );
}

/** The file a local database URL names, or undefined for a remote or in-memory database. */
export function localFilePath(url: string): string | undefined {
  if (url.includes(':memory:')) return undefined;
  return describeDatabaseUrl(url).path;
}

/**
 * The URL the client is given. In Node a `libsql://` URL goes over HTTP, about 4.6 ms a statement on
 * loopback against 1.1 ms over WebSocket (../shared/scale-out.md): the engine makes several statements
 * per batch of sends, so `libsql://` becomes `wss://` (`ws://` with `?tls=0`). Other URLs are kept.
 */
export function clientUrl(url: string): string {
  if (!url.startsWith('libsql://')) return url;
  const [base = '', query] = url.split('?', 2);
  const params = new URLSearchParams(query);
  const plain = params.get('tls') === '0';
  params.delete('tls');
  const rest = params.toString();
  return `${plain ? 'ws' : 'wss'}://${base.slice('libsql://'.length)}${rest ? `?${rest}` : ''}`;
}

/**
 * Whether the server lets this token in, and lets it write, asked once at start over HTTP: over a
 * WebSocket a refused write only closes the socket (code 1006), over HTTP it is a plain 401 or 403.
 * The write is the migrator's own `CREATE TABLE IF NOT EXISTS`, so the probe changes nothing it
 * would not. Every Rebound process writes (claims, outcomes, a token's last use): a read-only token
 * is refused here, with what to do, before anything starts.
 */
async function checkRemoteAccess(url: string, authToken: string | undefined): Promise<void> {
  const http = clientUrl(url).replace(/^ws(s?):\/\//, 'http$1://');
  const host = new URL(http).host;
  const probe = createClient({ url: http, authToken });
  try {
    await probe.execute('SELECT 1');
    await probe.execute(
      'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
    );
  } catch (error) {
    const status = /HTTP status (\d{3})/.exec(error instanceof Error ? error.message : String(error))?.[1];
    if (status === '401')
      throw new DatabaseAccessError(
        `The libSQL server at ${host} refused DATABASE_AUTH_TOKEN (${authToken ? 'expired, malformed or not signed with its key' : 'none was given'}). Set DATABASE_AUTH_TOKEN to a read-write token for this database.`,
      );
    if (status === '403')
      throw new DatabaseAccessError(
        `DATABASE_AUTH_TOKEN is read-only at ${host}. Rebound writes to its database from every process (claims, outcomes, a token's last use): give it a read-write token.`,
      );
    throw error;
  } finally {
    probe.close();
  }
}

/** The database refused the configured credentials: a message for the operator, not a stack trace. */
export class DatabaseAccessError extends Error {
  override name = 'DatabaseAccessError';
}

/** The driver's client as every part of the server opens it: integers as numbers, a busy timeout. */
export function databaseClient(url: string, authToken: string | undefined, busyTimeoutMs = 15_000): Client {
  return createClient({
    url: clientUrl(url),
    authToken,
    intMode: 'number',
    // Applied to every connection the client opens, unlike a PRAGMA that a transaction would lose.
    timeout: busyTimeoutMs,
  });
}

/** Opens the database and applies any migration it has not seen yet. */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  const target = describeDatabaseUrl(config.url);
  if (target.kind === 'file' && target.path) mkdirSync(dirname(target.path), { recursive: true });
  if (target.kind === 'remote') await checkRemoteAccess(config.url, config.authToken);
  const open = () => databaseClient(config.url, config.authToken, config.busyTimeoutMs);
  const client = open();
  // WAL persists in the file: readers never wait for the writer.
  if (target.kind === 'file') await client.execute('PRAGMA journal_mode=WAL');
  // A local file's writes go through a client of their own, so that they all commit alike (serializeWrites).
  const writer = target.kind === 'file' ? open() : undefined;
  const db = drizzle(serializeWrites(client, { writer }), { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  const path = localFilePath(config.url);
  const detachFastReads = attachFastReads(db, path, config.busyTimeoutMs ?? 15_000);
  // A local file's WAL is copied into it by the checkpoint thread, not in the writer's commits.
  const unwatchCheckpoints = path ? watchCheckpoints(path) : () => {};
  return {
    db,
    client,
    close: () => {
      unwatchCheckpoints();
      detachFastReads();
      writer?.close();
      client.close();
    },
  };
}

/**
 * The driver error behind a storage fault: the database could not take the statement right now
 * (locked, full disk, I/O error, a libSQL server restarting or out of reach), as opposed to a
 * statement that is wrong. Nothing of a faulted statement or transaction was applied, so it can be
 * run again. drizzle wraps the driver's error as `cause`; undefined for any other error.
 */
export function storageFault(error: unknown): Error | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (/^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code)) return e;
    // A libSQL server: a write transaction it rolled back after 5 s (another writer waited for it);
    // the connection lost or refused (the server restarting); a replica whose primary was locked.
    if (code === 'TRANSACTION_TIMEOUT' || code === 'HRANA_WEBSOCKET_ERROR') return e;
    if (code === 'PROXY_ERROR' && /database is locked|connect|transport/i.test(e.message)) return e;
  }
  return undefined;
}

/** "Locked right now" from a libSQL server: worth sending again in a few milliseconds. */
function remoteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_BUSY')) return true;
  // A write sent to a replica is run by the primary; its lock comes back wrapped.
  return code === 'PROXY_ERROR' && /database is locked/.test((error as Error).message);
}

/** Retries of a statement a libSQL server refused with SQLITE_BUSY: 10 ms doubling, about 2.5 s in all. */
const REMOTE_BUSY_RETRIES = 8;

/**
 * A write transaction (a write statement alone is one too) holds the database's only write lock; a
 * libSQL server takes it back after 5 s (TRANSACTION_TIMEOUT) and every other writer waits meanwhile.
 * One held longer than this is logged, with how long, so an operator (and the tests) can see it.
 */
export const SLOW_WRITE_TRANSACTION_MS = 1000;

/** The longest write this process held since the last reset (the benchmarks report it). */
export const writeHolds = {
  longestMs: 0,
  reset() {
    this.longestMs = 0;
  },
};

function noteHeld(ms: number): void {
  if (ms > writeHolds.longestMs) writeHolds.longestMs = ms;
  if (ms > SLOW_WRITE_TRANSACTION_MS) logError(`slow write transaction: held the database ${Math.round(ms)} ms`);
}

/**
 * A write a libSQL server has not answered in this long is logged, once, while it still waits. sqld
 * 0.24 can leave its write lock handed to a connection that is gone (its waiters then spin, about two
 * cores, for ever): it answers reads but no write, and the client has no timeout of its own, so an
 * engine would otherwise wait in silence (docs/scaling.md).
 */
export const STUCK_WRITE_MS = 30_000;

/** Logs once if `run` (a remote write) has not settled after `afterMs`; the write itself is left to finish. */
async function watchRemoteWrite<T>(afterMs: number | undefined, run: () => Promise<T>): Promise<T> {
  if (afterMs === undefined) return run();
  const began = performance.now();
  const timer = setTimeout(() => {
    logError(
      `the database has not answered a write for ${Math.round((performance.now() - began) / 1000)} s: it answers ` +
        'reads but takes no writes. A libSQL server (sqld 0.24) whose write lock is stuck needs a restart (docs/scaling.md).',
    );
  }, afterMs);
  timer.unref();
  try {
    return await run();
  } finally {
    clearTimeout(timer);
  }
}

/** A write statement or batch is a transaction of its own: each attempt holds the lock as long as it runs. */
async function timedWrite<T>(run: () => Promise<T>): Promise<T> {
  const began = performance.now();
  try {
    return await run();
  } finally {
    noteHeld(performance.now() - began);
  }
}

/**
 * How a local file's writes commit: SQLite's WAL with synchronous=NORMAL, on disk at each checkpoint
 * rather than at each commit. A commit whose own fsync blocks the synchronous driver's thread makes
 * paced sends late, and a late send gives up its slot: under 50 readers on 2 cores a broadcast lost
 * about 10% of its rate with FULL and 2% with NORMAL. A power cut (not a crash of the process) can
 * lose the last commits; a recipient marked dispatched in them is then sent again.
 */
const WRITE_SYNCHRONOUS = 'PRAGMA synchronous=NORMAL';
/** The writer's own checkpoints only as a backstop: the checkpoint thread does them (checkpointer.ts). */
const WRITE_CHECKPOINT = `PRAGMA wal_autocheckpoint=${WRITER_CHECKPOINT_PAGES}`;

/**
 * The writes' own client, `writer` (a local file): SQLite's synchronous setting belongs to a
 * connection, and the driver opens a pooled connection whenever one is busy (a read while a
 * transaction is open). Serialized here, the writer's writes never overlap, so its pool keeps one
 * connection, set up before the first write and again after a reconnect. Without a writer, writes go
 * through `client`.
 */
export interface SerializeOptions {
  stuckWriteMs?: number;
  writer?: Client | undefined;
  /**
   * Taken before each write and given back after it: another thread's write turn (holdWriteTurn), so
   * that a worker thread's writes wait for the API thread's, and the API thread's for them, in its queue
   * rather than in SQLite's lock inside the synchronous driver, which would stop its event loop.
   */
  turn?: (() => Promise<() => void>) | undefined;
}

/**
 * This thread's write turn (serializeWrites runs a thread's writes one at a time), held for another
 * thread while it writes (the import thread, a heavy thread writing a re-send). A write here meanwhile
 * waits its turn in that queue, as it would behind a write of this thread, instead of waiting for
 * SQLite's lock inside the synchronous driver. An empty deferred transaction holds the turn and none of
 * SQLite's locks. A remote database takes its locks on its server, which never blocks this thread.
 */
export async function holdWriteTurn(db: Database): Promise<() => void> {
  const client = (db as Database & { $client: Client }).$client;
  if (client.protocol !== 'file') return () => undefined;
  const turn = await client.transaction('deferred');
  return () => turn.close();
}

/**
 * This thread's write turn lent to another thread's run, one write at a time: `lend` holds it (once
 * `after` is done) and answers the thread, `giveBack` returns it, `end` returns it and gives back at once
 * any turn that arrives later (the run ended however it ended, its thread's death included).
 */
export function lentWriteTurn(db: Database) {
  let held: (() => void) | undefined;
  let ended = false;
  const giveBack = () => {
    const turn = held;
    held = undefined;
    turn?.();
  };
  return {
    lend(answer: (refused?: string) => void, after: Promise<unknown> = Promise.resolve()): void {
      void after
        .then(() => holdWriteTurn(db))
        .then(
          (release) => {
            if (ended) return release();
            held = release;
            answer();
          },
          (error: unknown) => answer(String(error)),
        );
    },
    giveBack,
    end(): void {
      ended = true;
      giveBack();
    },
  };
}

/**
 * One writer at a time inside a process. The libSQL driver is synchronous: a statement that waits
 * for SQLite's write lock blocks the whole event loop, so if another connection of the same process
 * holds that lock in an open transaction (an interactive transaction gets its own connection), that
 * transaction can never finish, and the wait ends in SQLITE_BUSY. Queuing writes and transactions
 * here means a write only ever waits for another process, which keeps running and lets go.
 */
export function serializeWrites(client: Client, options: SerializeOptions = {}): Client {
  const writer = options.writer ?? client;
  // Set before the next write: at first, and after the writer's connections were replaced.
  let writerReady = options.writer === undefined;
  const readyWriter = async () => {
    if (writerReady) return;
    await writer.execute(WRITE_SYNCHRONOUS);
    await writer.execute(WRITE_CHECKPOINT);
    writerReady = true;
  };
  const reconnect = async () => {
    await client.reconnect();
    if (writer === client) return;
    await writer.reconnect();
    writerReady = false;
  };
  // Only a remote database: a local file waits for its lock with busy_timeout and fails after it.
  const stuckAfter = client.protocol === 'file' ? undefined : (options.stuckWriteMs ?? STUCK_WRITE_MS);
  const watched = <T>(run: () => Promise<T>) => watchRemoteWrite(stuckAfter, run);
  // The local driver never resets a statement that failed waiting for a lock (SQLITE_BUSY): its
  // connection keeps that statement's snapshot, so every later write on it fails again, or succeeds
  // but keeps the write lock, uncommitted, until the statement is garbage-collected. After such a
  // failure the client's connections are replaced: under the write lock, once no read is using one.
  let stale = false;
  let reading = 0;
  let readsDone: (() => void) | undefined;
  const noteLockWait = (error: unknown) => {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (client.protocol === 'file' && typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) stale = true;
  };
  const renewIfStale = async () => {
    while (stale) {
      if (reading > 0)
        await new Promise<void>((resolve) => {
          readsDone = resolve;
        });
      else {
        stale = false;
        await reconnect();
      }
    }
  };
  const read = async (statement: InStatement, args?: InArgs) => {
    reading++;
    try {
      return await retryBusy(() => client.execute(statement as never, args));
    } catch (error) {
      noteLockWait(error);
      throw error;
    } finally {
      if (--reading === 0) readsDone?.();
    }
  };

  // A libSQL server answers SQLITE_BUSY while it checkpoints, where a local file waits (busy_timeout).
  // A statement or batch that got it was not applied, so it is sent again, a little later each time.
  const retryBusy = async <T>(run: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (client.protocol === 'file' || !remoteBusy(error) || attempt >= REMOTE_BUSY_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      }
    }
  };

  let tail: Promise<void> = Promise.resolve();
  const lock = async (): Promise<() => void> => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = tail;
    tail = previous.then(() => held);
    await previous;
    let outside: (() => void) | undefined;
    try {
      outside = await options.turn?.();
      await renewIfStale();
      await readyWriter();
    } catch (error) {
      outside?.();
      release();
      throw error;
    }
    return () => {
      outside?.();
      release();
    };
  };
  const withLock = async <T>(run: () => Promise<T>): Promise<T> => {
    const release = await lock();
    try {
      return await run();
    } catch (error) {
      noteLockWait(error);
      throw error;
    } finally {
      await renewIfStale();
      release();
    }
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      switch (property) {
        case 'execute':
          return (statement: InStatement, args?: InArgs) =>
            isRead(statement)
              ? read(statement, args)
              : withLock(() =>
                  retryBusy(() => timedWrite(() => watched(() => writer.execute(statement as never, args)))),
                );
        case 'batch':
          return (statements: InStatement[], mode?: TransactionMode) =>
            withLock(() => retryBusy(() => timedWrite(() => watched(() => writer.batch(statements, mode)))));
        case 'migrate':
          return (statements: InStatement[]) => withLock(() => writer.migrate(statements));
        case 'executeMultiple':
          return (sql: string) => withLock(() => writer.executeMultiple(sql));
        case 'transaction':
          return async (mode?: TransactionMode) => {
            const release = await lock();
            try {
              const tx = await watched(() => writer.transaction(mode));
              const began = performance.now();
              // Only a transaction that wrote holds the write lock (a deferred one that only read does not).
              let wrote = false;
              let released = false;
              const done = () => {
                if (!released) {
                  released = true;
                  release();
                  if (wrote) noteHeld(performance.now() - began);
                }
              };
              return new Proxy(tx, {
                get(txTarget, txProperty) {
                  const value = Reflect.get(txTarget, txProperty, txTarget);
                  if (txProperty === 'commit' || txProperty === 'rollback') {
                    return async () => {
                      try {
                        // SQLite rolls a transaction back by itself on some errors (a full disk):
                        // rolling back again would throw TRANSACTION_CLOSED and hide the real error
                        // from the caller. close() just gives the connection back.
                        if (txProperty === 'rollback' && txTarget.closed) return txTarget.close();
                        return await watched(() => (value as () => Promise<void>).call(txTarget));
                      } finally {
                        done();
                      }
                    };
                  }
                  if (txProperty === 'close') {
                    return () => {
                      (value as () => void).call(txTarget);
                      done();
                    };
                  }
                  if (txProperty === 'execute' || txProperty === 'batch') {
                    return async (...args: unknown[]) => {
                      const [first] = args as [InStatement | InStatement[]];
                      if (!wrote) wrote = Array.isArray(first) ? first.some((st) => !isRead(st)) : !isRead(first);
                      try {
                        return await watched(() =>
                          (value as (...a: unknown[]) => Promise<unknown>).apply(txTarget, args),
                        );
                      } catch (error) {
                        noteLockWait(error);
                        throw error;
                      }
                    };
                  }
                  return typeof value === 'function' ? value.bind(txTarget) : value;
                },
              });
            } catch (error) {
              noteLockWait(error);
              await renewIfStale();
              release();
              throw error;
            }
          };
        case 'close':
          return () => {
            if (writer !== target) writer.close();
            target.close();
          };
        case 'reconnect':
          return reconnect;
        default: {
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
      }
    },
  });
}

function isRead(statement: InStatement): boolean {
  const text = (typeof statement === 'string' ? statement : statement.sql).trimStart().slice(0, 200).toUpperCase();
  if (text.startsWith('SELECT')) return !/\bRETURNING\b/.test(text);
  if (text.startsWith('PRAGMA')) return !text.includes('=');
  return false;
}
