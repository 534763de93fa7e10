/**
 * A send that waited for its slot past its claim's lease (lease recovery took it for unconfirmed), then
 * answered "throttled, not processed": the provider said it did not take it, so it is queued again and
 * sent, not left unconfirmed for good.
 */
import { describe, expect, it } from 'vitest';
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
});
