/**
 * A send that waited for its slot past its claim's lease (lease recovery took it for unconfirmed), then
 * answered "throttled, not processed": the provider said it did not take it, so it is queued again and
 * sent, not left unconfirmed for good.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { broadcasts, channels } from '../../src/db/schema';
import { writeOutcomes } from '../../src/engine/outcomes';
import { harness, until, whatsappBroadcast, whatsappSimulator } from './harness';

const h = await harness();

describe('a throttle answered after the lease ran out', () => {
  it('leaves no recipient unconfirmed: the throttled one goes out after its wait', async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'espera larga', count: 10, rate: 4, start: 880_500 });
    // At 4 a second the last of the ten waits 2.25 s for its slot, past its 0.5 s lease; then the provider
    // answers it 429 (not processed, come back in 1 s).
    sim.script('5491150880509', { kind: 'throttle', retryAfterSeconds: 1, times: 1 });
    await h.schedule(id);
    // As a server runs it: lease recovery ticks beside the sending.
    const engine = h.engine({ leaseMs: 500 });
    engine.start();
    await until(async () => ['completed', 'partially_failed', 'failed'].includes((await h.get(id)).status), 20_000);
    await engine.stop();
    const states = (await h.messages(id)).map((m) => m.state);
    expect(states).toEqual(Array(10).fill('sent'));
    // Each recipient got the message once; the throttled one was sent again after its wait.
    const to = sim.requests.map((r) => r.recipient);
    expect(to.filter((r) => r === '5491150880509')).toHaveLength(2);
    expect(new Set(to).size).toBe(10);
  }, 30_000);

  it('answered after its broadcast settled: left unconfirmed for a re-send, never queued where nothing sends it', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox asentada' });
    await h.seedContacts(1, 'asentada', { start: 880_600 });
    const segment = await h.segment('Asentada', 'asentada');
    const b = await h.broadcast({
      name: 'Asentada',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    const db = h.server.database.db;
    // As lease recovery leaves a send that waited past its lease; the broadcast was settled meanwhile.
    await db.run(sql`UPDATE messages SET state = 'uncertain', reason = 'uncertain', lease_owner = NULL,
      lease_until = NULL, provider_message_id = NULL WHERE broadcast_id = ${b.id}`);
    const [row] = await db.select().from(broadcasts).where(eq(broadcasts.id, b.id));
    const [channelRow] = await db.select().from(channels).where(eq(channels.id, channel.id));
    const [message] = await h.messages(b.id);
    const writer = {
      db,
      clock: Date.now,
      maxAttempts: 5,
      durably: <T>(w: () => Promise<T>) => w(),
      sent: () => {},
      halt: () => {},
    };
    const item = {
      id: message?.id ?? 0,
      identifier: message?.identifier ?? '',
      attempts: 1,
      useTemplate: false,
      lease: 'w:1',
    };
    const throttled = { kind: 'retry', providerCode: '429', providerMessage: 'throttled', retryAfterMs: 1000 } as const;
    if (!row || !channelRow) throw new Error('seed');
    await writeOutcomes(writer, row, channelRow, [{ item, outcome: throttled }]);
    expect((await h.messages(b.id)).map((m) => m.state)).toEqual(['uncertain']);
    expect((await h.get(b.id)).status).toBe('completed');
  });

  it("an unpaced broadcast cancelled while its sends wait out a provider's Retry-After sends none of them after", async () => {
    const sim = await whatsappSimulator(h);
    // No real rate limit (10,000/s): batches of 1,024 go as claimed; the third waits for the throttle.
    const { id } = await whatsappBroadcast(h, sim, { tag: 'sin ritmo', count: 3000, rate: 10_000, start: 881_000 });
    sim.script('5491150881000', { kind: 'throttle', retryAfterSeconds: 3, times: 1 });
    await h.schedule(id);
    const running = h.engine().runUntilIdle();
    // The first two batches went out; the third waits for the provider's 3 s.
    await until(async () => sim.requests.length >= 2048, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const atCancel = sim.requests.length;
    expect(atCancel).toBeLessThan(3000);
    const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${id}/cancel`, { token: h.ws.tokens.manager });
    expect(cancelled.status, cancelled.text).toBe(200);
    await running;
    expect(sim.requests.length).toBe(atCancel);
    const states = new Set((await h.messages(id)).map((m) => m.state));
    expect(states.has('queued') || states.has('sending')).toBe(false);
  }, 60_000);
});
