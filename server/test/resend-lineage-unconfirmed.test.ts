/**
 * Unconfirmed recipients in a broadcast's lineage (GET /broadcasts/{id} → recovery). A request that got no
 * answer may or may not have reached the contact: the lineage must show them, never "nobody is left",
 * and a late provider report on a recipient a re-send already took must not put them back among the left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  h = await harness();
});
afterAll(() => {
  delete process.env.UNCONFIRMED_AFTER_HOURS;
});

const digits = (n: number) => `54911${50000000 + n}`;

async function resend(broadcastId: number, body: Record<string, unknown>) {
  const res = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
    token: h.ws.tokens.agent,
    body: { when: 'now', force: true, ...body },
  });
  expect(res.status, res.text).toBe(200);
  return res.body.broadcastId as number;
}

describe('unconfirmed recipients in the lineage', () => {
  it('a re-send whose requests got no answer shows them unconfirmed in its round and among the left', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, {
      tag: 'lin-unconf',
      count: 5,
      rate: 5000,
      start: 100,
    });
    for (let i = 100; i < 105; i++) sim.script(digits(i), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, broadcastId)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 5 }]);

    // The re-send's requests get no answer: unconfirmed.
    for (let i = 100; i < 105; i++) sim.script(digits(i), { kind: 'hang' });
    const resendId = await resend(broadcastId, { reasons: ['recipient_limit'] });
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    expect(await rowCounts(h, resendId)).toEqual([{ state: 'uncertain', reason: 'uncertain', n: 5 }]);

    const { recovery } = await h.get(broadcastId);
    expect(recovery?.firstSend).toEqual({ reached: 0, failed: 5, unconfirmed: 0 });
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 0, failed: 0, pending: 0, unconfirmed: 5 },
    ]);
    // Nobody knows whether they got it: they are left, as "delivery unknown", not "nobody is left".
    expect(recovery?.left).toEqual({ total: 5, byReason: { uncertain: 5 } });

    // Re-sent again on request once the wait for a report is over: a live re-send holds them.
    process.env.UNCONFIRMED_AFTER_HOURS = '0';
    for (let i = 100; i < 105; i++) sim.script(digits(i), { kind: 'accept' });
    const second = await resend(resendId, { includeUnconfirmed: true, reasons: ['uncertain'] });
    await h.engine().runUntilIdle();
    const after = (await h.get(broadcastId)).recovery;
    expect(after?.attempts[1]).toMatchObject({ attempt: 2, broadcastIds: [second], recovered: 5, unconfirmed: 0 });
    expect(after?.left).toEqual({ total: 0, byReason: {} });
  });

  it('a late report on an unconfirmed recipient a re-send already reached does not count them as left', async () => {
    process.env.UNCONFIRMED_AFTER_HOURS = '0';
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'lin-late', count: 3, rate: 5000, start: 200 });
    const channelId = (await h.get(broadcastId)).channelId as number;
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channelId}`;
    sim.script(digits(200), { kind: 'reset', afterAccept: true }); // it went out; the answer was lost
    sim.script(digits(201), { kind: 'fail', code: '131049' });
    sim.script(digits(202), { kind: 'accept' });
    await h.schedule(broadcastId);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();

    for (let i = 200; i < 203; i++) sim.script(digits(i), { kind: 'accept' });
    const resendId = await resend(broadcastId, { reasons: ['recipient_limit', 'uncertain'], includeUnconfirmed: true });
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, resendId)).toEqual([{ state: 'sent', reason: null, n: 2 }]);
    const before = (await h.get(broadcastId)).recovery;
    expect(before?.firstSend).toEqual({ reached: 1, failed: 1, unconfirmed: 1 });
    expect(before?.left).toEqual({ total: 0, byReason: {} });

    // WhatsApp now reports the first send's unconfirmed message failed: not on WhatsApp (131026).
    expect(await whatsappReport(h, broadcastId, digits(200), { status: 'failed', code: '131026' })).toBe(200);
    expect(await rowCounts(h, broadcastId)).toEqual([
      { state: 'failed', reason: 'not_on_channel', n: 1 },
      { state: 'failed', reason: 'recipient_limit', n: 1 },
      { state: 'sent', reason: null, n: 1 },
    ]);

    // The re-send still holds that recipient (and reached them): nobody is left.
    const after = (await h.get(broadcastId)).recovery;
    expect(after?.firstSend).toEqual({ reached: 1, failed: 2, unconfirmed: 0 });
    expect(after?.attempts[0]).toMatchObject({ recovered: 2, failed: 0, unconfirmed: 0 });
    expect(after?.left).toEqual({ total: 0, byReason: {} });
  });
});
