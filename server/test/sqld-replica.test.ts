/**
 * Past one machine: an API process (`npm run server`, ENGINE=off) on a sqld read replica serves the
 * failed-message log and its summary written on the primary, and its own writes (a token's first use)
 * reach the primary through the replica; and it keeps serving the log and the extension's reads while
 * engine processes on the primary send.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { engineProcess, harness, until, WA, whatsappBroadcast } from './engine/harness';
import { seedFailedMessages } from './helpers';
import { portForChild } from './ports';

const SERVE = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
const h = await harness({ sqldReplica: true });
let api: ChildProcess | undefined;
// SIGTERM, which serve.mjs passes on: a SIGKILL would end serve.mjs alone and leave the server it
// started running.
afterAll(async () => {
  if (!api || api.exitCode !== null) return;
  const exited = new Promise((resolve) => api?.once('exit', resolve));
  api.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
});

/** The API process on the replica, started once for the file; `read` GETs as the agent. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
let reader: ((path: string) => Promise<{ status: number; ms: number; body: any }>) | undefined;
async function apiOnReplica() {
  if (reader) return reader;
  const replicaUrl = h.server.replicaUrl;
  if (!replicaUrl) throw new Error('this test runs in the server-sqld project (REBOUND_TEST_DATABASE=sqld)');
  const port = String(await portForChild());
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
  reader = async (path: string) => {
    const at = performance.now();
    const res = await fetch(`${base}${path}`, {
      headers: { Authorization: `Bearer ${h.ws.tokens.agent}`, 'Accept-Language': 'es' },
    });
    const body = await res.json();
    return { status: res.status, ms: performance.now() - at, body };
  };

  return reader;
}

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

    const read = await apiOnReplica();

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

  it('keeps serving the log and the extension reads while two engines on the primary send', async () => {
    const read = await apiOnReplica();
    const sim = await startWhatsAppSimulator({
      accessToken: WA.accessToken,
      phoneNumberId: WA.phoneNumberId,
      appSecret: WA.appSecret,
    });
    h.simulators.push(sim);
    const RECIPIENTS = 4000;
    const broadcast = await whatsappBroadcast(h, sim, {
      tag: 'promo',
      name: 'Promo',
      count: RECIPIENTS,
      rate: 400,
      start: 1000,
    });
    // One in ten does not use WhatsApp: failures written on the primary while the replica is read.
    for (let i = 0; i < RECIPIENTS; i += 10)
      sim.script(String(5491150000000 + 1000 + i), { kind: 'fail', code: '131026' });
    const engines = ['a', 'b'].map((id) => engineProcess(h, id));
    await until(() => engines.every((e) => e.started()));
    await h.schedule(broadcast.id);

    // What the extension and an agent read, over and over, until the broadcast is done.
    const paths = [
      '/api/v1/failed-messages/summary',
      `/api/v1/failed-messages?broadcastId=${broadcast.id}&limit=50`,
      '/api/v1/broadcasts/attention',
      `/api/v1/broadcasts/${broadcast.id}`,
    ];
    const latencies: number[] = [];
    const failedSeen = new Set<number>();
    let done = false;
    while (!done) {
      for (const path of paths) {
        const res = await read(path);
        expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
        latencies.push(res.ms);
        if (path.endsWith(`/broadcasts/${broadcast.id}`)) {
          failedSeen.add(res.body.counts?.failed ?? 0);
          done = !['scheduled', 'sending'].includes(res.body.status);
        }
      }
    }
    await Promise.all(engines.map((e) => e.stop()));
    // It followed the send as it went, not only at the end: several failure counts along the way.
    expect(failedSeen.size).toBeGreaterThan(2);
    const detail = await read(`/api/v1/broadcasts/${broadcast.id}`);
    expect(detail.body.status).toBe('partially_failed');
    expect(detail.body.counts).toEqual({ sent: RECIPIENTS * 0.9, failed: RECIPIENTS / 10 });
    const page = await read(`/api/v1/failed-messages?broadcastId=${broadcast.id}&limit=50`);
    expect(page.body.data).toHaveLength(50);
    expect(page.body.data[0].reason.code).toBe('not_on_channel');
    latencies.sort((a, b) => a - b);
    const p95 = latencies[Math.floor(latencies.length * 0.95)] ?? 0;
    console.log(`replica API during the send: ${latencies.length} reads, p95 ${p95.toFixed(0)} ms`);
    expect(p95).toBeLessThan(500);
  }, 120_000);
});
