/**
 * Numbers the engine must survive whatever is stored or said to it: a rate of 1e-300 msg/s, a next send
 * slot at 2e304 ms, a provider's Retry-After of ten years, a delivery status dated 2036.
 */
import { whatsappInboundWebhook, whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireSendSlots, MAX_RETRY_AFTER_MS, resetSendSlot } from '../../src/engine/limits';
import { MAX_TIMER_MS, timerDelay } from '../../src/lib/timers';
import { type Harness, harness, S1_TEMPLATE, WA, whatsappSimulator } from './harness';

let h: Harness;
let contacts = 0;

beforeAll(async () => {
  h = await harness();
});

/** The phone seedContacts gives the first contact of the next broadcastTo. */
const nextPhone = () => `+54911${50000000 + (contacts + 1) * 100}`;

/** A scheduled broadcast to `count` new contacts on the channel; returns its id. */
async function broadcastTo(channelId: number, count: number, content: unknown = { text: 'Hola' }) {
  const tag = `numeros ${++contacts}`;
  await h.seedContacts(count, tag, { start: contacts * 100 });
  const segment = await h.segment(tag, tag);
  const created = await h.broadcast({ name: tag, channelId, segmentId: segment.id, content });
  await h.schedule(created.id);
  return created.id;
}

const db = () => h.server.database.db;
const states = async (broadcastId: number) => (await h.messages(broadcastId)).map((m) => m.state);
const nextSlot = async (channelId: number) =>
  (
    await db().all<{ at: number }>(sql`SELECT next_slot_at AS at FROM send_slots WHERE key = ${`channel:${channelId}`}`)
  )[0]?.at;

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

describe('a rate of 1e-300 and a next slot at 2e304, stored before the API refused them', () => {
  it('sends one message and paces the rest (no timer overflow sends them at once); a stop does not wait for the pace', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Lento' });
    await db().run(sql`UPDATE channels SET messages_per_second = 1e-300 WHERE id = ${channel.id}`);
    await db().run(sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${`channel:${channel.id}`}, 2e304)`);
    const broadcastId = await broadcastTo(channel.id, 3);

    const engine = h.engine();
    engine.start();
    // The 2e304 slot is left over from a rate that no longer makes sense: the first message goes now.
    expect(await until(async () => (await states(broadcastId)).includes('delivered'), 10_000)).toBe(true);
    // The others wait their turn at the slowest pace the engine keeps (one per 100 s), not at once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await states(broadcastId)).filter((s) => s === 'delivered')).toHaveLength(1);
    const slot = await nextSlot(channel.id);
    expect(slot).toBeGreaterThan(Date.now() + 50_000);
    expect(slot).toBeLessThan(Date.now() + 60 * 60_000);

    // The waiting sends never left: a stop hands them back to the queue instead of waiting 100 s each.
    await engine.stop();
    expect((await states(broadcastId)).sort()).toEqual(['delivered', 'queued', 'queued']);
    // Out of the way of the next tests' engines.
    const cancel = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/cancel`, {
      token: h.ws.tokens.manager,
    });
    expect(cancel.status).toBe(200);
  });

  it('a sane rate set later is honoured, even with the absurd slot still stored', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Corregido' });
    await db().run(sql`UPDATE channels SET messages_per_second = 1e-300 WHERE id = ${channel.id}`);
    await db().run(sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${`channel:${channel.id}`}, 2e304)`);
    await db().run(sql`UPDATE channels SET messages_per_second = 50 WHERE id = ${channel.id}`);
    const broadcastId = await broadcastTo(channel.id, 20);

    await h.engine().runUntilIdle({ timeoutMs: 20_000 });
    expect((await states(broadcastId)).every((s) => s === 'delivered')).toBe(true);
    // Paced at 50/s from now: the reservations end about 0.4 s ahead, not at 2e304.
    expect(await nextSlot(channel.id)).toBeLessThan(Date.now() + 5_000);
  });

  it('resetSendSlot (the channel update path calls it) forgets reservations made at the old rate', async () => {
    const key = 'channel:987654';
    const now = Date.now();
    // 3 slots at 0.01/s: the next one is 300 s away.
    await acquireSendSlots(db(), key, 0.01, 3, now);
    expect(await acquireSendSlots(db(), key, 50, 1, now)).toBe(now + 300_000);
    await resetSendSlot(db(), 987654);
    expect(await acquireSendSlots(db(), key, 50, 1, now)).toBe(now);
  });

  it('a manager changing the rate through the API forgets the old reservations; other changes keep them', async () => {
    const channel = await h.channel({
      type: 'sandbox',
      name: 'Ritmo',
      credentials: {},
      limits: { messagesPerSecond: 0.01 },
    });
    const key = `channel:${channel.id}`;
    const now = Date.now();
    await acquireSendSlots(db(), key, 0.01, 3, now);
    const patch = (body: unknown) =>
      h.server.request('PATCH', `/api/v1/channels/${channel.id}`, { token: h.ws.tokens.manager, body });
    // A new name, or the same rate again: the reservations stand.
    expect((await patch({ name: 'Ritmo lento' })).status).toBe(200);
    expect((await patch({ limits: { messagesPerSecond: 0.01 } })).status).toBe(200);
    expect(await nextSlot(channel.id)).toBe(now + 300_000);
    // A new rate: the next send is paced by it, from now.
    expect((await patch({ limits: { messagesPerSecond: 50 } })).status).toBe(200);
    expect(await nextSlot(channel.id)).toBeUndefined();
  });
});

describe('waits', () => {
  it('are clamped to what a Node timer holds', () => {
    expect(timerDelay(2e304)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(Number.NaN)).toBe(0);
    expect(timerDelay(1500)).toBe(1500);
  });
});

describe("a provider's Retry-After of ten years", () => {
  it('parks the recipient and its channel for at most 15 minutes, then it is sent', async () => {
    const sim = await whatsappSimulator(h);
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'Diez años',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 50 },
    });
    const phone = nextPhone();
    sim.script(phone, { kind: 'throttle', retryAfterSeconds: 10 * 365 * 86_400, times: 1 });
    const broadcastId = await broadcastTo(channel.id, 1, S1_TEMPLATE);

    const before = Date.now();
    await h.engine().tick();
    const after = Date.now();
    const [parked] = await db().all<{ state: string; next: number }>(
      sql`SELECT state, next_attempt_at AS next FROM messages WHERE broadcast_id = ${broadcastId}`,
    );
    expect(parked?.state).toBe('queued');
    // The cap, not the provider's 2036 and not a few seconds of backoff.
    expect(parked?.next).toBeGreaterThanOrEqual(before + MAX_RETRY_AFTER_MS);
    expect(parked?.next).toBeLessThanOrEqual(after + MAX_RETRY_AFTER_MS);
    expect(await nextSlot(channel.id)).toBeLessThanOrEqual(after + MAX_RETRY_AFTER_MS);

    // Fifteen minutes later the recipient goes out.
    await h.engine({ clock: () => Date.now() + MAX_RETRY_AFTER_MS + 1000 }).runUntilIdle();
    expect(await states(broadcastId)).toEqual(['sent']);
    const digits = (phone: string | undefined) => phone?.replace(/\D/g, '');
    expect(sim.requests.filter((r) => digits(r.recipient) === digits(phone))).toHaveLength(2);
  });
});

describe('a delivery status dated 2036', () => {
  it('is stored with the time it was received, and an inbound message from 2036 opens a window of 24 h, not of years', async () => {
    const sim = await whatsappSimulator(h);
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'Reloj',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 50 },
    });
    const broadcastId = await broadcastTo(channel.id, 1, S1_TEMPLATE);
    await h.engine().runUntilIdle();
    const [sent] = await db().all<{ id: number; pid: string; identifier: string }>(
      sql`SELECT id, provider_message_id AS pid, identifier FROM messages WHERE broadcast_id = ${broadcastId}`,
    );
    if (!sent) throw new Error('nothing sent');

    const in2036 = new Date('2036-06-01T12:00:00Z');
    const post = (signed: { headers: Record<string, string>; body: string }) =>
      fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      });
    const before = Date.now();
    const delivered = await post(
      whatsappStatusWebhook({
        ...WA,
        providerMessageId: sent.pid,
        recipient: sent.identifier,
        status: 'delivered',
        at: in2036,
      }),
    );
    expect(delivered.status).toBe(200);
    const inbound = await post(whatsappInboundWebhook({ ...WA, from: sent.identifier, at: in2036 }));
    expect(inbound.status).toBe(200);
    const after = Date.now();

    const [row] = await db().all<{ state: string; delivered: number }>(
      sql`SELECT state, delivered_at AS delivered FROM messages WHERE id = ${sent.id}`,
    );
    expect(row?.state).toBe('delivered');
    expect(row?.delivered).toBeGreaterThanOrEqual(before);
    expect(row?.delivered).toBeLessThanOrEqual(after);
    const [window] = await db().all<{ at: number }>(
      sql`SELECT last_inbound_at AS at FROM conversation_windows WHERE channel_id = ${channel.id} AND identifier = ${sent.identifier}`,
    );
    expect(window?.at).toBeGreaterThanOrEqual(before);
    expect(window?.at).toBeLessThanOrEqual(after);
  });
});

describe('the largest segment the API accepts', () => {
  it('20 groups of 20 conditions of 50 tags: previewed, frozen and sent to every contact it names', async () => {
    // One contact per tag; each condition names all 50 tags, so every contact matches every condition.
    // About 20,000 values bound per statement: under SQLite's 32,766 only if the condition is bound once.
    const tags = Array.from({ length: 50 }, (_, i) => `grande ${i}`);
    for (const [i, tag] of tags.entries()) await h.seedContacts(1, tag, { start: 900_000 + i });
    const condition = { type: 'tag', operator: 'hasAnyOf', tags };
    const segment = (
      await h.server.request('POST', '/api/v1/segments', {
        token: h.ws.tokens.manager,
        body: {
          name: 'Segmento grande',
          filter: { groups: Array.from({ length: 20 }, () => ({ conditions: Array(20).fill(condition) })) },
        },
      })
    ).body as { id: number };
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox grande' });
    const broadcast = await h.broadcast({
      name: 'grande',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const pre = await h.server.request('GET', `/api/v1/broadcasts/${broadcast.id}/preflight`, {
      token: h.ws.tokens.manager,
    });
    expect(pre.status, pre.text).toBe(200);
    expect(pre.body.willSend).toBe(50);
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const sent = await states(broadcast.id);
    expect(sent).toHaveLength(50);
    expect(new Set(sent)).toEqual(new Set(['delivered']));
  });
});
