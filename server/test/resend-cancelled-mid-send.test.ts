/**
 * A re-send cancelled while it was sending (the ordinary cancel allows sending → cancelled): what it
 * reached stays reached. Its recipients must not be planned again (they would get the message twice),
 * the lineage counts them recovered, and the original no longer needs attention.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gatedEngine,
  type Harness,
  harness,
  rowCounts,
  until,
  whatsappBroadcast,
  whatsappSimulator,
} from './engine/harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const truth = (broadcastId: number) => rowCounts(h, broadcastId);
const digits = (n: number) => `54911${50000000 + n}`;

describe('a re-send cancelled mid-send', () => {
  it('a re-send cancelled mid-send keeps what it reached: counted recovered, never planned again', async () => {
    const sim = await whatsappSimulator(h);
    const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag: 'cancelmid', count: 10, rate: 5000 });
    // All 10 fail with the marketing cap (recipient_limit): re-sendable.
    for (let i = 0; i < 10; i++) sim.script(digits(i), { kind: 'fail', code: '131049' });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    expect(await truth(broadcastId)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 10 }]);

    // Now they would be accepted.
    for (let i = 0; i < 10; i++) sim.script(digits(i), { kind: 'accept' });
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['recipient_limit'] },
    });
    expect(resend.status, resend.text).toBe(200);
    const resendId = resend.body.broadcastId as number;

    // The first 4 sends go through; the rest wait at a gate until the re-send is cancelled.
    const { engine, open } = gatedEngine(h, 4);
    const running = engine.runUntilIdle();
    await until(async () => (await truth(resendId)).some((r) => r.state === 'sent' && r.n >= 4), 20_000, 10);
    const cancel = await h.server.request('POST', `/api/v1/broadcasts/${resendId}/cancel`, {
      token: h.ws.tokens.manager,
    });
    expect(cancel.status, cancel.text).toBe(200);
    open();
    await running;
    await h.engine().runUntilIdle();

    const resendTruth = await truth(resendId);
    const reached = resendTruth
      .filter((r) => r.state === 'sent' || r.state === 'delivered')
      .reduce((a, r) => a + r.n, 0);
    const unsent = resendTruth.filter((r) => r.state === 'cancelled').reduce((a, r) => a + r.n, 0);
    expect(reached).toBeGreaterThanOrEqual(4);
    expect(reached + unsent).toBe(10);
    expect((await h.get(resendId)).status).toBe('cancelled');

    const detail = await h.get(broadcastId);
    const recovered = (detail.recovery?.attempts ?? []).reduce(
      (a: number, r: { recovered: number }) => a + r.recovered,
      0,
    );
    expect(recovered).toBe(reached);
    expect(detail.recovery?.left).toEqual({
      total: unsent,
      byReason: unsent ? { recipient_limit: unsent } : {},
    });
    // A second re-send plans only who the cancelled one never sent to: nobody gets it twice.
    const second = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['recipient_limit'], dryRun: true },
    });
    if (unsent === 0) expect(second.body.reused, second.text).toBe(true);
    else expect(second.body.recipients, second.text).toBe(unsent);
    const attention = await h.server.request('GET', '/api/v1/broadcasts/attention?limit=50', {
      token: h.ws.tokens.agent,
    });
    const ids = attention.body.data.map((a: { id: number }) => a.id);
    // Re-sent: what is left shows in its lineage, not as a broadcast nobody acted on.
    expect(ids).not.toContain(broadcastId);
  });
});
