/** Delivery receipts end to end through the engine and the webhook routes: Vonage and MessageBird (S10 for SMS). */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, messageBirdChannel, vonageChannel } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});

async function run(channelId: number, tag: string) {
  await h.seedContacts(3, tag, { start: tag === 'vonage' ? 70_000 : 80_000 });
  const segment = await h.segment(tag, tag);
  const b = await h.broadcast({ name: tag, channelId, segmentId: segment.id, content: { text: 'Hola' } });
  await h.schedule(b.id);
  await h.engine().runUntilIdle();
  return b.id;
}

describe('SMS delivery receipts', () => {
  it('Vonage: accepted, then a signed DLR fails one and delivers another; a forged DLR changes nothing', async () => {
    const { sim, channel } = await vonageChannel(h, 'Vonage');
    sim.script('5491150070000', { kind: 'failLater', code: '6', delayMs: 30 });
    sim.script('5491150070001', { kind: 'deliverLater', delayMs: 30 });
    const id = await run(channel.id, 'vonage');
    await sim.settle();
    expect(sim.callbacks.map((c) => c.status)).toEqual([200, 200]);
    const done = await h.get(id);
    expect(done.counts).toEqual({ failed: 1, delivered: 1, sent: 1 });
    expect(done.status).toBe('partially_failed');
    const forged = await fetch(`${h.server.baseUrl}/webhooks/vonage/${channel.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messageId: 'x',
        status: 'failed',
        'err-code': '6',
        'client-ref': '1',
        sig: 'deadbeef',
        timestamp: String(Math.floor(Date.now() / 1000)),
      }),
    });
    expect(forged.status).toBe(401);
  });

  it('Vonage: a receipt with only "rejected" or "failed" says the carrier refused, and the one-click re-send leaves it out', async () => {
    const { sim, channel } = await vonageChannel(h, 'Vonage rechazos');
    await h.seedContacts(4, 'vonage-refused', { start: 72_000 });
    sim.script('5491150072000', { kind: 'failLater', code: 'rejected', delayMs: 30 });
    sim.script('5491150072001', { kind: 'failLater', code: 'failed', delayMs: 30 });
    sim.script('5491150072002', { kind: 'failLater', code: '2', delayMs: 30 });
    sim.script('5491150072003', { kind: 'deliverLater', delayMs: 30 });
    const segment = await h.segment('vonage-refused', 'vonage-refused');
    const b = await h.broadcast({
      name: 'Rechazos',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    await sim.settle();
    const done = await h.get(b.id, 'es');
    expect(done.failedByReason).toEqual({ carrier_rejected: 2, unreachable: 1 });
    // Not "a passing provider fault, re-send now": sent again unchanged, the carrier refuses it again.
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { dryRun: true },
    });
    expect(resend.status).toBe(200);
    expect(resend.body.recipients).toBe(1);
    expect(Object.keys(resend.body.plan[0].byReason)).toEqual(['unreachable']);
  });

  it('MessageBird: the signed status report (GET) settles the message', async () => {
    const { sim, channel } = await messageBirdChannel(h, 'Bird');
    sim.script('5491150080000', { kind: 'failLater', code: 'dlr:1', delayMs: 30 });
    sim.script('5491150080001', { kind: 'deliverLater', delayMs: 30 });
    const id = await run(channel.id, 'bird');
    await sim.settle();
    expect(sim.callbacks.map((c) => c.status)).toEqual([200, 200]);
    const done = await h.get(id);
    expect(done.counts).toEqual({ failed: 1, delivered: 1, sent: 1 });
    expect(done.failedByReason).toEqual({ not_on_channel: 1 });
    const unsigned = await fetch(
      `${h.server.baseUrl}/webhooks/messagebird/${channel.id}?id=x&status=delivery_failed&statusErrorCode=1`,
    );
    expect(unsigned.status).toBe(401);
  });

  it('Vonage: a final "unknown" receipt is unconfirmed, not a failure: the broadcast completes, no "failed" event', async () => {
    const { sim, channel } = await vonageChannel(h, 'Vonage desconocido');
    await h.seedContacts(3, 'vonage-unknown', { start: 90_000 });
    await h.seedContacts(2, 'vonage-all-unknown', { start: 91_000 });
    const segment = await h.segment('vonage-unknown', 'vonage-unknown');
    const b = await h.broadcast({
      name: 'Aviso desconocido',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const all = await h.broadcast({
      name: 'Todos desconocidos',
      channelId: channel.id,
      segmentId: (await h.segment('vonage-all-unknown', 'vonage-all-unknown')).id,
      content: { text: 'Hola' },
    });
    for (const n of ['5491150090000', '5491150091000', '5491150091001'])
      sim.script(n, { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script('5491150090001', { kind: 'deliverLater', delayMs: 30 });
    await h.schedule(b.id);
    await h.schedule(all.id);
    await h.engine().runUntilIdle();
    await sim.settle();
    expect(sim.callbacks.map((c) => c.status)).toEqual([200, 200, 200, 200]);
    const done = await h.get(b.id);
    // Its log keeps the provider's words (failed, "Delivery unknown"); its verdict does not call it a failure.
    expect(done.failedByReason).toEqual({ uncertain: 1 });
    expect(done.status).toBe('completed');
    const events = (
      await h.server.request('GET', `/api/v1/events?wait=0&limit=100`, { token: h.ws.tokens.agent, language: 'es' })
    ).body.data as { type: string; broadcastId: number | null; message: string }[];
    const mine = events.filter((e) => e.broadcastId === b.id);
    expect(mine.map((e) => e.type)).not.toContain('messages.failed');
    expect(mine.map((e) => e.type)).not.toContain('broadcast.partially_failed');
    // Completed when the last send was taken, usually before the receipts: nothing since says it failed.
    expect(mine.find((e) => e.type === 'broadcast.completed')?.message).toMatch(
      /^Aviso desconocido: se envió a 3 contactos( \(1 sin confirmar\))?$/,
    );
    // Every receipt "unknown": not "failed, none went out", but completed with both unconfirmed.
    const allUnknown = await h.get(all.id);
    expect([allUnknown.status, allUnknown.error, allUnknown.failedByReason]).toEqual([
      'completed',
      null,
      { uncertain: 2 },
    ]);
    expect(events.filter((e) => e.broadcastId === all.id).map((e) => e.type)).not.toContain('broadcast.failed');
  });
});
