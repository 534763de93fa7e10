/**
 * Recipients left out before sending (a number Rebound could not use) are among a lineage's left: a re-send
 * may take them once the number is fixed, so leaving them out of `left` made the count go wrong both ways.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, rowCounts, whatsappBroadcast, whatsappSimulator } from './engine/harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const digits = (n: number) => `54911${50000000 + n}`;

describe('left out before sending, in the lineage', () => {
  it('a re-send of invalid numbers: the one fixed is recovered, the one WhatsApp refuses again is left', async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'left-out', count: 3, rate: 5000, start: 500 });
    const { db } = h.server.database;
    // One number Rebound cannot use (left out before sending), one WhatsApp refuses as invalid (100).
    await db.run(sql`UPDATE contacts SET phone_valid = 0 WHERE phone = ${`+${digits(500)}`}`);
    sim.script(digits(501), { kind: 'fail', code: '100' });
    await h.schedule(id);
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, id)).toEqual([
      { state: 'excluded', reason: 'invalid_identifier', n: 1 },
      { state: 'failed', reason: 'invalid_identifier', n: 1 },
      { state: 'sent', reason: null, n: 1 },
    ]);

    // The agent fixes the first number and re-sends the invalid ones; WhatsApp refuses the second again.
    await db.run(sql`UPDATE contacts SET phone_valid = 1 WHERE phone = ${`+${digits(500)}`}`);
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['invalid_identifier'] },
    });
    expect(resend.status, resend.text).toBe(200);
    expect(resend.body.recipients).toBe(2);
    const resendId = resend.body.broadcastId as number;
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, resendId)).toEqual([
      { state: 'failed', reason: 'invalid_identifier', n: 1 },
      { state: 'sent', reason: null, n: 1 },
    ]);

    const { recovery } = await h.get(id);
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resendId], recovered: 1, failed: 1, pending: 0, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 1, byReason: { invalid_identifier: 1 } });
  });

  it('a duplicate contact got it through the one sharing its number: not left', async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'left-dup', count: 3, rate: 5000, start: 900 });
    const { db } = h.server.database;
    // 901 shares 900's phone (left out as a duplicate); 902 meets the marketing cap, then a re-send reaches them.
    await db.run(sql`UPDATE contacts SET phone = ${`+${digits(900)}`} WHERE phone = ${`+${digits(901)}`}`);
    sim.script(digits(902), { kind: 'fail', code: '131049' });
    await h.schedule(id);
    await h.engine().runUntilIdle();
    expect(await rowCounts(h, id)).toEqual([
      { state: 'excluded', reason: 'duplicate', n: 1 },
      { state: 'failed', reason: 'recipient_limit', n: 1 },
      { state: 'sent', reason: null, n: 1 },
    ]);
    sim.script(digits(902), { kind: 'accept' });
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(resend.status, resend.text).toBe(200);
    await h.engine().runUntilIdle();
    const { recovery } = await h.get(id);
    expect(recovery?.attempts[0]).toMatchObject({ recovered: 1, failed: 0 });
    expect(recovery?.left).toEqual({ total: 0, byReason: {} });
  });
});
