/**
 * A broadcast re-sent for some of its failures still has the unconfirmed recipients that re-send did not
 * take: once their wait for a delivery report is over, it is back on the attention list (the toolbar
 * count), until a re-send takes them too. Real engine, real WhatsApp simulator, the API's own re-sends.
 */
import { type Broadcast, needingAttention } from '@rebound/shared';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Harness,
  harness,
  rowCounts,
  vonageChannel,
  WA,
  whatsappBroadcast,
  whatsappSimulator,
} from './engine/harness';

let h: Harness;
beforeAll(async () => {
  // No wait for delivery reports: unconfirmed recipients can be re-sent at once.
  process.env.UNCONFIRMED_AFTER_HOURS = '0';
  h = await harness();
});
afterAll(() => {
  delete process.env.UNCONFIRMED_AFTER_HOURS;
});

const digits = (n: number) => `54911${50000000 + n}`;
const HOUR = 3_600_000;
const listed = async () =>
  (await h.server.request('GET', '/api/v1/broadcasts/attention?limit=100', { token: h.ws.tokens.agent })).body.data.map(
    (b: { id: number }) => b.id,
  ) as number[];
const resend = (broadcastId: number, body: Record<string, unknown>) =>
  h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, { token: h.ws.tokens.agent, body });

/**
 * Meta's signed status webhook for recipient `digits(n)` of a broadcast, failed with `code`, as it comes
 * after the send; the server must take it (200).
 */
async function reportFailed(broadcastId: number, n: number, code: string) {
  const [sent] = await h.server.database.db.all<{ provider_message_id: string; channel_id: number }>(
    sql`SELECT provider_message_id, channel_id FROM messages WHERE broadcast_id = ${broadcastId}
      AND identifier = ${`+${digits(n)}`}`,
  );
  const signed = whatsappStatusWebhook({
    appSecret: WA.appSecret,
    phoneNumberId: WA.phoneNumberId,
    providerMessageId: String(sent?.provider_message_id),
    recipient: digits(n),
    status: 'failed',
    error: { code },
  });
  const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${sent?.channel_id}`, {
    method: 'POST',
    headers: signed.headers,
    body: signed.body,
  });
  expect(res.status).toBe(200);
}

describe('unconfirmed recipients a re-send of the other failures did not take', () => {
  it('bring the broadcast back on the attention list, and leave it when a re-send takes them', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'after-resend', count: 5, rate: 5000 });
    // Two answers lost (unconfirmed), one over WhatsApp's marketing cap (131049), two sent.
    sim.script(digits(0), { kind: 'reset', afterAccept: true });
    sim.script(digits(1), { kind: 'reset', afterAccept: true });
    sim.script(digits(2), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    expect(await rowCounts(h, broadcastId)).toEqual([
      { state: 'failed', reason: 'recipient_limit', n: 1 },
      { state: 'sent', reason: null, n: 2 },
      { state: 'uncertain', reason: 'uncertain', n: 2 },
    ]);
    expect(await listed()).toContain(broadcastId);

    // The one-click re-send takes the capped one only (now, forced): unconfirmed ones are never re-sent unasked.
    const first = await resend(broadcastId, { when: 'now', force: true });
    expect(first.status, first.text).toBe(200);
    expect(first.body.recipients).toBe(1);
    // Before, the broadcast left the list here for good, and its two unconfirmed recipients with it.
    expect(await listed()).toContain(broadcastId);
    const read = async () =>
      (await h.server.request('GET', `/api/v1/broadcasts/${broadcastId}`, { token: h.ws.tokens.agent }))
        .body as Broadcast;
    expect((await read()).unconfirmedWaitEndsAt).not.toBeNull();
    // The shared rule over the broadcasts list says the same.
    const all = (await h.server.request('GET', '/api/v1/broadcasts?limit=100', { token: h.ws.tokens.agent })).body
      .data as Broadcast[];
    expect(needingAttention(all, { now: Date.now() }).map((b) => b.id)).toEqual(await listed());

    // The agent re-sends the two unconfirmed ones: nothing is left that needs them.
    const second = await resend(broadcastId, { reasons: ['uncertain'], includeUnconfirmed: true, when: 'now' });
    expect(second.status, second.text).toBe(200);
    expect(second.body.recipients).toBe(2);
    expect(await listed()).not.toContain(broadcastId);
    expect((await read()).unconfirmedWaitEndsAt).toBeNull();
    await h.engine().runUntilIdle();
    expect(await listed()).not.toContain(broadcastId);
  });
});

describe('recipients whose final SMS receipt said "unknown"', () => {
  /** A Vonage SMS broadcast to `count` new contacts (numbers from `start`), not scheduled yet. */
  async function vonageBroadcast(tag: string, count: number, start: number) {
    const { sim, channel } = await vonageChannel(h, `Vonage ${tag}`);
    await h.seedContacts(count, tag, { start });
    const segment = await h.segment(tag, tag);
    const { id } = await h.broadcast({
      name: tag,
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    return { sim, broadcastId: id };
  }

  it('are unconfirmed too: a re-send of the other failures leaves the broadcast on the list until one takes them', async () => {
    const { sim, broadcastId } = await vonageBroadcast('desconocido', 5, 60_000);
    // Two receipts say the final state is unknown (it may have arrived), one expired (err-code 1), two delivered.
    sim.script(digits(60_000), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(digits(60_001), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(digits(60_002), { kind: 'failLater', code: 'expired', delayMs: 30 });
    sim.script(digits(60_003), { kind: 'deliverLater', delayMs: 30 });
    sim.script(digits(60_004), { kind: 'deliverLater', delayMs: 30 });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    await sim.settle();
    expect(await rowCounts(h, broadcastId)).toEqual([
      { state: 'delivered', reason: null, n: 2 },
      { state: 'failed', reason: 'provider_error', n: 1 },
      { state: 'failed', reason: 'uncertain', n: 2 },
    ]);
    expect(await listed()).toContain(broadcastId);
    const read = async () =>
      (await h.server.request('GET', `/api/v1/broadcasts/${broadcastId}`, { token: h.ws.tokens.agent }))
        .body as Broadcast;
    expect((await read()).status).toBe('partially_failed');

    // The one-click re-send takes the expired one only: the "unknown" ones are never re-sent unasked.
    const first = await resend(broadcastId, { when: 'now', force: true });
    expect(first.status, first.text).toBe(200);
    expect(first.body.recipients).toBe(1);
    // Before, it left the list here, and the two "unknown" recipients with it: no recipient was left
    // without an answer, so it had no unconfirmed ones to come back for.
    expect(await listed()).toContain(broadcastId);
    expect((await read()).unconfirmedWaitEndsAt).not.toBeNull();
    const all = (await h.server.request('GET', '/api/v1/broadcasts?limit=100', { token: h.ws.tokens.agent })).body
      .data as Broadcast[];
    expect(needingAttention(all, { now: Date.now() }).map((b) => b.id)).toEqual(await listed());

    const second = await resend(broadcastId, { reasons: ['uncertain'], includeUnconfirmed: true, when: 'now' });
    expect(second.status, second.text).toBe(200);
    expect(second.body.recipients).toBe(2);
    expect(await listed()).not.toContain(broadcastId);
    expect((await read()).unconfirmedWaitEndsAt).toBeNull();
  });

  it('that came after the broadcast ended are waited out from when they came, as their re-send waits', async () => {
    const { sim, broadcastId } = await vonageBroadcast('recibo tardío', 4, 61_000);
    sim.script(digits(61_000), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(digits(61_001), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(digits(61_002), { kind: 'failLater', code: 'expired', delayMs: 30 });
    sim.script(digits(61_003), { kind: 'deliverLater', delayMs: 30 });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    await sim.settle();
    // The expired one is re-sent: the broadcast is on the list again only for its unconfirmed ones.
    const first = await resend(broadcastId, { when: 'now', force: true });
    expect(first.body.recipients, first.text).toBe(1);
    // It ended two hours ago; the two "unknown" receipts came just now. The wait is one hour.
    const { db } = h.server.database;
    await db.run(sql`UPDATE broadcasts SET finished_at = ${Date.now() - 2 * HOUR} WHERE id = ${broadcastId}`);
    process.env.UNCONFIRMED_AFTER_HOURS = '1';
    try {
      const receipts = await db.all<{ failed_at: number }>(
        sql`SELECT failed_at FROM messages WHERE broadcast_id = ${broadcastId} AND reason = 'uncertain'`,
      );
      expect(receipts).toHaveLength(2);
      const latest = Math.max(...receipts.map((r) => r.failed_at));
      const read = async () =>
        (await h.server.request('GET', `/api/v1/broadcasts/${broadcastId}`, { token: h.ws.tokens.agent }))
          .body as Broadcast;
      expect(Date.parse((await read()).unconfirmedWaitEndsAt ?? '')).toBe(latest + HOUR);
      // Their re-send would take nobody for an hour yet...
      const dry = await resend(broadcastId, { reasons: ['uncertain'], includeUnconfirmed: true, dryRun: true });
      expect(dry.status, dry.text).toBe(422);
      expect(dry.body.error.code).toBe('resend_nothing');
      // ...so the toolbar does not count it. Before, it did: an hour after the end, with nothing to offer.
      expect(await listed()).not.toContain(broadcastId);
      const all = (await h.server.request('GET', '/api/v1/broadcasts?limit=100', { token: h.ws.tokens.agent })).body
        .data as Broadcast[];
      expect(needingAttention(all, { now: Date.now() }).map((b) => b.id)).toEqual(await listed());
    } finally {
      process.env.UNCONFIRMED_AFTER_HOURS = '0';
    }
    // Once their own wait is over (no wait here), both agree again: listed, and the re-send takes both.
    expect(await listed()).toContain(broadcastId);
    const dry = await resend(broadcastId, { reasons: ['uncertain'], includeUnconfirmed: true, dryRun: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.recipients).toBe(2);
  });
});

describe('a failure a delivery report brings after the broadcast was re-sent', () => {
  it('brings it back on the attention list with what is new to re-send, until a re-send takes it', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'late-after',
      count: 3,
      rate: 5000,
      start: 300,
    });
    sim.script(digits(300), { kind: 'fail', code: '131000' });
    await h.schedule(broadcastId);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect(await listed()).toContain(broadcastId);
    // The agent re-sends the provider error: the broadcast leaves the list.
    const first = await resend(broadcastId, { when: 'now' });
    expect(first.status, first.text).toBe(200);
    expect(first.body.recipients).toBe(1);
    expect(await listed()).not.toContain(broadcastId);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();

    // An hour later Meta's webhook says one that was accepted hit the marketing cap (131049).
    await reportFailed(broadcastId, 301, '131049');
    // Before, the earlier re-send kept it off the list, and nothing offered the new failure.
    expect(await listed()).toContain(broadcastId);
    const read = (await h.server.request('GET', `/api/v1/broadcasts/${broadcastId}`, { token: h.ws.tokens.agent }))
      .body as Broadcast;
    expect(read.lateFailedAt).not.toBeNull();
    const all = (await h.server.request('GET', '/api/v1/broadcasts?limit=100', { token: h.ws.tokens.agent })).body
      .data as Broadcast[];
    expect(needingAttention(all, { now: Date.now() }).map((b) => b.id)).toEqual(await listed());
    // What the one click would take now: the new failure only, a day after it (the cap's advice).
    const dry = await resend(broadcastId, { dryRun: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.recipients).toBe(1);
    expect(dry.body.plan[0].byReason).toEqual({ recipient_limit: 1 });
    expect(await listed()).toContain(broadcastId);

    // Asking again for the other reason only finds the earlier re-send (nothing new): it does not take it.
    const other = await resend(broadcastId, { reasons: ['provider_error'], when: 'now' });
    expect(other.status, other.text).toBe(200);
    expect(other.body.reused).toBe(true);
    expect(await listed()).toContain(broadcastId);

    const second = await resend(broadcastId, {});
    expect(second.status, second.text).toBe(200);
    expect(await listed()).not.toContain(broadcastId);
    const lateOf = async () =>
      (
        (await h.server.request('GET', `/api/v1/broadcasts/${broadcastId}`, { token: h.ws.tokens.agent }))
          .body as Broadcast
      ).lateFailedAt;
    expect(await lateOf()).toBeNull();
    // Taken back before it went (it waits a day for the cap): the failure is free again, and listed again.
    const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend/cancel`, {
      token: h.ws.tokens.agent,
    });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(await listed()).toContain(broadcastId);
    expect(await lateOf()).not.toBeNull();
  });

  it('a re-send the agent limits to other reasons leaves the late failure listed', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-some', count: 4, rate: 5000, start: 320 });
    sim.script(digits(320), { kind: 'fail', code: '131000' });
    await h.schedule(broadcastId);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect((await resend(broadcastId, { when: 'now' })).status).toBe(200);
    // Two late failures: the marketing cap (a day's wait) and a provider error (now).
    await reportFailed(broadcastId, 321, '131049');
    await reportFailed(broadcastId, 322, '131000');
    expect(await listed()).toContain(broadcastId);
    // The agent re-sends only the provider error: the capped one is still nobody's.
    const some = await resend(broadcastId, { reasons: ['provider_error'], when: 'now' });
    expect(some.status, some.text).toBe(200);
    expect(some.body.recipients).toBe(1);
    expect(await listed()).toContain(broadcastId);
    const rest = await resend(broadcastId, { reasons: ['recipient_limit'] });
    expect(rest.status, rest.text).toBe(200);
    expect(await listed()).not.toContain(broadcastId);
  });

  it('a late failure no re-send can help (a block) does not bring it back', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'late-block',
      count: 2,
      rate: 5000,
      start: 310,
    });
    sim.script(digits(310), { kind: 'fail', code: '131000' });
    await h.schedule(broadcastId);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect((await resend(broadcastId, { when: 'now' })).status).toBe(200);
    await reportFailed(broadcastId, 311, '131050');
    expect(
      (await rowCounts(h, broadcastId)).find((r) => r.reason === 'opted_out' || r.reason === 'blocked'),
    ).toBeTruthy();
    expect(await listed()).not.toContain(broadcastId);
  });
});
