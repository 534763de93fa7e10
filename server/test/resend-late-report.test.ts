/**
 * A provider report that arrives after a re-send was planned: an unconfirmed recipient the re-send took is
 * reported delivered after all. The re-send must not send them the message a second time, and the
 * re-send's own plan must still be readable (asked again, or cancelled).
 */
import type { FailureReason } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resendFailed } from '../src/services/resend';
import {
  type Harness,
  harness,
  rowCounts,
  whatsappBroadcast,
  whatsappReport,
  whatsappSimulator,
} from './engine/harness';

let h: Harness;
beforeAll(async () => {
  process.env.UNCONFIRMED_AFTER_HOURS = '0';
  h = await harness();
});
afterAll(() => {
  delete process.env.UNCONFIRMED_AFTER_HOURS;
});

const HOUR = 3_600_000;
const digits = (n: number) => `54911${50000000 + n}`;

/**
 * Re-sends `originalId` through the service, with WhatsApp's `report` on `reported`'s message to `number`
 * landing between the plan's read and its write (ResendOptions.beforeWrite).
 */
function resendWhileReported(
  originalId: number,
  body: Parameters<typeof resendFailed>[3],
  reported: { broadcastId: number; number: number; report: Parameters<typeof whatsappReport>[3] },
  options: { writeRows?: number; language?: 'en' } = {},
) {
  const { language, ...rest } = options;
  return resendFailed(
    h.server.database.db,
    { workspaceId: h.ws.id, defaultCountry: 'AR', ...(language && { language }) },
    originalId,
    body,
    Date.now(),
    {
      ...rest,
      beforeWrite: async () => {
        expect(await whatsappReport(h, reported.broadcastId, digits(reported.number), reported.report)).toBe(200);
      },
    },
  );
}

describe('a late report on a recipient a scheduled re-send took', () => {
  it('delivered after all: the re-send skips them, and its plan can still be read and cancelled', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-dlv', count: 3, rate: 5000, start: 300 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(300), { kind: 'reset', afterAccept: true }); // it went out; the answer was lost
    sim.script(digits(301), { kind: 'fail', code: '131049' });
    sim.script(digits(302), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    expect(await rowCounts(h, broadcastId)).toEqual([
      { state: 'failed', reason: 'recipient_limit', n: 2 },
      { state: 'uncertain', reason: 'uncertain', n: 1 },
    ]);

    // The agent re-sends all three, in an hour.
    for (let i = 300; i < 303; i++) sim.script(digits(i), { kind: 'accept' });
    const body = {
      when: new Date(Date.now() + HOUR).toISOString(),
      force: true,
      reasons: ['recipient_limit', 'uncertain'],
      includeUnconfirmed: true,
    };
    const planned = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body,
    });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.body.recipients).toBe(3);
    const resendId = planned.body.broadcastId as number;

    // Meanwhile WhatsApp reports the unconfirmed one delivered: it did reach the contact.
    expect(await whatsappReport(h, broadcastId, digits(300), { status: 'delivered' })).toBe(200);

    // Asked again, the same plan comes back (not a server error); the lineage leaves nobody out.
    const again = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body,
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ reused: true, broadcastId: resendId });
    const { recovery } = await h.get(broadcastId);
    expect(recovery?.firstSend).toEqual({ reached: 1, failed: 2, unconfirmed: 0 });
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 0, failed: 0, pending: 2, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 0, byReason: {} });

    // When it goes, it goes to the two still not reached; the third got it once, and once only.
    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(301), digits(302)]);
    expect(await rowCounts(h, resendId)).toEqual([{ state: 'sent', reason: null, n: 2 }]);
  });

  it('every recipient it took reported delivered meanwhile: the re-send ends done with nothing to send, not failed', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-all', count: 2, rate: 5000, start: 500 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(500), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const planned = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: new Date(Date.now() + HOUR).toISOString(), force: true, includeUnconfirmed: true },
    });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.body.recipients).toBe(1);
    const resendId = planned.body.broadcastId as number;
    expect(await whatsappReport(h, broadcastId, digits(500), { status: 'delivered' })).toBe(200);

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(sim.requests.length).toBe(before);
    const resend = await h.get(resendId);
    expect(resend).toMatchObject({ status: 'completed', error: null });
    // Nothing failed: neither the re-send nor its broadcast calls for an agent.
    const attention = await h.server.request('GET', '/api/v1/broadcasts/attention?limit=100', {
      token: h.ws.tokens.agent,
    });
    expect(attention.body.data.map((b: { id: number }) => b.id)).not.toContain(resendId);
    expect(attention.body.data.map((b: { id: number }) => b.id)).not.toContain(broadcastId);
  });

  it('delivered late after an earlier re-send failed for them: a re-send of that re-send does not send a third time', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-3rd', count: 1, rate: 5000, start: 600 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(600), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    // The re-send of the unconfirmed one meets the marketing cap.
    sim.script(digits(600), { kind: 'fail', code: '131049' });
    const first = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, includeUnconfirmed: true },
    });
    expect(first.status, first.text).toBe(200);
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, first.body.broadcastId)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 1 }]);
    // Then WhatsApp reports the first message delivered: the contact has it.
    expect(await whatsappReport(h, broadcastId, digits(600), { status: 'delivered' })).toBe(200);

    // A re-send of the re-send's failure goes out to nobody: the person already has the message.
    sim.script(digits(600), { kind: 'accept' });
    const second = await h.server.request('POST', `/api/v1/broadcasts/${first.body.broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(second.status, second.text).toBe(200);
    const before = sim.requests.length;
    await h.engine().runUntilIdle();
    expect(sim.requests.length).toBe(before);
    expect(await h.get(second.body.broadcastId)).toMatchObject({ status: 'completed', error: null });
  });

  it('a scheduled re-send whose taken recipient was reported delivered can still be cancelled', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-cxl', count: 2, rate: 5000, start: 400 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(400), { kind: 'reset', afterAccept: true });
    sim.script(digits(401), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const planned = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: {
        when: new Date(Date.now() + HOUR).toISOString(),
        force: true,
        reasons: ['recipient_limit', 'uncertain'],
        includeUnconfirmed: true,
      },
    });
    expect(planned.status, planned.text).toBe(200);
    expect(await whatsappReport(h, broadcastId, digits(400), { status: 'delivered' })).toBe(200);
    const cancel = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend/cancel`, {
      token: h.ws.tokens.agent,
    });
    expect(cancel.status, cancel.text).toBe(200);
    expect((await h.get(planned.body.broadcastId as number)).status).toBe('cancelled');
  });
});

describe('a late report that no re-send can help, on a recipient a re-send took', () => {
  /** A first send of 3: one unconfirmed (its answer lost), two capped (131049). */
  async function unconfirmedFirstSend(tag: string, start: number) {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag, count: 3, rate: 5000, start });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(start), { kind: 'reset', afterAccept: true });
    sim.script(digits(start + 1), { kind: 'fail', code: '131049' });
    sim.script(digits(start + 2), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    for (let i = start; i < start + 3; i++) sim.script(digits(i), { kind: 'accept' });
    return { sim, broadcastId };
  }

  /** The re-send of all three, in an hour. */
  const resendOfAllThree = {
    when: new Date(Date.now() + HOUR).toISOString(),
    force: true,
    reasons: ['recipient_limit', 'uncertain'] as FailureReason[],
    includeUnconfirmed: true,
  };

  /** unconfirmedFirstSend, and a re-send of all three in an hour. */
  async function unconfirmedTakenByResend(tag: string, start: number) {
    const { sim, broadcastId } = await unconfirmedFirstSend(tag, start);
    const planned = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: resendOfAllThree,
    });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.body.recipients).toBe(3);
    return { sim, broadcastId, resendId: planned.body.broadcastId as number };
  }

  it('reported not on WhatsApp before the re-send goes: it is not sent to them, and the lineage counts them left', async () => {
    const { sim, broadcastId, resendId } = await unconfirmedTakenByResend('late-hopeless', 700);
    // WhatsApp answers at last: that number has no WhatsApp account (131026).
    expect(await whatsappReport(h, broadcastId, digits(700), { status: 'failed', code: '131026' })).toBe(200);

    const { recovery } = await h.get(broadcastId);
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 0, failed: 0, pending: 2, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(701), digits(702)]);
    expect(await rowCounts(h, resendId)).toEqual([{ state: 'sent', reason: null, n: 2 }]);
    expect(await h.get(resendId)).toMatchObject({ status: 'completed', error: null });
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });

    // Let go, not held: once the agent has a number for them, a re-send chosen for that reason may take them.
    const explicit = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['not_on_channel'], dryRun: true },
    });
    expect(explicit.status, explicit.text).toBe(200);
    expect(explicit.body.recipients).toBe(1);
  });

  it('reported not on WhatsApp while the re-send was being written: it is not sent to them either, and the lineage counts them left', async () => {
    const { sim, broadcastId } = await unconfirmedFirstSend('late-while-written', 860);
    // The plan has read its three recipients; the report lands before their rows are written (one per transaction).
    const planned = await resendWhileReported(
      broadcastId,
      resendOfAllThree,
      { broadcastId, number: 860, report: { status: 'failed', code: '131026' } },
      { writeRows: 1 },
    );
    const resendId = planned.broadcastId as number;
    expect(await h.get(resendId)).toMatchObject({ status: 'scheduled', targetCount: 2 });
    // The answer counts the re-send as written, as everything else shows it.
    expect(planned.recipients).toBe(2);
    expect(planned.plan).toEqual([expect.objectContaining({ count: 2, byReason: { recipient_limit: 2 } })]);

    const { recovery } = await h.get(broadcastId);
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 0, failed: 0, pending: 2, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(861), digits(862)]);
    expect(await h.get(resendId)).toMatchObject({ status: 'completed', error: null });
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });
    // Let go, not held: a re-send chosen for that reason (another channel's, say) may take them.
    const explicit = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['not_on_channel'], dryRun: true },
    });
    expect(explicit.status, explicit.text).toBe(200);
    expect(explicit.body.recipients).toBe(1);
  });

  it('reported delivered while the re-send was being written: it is not sent to them twice, and the lineage leaves nobody out', async () => {
    const { sim, broadcastId } = await unconfirmedFirstSend('late-dlv-while-written', 880);
    const planned = await resendWhileReported(
      broadcastId,
      resendOfAllThree,
      { broadcastId, number: 880, report: { status: 'delivered' } },
      { writeRows: 1 },
    );
    const resendId = planned.broadcastId as number;
    // The answer says what the re-send takes now, as a second click would: the delivered one is not among them.
    expect(planned.recipients).toBe(2);
    expect(planned.plan).toEqual([expect.objectContaining({ count: 2, byReason: { recipient_limit: 2 } })]);
    const { recovery } = await h.get(broadcastId);
    expect(recovery?.firstSend).toEqual({ reached: 1, failed: 2, unconfirmed: 0 });
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 0, failed: 0, pending: 2, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 0, byReason: {} });

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(
      sim.requests
        .slice(before)
        .map((r) => r.recipient)
        .sort(),
    ).toEqual([digits(881), digits(882)]);
    expect((await h.get(resendId)).status).toBe('completed');
  });

  it('its only recipient reported not on WhatsApp while the re-send was being written: the answer says nobody, not "0 now"', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'late-none-written',
      count: 1,
      rate: 5000,
      start: 920,
    });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(920), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    sim.script(digits(920), { kind: 'accept' });
    const planned = await resendWhileReported(
      broadcastId,
      { when: new Date(Date.now() + HOUR).toISOString(), force: true, includeUnconfirmed: true },
      { broadcastId, number: 920, report: { status: 'failed', code: '131026' } },
      { language: 'en' },
    );
    expect(planned.recipients).toBe(0);
    expect(planned.summary).toBe('');
    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(sim.requests.length).toBe(before);
    expect(await h.get(planned.broadcastId as number)).toMatchObject({ status: 'completed', error: null });
  });

  it('every recipient it took reported not on WhatsApp: the re-send ends with nothing sent, never to its whole tag', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'late-none', count: 2, rate: 5000, start: 720 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(720), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    sim.script(digits(720), { kind: 'accept' });
    const planned = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: new Date(Date.now() + HOUR).toISOString(), force: true, includeUnconfirmed: true },
    });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.body.recipients).toBe(1);
    const resendId = planned.body.broadcastId as number;
    expect(await whatsappReport(h, broadcastId, digits(720), { status: 'failed', code: '131026' })).toBe(200);

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(sim.requests.length).toBe(before);
    expect(await h.get(resendId)).toMatchObject({ status: 'completed', error: null });
    expect(await rowCounts(h, resendId)).toEqual([]);
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });
  });

  it('reported not on WhatsApp after the re-send froze its recipients: their message is left out with the reason', async () => {
    const { sim, broadcastId, resendId } = await unconfirmedTakenByResend('late-frozen', 740);
    // Its time comes (the re-send waits out the unconfirmed window): the engine freezes its recipients.
    await h.engine({ workerId: 'freezer', clock: () => Date.now() + 2 * HOUR }).startBroadcast(resendId);
    expect(await rowCounts(h, resendId)).toEqual([{ state: 'queued', reason: null, n: 3 }]);
    expect(await whatsappReport(h, broadcastId, digits(740), { status: 'failed', code: '131026' })).toBe(200);
    expect(await rowCounts(h, resendId)).toEqual([
      { state: 'excluded', reason: 'not_on_channel', n: 1 },
      { state: 'queued', reason: null, n: 2 },
    ]);

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(741), digits(742)]);
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });
  });

  it('reported not on WhatsApp on the first send while a re-send of a re-send waits: that one does not send to them either, and the middle one failed for them too', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'late-chain',
      count: 2,
      rate: 5000,
      start: 840,
    });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    // Both went out and both answers were lost, on the first send and again on its re-send.
    sim.script(digits(840), { kind: 'reset', afterAccept: true });
    sim.script(digits(841), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const first = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, includeUnconfirmed: true },
    });
    expect(first.status, first.text).toBe(200);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    expect(await rowCounts(h, first.body.broadcastId)).toEqual([{ state: 'uncertain', reason: 'uncertain', n: 2 }]);
    // The agent re-sends the re-send's unconfirmed two, in an hour: its targets are the re-send's messages.
    for (const n of [840, 841]) sim.script(digits(n), { kind: 'accept' });
    const second = await h.server.request('POST', `/api/v1/broadcasts/${first.body.broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: new Date(Date.now() + HOUR).toISOString(), force: true, includeUnconfirmed: true },
    });
    expect(second.status, second.text).toBe(200);
    expect(second.body.recipients).toBe(2);

    // WhatsApp answers at last for the first send: that number has no WhatsApp account (131026).
    expect(await whatsappReport(h, broadcastId, digits(840), { status: 'failed', code: '131026' })).toBe(200);

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(sim.requests.slice(before).map((r) => r.recipient)).toEqual([digits(841)]);
    expect(await h.get(second.body.broadcastId)).toMatchObject({ status: 'completed', error: null });
    expect(await rowCounts(h, second.body.broadcastId)).toEqual([{ state: 'sent', reason: null, n: 1 }]);
    // The first re-send's message to that number, never answered, did not arrive either: failed for that
    // reason, so nobody counts it unconfirmed or offers it again, and the person is left once, as not on WhatsApp.
    expect(await rowCounts(h, first.body.broadcastId)).toEqual([
      { state: 'failed', reason: 'not_on_channel', n: 1 },
      { state: 'uncertain', reason: 'uncertain', n: 1 },
    ]);
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });
    expect((await h.get(first.body.broadcastId)).unconfirmedWaitEndsAt).toBeNull();
    // Told as a late failure of the re-send, in the log with no provider words (WhatsApp said it of the first).
    const events = await h.server.database.client.execute({
      sql: "SELECT data FROM events WHERE broadcast_id = ? AND type = 'messages.failed'",
      args: [first.body.broadcastId],
    });
    expect(events.rows.map((r) => JSON.parse(String(r.data)))).toContainEqual(
      expect.objectContaining({ count: 1, byReason: { not_on_channel: 1 }, late: true }),
    );
    // An inference, not a report: if WhatsApp says the re-send's message arrived after all, that wins.
    expect(await whatsappReport(h, first.body.broadcastId, digits(840), { status: 'delivered' })).toBe(200);
    expect(await rowCounts(h, first.body.broadcastId)).toEqual([
      { state: 'delivered', reason: null, n: 1 },
      { state: 'uncertain', reason: 'uncertain', n: 1 },
    ]);
  });

  it('reported not on WhatsApp on the first send while a re-send of its re-send is being written: the inference reaches the plan too', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'late-chain-written',
      count: 2,
      rate: 5000,
      start: 900,
    });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(900), { kind: 'reset', afterAccept: true });
    sim.script(digits(901), { kind: 'reset', afterAccept: true });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const first = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, includeUnconfirmed: true },
    });
    expect(first.status, first.text).toBe(200);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    for (const n of [900, 901]) sim.script(digits(n), { kind: 'accept' });
    // The re-send of the re-send has read its two; WhatsApp's 131026 for the first send lands before they are written.
    const second = await resendWhileReported(
      first.body.broadcastId,
      { when: new Date(Date.now() + HOUR).toISOString(), force: true, includeUnconfirmed: true },
      { broadcastId, number: 900, report: { status: 'failed', code: '131026' } },
    );
    expect(await h.get(second.broadcastId as number)).toMatchObject({ status: 'scheduled', targetCount: 1 });

    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(sim.requests.slice(before).map((r) => r.recipient)).toEqual([digits(901)]);
    expect((await h.get(broadcastId)).recovery?.left).toEqual({ total: 1, byReason: { not_on_channel: 1 } });
  });

  it('a number changed since: the report is about the old one, and the re-send still goes to the new one', async () => {
    const { sim, broadcastId } = await unconfirmedTakenByResend('late-renumbered', 780);
    const [contact] = await h.server.database.db.all<{ id: number }>(
      sql`SELECT id FROM contacts WHERE phone = ${`+${digits(780)}`}`,
    );
    const fixed = await h.server.request('PATCH', `/api/v1/contacts/${contact?.id}`, {
      token: h.ws.tokens.agent,
      body: { phone: '+5491169990000' },
    });
    expect(fixed.status, fixed.text).toBe(200);
    expect(await whatsappReport(h, broadcastId, digits(780), { status: 'failed', code: '131026' })).toBe(200);
    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(781), digits(782), '5491169990000']);
  });

  it('a failure about the channel, not the person (the account has a payment problem): the re-send keeps them', async () => {
    const { sim, broadcastId } = await unconfirmedTakenByResend('late-account', 800);
    expect(await whatsappReport(h, broadcastId, digits(800), { status: 'failed', code: '131042' })).toBe(200);
    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    expect(
      sim.requests
        .slice(before)
        .map((r) => r.recipient)
        .sort(),
    ).toEqual([digits(800), digits(801), digits(802)]);
  });

  it('reported outside the 24 h window: a re-send with a template can still reach them, so it keeps them', async () => {
    const { sim, broadcastId } = await unconfirmedTakenByResend('late-window', 760);
    // 131047: more than 24 h since the contact wrote; the broadcast carries a template, which may go anyway.
    expect(await whatsappReport(h, broadcastId, digits(760), { status: 'failed', code: '131047' })).toBe(200);
    const before = sim.requests.length;
    await h.engine({ clock: () => Date.now() + 2 * HOUR }).runUntilIdle();
    const sentTo = sim.requests.slice(before).map((r) => r.recipient);
    expect(sentTo.sort()).toEqual([digits(760), digits(761), digits(762)]);
  });
});
