/**
 * What a re-send would do (the panel's preview, `dryRun`) reads every failure of the broadcast: for one of
 * 200,000 failures that is a scan. Asked by one agent's many clients at once, it must not hold another
 * workspace's requests: it runs on a heavy thread, within the heavy limits; the rest are told when to come back.
 * The click itself (a plan of 200,000 targets written) runs on a heavy thread too, and takes no slot.
 */
import { Worker } from 'node:worker_threads';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow } from '../src/db/client';
import { createBroadcast } from '../src/services/broadcasts';
import { createChannel } from '../src/services/channels';
import { createSegment } from '../src/services/segments';
import { createWorkspace } from '../src/services/workspaces';
import { startThreadedServer } from './helpers';

const FAILURES = 200_000;

let base: string;
let hammerToken = '';
let otherToken = '';
let broadcastId = 0;
let count: (query: string) => Promise<number>;

beforeAll(async () => {
  ({ base } = await startThreadedServer({ perToken: 4, perWorkspace: 8, threads: 1 }, async ({ db, client }) => {
    const made = await createWorkspace(db, { name: 'Hammer', defaultCountry: 'AR' }, ['agent']);
    const other = await createWorkspace(db, { name: 'Other', defaultCountry: 'AR' }, ['agent']);
    hammerToken = made.tokens[0]?.token ?? '';
    otherToken = other.tokens[0]?.token ?? '';
    const ws = made.workspace.id;
    await db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${FAILURES})
        INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, created_at, updated_at)
        SELECT ${ws}, 'Cliente ' || i, '+54911' || (40000000 + i), 1, 0, 0 FROM n`);
    const channel = await createChannel(db, ws, { type: 'sandbox', name: 'Sandbox' });
    const segment = await createSegment(db, ws, { name: 'all', filter: { match: 'all', groups: [] } });
    const broadcast = await createBroadcast(db, ws, {
      name: 'Aviso',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    broadcastId = broadcast.id;
    // Sent, and every recipient failed with a provider error (a re-send may go at once).
    await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state,
          reason, provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
        SELECT workspace_id, ${broadcast.id}, ${channel.id}, id, phone, 'failed', 'provider_error', '131000',
          'Something went wrong', 1, 0, 1000 + id, 0, 0 FROM contacts WHERE workspace_id = ${ws}`);
    await db.run(sql`UPDATE broadcasts SET status = 'failed', target_count = ${FAILURES},
          started_at = 1000, finished_at = 2000 WHERE id = ${broadcast.id}`);
    await checkpointNow(client);
    count = async (query) => Number((await client.execute(query)).rows[0]?.n);
  }));
}, 120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1] ?? 0;

/** `clients` clients on a thread of their own, each asking for the preview again and again (429: waits Retry-After). */
const CLIENTS = `
const { parentPort, workerData } = require('node:worker_threads');
const statuses = [];
const codes = [];
parentPort.once('message', () => parentPort.postMessage({ statuses, codes }));
const client = async () => {
  for (;;) {
    let res;
    let body;
    try {
      res = await fetch(workerData.url, {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + workerData.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ dryRun: true }),
      });
      body = await res.json();
    } catch {
      // A connection the server dropped: counted, not fatal to the figures.
      statuses.push(0);
      continue;
    }
    statuses.push(res.status);
    if (res.status !== 429) continue;
    codes.push(body.error.code);
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('Retry-After')) * 1000 * (1 + Math.random())));
  }
};
for (let i = 0; i < workerData.clients; i++) client();
`;

/**
 * Asks `url` again and again, one request at a time, while a second loop writes (an agent creating
 * contacts, each a write on the API's thread); answers every wait of `url` when told to stop.
 */
const WATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const waits = [];
let stop = false;
parentPort.once('message', () => { stop = true; });
const headers = { Authorization: 'Bearer ' + workerData.token, 'Content-Type': 'application/json' };
(async () => {
  for (let i = 0; !stop; i++) {
    const res = await fetch(workerData.write, {
      method: 'POST', headers, body: JSON.stringify({ firstName: 'Nueva ' + i, phone: '+5491160' + String(100000 + i) }),
    });
    await res.text();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
})();
(async () => {
  while (!stop) {
    const start = performance.now();
    const res = await fetch(workerData.url, { headers });
    await res.text();
    waits.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  parentPort.postMessage(waits);
})();
`;

describe("a re-send's preview of 200,000 failures", () => {
  it("keeps another workspace's /health and log under 200 ms p99 while one agent's 30 clients ask for it at once", async () => {
    const url = `${base}/api/v1/broadcasts/${broadcastId}/resend`;
    const worker = new Worker(CLIENTS, { eval: true, workerData: { url, token: hammerToken, clients: 30 } });
    const report = new Promise<{ statuses: number[]; codes: string[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // The other agent's first read starts the read thread (and notes the token's use): not what is measured.
    const first = await fetch(`${base}/api/v1/failed-messages?limit=50`, {
      headers: { Authorization: `Bearer ${otherToken}` },
    });
    expect(first.status).toBe(200);
    await first.text();
    await sleep(300);
    const timings: number[] = [];
    // 60 rounds, or 20 s: a request held 2 s counts as 2 s (the API held behind the scans).
    for (let i = 0, until = Date.now() + 20_000; i < 60 && Date.now() < until; i++) {
      for (const path of ['/health', '/api/v1/failed-messages?limit=50']) {
        const start = performance.now();
        try {
          const res = await fetch(`${base}${path}`, {
            headers: { Authorization: `Bearer ${otherToken}` },
            signal: AbortSignal.timeout(2_000),
          });
          await res.text();
          expect(res.status).toBe(200);
          timings.push(performance.now() - start);
        } catch (error) {
          if ((error as Error).name !== 'TimeoutError') throw error;
          timings.push(2_000);
        }
      }
      await sleep(25);
    }
    worker.postMessage('stop');
    const { statuses, codes } = await report;
    await worker.terminate();
    expect(p99(timings)).toBeLessThan(200);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses).toContain(200);
    expect(new Set(codes)).toEqual(new Set(['too_many_heavy_operations']));

    // Answered whole, once the burst is over; and a preview wrote nothing.
    let res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${hammerToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ dryRun: true }),
    });
    for (const started = Date.now(); res.status === 429 && Date.now() - started < 30_000; await sleep(250))
      res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${hammerToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ dryRun: true }),
      });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { recipients: number }).recipients).toBe(FAILURES);
    expect(await count(`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${broadcastId}`)).toBe(0);
  }, 120_000);
});

describe('the re-send itself', () => {
  it("is never refused for the heavy limit, and never holds another workspace: the click goes while the agent's previews fill the limit", async () => {
    const url = `${base}/api/v1/broadcasts/${broadcastId}/resend`;
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${hammerToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const previews = Array.from({ length: 6 }, () => post({ dryRun: true }));
    await sleep(50);
    // Another workspace's /health, asked again and again from a thread of its own while the click plans
    // and writes (this thread is the server's: a client here could not see it held).
    const watcher = new Worker(WATCHER, {
      eval: true,
      workerData: { url: `${base}/health`, write: `${base}/api/v1/contacts`, token: otherToken },
    });
    const watched = new Promise<number[]>((resolve, reject) => {
      watcher.once('message', resolve);
      watcher.once('error', reject);
    });
    await sleep(100);
    const click = await post({ when: 'now' });
    watcher.postMessage('stop');
    const waits = await watched;
    await watcher.terminate();
    // On the API's thread, the click held it 2 s and more: one /health waited for all of it. On a heavy
    // thread without the API's write turn, each contact written meanwhile waited inside the driver for the
    // plan's transactions, and /health behind it: 640 ms. With the turn, about 60 ms.
    expect(waits.length).toBeGreaterThan(10);
    expect(Math.max(...waits)).toBeLessThan(300);
    const statuses = await Promise.all(previews.map(async (p) => (await p).status));
    expect(statuses).toContain(429);
    expect(click.status, await click.clone().text()).toBe(200);
    expect(((await click.json()) as { recipients: number }).recipients).toBe(FAILURES);
  }, 60_000);
});
