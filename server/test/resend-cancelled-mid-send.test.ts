/**
 * A re-send cancelled while it was sending (the ordinary cancel allows sending → cancelled): what it
 * reached stays reached. Its recipients must not be planned again (they would get the message twice),
 * the lineage counts them recovered; those it never sent need an agent again, until a re-send takes them.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gatedEngine,
  type Harness,
  harness,
  rowCounts,
  until,
  WA,
  whatsappBroadcast,
  whatsappSimulator,
} from './engine/harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const truth = (broadcastId: number) => rowCounts(h, broadcastId);
const digits = (n: number) => `54911${50000000 + n}`;

/** `count` new contacts from `start`, a broadcast to them on a simulator of its own, all failed by the marketing cap (re-sendable). */
async function cappedBroadcast(tag: string, count: number, rate: number, start = 0) {
  const sim = await whatsappSimulator(h);
  const { id: broadcastId } = await whatsappBroadcast(h, sim, { tag, count, rate, start });
  for (let i = start; i < start + count; i++) sim.script(digits(i), { kind: 'fail', code: '131049' });
  await h.schedule(broadcastId);
  await h.engine().runUntilIdle();
  return { sim, broadcastId };
}

/** An agent's re-send of the capped recipients now (forced: the cap's advice is to wait). */
const resendCapped = (broadcastId: number, extra: { dryRun?: boolean } = {}) =>
  h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
    token: h.ws.tokens.agent,
    body: { when: 'now', force: true, reasons: ['recipient_limit'], ...extra },
  });

const cancelAsManager = (broadcastId: number) =>
  h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/cancel`, { token: h.ws.tokens.manager });

/** What the attention list (the toolbar count) holds. */
const attentionIds = async (): Promise<number[]> =>
  (await h.server.request('GET', '/api/v1/broadcasts/attention?limit=50', { token: h.ws.tokens.agent })).body.data.map(
    (a: { id: number }) => a.id,
  );

/** The re-send's recipients it never sent. */
const unsentOf = async (resendId: number) =>
  (await truth(resendId)).filter((r) => r.state === 'cancelled').reduce((a, r) => a + r.n, 0);

describe('a re-send cancelled mid-send', () => {
  it('a re-send cancelled mid-send keeps what it reached: counted recovered, never planned again', async () => {
    // All 10 fail with the marketing cap (recipient_limit): re-sendable.
    const { sim, broadcastId } = await cappedBroadcast('cancelmid', 10, 5000);
    expect(await truth(broadcastId)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 10 }]);

    // Now they would be accepted.
    for (let i = 0; i < 10; i++) sim.script(digits(i), { kind: 'accept' });
    const resend = await resendCapped(broadcastId);
    expect(resend.status, resend.text).toBe(200);
    const resendId = resend.body.broadcastId as number;

    // The first 4 sends go through; the rest wait at a gate until the re-send is cancelled.
    const { engine, open } = gatedEngine(h, 4);
    const running = engine.runUntilIdle();
    await until(async () => (await truth(resendId)).some((r) => r.state === 'sent' && r.n >= 4), 20_000, 10);
    const cancel = await cancelAsManager(resendId);
    expect(cancel.status, cancel.text).toBe(200);
    open();
    await running;
    await h.engine().runUntilIdle();

    const resendTruth = await truth(resendId);
    const reached = resendTruth
      .filter((r) => r.state === 'sent' || r.state === 'delivered')
      .reduce((a, r) => a + r.n, 0);
    const unsent = await unsentOf(resendId);
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
    const second = await resendCapped(broadcastId, { dryRun: true });
    if (unsent === 0) expect(second.body.reused, second.text).toBe(true);
    else expect(second.body.recipients, second.text).toBe(unsent);
    const ids = await attentionIds();
    // Everyone it had in hand was sent: re-sent, what is left shows in its lineage.
    if (unsent === 0) expect(ids).not.toContain(broadcastId);
    else expect(ids).toContain(broadcastId);
  });

  // Five a second: the cancel comes while the rest wait for their slot in the engine's hands (the lane
  // cancels them as it stops), or are queued with no engine sending them (stopped meanwhile: the cancel
  // cancels them itself).
  it.each([
    ['waiting in the engine', 'cancelslow', 100, false],
    ['queued, no engine running', 'cancelqueued', 200, true],
  ])(
    'those it never sent (%s) need an agent again: back on the attention list until a re-send takes them',
    async (_, tag, start, stopFirst) => {
      const { sim, broadcastId } = await cappedBroadcast(tag, 10, 5, start);
      expect(await truth(broadcastId)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 10 }]);
      for (let i = start; i < start + 10; i++) sim.script(digits(i), { kind: 'accept' });
      const first = await resendCapped(broadcastId);
      expect(first.status, first.text).toBe(200);
      const resendId = first.body.broadcastId as number;
      const engine = h.engine();
      if (stopFirst) engine.start();
      const running = stopFirst ? Promise.resolve() : engine.runUntilIdle();
      await until(async () => (await truth(resendId)).some((r) => r.state === 'sent' && r.n >= 2), 20_000, 10);
      if (stopFirst) await engine.stop();
      expect(await attentionIds()).not.toContain(broadcastId);
      const cancel = await cancelAsManager(resendId);
      expect(cancel.status, cancel.text).toBe(200);
      await running;
      const unsent = await unsentOf(resendId);
      expect(unsent).toBeGreaterThan(0);
      expect(await attentionIds()).toContain(broadcastId);
      const again = await resendCapped(broadcastId);
      expect(again.status, again.text).toBe(200);
      expect(again.body.recipients).toBe(unsent);
      expect(await attentionIds()).not.toContain(broadcastId);
    },
  );

  it('sends in flight at the cancel that the provider answers "later" (throttled) are cancelled, never left queued, and freed', async () => {
    const { sim, broadcastId } = await cappedBroadcast('cancelthrottle', 6, 5000, 400);
    const first = await resendCapped(broadcastId);
    expect(first.status, first.text).toBe(200);
    const resendId = first.body.broadcastId as number;
    // Every send is claimed and on its way (held at the gate) when the manager cancels; then the provider
    // answers each "too many requests, later".
    const { engine, open } = gatedEngine(h, 0);
    const running = engine.runUntilIdle();
    await until(async () => (await truth(resendId)).some((r) => r.state === 'sending' && r.n === 6), 20_000, 10);
    const cancel = await cancelAsManager(resendId);
    expect(cancel.status, cancel.text).toBe(200);
    for (let i = 400; i < 406; i++) sim.script(digits(i), { kind: 'throttle', retryAfterSeconds: 1 });
    open();
    await running;
    expect(await truth(resendId)).toEqual([{ state: 'cancelled', reason: null, n: 6 }]);
    expect(await attentionIds()).toContain(broadcastId);
  });

  it('those a dead process had in hand are freed when their lease runs out, and bring the broadcast back', async () => {
    const { sim, broadcastId } = await cappedBroadcast('cancelcrash', 6, 5000, 500);
    const first = await resendCapped(broadcastId);
    expect(first.status, first.text).toBe(200);
    const resendId = first.body.broadcastId as number;
    for (let i = 500; i < 506; i++) sim.script(digits(i), { kind: 'accept' });
    // Three go out; the other three were claimed by a process that died before sending them (a lease
    // that has run out, nothing dispatched).
    const { engine, open } = gatedEngine(h, 3);
    const running = engine.runUntilIdle();
    await until(async () => (await truth(resendId)).some((r) => r.state === 'sent' && r.n === 3), 20_000, 10);
    const db = h.server.database.db;
    const cancel = await cancelAsManager(resendId);
    expect(cancel.status, cancel.text).toBe(200);
    // (The gate's three become the dead process's: in hand, never sent.)
    await db.run(sql`UPDATE messages SET lease_owner = 'dead', lease_until = ${Date.now() - 1000}, dispatched_at = NULL
      WHERE broadcast_id = ${resendId} AND state = 'sending'`);
    expect(await attentionIds()).not.toContain(broadcastId);
    await h.engine().recoverExpiredLeases();
    expect(await truth(resendId)).toEqual([
      { state: 'cancelled', reason: null, n: 3 },
      { state: 'sent', reason: null, n: 3 },
    ]);
    expect(await attentionIds()).toContain(broadcastId);
    open();
    await running;
  });

  it('one on another channel, of failures a one-click re-send does not take (a closed window), brings its broadcast back too', async () => {
    const sim = await whatsappSimulator(h);
    const whatsapp = await h.channel({
      type: 'whatsapp',
      name: 'WA ventana',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 5000 },
    });
    const sandbox = await h.channel({ type: 'sandbox', name: 'Otro canal lento', limits: { messagesPerSecond: 5 } });
    await h.seedContacts(10, 'ventana', { start: 300 });
    const segment = await h.segment('ventana', 'ventana');
    // A text, and none of them wrote in the last 24 h: all ten fail for the closed window.
    const { id: broadcastId } = await h.broadcast({
      name: 'Texto sin ventana',
      channelId: whatsapp.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    expect(await truth(broadcastId)).toEqual([{ state: 'failed', reason: 'outside_window', n: 10 }]);
    const onTheSandbox = () =>
      h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
        token: h.ws.tokens.agent,
        body: { channelId: sandbox.id, reasons: ['outside_window'] },
      });
    const first = await onTheSandbox();
    expect(first.status, first.text).toBe(200);
    const resendId = first.body.broadcastId as number;
    const running = h.engine().runUntilIdle();
    await until(async () => (await truth(resendId)).some((r) => r.state === 'delivered' && r.n >= 2), 20_000, 10);
    expect(await attentionIds()).not.toContain(broadcastId);
    const cancel = await cancelAsManager(resendId);
    expect(cancel.status, cancel.text).toBe(200);
    await running;
    const unsent = await unsentOf(resendId);
    expect(unsent).toBeGreaterThan(0);
    expect(await attentionIds()).toContain(broadcastId);
    const again = await onTheSandbox();
    expect(again.status, again.text).toBe(200);
    expect(again.body.recipients).toBe(unsent);
    expect(await attentionIds()).not.toContain(broadcastId);
  });
});
