/**
 * A provider report that lands while a re-send is being written (between reading the failures and writing
 * its targets, separate transactions): the re-send's note of what it took must follow it anyway, or the
 * lineage counts that recipient as left while the re-send holds them.
 */
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, harness, rowCounts, WA, whatsappBroadcast, whatsappSimulator } from './engine/harness';

// The real writer, with a moment before it runs in which the test delivers a report.
const beforeWrite: { run?: () => Promise<void> } = {};
vi.mock('../src/services/resend-writer', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/services/resend-writer')>();
  return {
    ...real,
    writePlan: async (...args: Parameters<typeof real.writePlan>) => {
      const run = beforeWrite.run;
      beforeWrite.run = undefined;
      if (run) await run();
      return real.writePlan(...args);
    },
  };
});

let h: Harness;
beforeAll(async () => {
  process.env.UNCONFIRMED_AFTER_HOURS = '0';
  h = await harness();
});
afterAll(() => {
  delete process.env.UNCONFIRMED_AFTER_HOURS;
});

const digits = (n: number) => `54911${50000000 + n}`;

describe('a report while a re-send is written', () => {
  it('an unconfirmed recipient reported "not on WhatsApp" meanwhile stays with the re-send, not among the left', async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'plan-race', count: 2, rate: 5000, start: 600 });
    const channelId = (await h.get(id)).channelId as number;
    sim.script(digits(600), { kind: 'reset', afterAccept: true }); // it went out; the answer was lost
    sim.script(digits(601), { kind: 'fail', code: '131049' });
    await h.schedule(id);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();

    beforeWrite.run = async () => {
      const [m] = await h.server.database.db.all<{ id: number; provider_message_id: string | null }>(
        sql`SELECT id, provider_message_id FROM messages WHERE broadcast_id = ${id} AND state = 'uncertain'`,
      );
      const hook = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId: m?.provider_message_id ?? '',
        recipient: digits(600),
        clientRef: String(m?.id),
        status: 'failed',
        error: { code: '131026' },
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channelId}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(200);
    };
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
      token: h.ws.tokens.agent,
      body: {
        when: new Date(Date.now() + 3_600_000).toISOString(),
        force: true,
        includeUnconfirmed: true,
        reasons: ['recipient_limit', 'uncertain'],
      },
    });
    expect(resend.status, resend.text).toBe(200);
    expect(beforeWrite.run).toBeUndefined();
    expect(await rowCounts(h, id)).toEqual([
      { state: 'failed', reason: 'not_on_channel', n: 1 },
      { state: 'failed', reason: 'recipient_limit', n: 1 },
    ]);

    const { recovery } = await h.get(id);
    expect(recovery?.attempts).toEqual([
      { attempt: 1, broadcastIds: [resend.body.broadcastId], recovered: 0, failed: 0, pending: 2, unconfirmed: 0 },
    ]);
    expect(recovery?.left).toEqual({ total: 0, byReason: {} });
  });
});
