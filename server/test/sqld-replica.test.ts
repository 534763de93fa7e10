/**
 * Past one machine: an API process (`npm run server`, ENGINE=off) on a sqld read replica serves the
 * failed-message log and its summary written on the primary, and its own writes (a token's first use)
 * reach the primary through the replica.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { harness, until } from './engine/harness';
import { seedFailedMessages } from './helpers';

const SERVE = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
const h = await harness({ sqldReplica: true });
let api: ChildProcess | undefined;
afterAll(() => {
  api?.kill('SIGKILL');
});

describe('an API process on the sqld replica', () => {
  it('serves the failed log and the summary written on the primary, and writes through to it', async () => {
    const replicaUrl = h.server.replicaUrl;
    if (!replicaUrl) throw new Error('this test runs in the server-sqld project (REBOUND_TEST_DATABASE=sqld)');
    // 120 failed recipients of one broadcast, written on the primary.
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox' });
    await h.seedContacts(120, 'aviso');
    const segment = await h.segment('aviso', 'aviso');
    const broadcast = await h.broadcast({
      name: 'Aviso',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await seedFailedMessages(h.server.database.db, {
      workspaceId: h.ws.id,
      broadcastId: broadcast.id,
      channelId: channel.id,
    });

    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const started = spawn(process.execPath, [SERVE, 'server'], {
      env: { ...process.env, DATABASE_URL: replicaUrl, ENGINE: 'off', DEMO: 'off', PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api = started;
    let output = '';
    for (const stream of [started.stdout, started.stderr]) stream?.on('data', (chunk) => (output += String(chunk)));
    const base = `http://127.0.0.1:${port}`;
    await until(async () => {
      if (started.exitCode !== null) throw new Error(`the API process exited: ${output}`);
      return fetch(`${base}/health`).then(
        (res) => res.ok,
        () => false,
      );
    }, 60_000);
    const read = async (path: string) => {
      const res = await fetch(`${base}${path}`, {
        headers: { Authorization: `Bearer ${h.ws.tokens.agent}`, 'Accept-Language': 'es' },
      });
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
      return { status: res.status, body: (await res.json()) as any };
    };

    // The replica follows the primary: the whole log is there once it caught up.
    await until(async () => (await read('/api/v1/failed-messages/summary')).body.total === 120, 20_000);
    const summary = await read('/api/v1/failed-messages/summary');
    expect(summary.status).toBe(200);
    expect(summary.body.byReason).toEqual({ blocked: 120 });
    const first = await read(`/api/v1/failed-messages?broadcastId=${broadcast.id}&limit=100`);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(100);
    expect(first.body.data[0].reason.title).toBeTruthy();
    const second = await read(
      `/api/v1/failed-messages?broadcastId=${broadcast.id}&limit=100&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.data).toHaveLength(20);
    expect(second.body.nextCursor).toBeNull();

    // The agent token's first use is recorded by the replica's API process, on the primary.
    await until(async () => {
      const row = await h.server.database.db.get<{ at: number | null }>(
        sql`SELECT last_used_at AS at FROM api_tokens WHERE workspace_id = ${h.ws.id} AND role = 'agent'`,
      );
      return row?.at != null;
    }, 10_000);
  });
});
