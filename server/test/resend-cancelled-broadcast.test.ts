/**
 * A broadcast a manager cancelled while it was sending (a wrong price, the wrong audience) was stopped on
 * purpose: an agent's one click must not bring its message back to those it had failed for. A manager
 * may; and an agent still recovers a re-send they took back themselves (that one is not a cancelled
 * broadcast, but a re-send of one that finished).
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

const digits = (n: number) => `54911${50000000 + n}`;

describe('a broadcast a manager cancelled mid-send', () => {
  it("an agent's re-send of its failures is refused with why; a manager's goes to exactly them", async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'cancelled-orig', count: 6, rate: 5000, start: 1300 });
    // The first two fail with the marketing cap (a reason a re-send can help); the rest wait at a gate.
    sim.script(digits(1300), { kind: 'fail', code: '131049' });
    sim.script(digits(1301), { kind: 'fail', code: '131049' });
    const { engine, open } = gatedEngine(h, 2);
    await h.schedule(id);
    const running = engine.runUntilIdle();
    await until(async () => (await rowCounts(h, id)).some((r) => r.state === 'failed' && r.n === 2), 20_000, 10);
    const cancel = await h.server.request('POST', `/api/v1/broadcasts/${id}/cancel`, { token: h.ws.tokens.manager });
    expect(cancel.status, cancel.text).toBe(200);
    open();
    await running;
    await h.engine().runUntilIdle();
    expect((await h.get(id)).status).toBe('cancelled');

    for (const dryRun of [true, false]) {
      const refused = await h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
        token: h.ws.tokens.agent,
        body: { when: 'now', force: true, dryRun },
      });
      expect(refused.status, refused.text).toBe(403);
      expect(refused.body.error.code).toBe('resend_cancelled_broadcast');
      expect(refused.body.error.message).toBe(
        'Esta transmisión fue cancelada: reenviarla a los que fallaron lo decide un gerente (rol gerente o superior), como escribir una transmisión.',
      );
    }
    const before = sim.requests.length;
    const byManager = await h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
      token: h.ws.tokens.manager,
      body: { when: 'now', force: true },
    });
    expect(byManager.status, byManager.text).toBe(200);
    expect(byManager.body.recipients).toBe(2);
    await h.engine().runUntilIdle();
    expect(
      sim.requests
        .slice(before)
        .map((r) => r.recipient)
        .sort(),
    ).toEqual([digits(1300), digits(1301)]);
  });
});
