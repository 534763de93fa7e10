/**
 * The hottest reads (a request's token, a page of the failed-message log, its kept counts) on a local
 * file, through the native driver with their statements kept prepared. The client prepares every
 * statement again and converts each row through several layers: about 150 µs for the token lookup
 * against 15 µs here, on the thread that every request crosses. Reads only, on a connection of their
 * own (WAL: they see every committed write and never wait for the writer). A remote database, an
 * in-memory one and a transaction keep the client's path.
 */
import { createRequire } from 'node:module';
import type { SQL } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import type { Database } from './client';

interface NativeStatement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  pluck(on?: boolean): NativeStatement;
  raw(on?: boolean): NativeStatement;
  columns(): { name: string }[];
}
interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  close(): void;
}

/** libsql, the native driver @libsql/client itself opens local files with (same version, one copy). */
const require = createRequire(import.meta.url);
const NativeDatabase = require('libsql') as new (path: string, options: { timeout: number }) => NativeDatabase;

/** Statements kept per connection: the log's few shapes of query and the token lookup fit many times over. */
const MAX_STATEMENTS = 200;

/** How a kept statement answers: rows as objects, the first column of each, or rows as arrays. */
type ReadMode = 'objects' | 'pluck' | 'raw';

const statementKey = (text: string, mode: ReadMode) => `${mode[0]}:${text}`;

class FastReads {
  readonly #native: NativeDatabase;
  readonly #statements = new Map<string, NativeStatement>();

  constructor(path: string, busyTimeoutMs: number) {
    this.#native = new NativeDatabase(path, { timeout: busyTimeoutMs });
  }

  /** `pluck`: the first column of each row; `raw`: each row as an array (see readRow). */
  statement(text: string, mode: ReadMode): NativeStatement {
    const key = statementKey(text, mode);
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = this.#native.prepare(text);
      if (mode === 'pluck') statement.pluck();
      if (mode === 'raw') statement.raw();
      if (this.#statements.size >= MAX_STATEMENTS) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(key, statement);
    }
    return statement;
  }

  /** Drops a kept statement: one whose read failed is never run again (see readRow). */
  forget(text: string, mode: ReadMode) {
    this.#statements.delete(statementKey(text, mode));
  }

  close() {
    this.#statements.clear();
    this.#native.close();
  }
}

const attached = new WeakMap<Database, FastReads>();
const dialect = new SQLiteAsyncDialect();

/**
 * Gives `db` a native read connection to the local file at `path` (see localFilePath); returns
 * what closes it. Nothing is attached without a path (a remote database).
 */
export function attachFastReads(db: Database, path: string | undefined, busyTimeoutMs = 15_000): () => void {
  if (!path) return () => {};
  const reads = new FastReads(path, busyTimeoutMs);
  attached.set(db, reads);
  return () => {
    attached.delete(db);
    reads.close();
  };
}

/** Every row of a read-only query, as objects keyed by column name. */
export async function readRows<T>(db: Database, query: SQL): Promise<T[]> {
  const reads = attached.get(db);
  if (!reads) return db.all<T>(query);
  const { sql: text, params } = dialect.sqlToQuery(query);
  return reads.statement(text, 'objects').all(...params) as T[];
}

/**
 * The first row of a read-only query as an object keyed by column name, or undefined. For the lookup
 * of one row every request makes (its token): the row read as an array and named here takes about
 * 9 µs against 17 for all(), and the driver's get() would add a `_metadata` key to the row.
 */
export async function readRow<T>(db: Database, query: SQL): Promise<T | undefined> {
  const reads = attached.get(db);
  if (!reads) return (await db.all<T>(query))[0];
  const { sql: text, params } = dialect.sqlToQuery(query);
  const statement = reads.statement(text, 'raw');
  let values: unknown[] | undefined;
  try {
    values = statement.get(...params) as unknown[] | undefined;
  } catch (error) {
    // The driver resets a statement after a read that worked only: one whose read failed would keep
    // its old values bound, and the next lookup (another request's token) would run with them.
    reads.forget(text, 'raw');
    throw error;
  }
  if (!values) return undefined;
  let names = columnNames.get(statement);
  if (!names) {
    names = statement.columns().map((column) => column.name);
    columnNames.set(statement, names);
  }
  const row: Record<string, unknown> = {};
  for (const [i, name] of names.entries()) row[name] = values[i];
  return row as T;
}

/** A kept statement's column names, asked of the driver once. */
const columnNames = new WeakMap<NativeStatement, string[]>();

/** The first column of every row of a read-only query. */
export async function readColumn<T>(db: Database, query: SQL, column: string): Promise<T[]> {
  const reads = attached.get(db);
  if (!reads) return (await db.all<Record<string, T>>(query)).map((row) => row[column] as T);
  const { sql: text, params } = dialect.sqlToQuery(query);
  return reads.statement(text, 'pluck').all(...params) as T[];
}
