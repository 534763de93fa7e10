/** Delivery receipts end to end through the engine and the webhook routes: Vonage and MessageBird (S10 for SMS). */
import { startMessageBirdSimulator, startVonageSimulator } from '@rebound/simulators';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness } from './harness';

let h: Harness;
const VONAGE = { apiKey: 'vk', apiSecret: 'vs', from: 'Rebound', signatureSecret: 'vonage-signature-secret' };
const BIRD = { accessKey: 'bird-access-key', originator: 'Rebound', signingKey: 'bird-signing-key' };

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
    const sim = await startVonageSimulator({
      apiKey: VONAGE.apiKey,
      apiSecret: VONAGE.apiSecret,
      signatureSecret: VONAGE.signatureSecret,
    });
    h.simulators.push(sim);
    const channel = await h.channel({
      type: 'vonage_sms',
      name: 'Vonage',
      credentials: VONAGE,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 100 },
    });
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

  it('MessageBird: the signed status report (GET) settles the message', async () => {
    const sim = await startMessageBirdSimulator({ accessKey: BIRD.accessKey, signingKey: BIRD.signingKey });
    h.simulators.push(sim);
    const channel = await h.channel({
      type: 'messagebird_sms',
      name: 'Bird',
      credentials: BIRD,
      baseUrl: sim.baseUrl,
      limits: { messagesPerSecond: 100 },
    });
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
});
