/**
 * Scheduling a broadcast for later writes its whole audience down (who the segment holds now, S2): one
 * row per contact, in one transaction with its count. For a segment of 1,000,000 that held the API's
 * thread 0.4 s and more (the driver is synchronous): it runs on a heavy thread, and the API's thread
 * answers everyone meanwhile.
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

const CONTACTS = 1_000_000;

let base: string;
let managerToken = '';
let otherToken = '';
let broadcastId = 0;
let otherSegmentId = 0;
let sendingId = 0;
let smallSendingId = 0;
let otherManagerToken = '';
let otherBroadcastId = 0;
let count: (query: string) => Promise<number>;

beforeAll(async () => {
  ({ base } = await startThreadedServer({ threads: 1, perToken: 8 }, async ({ db, client }) => {
    const made = await createWorkspace(db, { name: 'Grande', defaultCountry: 'AR' }, ['manager']);
    const other = await createWorkspace(db, { name: 'Otra', defaultCountry: 'AR' }, ['agent', 'manager']);
    managerToken = made.tokens[0]?.token ?? '';
    otherToken = other.tokens[0]?.token ?? '';
    otherManagerToken = other.tokens[1]?.token ?? '';
    /** A sandbox broadcast of "Hola" to everyone in the workspace. */
    const helloToAll = async (workspaceId: number, name: string) => {
      const channel = await createChannel(db, workspaceId, { type: 'sandbox', name: 'Sandbox' });
      const segment = await createSegment(db, workspaceId, { name: 'todos', filter: { match: 'all', groups: [] } });
      const made = await createBroadcast(db, workspaceId, {
        name,
        channelId: channel.id,
        segmentId: segment.id,
        content: { text: 'Hola' },
      });
      return { id: made.id, channel, segment };
    };
    otherBroadcastId = (await helloToAll(other.workspace.id, 'Aviso')).id;
    const ws = made.workspace.id;
    await db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CONTACTS})
        INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, created_at, updated_at)
        SELECT ${ws}, 'Cliente ' || i, '+54911' || (40000000 + i), 1, 0, 0 FROM n`);
    const { id, channel, segment } = await helloToAll(ws, 'Aviso de mañana');
    broadcastId = id;
    // Half of them tagged: another segment, of another size.
    const tag = await db.get<{ id: number }>(
      sql`INSERT INTO tags (workspace_id, name, key, created_at) VALUES (${ws}, 'Mitad', 'mitad', 0) RETURNING id`,
    );
    await db.run(sql`INSERT INTO contact_tags (tag_id, contact_id)
        SELECT ${tag?.id}, id FROM contacts WHERE workspace_id = ${ws} AND id % 2 = 0`);
    const half = await createSegment(db, ws, {
      name: 'la mitad',
      filter: {
        match: 'all',
        groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['Mitad'] }] }],
      },
    });
    otherSegmentId = half.id;
    /** Another broadcast to `n` of them, sending: its audience frozen, every message still queued. */
    const sendingTo = async (name: string, n: number) => {
      const { id: sending } = await createBroadcast(db, ws, {
        name,
        channelId: channel.id,
        segmentId: segment.id,
        content: { text: 'Hola' },
      });
      await db.run(
        sql`UPDATE broadcasts SET status = 'sending', started_at = 1, target_count = ${n} WHERE id = ${sending}`,
      );
      await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state,
          attempts, next_attempt_at, created_at, updated_at)
        SELECT workspace_id, ${sending}, ${channel.id}, id, phone, 'queued', 0, 0, 0, 0 FROM contacts
        WHERE workspace_id = ${ws} LIMIT ${n}`);
      return sending;
    };
    sendingId = await sendingTo('Liquidación', CONTACTS);
    // And a small one.
    smallSendingId = await sendingTo('Recordatorio', 1000);
    await checkpointNow(client);
    count = async (query) => Number((await client.execute(query)).rows[0]?.n);
  }));
}, 120_000);

/** Asks `url` again and again, one request at a time, until told to stop; answers every wait. */
const WATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const waits = [];
let stop = false;
parentPort.once('message', () => { stop = true; });
(async () => {
  while (!stop) {
    const start = performance.now();
    const res = await fetch(workerData.url, { headers: { Authorization: 'Bearer ' + workerData.token } });
    await res.text();
    waits.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  parentPort.postMessage(waits);
})();
`;

/** `request` while another workspace's reads are asked again and again from a thread of their own; their waits. */
async function watched(request: () => Promise<Response>): Promise<{ res: Response; waits: number[] }> {
  // (This thread is the server's: a client here could not see it held.)
  const watcher = new Worker(WATCHER, {
    eval: true,
    workerData: { url: `${base}/api/v1/broadcasts`, token: otherToken },
  });
  const waits = new Promise<number[]>((resolve, reject) => {
    watcher.once('message', resolve);
    watcher.once('error', reject);
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const res = await request();
  watcher.postMessage('stop');
  const answered = await waits;
  await watcher.terminate();
  return { res, waits: answered };
}

/** The manager's request `method` `path` with a JSON body (Spanish answers). */
const asManager = (method: string, path: string, body: unknown) =>
  fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${managerToken}`, 'Content-Type': 'application/json', 'Accept-Language': 'es' },
    body: JSON.stringify(body),
  });

/** Waits for `request`, answered 200, and writes `label` down in the order the answers end. */
async function ended(finished: string[], label: string, request: Promise<Response>): Promise<void> {
  const res = await request;
  expect(res.status).toBe(200);
  await res.text();
  finished.push(label);
}

/** A broadcast's pre-flight, a scan on the heavy thread, as `token`'s. */
const preflightOf = (token: string, id: number) =>
  fetch(`${base}/api/v1/broadcasts/${id}/preflight`, { headers: { Authorization: `Bearer ${token}` } });

const tomorrow = () => new Date(Date.now() + 24 * 3_600_000).toISOString();

describe('a broadcast to 1,000,000 contacts scheduled for tomorrow', () => {
  it("is scheduled with its audience written down, while another workspace's requests are answered at once", async () => {
    const at = tomorrow();
    const { res, waits } = await watched(() => asManager('POST', `/broadcasts/${broadcastId}/schedule`, { at }));
    const body = (await res.json()) as { status: string; scheduledAt: string; targetCount: number };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'scheduled', scheduledAt: at, targetCount: CONTACTS });
    expect(await count(`SELECT count(*) AS n FROM broadcast_targets WHERE broadcast_id = ${broadcastId}`)).toBe(
      CONTACTS,
    );
    // On the API's thread the write held every request behind it (about 0.4 s here); on a heavy thread,
    // with the API's write turn lent, nobody waits for it (about 50 ms, the first request's own).
    expect(waits.length).toBeGreaterThan(5);
    expect(Math.max(...waits)).toBeLessThan(200);
  }, 60_000);

  it("given another segment, writes its audience down again, while another workspace's requests are answered at once", async () => {
    // Scheduled for tomorrow (again: this test does not lean on the one before).
    const scheduled = await asManager('POST', `/broadcasts/${broadcastId}/schedule`, { at: tomorrow() });
    expect(scheduled.status).toBe(200);
    const { res, waits } = await watched(() =>
      asManager('PATCH', `/broadcasts/${broadcastId}`, { segmentId: otherSegmentId }),
    );
    const body = (await res.json()) as { status: string; segmentId: number; targetCount: number };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: 'scheduled', segmentId: otherSegmentId, targetCount: CONTACTS / 2 });
    expect(await count(`SELECT count(*) AS n FROM broadcast_targets WHERE broadcast_id = ${broadcastId}`)).toBe(
      CONTACTS / 2,
    );
    expect(waits.length).toBeGreaterThan(5);
    expect(Math.max(...waits)).toBeLessThan(200);
  }, 60_000);

  it('refused as it was on the API thread: a time past, in the caller language, nothing written', async () => {
    const res = await asManager('POST', `/broadcasts/${broadcastId}/schedule`, { at: '2020-01-01T00:00:00.000Z' });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(422);
    expect(body.error.code).toBe('broadcast_schedule_past');
    expect(body.error.message).toMatch(/^La fecha de envío ya pasó/);
  });
});

describe('a broadcast to 1,000,000 contacts stopped while it sends', () => {
  it("is cancelled with every queued message, while another workspace's requests are answered at once", async () => {
    const { res, waits } = await watched(() => asManager('POST', `/broadcasts/${sendingId}/cancel`, {}));
    const body = (await res.json()) as { status: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('cancelled');
    expect(
      await count(`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${sendingId} AND state = 'cancelled'`),
    ).toBe(CONTACTS);
    // On the API's thread the update of a million messages held every request behind it; on a heavy
    // thread, with the API's write turn lent, nobody waits for it.
    expect(waits.length).toBeGreaterThan(5);
    expect(Math.max(...waits)).toBeLessThan(200);
  }, 60_000);

  it("refused as it was on the API thread: another workspace's broadcast is not found, in the caller language", async () => {
    // Another workspace's manager: past the route's guard, the thread looks in the caller's workspace only.
    const other = await fetch(`${base}/api/v1/broadcasts/${smallSendingId}/cancel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${otherManagerToken}`, 'Accept-Language': 'es' },
    });
    const body = (await other.json()) as { error: { code: string; message: string } };
    expect(other.status).toBe(404);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toMatch(/^No se encontró/);
    expect(
      await count(`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${smallSendingId} AND state = 'queued'`),
    ).toBe(1000);
  });

  it("a manager's stop does not wait its turn behind the workspace's scans queued on the heavy thread", async () => {
    const finished: string[] = [];
    // Three scans of 500,000 contacts: the single heavy thread runs the first, the others wait.
    const scans = [1, 2, 3].map((i) => ended(finished, `preflight ${i}`, preflightOf(managerToken, broadcastId)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Two stops (the manager clicked twice): the second waits behind one scan at most, not all of them.
    const stops = [1, 2].map(async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 20));
      await ended(finished, `stop ${i}`, asManager('POST', `/broadcasts/${smallSendingId}/cancel`, {}));
    });
    await Promise.all([...scans, ...stops]);
    // The stop ran next (first or second to end, whichever scan the thread took first), not after the
    // scans queued before it; the second before the last scan.
    expect(finished.indexOf('stop 1')).toBeLessThanOrEqual(1);
    expect(finished.at(-1)).toMatch(/^preflight/);
    expect(
      await count(`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${smallSendingId} AND state = 'cancelled'`),
    ).toBe(1000);
  }, 60_000);

  it("a flood of stops from one workspace does not hold another workspace's work on the heavy thread", async () => {
    const finished: string[] = [];
    // The thread scans 500,000 contacts; meanwhile the other workspace asks for its pre-flight, then ten
    // stops arrive at once (a script, a client retrying).
    const running = ended(finished, 'scan', preflightOf(managerToken, broadcastId));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const other = ended(finished, 'other workspace', preflightOf(otherManagerToken, otherBroadcastId));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stops = Array.from({ length: 10 }, () =>
      ended(finished, 'stop', asManager('POST', `/broadcasts/${smallSendingId}/cancel`, {})),
    );
    await Promise.all([running, other, ...stops]);
    // One stop goes ahead of the queue; the rest take their workspace's turns.
    expect(
      finished.slice(0, finished.indexOf('other workspace')).filter((x) => x === 'stop').length,
    ).toBeLessThanOrEqual(1);
  }, 60_000);

  it("a re-send taken back by its agent goes through the same thread: nothing to take back, said in the caller's language", async () => {
    const res = await asManager('POST', `/broadcasts/${sendingId}/resend/cancel`, {});
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(409);
    expect(body.error.code).toBe('resend_nothing_to_cancel');
  });
});
