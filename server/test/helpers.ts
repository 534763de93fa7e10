import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Language, Role } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { afterAll } from 'vitest';
import { createApp } from '../src/app';
import { type Database, type DatabaseHandle, openDatabase } from '../src/db/client';
import { type HeavyOptions, HeavyWork } from '../src/lib/heavy';
import { createWorkspace } from '../src/services/workspaces';
import { type SqldCluster, startSqld } from './sqld';

export interface TestWorkspace {
  id: number;
  tokens: Record<Role, string>;
}

export interface TestServer {
  baseUrl: string;
  database: DatabaseHandle;
  dir: string;
  /** The database's URL, for other processes: the file, or the sqld primary (server-sqld project). */
  databaseUrl: string;
  /** The sqld read replica's URL, when one was asked for (`sqldReplica`) on a libSQL server. */
  replicaUrl?: string;
  /** The libSQL server's nodes (server-sqld project), for tests that stop or kill one. */
  sqld?: SqldCluster;
  /** A workspace with an owner, a manager and an agent token. */
  workspace(name?: string, country?: string): Promise<TestWorkspace>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON unless it is a string, which is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  language?: Language | 'pt-BR';
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  text: string;
}

/** Where the tests' provider simulators and listeners run: allowed as channel base URLs (lib/provider-url.ts). */
export const TEST_PROVIDER_URL_ALLOWLIST = ['127.0.0.1'];

/**
 * A real server on 127.0.0.1 over a fresh libSQL file, one per test file; closed after the file's tests.
 */
export async function startTestServer(
  options: {
    bodyLimitBytes?: number;
    corsOrigins?: string[];
    maxAuthFailuresPerMinute?: number;
    trustProxy?: boolean;
    /** The demo helpdesk's pages (DEMO=on); on unless a test turns them off. */
    demo?: boolean;
    /** Defaults to TEST_PROVIDER_URL_ALLOWLIST: the tests' simulators and listeners are on 127.0.0.1. */
    providerUrlAllowlist?: string[];
    /** On a libSQL server (REBOUND_TEST_DATABASE=sqld): a read replica beside the primary too. */
    sqldReplica?: boolean;
  } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-test-'));
  // REBOUND_TEST_DATABASE=sqld (the server-sqld project): the same tests on a real libSQL server.
  const { sqldReplica, ...appOptions } = options;
  const remote =
    process.env.REBOUND_TEST_DATABASE === 'sqld' ? await startSqld({ replica: sqldReplica ?? false }) : undefined;
  const databaseUrl = remote ? remote.primary.url : `file:${join(dir, 'test.db')}`;
  const database = await openDatabase({ url: databaseUrl });
  // The demo helpdesk's pages on, as with DEMO=on: the extension's browser tests read them.
  const app = createApp({
    db: database.db,
    providerUrlAllowlist: TEST_PROVIDER_URL_ALLOWLIST,
    demo: true,
    ...appOptions,
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    database.close();
    await remote?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    baseUrl,
    database,
    dir,
    databaseUrl,
    ...(remote?.replica && { replicaUrl: remote.replica.url }),
    ...(remote && { sqld: remote }),
    async workspace(name = 'Acme', country = 'AR') {
      const { workspace, tokens } = await createWorkspace(database.db, { name, defaultCountry: country }, [
        'owner',
        'manager',
        'agent',
      ]);
      return {
        id: workspace.id,
        tokens: Object.fromEntries(tokens.map((t) => [t.role, t.token])) as Record<Role, string>,
      };
    },
    async request(method, path, { token, body, headers = {}, language } = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      const h = init.headers as Record<string, string>;
      if (token) h.Authorization = `Bearer ${token}`;
      if (language) h['Accept-Language'] = language;
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        h['Content-Type'] ??= 'application/json';
      }
      const res = await fetch(`${baseUrl}${path}`, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
  };
}

/**
 * A server as main.ts runs it over a database file: heavy work (search, preview, exports, imports) on
 * threads of their own with their own connections. `seed` runs on the open database before the threads
 * start. Closed after the file's tests.
 */
export async function startThreadedServer(
  heavyOptions: Omit<HeavyOptions, 'databaseUrl'>,
  seed: (database: DatabaseHandle) => Promise<void> = async () => {},
): Promise<{ base: string; database: DatabaseHandle; heavy: HeavyWork }> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-threaded-'));
  const url = `file:${join(dir, 'test.db')}`;
  const database = await openDatabase({ url });
  await seed(database);
  const heavy = new HeavyWork({ databaseUrl: url, ...heavyOptions });
  const app = createApp({ db: database.db, heavy });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await heavy.close();
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, database, heavy };
}

/** One failed message (blocked by the recipient) per contact of the workspace, for the log to read; in one statement. */
export async function seedFailedMessages(
  db: Database,
  at: { workspaceId: number; broadcastId: number; channelId: number },
): Promise<void> {
  await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
      provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
    SELECT workspace_id, ${at.broadcastId}, ${at.channelId}, id, phone, 'failed', 'blocked', '131031',
      'blocked by the recipient', 1, 0, 1000 + id, 0, 0 FROM contacts WHERE workspace_id = ${at.workspaceId}`);
}
