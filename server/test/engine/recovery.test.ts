/** The recovery half on S1: the failed-message log, the summary, and one-click tag and re-send. */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, S1_TEMPLATE, s1Broadcast, WA, whatsappSimulator } from './harness';

let h: Harness;
let channelId: number;
let s1: number;
let sentAt: number;
const DAY = 24 * 3_600_000;
const TEMPLATE = S1_TEMPLATE;

beforeAll(async () => {
  h = await harness();
  ({ channelId, broadcastId: s1 } = await s1Broadcast(h, 'WhatsApp ventas'));
  sentAt = Date.now();
  await h.schedule(s1);
  await h.engine().runUntilIdle();
});

const get = (path: string, language: 'es' | 'en' = 'es', token = h.ws.tokens.agent) =>
  h.server.request('GET', path, { token, language });

describe('the failed-message log', () => {
  it("lists the 500 quota failures newest first, in pages, each explained in the agent's language", async () => {
    const first = await get(`/api/v1/failed-messages?broadcastId=${s1}&limit=200`);
    expect(first.status).toBe(200);
    const row = first.body.data[0];
    expect(row).toMatchObject({
      sender: { id: s1, type: 'broadcast', name: 'Black Friday' },
      channel: { id: channelId, type: 'whatsapp', name: 'WhatsApp ventas' },
      type: 'broadcast',
      subtype: 'failed',
      contentType: 'template',
      // Rebound's own reason, not the provider's: no provider code.
      providerCode: null,
      reason: { code: 'quota_reached', resend: 'later' },
    });
    expect(row.reason.title).toMatch(/límite diario/i);
    expect(row.contact.identifier).toMatch(/^\+54911/);
    expect(Date.parse(row.retryAfter)).toBeGreaterThanOrEqual(sentAt + DAY);
    const ids = new Set<number>();
    let page = first.body;
    let previous = Number.POSITIVE_INFINITY;
    for (;;) {
      for (const r of page.data) {
        ids.add(r.messageId);
        expect(Date.parse(r.failedAt)).toBeLessThanOrEqual(previous);
        previous = Date.parse(r.failedAt);
      }
      if (!page.nextCursor) break;
      page = (await get(`/api/v1/failed-messages?broadcastId=${s1}&limit=200&cursor=${page.nextCursor}`)).body;
    }
    expect(ids.size).toBe(500);
    const en = await get(`/api/v1/failed-messages?broadcastId=${s1}&limit=1`, 'en');
    expect(en.body.data[0].reason.title).toMatch(/daily/i);
  });

  it('filters by reason, channel, time and text', async () => {
    const count = async (query: string) => (await get(`/api/v1/failed-messages?limit=500&${query}`)).body.data.length;
    expect(await count(`broadcastId=${s1}&reason=quota_reached`)).toBe(500);
    expect(await count(`broadcastId=${s1}&reason=blocked`)).toBe(0);
    expect(await count(`channelId=${channelId}`)).toBe(500);
    expect(await count('channelId=999999')).toBe(0);
    expect(await count(`from=${new Date(Date.now() + 60_000).toISOString()}`)).toBe(0);
    expect(await count(`to=${new Date(Date.now() + 60_000).toISOString()}&broadcastId=${s1}`)).toBe(500);
    const one = (await get(`/api/v1/failed-messages?broadcastId=${s1}&limit=1`)).body.data[0];
    expect(await count(`q=${encodeURIComponent(one.contact.name)}`)).toBe(1);
    expect(await count(`q=${encodeURIComponent(one.contact.identifier)}`)).toBe(1);
    const ofContact = (await get(`/api/v1/failed-messages?contactId=${one.contact.id}`)).body.data;
    expect(ofContact.map((m: { messageId: number }) => m.messageId)).toEqual([one.messageId]);
    expect((await get('/api/v1/failed-messages?reason=not_a_reason')).status).toBe(422);
  });

  it('summarizes by reason and channel, and how many a re-send can help', async () => {
    const summary = (await get(`/api/v1/failed-messages/summary?broadcastId=${s1}`)).body;
    expect(summary).toEqual({
      total: 500,
      byReason: { quota_reached: 500 },
      byChannel: [{ channelId, name: 'WhatsApp ventas', type: 'whatsapp', count: 500 }],
      retryable: { now: 0, later: 500, never: 0 },
      unconfirmed: 0,
    });
  });

  it('another workspace sees none of it', async () => {
    const other = await h.server.workspace('Otra');
    const res = await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${s1}`, {
      token: other.tokens.owner,
    });
    expect(res.body.data).toEqual([]);
    expect(
      (await h.server.request('GET', '/api/v1/failed-messages/summary', { token: other.tokens.owner })).body.total,
    ).toBe(0);
    expect(
      (await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, { token: other.tokens.owner, body: {} }))
        .status,
    ).toBe(404);
  });

  it("the broadcast detail shows the channel's limits now", async () => {
    const detail = await h.get(s1);
    expect(detail.channelLimits).toMatchObject({
      dailyQuota: 1000,
      quotaUsed: 1000,
      quotaRemaining: 0,
      messagesPerSecond: 5000,
    });
    expect(Date.parse(detail.channelLimits.capacityFreesAt)).toBeGreaterThanOrEqual(sentAt + DAY);
  });
});

describe('tag and re-send (S1)', () => {
  it('a dry run says who and when, and writes nothing', async () => {
    const tagsBefore = Number((await h.server.database.client.execute('SELECT count(*) AS n FROM tags')).rows[0]?.n);
    const res = await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, {
      token: h.ws.tokens.agent,
      body: { dryRun: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recipients: 500, broadcastId: null, segmentId: null, reused: false });
    expect(res.body.plan).toHaveLength(1);
    expect(res.body.plan[0]).toMatchObject({ count: 500, byReason: { quota_reached: 500 } });
    expect(res.body.summary).toMatch(/^500 /);
    expect((await get(`/api/v1/broadcasts?resendOfId=${s1}`)).body.data).toEqual([]);
    expect(Number((await h.server.database.client.execute('SELECT count(*) AS n FROM tags')).rows[0]?.n)).toBe(
      tagsBefore,
    );
  });

  it('an agent tags the 500, gets the segment and a re-send scheduled for when the quota frees; asking again changes nothing', async () => {
    const res = await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, { token: h.ws.tokens.agent });
    expect(res.status).toBe(200);
    const result = res.body;
    expect(result).toMatchObject({ tagged: 500, newlyTagged: 500, skipped: {}, reused: false });
    expect(result.tag).toMatch(/^transmisión fallida \d{1,2} [a-z]{3} \d{4} \(#\d+\)$/);
    const capacity = (await h.get(s1)).channelLimits.capacityFreesAt;
    expect(Date.parse(result.scheduledAt)).toBeGreaterThanOrEqual(Date.parse(capacity));
    // At most the minute after the quota frees (times are planned to the minute); measured from when the
    // quota frees, not from when the test began sending, which flaked at a minute's boundary.
    expect(Date.parse(result.scheduledAt)).toBeLessThanOrEqual(Date.parse(capacity) + 60_000);
    expect(Date.parse(result.scheduledAt)).toBeLessThan(sentAt + DAY + 120_000);

    const segment = (await get(`/api/v1/segments/${result.segmentId}`)).body;
    expect(segment).toMatchObject({
      name: result.tag,
      filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [result.tag] }] }] },
    });
    expect((await get(`/api/v1/segments/${result.segmentId}/preview`)).body.count).toBe(500);
    const resend = await h.get(result.broadcastId);
    expect(resend).toMatchObject({
      status: 'scheduled',
      resendOfId: s1,
      channelId,
      targetCount: 500,
      name: 'Black Friday (reenvío)',
    });
    const listed = (await get(`/api/v1/broadcasts?resendOfId=${s1}`)).body.data;
    expect(listed.map((b: { id: number }) => b.id)).toEqual([result.broadcastId]);
    // The extension's badges ask for several at once: by ID, and the re-sends of several broadcasts.
    const byId = (await get(`/api/v1/broadcasts?id=${s1}&id=${result.broadcastId}&id=999999`)).body.data;
    expect(byId.map((b: { id: number }) => b.id)).toEqual([result.broadcastId, s1]);
    const resendsOf = (await get(`/api/v1/broadcasts?resendOfId=${s1}&resendOfId=${result.broadcastId}`)).body.data;
    expect(resendsOf.map((b: { id: number }) => b.id)).toEqual([result.broadcastId]);
    expect((await get('/api/v1/broadcasts?id=abc')).status).toBe(422);

    const again = (await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, { token: h.ws.tokens.agent }))
      .body;
    expect(again).toMatchObject({
      tagged: 500,
      newlyTagged: 0,
      reused: true,
      broadcastId: result.broadcastId,
      segmentId: result.segmentId,
      scheduledAt: result.scheduledAt,
    });
    const resends = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${s1}`,
    );
    expect(resends[0]?.n).toBe(1);

    // Nothing goes out into the wall; when the window has room, all 500 go.
    await h.engine().runUntilIdle();
    expect((await h.get(result.broadcastId)).status).toBe('scheduled');
    const later = Date.parse(result.scheduledAt) + 1000;
    await h.engine({ clock: () => later }).runUntilIdle();
    const done = await h.get(result.broadcastId);
    expect(done).toMatchObject({ status: 'completed', counts: { sent: 500 } });
    const events = await h.server.database.db.all<{ type: string }>(
      sql`SELECT type FROM events WHERE broadcast_id = ${result.broadcastId} ORDER BY id`,
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['broadcast.scheduled', 'resend.scheduled', 'broadcast.completed', 'resend.finished']),
    );
  });
});

describe('what a re-send leaves out', () => {
  it('blocked contacts are left out by default and listed; the agent may choose reasons; tag only; not before it finishes', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WA 2',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 5000 },
    });
    await h.seedContacts(4, 'mixed', { start: 50_000 });
    sim.script('5491150050000', { kind: 'fail', code: '131050' });
    sim.script('5491150050001', { kind: 'fail', code: '131050' });
    sim.script('5491150050002', { kind: 'serverError' });
    const segment = await h.segment('mixed', 'mixed');
    const b = await h.broadcast({ name: 'Mixed', channelId: channel.id, segmentId: segment.id, content: TEMPLATE });
    const early = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: {},
      language: 'en',
    });
    expect(early.status).toBe(409);
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();

    const tagOnly = (
      await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
        token: h.ws.tokens.agent,
        body: { tagOnly: true, tag: 'revisar' },
      })
    ).body;
    expect(tagOnly).toMatchObject({
      tag: 'revisar',
      tagged: 1,
      skipped: { blocked: 2 },
      broadcastId: null,
      segmentId: null,
    });
    const res = (
      await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
        token: h.ws.tokens.agent,
        body: { reasons: ['blocked'], when: 'now', tag: 'bloqueados' },
      })
    ).body;
    expect(res).toMatchObject({ tagged: 2, skipped: { provider_error: 1 } });
    expect(Math.abs(Date.parse(res.scheduledAt) - Date.now())).toBeLessThan(60_000);
    const nothing = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { reasons: ['quota_reached'], tag: 'vacío' },
      language: 'es',
    });
    expect(nothing.status).toBe(422);
    expect(nothing.body.error.code).toBe('resend_nothing');
    const bad = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: '{"when": ',
    });
    expect(bad.status).toBe(400);
  });
});

describe('taking a re-send back', () => {
  it('the agent who made a re-send can cancel it before it starts, then re-send at another time; nothing else', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WA 3',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 5000 },
    });
    await h.seedContacts(3, 'otra vez', { start: 60_000 });
    for (let i = 0; i < 3; i++) sim.script(`54911500${60_000 + i}`, { kind: 'fail', code: '131049' });
    const segment = await h.segment('otra vez', 'otra vez');
    const b = await h.broadcast({ name: 'Otra vez', channelId: channel.id, segmentId: segment.id, content: TEMPLATE });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    const cancel = (token: string) =>
      h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend/cancel`, { token, language: 'es' });

    // Nothing scheduled yet: a clear 409, not a 404 or a silent success.
    const none = await cancel(h.ws.tokens.agent);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/no tiene un reenvío programado/);

    const made = (await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, { token: h.ws.tokens.agent }))
      .body;
    expect(made.broadcastId).toEqual(expect.any(Number));
    const cancelled = await cancel(h.ws.tokens.agent);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toEqual([made.broadcastId]);
    expect((await h.get(made.broadcastId)).status).toBe('cancelled');
    // Taken back, the broadcast needs an agent again.
    const attention = (await get('/api/v1/broadcasts/attention')).body.data.map((x: { id: number }) => x.id);
    expect(attention).toContain(b.id);
    // The same agent may not cancel other broadcasts (a manager's job), nor another workspace's re-sends.
    expect(
      (await h.server.request('POST', `/api/v1/broadcasts/${b.id}/cancel`, { token: h.ws.tokens.agent })).status,
    ).toBe(403);

    const other = await h.server.workspace('Otra tienda');
    expect((await cancel(other.tokens.agent)).status).toBe(404);

    // Its recipients are free again: a re-send at another time takes them.
    const at = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const again = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'at', at },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ recipients: 3, reused: false });
    expect(again.body.broadcastId).not.toBe(made.broadcastId);
  });
});
