import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from './schema';

export type Database = LibSQLDatabase<typeof schema>;

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

/** Opens the database and applies any migration it has not seen yet. */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  const target = describeDatabaseUrl(config.url);
  if (target.kind === 'file' && target.path) mkdirSync(dirname(target.path), { recursive: true });
  const client = createClient({
    url: config.url,
    authToken: config.authToken,
    intMode: 'number',
    // Applied to every connection the client opens, unlike a PRAGMA that a transaction would lose.
    timeout: config.busyTimeoutMs ?? 5000,
  });
  if (target.kind === 'file') {
    // WAL persists in the file: readers never wait for the writer.
    await client.execute('PRAGMA journal_mode=WAL');
    await client.execute('PRAGMA synchronous=NORMAL');
  }
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return { db, client, close: () => client.close() };
}
