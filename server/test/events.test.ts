/** The event stream: JSON pages for polling and server-sent events, only ever the token's workspace. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import type { Database } from '../src/db/client';
import { recordEvent } from '../src/engine/events';
import { MAX_STREAMS_PER_TOKEN, MAX_STREAMS_PER_WORKSPACE } from '../src/routes/events';
import { eventMessage } from '../src/services/events';
import { type Harness, harness } from './engine/harness';
import type { TestWorkspace } from './helpers';

// Connected streams look for new events every 30 ms here instead of every 500 ms.
const previousPoll = process.env.REBOUND_EVENTS_POLL_MS;
process.env.REBOUND_EVENTS_POLL_MS = '30';
afterAll(() => {
  if (previousPoll === undefined) delete process.env.REBOUND_EVENTS_POLL_MS;
  else process.env.REBOUND_EVENTS_POLL_MS = previousPoll;
});

let h: Harness;
let sandbox: number;
let other: TestWorkspace;
let sends = 0;

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A minimal SSE reader over fetch: what the extension does with a stream parser. */
function readSse(res: Response) {
  const body = res.body;
  if (!body) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  let pending: ReturnType<typeof reader.read> | undefined;
  let ended = false;

  function parse() {
    for (;;) {
      const end = buffer.search(/\r?\n\r?\n/);
      if (end < 0) return;
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event: SseEvent = { id: undefined, event: undefined, data: '' };
      const data: string[] = [];
      let hasData = false;
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') {
          data.push(value);
          hasData = true;
        }
      }
      if (hasData) events.push({ ...event, data: data.join('\n') });
    }
  }

  /** Reads more until the condition holds or the time is up (false). */
  async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (ended) return false;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      pending ??= reader.read();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        pending,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), remaining);
        }),
      ]);
      clearTimeout(timer);
      if (result === 'timeout') return condition();
      pending = undefined;
      if (result.done) {
        ended = true;
        return condition();
      }
      buffer += decoder.decode(result.value, { stream: true });
      parse();
    }
    return true;
  }

  return {
    comments,
    /** The next n events, in order. */
    async take(n: number, timeoutMs = 5000): Promise<SseEvent[]> {
      if (!(await until(() => events.length >= n, timeoutMs)))
        throw new Error(`waited for ${n} events, got ${events.length}: ${JSON.stringify(events)}`);
      return events.splice(0, n);
    },
    /** Everything up to and including the first event that matches. */
    async takeUntil(match: (event: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent[]> {
      if (!(await until(() => events.some(match), timeoutMs)))
        throw new Error(`no matching event; got ${JSON.stringify(events)}`);
      return events.splice(0, events.findIndex(match) + 1);
    },
    /** Whatever arrives in the next ms milliseconds. */
    async drain(ms: number): Promise<SseEvent[]> {
      await until(() => false, ms);
      return events.splice(0);
    },
    async waitForComment(text: string, timeoutMs = 5000) {
      return until(() => comments.includes(text), timeoutMs);
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}

async function connect(token: string, options: { query?: string; lastEventId?: string; language?: 'es' | 'en' } = {}) {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    Accept: 'text/event-stream',
    'Accept-Language': options.language ?? 'en',
  };
  if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId;
  const res = await fetch(`${h.server.baseUrl}/api/v1/events${options.query ?? ''}`, { headers });
  return { res, stream: readSse(res) };
}

async function poll(token: string, query: string, language: 'es' | 'en' = 'en') {
  return h.server.request('GET', `/api/v1/events${query}`, { token, language });
}

/** The workspace's event ids straight from the table. */
async function idsOf(workspaceId: number): Promise<number[]> {
  const rows = await h.server.database.db.all<{ id: number }>(
    sql`SELECT id FROM events WHERE workspace_id = ${workspaceId} ORDER BY id`,
  );
  return rows.map((row) => row.id);
}

/** A real broadcast on the sandbox: two contacts delivered, one malformed phone left out. */
async function broadcast(name: string) {
  const tag = `ev ${++sends}`;
  for (const [i, phone] of [`+54911420000${sends}1`, `+54911420000${sends}2`, '123'].entries()) {
    const res = await h.server.request('POST', '/api/v1/contacts', {
      token: h.ws.tokens.agent,
      body: { firstName: `C${i}`, phone, tags: [tag] },
    });
    if (res.status !== 201) throw new Error(res.text);
  }
  const segment = await h.segment(`seg ${tag}`, tag);
  const created = await h.broadcast({ name, channelId: sandbox, segmentId: segment.id, content: { text: 'Hola' } });
  await h.schedule(created.id);
  await h.engine().runUntilIdle();
  return created.id;
}

beforeAll(async () => {
  h = await harness();
  sandbox = (await h.channel({ type: 'sandbox', name: 'Pruebas' })).id;
  other = await h.server.workspace('Otra');
  const at = Date.now();
  // The reference numbers, recorded as the engine records them.
  await recordEvent(h.server.database.db, {
    workspaceId: h.ws.id,
    type: 'messages.failed',
    broadcastId: null,
    data: { name: 'Black Friday', count: 500, byReason: { quota_reached: 500 } },
    at,
  });
  await recordEvent(h.server.database.db, {
    workspaceId: other.id,
    type: 'broadcast.cancelled',
    data: { name: 'Ajena' },
    at,
  });
  await recordEvent(h.server.database.db, {
    workspaceId: h.ws.id,
    type: 'broadcast.partially_failed',
    data: { name: 'Black Friday', previous: 'sending', sent: 1000, failed: 500, uncertain: 0, excluded: 0 },
    at,
  });
  await recordEvent(h.server.database.db, {
    workspaceId: h.ws.id,
    type: 'broadcast.failed',
    data: { name: 'Vacía', errorCode: 'broadcast_empty_target' },
    at,
  });
  await broadcast('Primera');
});

describe('polling', () => {
  it("returns the workspace's events in id order, with a cursor to continue from", async () => {
    const res = await poll(h.ws.tokens.agent, '?wait=0');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const ids = await idsOf(h.ws.id);
    expect(res.body.data.map((e: { id: number }) => e.id)).toEqual(ids);
    expect(res.body.nextCursor).toBe(String(ids.at(-1)));
    expect(res.body.hasMore).toBe(false);
    const types = res.body.data.map((e: { type: string }) => e.type);
    expect(types.slice(0, 3)).toEqual(['messages.failed', 'broadcast.partially_failed', 'broadcast.failed']);
    expect(types).toEqual(expect.arrayContaining(['broadcast.scheduled', 'broadcast.started', 'broadcast.completed']));
    const first = res.body.data[0];
    expect(first).toMatchObject({
      type: 'messages.failed',
      broadcastId: null,
      data: { name: 'Black Friday', count: 500, byReason: { quota_reached: 500 } },
      message: 'Black Friday: 500 failed messages — Daily messaging limit reached',
    });
    expect(first.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    // Nothing new: an empty page and the same cursor.
    const again = await poll(h.ws.tokens.agent, `?since=${res.body.nextCursor}&wait=0`);
    expect(again.body).toEqual({ data: [], nextCursor: res.body.nextCursor, hasMore: false });

    // Small pages walk the same events.
    const walked: number[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const page = await poll(h.ws.tokens.agent, `?wait=0&limit=2${cursor ? `&since=${cursor}` : ''}`);
      walked.push(...page.body.data.map((e: { id: number }) => e.id));
      cursor = page.body.nextCursor;
      if (!page.body.hasMore) break;
    }
    expect(walked).toEqual(ids);

    // Accept: application/json is the polling form too.
    const json = await h.server.request('GET', `/api/v1/events?since=${ids[2]}`, {
      token: h.ws.tokens.agent,
      headers: { Accept: 'application/json' },
    });
    expect(json.body.data.map((e: { id: number }) => e.id)).toEqual(ids.slice(3));
  });

  it('speaks Spanish and English, with numbers the way each language writes them', async () => {
    const es = (await poll(h.ws.tokens.agent, '?wait=0', 'es')).body.data;
    const en = (await poll(h.ws.tokens.agent, '?wait=0', 'en')).body.data;
    expect(es[0].message).toBe('Black Friday: 500 mensajes fallidos — Se alcanzó el límite diario del canal');
    expect(es[1].message).toBe('Black Friday: 500 de 1.500 no se enviaron');
    expect(en[1].message).toBe('Black Friday: 500 of 1,500 were not sent');
    expect(es[2].message).toBe('Vacía: Falló la transmisión: no hay contactos en el segmento de destino');
    expect(en[2].message).toBe('Vacía: Broadcast failed: no contacts in target segment');
    const started = en.find((e: { type: string }) => e.type === 'broadcast.started');
    expect(started.message).toBe('Primera: sending started to 2 contacts; 1 left out');
    expect(es.find((e: { type: string }) => e.type === 'broadcast.started').message).toBe(
      'Primera: comenzó el envío a 2 contactos; 1 quedó fuera',
    );
    const scheduled = es.find((e: { type: string }) => e.type === 'broadcast.scheduled');
    expect(scheduled.message).toMatch(
      /^Primera: programada para el \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(3 contactos\)$/,
    );
    // The workspace speaks Spanish: without Accept-Language, Spanish.
    const plain = await h.server.request('GET', '/api/v1/events?wait=0', { token: h.ws.tokens.agent });
    expect(plain.body.data[1].message).toBe('Black Friday: 500 de 1.500 no se enviaron');
  });

  it('builds a sentence for every event type', () => {
    const m = (type: string, data: Record<string, unknown>, language: 'es' | 'en' | 'pt' = 'es') =>
      eventMessage(type, data, language);
    expect(m('broadcast.completed', { name: 'BF', sent: 1500, failed: 0, excluded: 0 })).toBe(
      'BF: se envió a 1.500 contactos',
    );
    expect(m('broadcast.completed', { name: 'BF', sent: 1, excluded: 2 }, 'en')).toBe(
      'BF: sent to 1 contact (2 left out)',
    );
    expect(m('broadcast.completed', { name: 'BF', sent: 1197, uncertain: 3, excluded: 2 })).toBe(
      'BF: se envió a 1.200 contactos (3 sin confirmar, 2 quedaron fuera)',
    );
    expect(m('broadcast.completed', { name: 'BF', sent: 1, uncertain: 1 }, 'en')).toBe(
      'BF: sent to 2 contacts (1 unconfirmed)',
    );
    expect(m('broadcast.cancelled', { name: 'BF' })).toBe('BF: transmisión cancelada');
    expect(m('broadcast.cancelled', { name: 'BF' }, 'en')).toBe('BF: broadcast cancelled');
    expect(m('broadcast.failed', { name: 'BF', sent: 0, failed: 1200 }, 'en')).toBe(
      'BF: the broadcast failed; none of its 1,200 messages went out',
    );
    expect(m('broadcast.scheduled', { name: 'BF', at: '2026-11-25T14:05:00.000Z', target: 1500 }, 'en')).toBe(
      'BF: scheduled for 2026-11-25 14:05 UTC (1,500 contacts)',
    );
    expect(m('broadcast.scheduled', { name: 'BF', at: '2026-11-25T14:05:00.000Z', target: 500, resendOfId: 3 })).toBe(
      'BF: reenvío programado para el 2026-11-25 14:05 UTC (500 contactos)',
    );
    expect(m('messages.failed', { name: 'BF', count: 1, byReason: { blocked: 1 }, late: true })).toBe(
      'BF: 1 mensaje falló después del envío — El contacto bloqueó o se dio de baja',
    );
    expect(m('messages.failed', { name: 'BF', count: 3, byReason: { blocked: 1, throttled: 2 } }, 'en')).toBe(
      'BF: 3 failed messages — Sent too fast (2), Contact blocked you or opted out (1)',
    );
    expect(m('broadcast.partially_failed', { name: 'BF', sent: 10, failed: 2, excluded: 1, uncertain: 1 }, 'en')).toBe(
      'BF: 3 of 14 were not sent (1 unconfirmed)',
    );
  });

  it('the words after a count agree with it (one, many), in each language', () => {
    const m = (type: string, data: Record<string, unknown>, language: 'es' | 'en' | 'pt' = 'es') =>
      eventMessage(type, data, language);
    expect(m('resend.finished', { name: 'R', sent: 1, failed: 1 })).toBe(
      'R: reenvío terminado, 1 enviado; 1 volvió a fallar',
    );
    expect(m('resend.finished', { name: 'R', sent: 1, failed: 1 }, 'pt')).toBe(
      'R: reenvio concluído, 1 enviada; 1 falhou de novo',
    );
    expect(m('resend.finished', { name: 'R', sent: 1200, failed: 3 })).toBe(
      'R: reenvío terminado, 1.200 enviados; 3 volvieron a fallar',
    );
    expect(m('broadcast.partially_failed', { name: 'BF', sent: 4, failed: 1 })).toBe('BF: 1 de 5 no se envió');
    expect(m('broadcast.partially_failed', { name: 'BF', sent: 4, failed: 1 }, 'en')).toBe('BF: 1 of 5 was not sent');
    expect(m('broadcast.partially_failed', { name: 'BF', sent: 4, failed: 1, uncertain: 1 }, 'pt')).toBe(
      'BF: 1 de 6 não foi enviada (1 não confirmada)',
    );
    expect(m('broadcast.completed', { name: 'BF', sent: 3, excluded: 1 }, 'pt')).toBe(
      'BF: enviada para 3 contatos (1 ficou de fora)',
    );
    expect(m('broadcast.failed', { name: 'BF', sent: 0, failed: 1 })).toBe(
      'BF: falló la transmisión; su único mensaje no se envió',
    );
    expect(
      m('messages.failed', { name: 'BF', count: 9, byReason: { blocked: 5, throttled: 2, spam: 1, timeout: 1 } }),
    ).toMatch(/, y 1 motivo más$/);
    expect(
      m('messages.failed', { name: 'BF', count: 9, byReason: { blocked: 5, throttled: 2, spam: 1, timeout: 1 } }, 'en'),
    ).toMatch(/, and 1 more reason$/);
  });

  it('since=now gives only what happens next', async () => {
    const now = await poll(h.ws.tokens.agent, '?since=now&wait=0');
    expect(now.body.data).toEqual([]);
    const ids = await idsOf(h.ws.id);
    expect(now.body.nextCursor).toBe(String(ids.at(-1)));
    const id = await broadcast('Segunda');
    const next = await poll(h.ws.tokens.agent, `?since=${now.body.nextCursor}&wait=0`);
    expect(next.body.data.length).toBeGreaterThanOrEqual(3);
    for (const event of next.body.data) expect(event.broadcastId).toBe(id);
  });

  it("never returns another workspace's events; needs a token; refuses a bad cursor", async () => {
    const mine = (await poll(h.ws.tokens.agent, '?wait=0&limit=500')).body.data.map((e: { id: number }) => e.id);
    const theirs = await idsOf(other.id);
    expect(theirs.length).toBeGreaterThan(0);
    expect(mine.filter((id: number) => theirs.includes(id))).toEqual([]);
    const their = await poll(other.tokens.agent, '?wait=0');
    expect(their.body.data.map((e: { id: number }) => e.id)).toEqual(theirs);
    expect(their.body.data[0].message).toBe('Ajena: broadcast cancelled');

    const anonymous = await h.server.request('GET', '/api/v1/events?wait=0');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const sseAnonymous = await fetch(`${h.server.baseUrl}/api/v1/events`, { headers: { Accept: 'text/event-stream' } });
    expect(sseAnonymous.status).toBe(401);
    await sseAnonymous.body?.cancel();
    // Past the largest exact integer, a cursor would read as another id and replay the history.
    const huge = await poll(h.ws.tokens.agent, '?since=9007199254740993&wait=0');
    expect(huge.status).toBe(422);
    expect(huge.body.error.details[0].path).toBe('query.since');
    const bad = await poll(h.ws.tokens.agent, '?since=abc&wait=0');
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('query.since');
  });
});

describe('server-sent events', () => {
  it('streams the events so far, then new ones as they happen', async () => {
    const ids = await idsOf(h.ws.id);
    const { res, stream } = await connect(h.ws.tokens.agent, { language: 'es' });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const first = await stream.take(ids.length);
      expect(first.map((e) => Number(e.id))).toEqual(ids);
      expect(first[0]?.event).toBe('messages.failed');
      const data = JSON.parse(first[1]?.data ?? '{}');
      expect(data).toMatchObject({ id: ids[1], type: 'broadcast.partially_failed' });
      expect(data.message).toBe('Black Friday: 500 de 1.500 no se enviaron');
      expect(await stream.drain(150)).toEqual([]);

      const id = await broadcast('Tercera');
      const fresh = await stream.takeUntil((e) => e.event === 'broadcast.completed');
      expect(fresh.map((e) => e.event)).toEqual(['broadcast.scheduled', 'broadcast.started', 'broadcast.completed']);
      for (const event of fresh) {
        expect(Number(event.id)).toBeGreaterThan(ids.at(-1) ?? 0);
        expect(JSON.parse(event.data).broadcastId).toBe(id);
      }
      expect(JSON.parse(fresh[2]?.data ?? '{}').message).toBe('Tercera: se envió a 2 contactos (1 quedó fuera)');
    } finally {
      await stream.close();
    }
  });

  it('resumes after Last-Event-ID (or since) with only the later events', async () => {
    const ids = await idsOf(h.ws.id);
    const middle = ids[Math.floor(ids.length / 2)] ?? 0;
    const resumed = await connect(h.ws.tokens.agent, { lastEventId: String(middle) });
    try {
      const events = await resumed.stream.take(ids.filter((id) => id > middle).length);
      expect(events.map((e) => Number(e.id))).toEqual(ids.filter((id) => id > middle));
      expect(await resumed.stream.drain(150)).toEqual([]);
    } finally {
      await resumed.stream.close();
    }
    // Last-Event-ID wins over since: it is what the client saw last.
    const both = await connect(h.ws.tokens.agent, { lastEventId: String(ids.at(-2)), query: `?since=${ids[0]}` });
    try {
      expect((await both.stream.take(1)).map((e) => Number(e.id))).toEqual([ids.at(-1)]);
      expect(await both.stream.drain(150)).toEqual([]);
    } finally {
      await both.stream.close();
    }
    const latest = await connect(h.ws.tokens.agent, { query: '?since=now' });
    try {
      expect(await latest.stream.drain(150)).toEqual([]);
      await recordEvent(h.server.database.db, {
        workspaceId: h.ws.id,
        type: 'broadcast.cancelled',
        broadcastId: null,
        data: { name: 'Cuarta' },
        at: Date.now(),
      });
      const [event] = await latest.stream.take(1);
      expect(event?.event).toBe('broadcast.cancelled');
      expect(JSON.parse(event?.data ?? '{}').message).toBe('Cuarta: broadcast cancelled');
    } finally {
      await latest.stream.close();
    }
  });

  it('refuses a Last-Event-ID past 2^53 as it refuses such a since, instead of replaying the history', async () => {
    for (const lastEventId of ['9999999999999999', 'abc']) {
      const res = await fetch(`${h.server.baseUrl}/api/v1/events`, {
        headers: {
          Authorization: `Bearer ${h.ws.tokens.agent}`,
          Accept: 'text/event-stream',
          'Accept-Language': 'es',
          'Last-Event-ID': lastEventId,
        },
      });
      expect(res.status, lastEventId).toBe(422);
      const body = (await res.json()) as { error: { details: { path: string; message: string }[] } };
      expect(body.error.details).toEqual([
        { path: 'header.Last-Event-ID', message: 'Un ID de evento de esta API, o "now"' },
      ]);
    }
  });

  it("never sends another workspace's events", async () => {
    const mine = await connect(h.ws.tokens.agent, { query: '?since=now' });
    const theirs = await connect(other.tokens.agent, { query: '?since=now' });
    try {
      await recordEvent(h.server.database.db, {
        workspaceId: other.id,
        type: 'messages.failed',
        data: { name: 'Ajena', count: 3, byReason: { blocked: 3 } },
        at: Date.now(),
      });
      const [their] = await theirs.stream.take(1);
      expect(JSON.parse(their?.data ?? '{}').data.name).toBe('Ajena');
      expect(await mine.stream.drain(200)).toEqual([]);
      await recordEvent(h.server.database.db, {
        workspaceId: h.ws.id,
        type: 'broadcast.cancelled',
        data: { name: 'Propia' },
        at: Date.now(),
      });
      const [own] = await mine.stream.take(1);
      expect(JSON.parse(own?.data ?? '{}').data.name).toBe('Propia');
      expect(await theirs.stream.drain(200)).toEqual([]);
    } finally {
      await mine.stream.close();
      await theirs.stream.close();
    }
  });

  it('keeps the connection alive with comments while nothing happens', async () => {
    process.env.REBOUND_EVENTS_HEARTBEAT_MS = '100';
    try {
      const { stream } = await connect(h.ws.tokens.agent, { query: '?since=now' });
      try {
        expect(await stream.waitForComment('keep-alive', 3000)).toBe(true);
        expect(stream.comments[0]).toBe('connected');
      } finally {
        await stream.close();
      }
    } finally {
      delete process.env.REBOUND_EVENTS_HEARTBEAT_MS;
    }
  });

  it('stops reading the table when the client goes away', async () => {
    const { db } = h.server.database;
    let reads = 0;
    const counting = new Proxy(db, {
      get(target, property, receiver) {
        if (property === 'all')
          return (...args: Parameters<Database['all']>) => {
            reads++;
            return target.all(...args);
          };
        return Reflect.get(target, property, receiver);
      },
    });
    const app = createApp({ db: counting });
    const res = await app.request('/api/v1/events?since=now', {
      headers: { Authorization: `Bearer ${h.ws.tokens.agent}`, Accept: 'text/event-stream' },
    });
    const stream = readSse(res);
    await stream.drain(200);
    const whileOpen = reads;
    expect(whileOpen).toBeGreaterThan(2);
    await stream.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterClose = reads;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reads).toBe(afterClose);
  });
});

/** An app on the test database whose reads (db.all) are counted. */
function countingApp() {
  const { db } = h.server.database;
  const counter = { reads: 0 };
  const counting = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'all')
        return (...args: Parameters<Database['all']>) => {
          counter.reads++;
          return target.all(...args);
        };
      return Reflect.get(target, property, receiver);
    },
  });
  return { app: createApp({ db: counting }), counter };
}

describe('many streams of one workspace', () => {
  it('read the table once a poll between them, not once each: idle streams do not slow other workspaces', async () => {
    const idleReads = async (streams: number) => {
      const { app, counter } = countingApp();
      const tokens = [h.ws.tokens.agent, h.ws.tokens.manager];
      const open = await Promise.all(
        Array.from({ length: streams }, async (_, i) =>
          readSse(
            await app.request('/api/v1/events?since=now', {
              headers: { Authorization: `Bearer ${tokens[i % 2]}`, Accept: 'text/event-stream' },
            }),
          ),
        ),
      );
      await Promise.all(open.map((stream) => stream.waitForComment('connected')));
      const before = counter.reads;
      await new Promise((resolve) => setTimeout(resolve, 600));
      const reads = counter.reads - before;
      for (const stream of open) await stream.close();
      return reads;
    };
    const one = await idleReads(1);
    const sixteen = await idleReads(16);
    expect(one).toBeGreaterThan(3);
    // Sixteen streams polling on their own would read about sixteen times as much.
    expect(sixteen).toBeLessThan(one * 3);
  });
});

describe('open streams per workspace', () => {
  it(`hold at most ${MAX_STREAMS_PER_WORKSPACE} at once over all its tokens: the next gets 429 in its language; another workspace is not held back`, async () => {
    const { db } = h.server.database;
    const app = createApp({ db });
    const tokens: string[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_WORKSPACE / MAX_STREAMS_PER_TOKEN; i++) {
      const res = await h.server.request('POST', '/api/v1/tokens', {
        token: h.ws.tokens.owner,
        body: { name: `Flujos ${i}`, role: 'agent' },
      });
      expect(res.status).toBe(201);
      tokens.push(res.body.token);
    }
    const streamOf = (token: string, language = 'en') =>
      app.request('/api/v1/events?since=now', {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', 'Accept-Language': language },
      });
    const open = [];
    for (const token of tokens)
      for (let i = 0; i < MAX_STREAMS_PER_TOKEN; i++) {
        const res = await streamOf(token);
        expect(res.status).toBe(200);
        open.push(readSse(res));
      }
    try {
      const refused = await streamOf(h.ws.tokens.agent, 'es');
      expect(refused.status).toBe(429);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('too_many_workspace_event_streams');
      expect(body.error.message).toContain(`Este espacio de trabajo ya tiene ${MAX_STREAMS_PER_WORKSPACE} flujos`);
      const theirs = await streamOf(other.tokens.agent);
      expect(theirs.status).toBe(200);
      await readSse(theirs).close();
    } finally {
      for (const stream of open) await stream.close();
    }
  });
});

describe('open streams per token', () => {
  it('a token holds at most 10 streams at once: the eleventh gets 429 in its language, and one closed frees a place', async () => {
    const opened = [];
    for (let i = 0; i < MAX_STREAMS_PER_TOKEN; i++) {
      const one = await connect(h.ws.tokens.manager, { query: '?since=now' });
      expect(one.res.status).toBe(200);
      expect(await one.stream.waitForComment('connected')).toBe(true);
      opened.push(one);
    }
    const refused = await fetch(`${h.server.baseUrl}/api/v1/events?since=now`, {
      headers: { Authorization: `Bearer ${h.ws.tokens.manager}`, Accept: 'text/event-stream', 'Accept-Language': 'es' },
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_event_streams');
    expect(body.error.message).toContain('ya tiene 10 flujos de eventos abiertos');
    // Another token of the workspace is not held back.
    const other = await connect(h.ws.tokens.owner, { query: '?since=now' });
    expect(other.res.status).toBe(200);
    await other.stream.close();
    // One closed: its place is free again once the server sees it go.
    await opened.pop()?.stream.close();
    let again = await connect(h.ws.tokens.manager, { query: '?since=now' });
    for (let i = 0; i < 50 && again.res.status === 429; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await connect(h.ws.tokens.manager, { query: '?since=now' });
    }
    expect(again.res.status).toBe(200);
    await again.stream.close();
    for (const one of opened) await one.stream.close();
  });
});
