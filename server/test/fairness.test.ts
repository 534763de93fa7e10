import { Worker } from 'node:worker_threads';
import type { Role } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow, type DatabaseHandle } from '../src/db/client';
import { ApiError } from '../src/lib/errors';
import { HeavyWork } from '../src/lib/heavy';
import { createBroadcast } from '../src/services/broadcasts';
import { createChannel } from '../src/services/channels';
import { type ContactInput, upsertContacts } from '../src/services/contact-writer';
import { createSegment } from '../src/services/segments';
import { createWorkspace } from '../src/services/workspaces';
import { seedFailedMessages, startThreadedServer } from './helpers';

const CONTACTS = 200_000;
const KEY_CAP = 3;
/** How long a download may make no progress before the server ends it (60 s by default; short here). */
const STALL_MS = 2_000;

let database: DatabaseHandle;
let base: string;
const tokens: Record<'hammer' | 'other' | 'fields', Record<Role, string>> = {} as never;
let fieldsWorkspace: number;
/** The hammer workspace's broadcast to all its 200,000 contacts (created, never sent). */
let broadcast: { id: number };

async function workspace(name: string) {
  const { workspace, tokens } = await createWorkspace(database.db, { name, defaultCountry: 'AR' }, [
    'owner',
    'manager',
    'agent',
  ]);
  return { id: workspace.id, tokens: Object.fromEntries(tokens.map((t) => [t.role, t.token])) as Record<Role, string> };
}

async function call(method: string, path: string, token: string, body?: unknown, language: 'es' | 'en' = 'en') {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'Accept-Language': language,
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // CSV: keep the text
  }
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  return { status: res.status, headers: res.headers, body: parsed as any, text };
}

beforeAll(async () => {
  // As main.ts runs it: heavy reads on a heavy thread of their own, over the same file.
  const heavyOptions = {
    perToken: 4,
    perWorkspace: 8,
    downloadsPerToken: 2,
    downloadsPerWorkspace: 4,
    downloadStallMs: STALL_MS,
    maxCustomFieldKeys: KEY_CAP,
    threads: 1,
  };
  ({ base } = await startThreadedServer(heavyOptions, async (opened) => {
    database = opened;
    const hammer = await workspace('Hammer');
    tokens.hammer = hammer.tokens;
    tokens.other = (await workspace('Other')).tokens;
    const fields = await workspace('Fields');
    tokens.fields = fields.tokens;
    fieldsWorkspace = fields.id;
    // 200,000 contacts in one statement.
    await database.db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CONTACTS})
      INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
      SELECT ${hammer.id}, 'Cliente ' || i, 'Pérez', '+54911' || (40000000 + i), 1, 'cliente' || i || '@example.com',
        '{"plan":"pro"}', 0, 0 FROM n`);
    // A failed-message log of 200,000 (one per contact) for the hammer workspace's agents to read.
    const channel = await createChannel(database.db, hammer.id, { type: 'sandbox', name: 'Sandbox' });
    const segment = await createSegment(database.db, hammer.id, { name: 'all', filter: { match: 'all', groups: [] } });
    broadcast = await createBroadcast(database.db, hammer.id, {
      name: 'Aviso',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await seedFailedMessages(database.db, { workspaceId: hammer.id, broadcastId: broadcast.id, channelId: channel.id });
    // The seed's write-ahead log into the file now, not at the first write (a token's last use) mid-measure.
    await checkpointNow(database.client);
  }));
}, 120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1] ?? 0;

interface Refusal {
  retryAfter: string | null;
  code: string;
  message: string;
}

const HAMMER = `
const { parentPort, workerData } = require('node:worker_threads');
const statuses = [];
const refusals = [];
// Asked for the figures, it hands them over at once (clients may be waiting out a long Retry-After).
parentPort.once('message', () => parentPort.postMessage({ statuses, refusals }));
const client = async () => {
  for (;;) {
    const res = await fetch(workerData.url, {
      headers: { Authorization: 'Bearer ' + workerData.token, 'Accept-Language': 'es' },
    });
    const body = await res.json();
    statuses.push(res.status);
    if (res.status !== 429) continue;
    const retryAfter = res.headers.get('Retry-After');
    refusals.push({ retryAfter, code: body.error.code, message: body.error.message });
    // As a well-behaved client does: at least Retry-After, with jitter so refused clients do not return in step.
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 * (1 + Math.random())));
  }
};
for (let i = 0; i < workerData.clients; i++) client();
`;

async function timed(run: () => Promise<{ status: number }>) {
  const start = performance.now();
  const { status } = await run();
  return { status, ms: performance.now() - start };
}

interface HammerReport {
  statuses: number[];
  refusals: Refusal[];
}

/** `clients` outside clients on a thread of their own, each asking `url` again and again; `stop` hands their figures over. */
function hammer(url: string, token: string, clients: number) {
  const worker = new Worker(HAMMER, { eval: true, workerData: { url, token, clients } });
  const report = new Promise<HammerReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop(): Promise<HammerReport> {
      worker.postMessage('stop');
      const figures = await report;
      await worker.terminate();
      return figures;
    },
  };
}

/** The other workspace's /health and failed-log page, `rounds` times one after another, each timed. */
async function measureOther(rounds: number) {
  const health: number[] = [];
  const log: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const h = await timed(() =>
      fetch(`${base}/health`).then(async (res) => ({ status: res.status, _: await res.text() })),
    );
    const l = await timed(() => call('GET', '/api/v1/failed-messages?limit=50', tokens.other.agent));
    expect([h.status, l.status]).toEqual([200, 200]);
    health.push(h.ms);
    log.push(l.ms);
    await sleep(25);
  }
  return { health, log };
}

describe('heavy operations', () => {
  it('a failed-log page read on the read thread arrives whole, as JSON with its length, and its next page follows on', async () => {
    const first = await call('GET', '/api/v1/failed-messages?limit=50', tokens.hammer.agent, undefined, 'es');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('application/json');
    expect(Number(first.headers.get('content-length'))).toBe(Buffer.byteLength(first.text));
    expect(first.body.data).toHaveLength(50);
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await call(
      'GET',
      `/api/v1/failed-messages?limit=50&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      tokens.hammer.agent,
    );
    expect(second.body.data).toHaveLength(50);
    const ids = new Set([...first.body.data, ...second.body.data].map((m: { messageId: number }) => m.messageId));
    expect(ids.size).toBe(100);
  });

  it('finds a contact among 200,000 from the heavy thread', async () => {
    const res = await call('GET', '/api/v1/contacts?q=cliente%20123456', tokens.hammer.agent);
    expect(res.status).toBe(200);
    expect(res.body.data.map((c: { email: string }) => c.email)).toEqual(['cliente123456@example.com']);
  }, 60_000);

  it("keeps another workspace's /health and failed-log page under 200 ms p99 while one agent runs 100 concurrent searches", async () => {
    // 100 clients of one agent on a thread of their own (an outside client, not the server's loop), each
    // searching for a name nobody has (a scan of all 200,000) again and again, waiting as long as
    // Retry-After says (plus jitter) when refused.
    const searches = hammer(`${base}/api/v1/contacts?q=nadie%20se%20llama%20as%C3%AD`, tokens.hammer.agent, 100);
    // Each token's first use is recorded (a write); the other agent's comes before the measure.
    expect((await call('GET', '/api/v1/failed-messages?limit=50', tokens.other.agent)).status).toBe(200);
    await sleep(100);
    const { health, log } = await measureOther(100);
    const { statuses, refusals } = await searches.stop();

    expect(p99(health)).toBeLessThan(200);
    expect(p99(log)).toBeLessThan(200);
    // Some searches ran; the rest were told to come back, in the project's error shape and language.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(refusals.length).toBeGreaterThanOrEqual(90);
    for (const refusal of refusals) {
      expect(Number(refusal.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(refusal.code).toBe('too_many_heavy_operations');
      expect(refusal.message).toContain(`Espere ${refusal.retryAfter} s`);
    }
    // The refused come back spread out, not all in the next second.
    expect(new Set(refusals.map((r) => r.retryAfter)).size).toBeGreaterThan(5);
    expect(refusals[0]?.message).toContain('como máximo 4 a la vez por token y 8 por espacio de trabajo');
  }, 60_000);

  it("keeps another workspace's /health under 200 ms p99 while one agent asks 100 times at once for the pre-flight of a broadcast to 200,000 and for duplicates", async () => {
    // Each reads the whole audience or every contact: a scan, which runs on a heavy thread, within the
    // same limits as a search; the rest are told when to come back.
    const preflights = hammer(`${base}/api/v1/broadcasts/${broadcast.id}/preflight`, tokens.hammer.agent, 60);
    const duplicates = hammer(`${base}/api/v1/contacts/duplicates`, tokens.hammer.manager, 40);
    expect((await call('GET', '/api/v1/failed-messages?limit=50', tokens.other.agent)).status).toBe(200);
    await sleep(100);
    const { health } = await measureOther(60);
    const reports = [await preflights.stop(), await duplicates.stop()];
    expect(p99(health)).toBeLessThan(200);
    for (const { statuses, refusals } of reports) {
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      expect(refusals.length).toBeGreaterThan(0);
      for (const refusal of refusals) expect(refusal.code).toBe('too_many_heavy_operations');
    }
    // Once the burst's requests in hand are answered, each is answered whole.
    const answered = async (path: string, token: string) => {
      let res = await call('GET', path, token);
      for (const started = Date.now(); res.status === 429 && Date.now() - started < 30_000; await sleep(250))
        res = await call('GET', path, token);
      return res;
    };
    const checked = await answered(`/api/v1/broadcasts/${broadcast.id}/preflight`, tokens.hammer.agent);
    expect(checked.status).toBe(200);
    expect(checked.body.willSend).toBe(CONTACTS);
    const groups = await answered('/api/v1/contacts/duplicates', tokens.hammer.manager);
    expect(groups.status).toBe(200);
    expect(groups.body.data).toEqual([]);
  }, 90_000);

  it("keeps /health and another workspace's log under 200 ms p99 while one agent's 100 clients read and search its 200,000-row log", async () => {
    // Half of them page through the log (on the read thread), half search it for text nobody has (a
    // scan of all 200,000, on the heavy thread): none of it on the API's thread, and the other
    // workspace's page takes its turn on the read thread instead of waiting behind 50.
    const pager = hammer(`${base}/api/v1/failed-messages?limit=100`, tokens.hammer.agent, 50);
    const searcher = hammer(`${base}/api/v1/failed-messages?q=nadie`, tokens.hammer.manager, 50);
    expect((await call('GET', '/api/v1/failed-messages?limit=50', tokens.other.agent)).status).toBe(200);
    await sleep(200);
    const { health, log } = await measureOther(60);
    const [pages, searches] = await Promise.all([pager.stop(), searcher.stop()]);

    expect(p99(health)).toBeLessThan(200);
    expect(p99(log)).toBeLessThan(200);
    // Nobody is refused: the workspace's own reads wait their turn behind each other.
    expect(pages.statuses.length).toBeGreaterThan(100);
    expect(pages.statuses.every((s) => s === 200)).toBe(true);
    expect(searches.statuses.length).toBeGreaterThan(0);
    expect(searches.statuses.every((s) => s === 200)).toBe(true);
  }, 90_000);

  it("keeps another workspace's log under 200 ms p99 while one agent's 50 clients ask the summary of its 200,000-row log by date", async () => {
    // A summary filtered by date (or contact, or kind) is not in the kept counts: it counts every
    // matching failure. It waits its workspace's turn on a heavy thread, not on the read thread
    // every workspace's pages share.
    const summaries = hammer(
      `${base}/api/v1/failed-messages/summary?from=1970-01-01T00:00:00Z`,
      tokens.hammer.agent,
      50,
    );
    expect((await call('GET', '/api/v1/failed-messages?limit=50', tokens.other.agent)).status).toBe(200);
    await sleep(200);
    const { health, log } = await measureOther(60);
    const asked = await summaries.stop();

    expect(p99(health)).toBeLessThan(200);
    expect(p99(log)).toBeLessThan(200);
    // Nobody is refused, and each summary counted the whole log.
    expect(asked.statuses.length).toBeGreaterThan(0);
    expect(asked.statuses.every((s) => s === 200)).toBe(true);
    // The same summary asked while one waits joins it: the fifty still in the workspace's queue when
    // the clients left are one scan or two, not fifty, and the next agent to ask is not kept waiting
    // (about 0.1 s here; 3.5 s when each waited for a scan of its own).
    const started = performance.now();
    const summary = await call('GET', '/api/v1/failed-messages/summary?from=1970-01-01T00:00:00Z', tokens.hammer.agent);
    expect(summary.body.total).toBe(CONTACTS);
    expect(performance.now() - started).toBeLessThan(1_000);
  }, 90_000);

  it("a workspace's stalled downloads neither keep its agents from searching nor hold their slots past the stall limit", async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(base).port);
    // Clients that ask for the 200,000-contact CSV and then never read: the server's socket buffers fill
    // and the download stalls. Four per token, two tokens: as many as the old shared limit let through.
    const stalled = [tokens.hammer.owner, tokens.hammer.manager].flatMap((token) =>
      Array.from({ length: 4 }, () => {
        const socket = connect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        const statusLine = new Promise<string>((resolve) =>
          socket.once('data', (data: Buffer) => {
            socket.pause();
            resolve(data.toString('latin1').split('\r\n')[0] ?? '');
          }),
        );
        // Everything the client gets, once it reads again, up to the connection's end.
        const received: Buffer[] = [];
        socket.on('data', (data: Buffer) => received.push(data));
        const closed = new Promise<string>((resolve) =>
          socket.once('close', () => resolve(Buffer.concat(received).toString('latin1'))),
        );
        socket.write(
          `GET /api/v1/exports/contacts.csv HTTP/1.1\r\nHost: x\r\nAccept-Language: es\r\nAuthorization: Bearer ${token}\r\n\r\n`,
        );
        return { socket, statusLine, closed };
      }),
    );
    try {
      const lines = await Promise.all(stalled.map((s) => s.statusLine));
      // Two downloads per token, four per workspace; the rest are told to wait.
      expect(lines.filter((l) => l.includes(' 200 ')).length).toBe(4);
      expect(lines.filter((l) => l.includes(' 429 ')).length).toBe(4);
      const another = await call('GET', '/api/v1/exports/contacts.csv', tokens.hammer.agent, undefined, 'es');
      expect(another.status).toBe(429);
      expect(another.body.error.code).toBe('too_many_downloads');
      expect(another.body.error.message).toContain('como máximo 2 a la vez por token y 4 por espacio de trabajo');
      // Downloads are counted apart: the workspace's agents still search.
      const search = await call('GET', '/api/v1/contacts?q=cliente%20123456', tokens.hammer.agent);
      expect(search.status).toBe(200);
      expect(search.body.data.map((c: { email: string }) => c.email)).toEqual(['cliente123456@example.com']);
      // Past the stall limit (once their socket buffers are full) the server ends the stalled downloads:
      // their slots are free again. Without the limit they would hold them as long as their connections.
      let freed = 429;
      for (const started = Date.now(); freed === 429 && Date.now() - started < 30_000; await sleep(250))
        freed = (await call('GET', '/api/v1/exports/contacts.csv?tag=nadie', tokens.hammer.agent)).status;
      expect(freed).toBe(200);
      // And a client that reads again finds its file cut short, never a complete-looking CSV.
      const ended = stalled.filter((_, i) => lines[i]?.includes(' 200 '));
      for (const s of ended) s.socket.resume();
      const bodies = await Promise.all(ended.map((s) => s.closed));
      for (const body of bodies) {
        expect(body.endsWith('0\r\n\r\n')).toBe(false);
        expect(body).not.toContain('cliente200000@example.com');
      }
    } finally {
      for (const s of stalled) s.socket.destroy();
    }
  }, 60_000);

  it('counts a workspace as a whole: tokens of one workspace share its limit, other workspaces have their own', () => {
    const work = new HeavyWork({ perToken: 4, perWorkspace: 8 });
    const take = (tokenId: number, workspaceId: number) => work.acquire({ tokenId, workspaceId });
    const agent = [1, 2, 3, 4].map(() => take(1, 10));
    expect(agent.every(Boolean)).toBe(true);
    expect(take(1, 10)).toBeUndefined();
    expect([1, 2, 3, 4].map(() => take(2, 10)).every(Boolean)).toBe(true);
    expect(take(3, 10)).toBeUndefined();
    expect(take(4, 11)).toBeDefined();
    agent[0]?.();
    agent[0]?.(); // releasing twice frees one slot only
    expect(take(3, 10)).toBeDefined();
    expect(take(3, 10)).toBeUndefined();
  });

  it("tells a caller far over its limit to wait longer, so a burst's retries do not all come back at once", () => {
    const work = new HeavyWork({ perToken: 4 });
    const waits = Array.from({ length: 12 }, () => work.retryAfter(7, 5_000));
    expect(waits).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(work.retryAfter(8, 5_000)).toBe(1); // another token starts over
    expect(work.retryAfter(7, 6_000)).toBe(1); // and so does the next second
    expect(Array.from({ length: 1000 }, () => work.retryAfter(9, 7_000)).at(-1)).toBe(30);
  });
});

describe('custom-field keys per workspace', () => {
  it('refuses a new key past the cap on create and update, in the agent language, and keeps using existing keys', async () => {
    const token = tokens.fields.manager;
    const first = await call('POST', '/api/v1/contacts', token, {
      firstName: 'Ana',
      customFields: { plan: 'pro', city: 'Quito' },
    });
    expect(first.status).toBe(201);
    expect(
      (await call('POST', '/api/v1/contacts', token, { firstName: 'Beto', customFields: { tier: 'gold' } })).status,
    ).toBe(201);

    const refused = await call(
      'POST',
      '/api/v1/contacts',
      token,
      { firstName: 'Carla', customFields: { plan: 'x', color: 'rojo' } },
      'es',
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('custom_field_keys_limit');
    expect(refused.body.error.message).toContain('ya tiene 3 campos personalizados distintos y el máximo es 3');
    expect(refused.body.error.message).toContain('color');
    const english = await call('PATCH', `/api/v1/contacts/${first.body.id}`, token, { customFields: { color: 'red' } });
    expect(english.status).toBe(422);
    expect(english.body.error.message).toContain('the maximum is 3');

    // Nothing was written by the refusals; keys the workspace has stay usable, and null frees one.
    const list = await call('GET', '/api/v1/contacts', token);
    expect(list.body.data.map((c: { firstName: string }) => c.firstName).sort()).toEqual(['Ana', 'Beto']);
    expect(
      (await call('POST', '/api/v1/contacts', token, { firstName: 'Dani', customFields: { plan: 'basic' } })).status,
    ).toBe(201);
    const freed = await call('PATCH', `/api/v1/contacts/${first.body.id}`, token, { customFields: { city: null } });
    expect(freed.status).toBe(200);
    expect(
      (await call('PATCH', `/api/v1/contacts/${first.body.id}`, token, { customFields: { color: 'azul' } })).status,
    ).toBe(200);
  });

  it('refuses a bulk upsert that would pass the cap, writing nothing', async () => {
    const ws = { workspaceId: fieldsWorkspace, defaultCountry: 'AR' };
    const rows: ContactInput[] = [
      { firstName: 'Eva', phone: '+5491155550001', customFields: { plan: 'pro' } },
      { firstName: 'Fede', phone: '+5491155550002', customFields: { nickname: 'F' } },
    ];
    const error = await upsertContacts(database.db, ws, rows, { by: 'phone', mode: 'upsert' }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.code).toBe('custom_field_keys_limit');
    const [row] = await database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM contacts WHERE workspace_id = ${fieldsWorkspace} AND first_name IN ('Eva', 'Fede')`,
    );
    expect(row?.n).toBe(0);
  });

  it('exports at most the cap of custom columns, even for keys stored before the cap existed', async () => {
    // Fields written before the cap: seven keys on one contact.
    await database.db.run(sql`INSERT INTO contacts (workspace_id, first_name, custom_fields, created_at, updated_at)
      VALUES (${fieldsWorkspace}, 'Legacy', '{"k1":"1","k2":"2","k3":"3","k4":"4","k5":"5","k6":"6","k7":"7"}', 0, 0)`);
    const res = await call('GET', '/api/v1/exports/contacts.csv', tokens.fields.agent);
    expect(res.status).toBe(200);
    const [header] = Papa.parse<string[]>(res.text.trim()).data;
    expect(header?.slice(0, 2)).toEqual(['Contact ID', 'First Name']);
    expect(header?.length).toBe(7 + KEY_CAP); // the fixed columns, then at most the cap
  });
});
