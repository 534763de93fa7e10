import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, loadEngineConfig } from '../src/config';
import { clientUrl, describeDatabaseUrl, SLOW_WRITE_TRANSACTION_MS } from '../src/db/client';
import { startTestServer } from './helpers';

const server = await startTestServer();

describe('database', () => {
  it('a local file runs in WAL mode with foreign keys enforced and every migration applied', async () => {
    const { client } = server.database;
    expect((await client.execute('PRAGMA journal_mode')).rows[0]?.[0]).toBe('wal');
    expect((await client.execute('PRAGMA foreign_keys')).rows[0]?.[0]).toBe(1);
    const journal = JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8'));
    const applied = await client.execute('SELECT count(*) AS n FROM __drizzle_migrations');
    expect(applied.rows[0]?.n).toBe(journal.entries.length);
  });

  it('every write commits alike (synchronous NORMAL), while a transaction is open, after it and after a reconnect', async () => {
    // SQLite's synchronous setting belongs to a connection, and the driver opens a pooled connection
    // whenever one is busy: the writes have a client of their own. A statement that does not start
    // with SELECT or PRAGMA is routed as a write, so this one reads the writes' connection.
    const { db } = server.database;
    const writes = async () => (await db.all<{ synchronous: number }>(sql`/* as a write */ PRAGMA synchronous`))[0];
    let inside: unknown;
    let waiting: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      inside = (await tx.all<{ synchronous: number }>(sql`PRAGMA synchronous`))[0];
      // Reads while the transaction holds a connection open another one; a write waits for its turn.
      await Promise.all([db.all(sql`SELECT 1`), db.all(sql`SELECT 2`)]);
      waiting = writes();
    });
    expect(inside).toEqual({ synchronous: 1 });
    expect(await waiting).toEqual({ synchronous: 1 });
    expect(await writes()).toEqual({ synchronous: 1 });
    // The client drizzle was given: the serialized one, whose reconnect replaces the writer's connections too.
    await (db as typeof db & { $client: Client }).$client.reconnect();
    expect(await writes()).toEqual({ synchronous: 1 });
  });

  it('accepts file:, libsql://, http(s):// and ws(s):// URLs and refuses others with the accepted forms', () => {
    expect(describeDatabaseUrl('file:data/x.db').kind).toBe('file');
    expect(describeDatabaseUrl('file:///tmp/x.db')).toEqual({ kind: 'file', path: '/tmp/x.db' });
    for (const url of [
      'libsql://db.example.turso.io',
      'http://127.0.0.1:8080',
      'https://db.example',
      'wss://db.example',
    ]) {
      expect(describeDatabaseUrl(url).kind).toBe('remote');
    }
    expect(() => describeDatabaseUrl('postgres://x')).toThrow(/file:data\/rebound.db, libsql:\/\//);
  });

  it('sends libsql:// over WebSocket (wss, or ws with tls=0) and keeps every other URL as given', () => {
    expect(clientUrl('libsql://db.example.turso.io')).toBe('wss://db.example.turso.io');
    expect(clientUrl('libsql://127.0.0.1:8080?tls=0')).toBe('ws://127.0.0.1:8080');
    expect(clientUrl('libsql://127.0.0.1:8080?tls=0&x=1')).toBe('ws://127.0.0.1:8080?x=1');
    for (const url of ['file:data/x.db', 'http://127.0.0.1:8080', 'ws://127.0.0.1:8080', 'https://db.example'])
      expect(clientUrl(url)).toBe(url);
  });

  it('a write transaction held past a second is logged with how long; a quick one and a long read are not', async () => {
    const { db } = server.database;
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
    try {
      await db.transaction(async (tx) => {
        await tx.run(sql`CREATE TABLE IF NOT EXISTS slow_probe (x)`);
      });
      await db.transaction(
        async (tx) => {
          await tx.all(sql`SELECT 1`);
          await new Promise((resolve) => setTimeout(resolve, SLOW_WRITE_TRANSACTION_MS + 100));
        },
        { behavior: 'deferred' },
      );
      expect(logged.filter((line) => line.includes('slow write transaction'))).toEqual([]);
      await db.transaction(async (tx) => {
        await tx.run(sql`INSERT INTO slow_probe VALUES (1)`);
        await new Promise((resolve) => setTimeout(resolve, SLOW_WRITE_TRANSACTION_MS + 100));
      });
    } finally {
      spy.mockRestore();
    }
    const slow = logged.filter((line) => line.includes('slow write transaction'));
    expect(slow).toHaveLength(1);
    expect(Number(slow[0]?.match(/held the database (\d+) ms/)?.[1])).toBeGreaterThanOrEqual(SLOW_WRITE_TRANSACTION_MS);
  });

  it('a single write statement held past a second is logged too (it is a transaction of its own)', async () => {
    const { db } = server.database;
    await db.run(sql`CREATE TABLE IF NOT EXISTS slow_count (n)`);
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
    try {
      // Bigger and bigger until one statement takes over a second on this machine; those well under
      // it are not logged, the first well over it is.
      for (let rows = 500_000; rows <= 64_000_000; rows *= 2) {
        const began = performance.now();
        await db.run(sql`INSERT INTO slow_count WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows})
          SELECT count(*) FROM c`);
        const took = performance.now() - began;
        const seen = logged.filter((line) => line.includes('slow write transaction'));
        if (took < SLOW_WRITE_TRANSACTION_MS * 0.8) expect(seen).toEqual([]);
        if (took > SLOW_WRITE_TRANSACTION_MS * 1.2) {
          expect(seen).toHaveLength(1);
          return;
        }
        logged.length = 0;
      }
      throw new Error('no statement took over a second');
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('configuration defaults to a local file under data/ and names a bad variable', () => {
    expect(loadConfig({}).DATABASE_URL).toMatch(/^file:.*\/data\/rebound\.db$/);
    // A relative file is the repo root's, whichever directory the process runs in (the CLI runs from the
    // root, the server and the engine from server/): one file for all, not an empty second one.
    const root = join(import.meta.dirname, '..', '..');
    expect(loadConfig({ DATABASE_URL: 'file:data/rebound.db' }).DATABASE_URL).toBe(
      `file:${join(root, 'data/rebound.db')}`,
    );
    expect(loadEngineConfig({ DATABASE_URL: 'file:./x/y.db?mode=rwc' }).DATABASE_URL).toBe(
      `file:${join(root, 'x/y.db')}?mode=rwc`,
    );
    expect(loadConfig({ DATABASE_URL: 'file:/var/lib/rebound.db' }).DATABASE_URL).toBe('file:/var/lib/rebound.db');
    expect(loadConfig({ DATABASE_URL: 'libsql://db.example.com' }).DATABASE_URL).toBe('libsql://db.example.com');
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(
      loadConfig({ CORS_ORIGINS: ' https://app.helpdesk.example/inbox , http://localhost:3000' }).CORS_ORIGINS,
    ).toEqual(['https://app.helpdesk.example', 'http://localhost:3000']);
    expect(() => loadConfig({ CORS_ORIGINS: 'not a url' })).toThrow(/CORS_ORIGINS/);
  });
});

describe('health and API reference', () => {
  it('/health reports the database', async () => {
    const res = await server.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok' });
  });

  it('/openapi.json is OpenAPI 3.1 with the paths of the API contract and the bearer scheme', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.Bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const expected = {
      '/api/v1/me': ['get'],
      '/api/v1/contacts': ['get', 'post'],
      '/api/v1/contacts/{ref}': ['get', 'patch'],
      '/api/v1/contacts/{ref}/tags': ['post', 'delete'],
      '/api/v1/contacts/duplicates': ['get'],
      '/api/v1/contacts/merge': ['post'],
      '/api/v1/channels': ['get', 'post'],
      '/api/v1/channels/{id}': ['get', 'patch', 'delete'],
      '/api/v1/segments': ['get', 'post'],
      '/api/v1/segments/{id}': ['get', 'patch', 'delete'],
      '/api/v1/segments/{id}/preview': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      for (const method of methods) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const create = doc.paths['/api/v1/contacts'].post;
    expect(create.requestBody.content['application/json'].schema.properties.phone).toBeDefined();
    expect(create.security).toEqual([{ Bearer: [] }]);
  });

  it('/docs serves the interactive reference for that document', async () => {
    const res = await server.request('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toContain('/openapi.json');
  });
});
