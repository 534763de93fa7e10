/**
 * A daily cap the provider reported after the send (MessageBird's 106, the US T-Mobile cap per brand:
 * "resets the next day"), on an SMS channel whose quota Rebound does not count: the failed log says
 * when a re-send can help, and the one-click re-send waits for it rather than going into the same wall.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, messageBirdChannel } from './harness';

let h: Harness;
const DAY = 86_400_000;

beforeAll(async () => {
  h = await harness();
});

describe("a provider's daily cap, reported late", () => {
  it('the log gives the day after the failure, the one-click re-send is planned for then, "now" is refused', async () => {
    const { sim, channel } = await messageBirdChannel(h, 'Bird con tope');
    await h.seedContacts(2, 'tope diario', { start: 81_000 });
    sim.script('5491150081000', { kind: 'failLater', code: 'dlr:106', delayMs: 30 });
    sim.script('5491150081001', { kind: 'deliverLater', delayMs: 30 });
    const segment = await h.segment('tope diario', 'tope diario');
    const b = await h.broadcast({
      name: 'Tope',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    await sim.settle();
    expect((await h.get(b.id)).failedByReason).toEqual({ quota_reached: 1 });

    const agent = { token: h.ws.tokens.agent, language: 'es' as const };
    const log = await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${b.id}`, agent);
    const [row] = log.body.data;
    expect(row.reason.code).toBe('quota_reached');
    const failedAt = Date.parse(row.failedAt);
    expect(Date.parse(row.retryAfter)).toBe(failedAt + DAY);

    // The default (one-click) re-send: one part, a day after the failure, never "now".
    const plan = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      ...agent,
      body: { dryRun: true },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.plan).toHaveLength(1);
    expect(plan.body.plan[0]).toMatchObject({ count: 1, byReason: { quota_reached: 1 } });
    expect(Date.parse(plan.body.plan[0].at)).toBeGreaterThanOrEqual(failedAt + DAY);
    expect(Date.parse(plan.body.plan[0].at)).toBeLessThan(failedAt + DAY + 120_000);

    const now = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      ...agent,
      body: { when: 'now' },
    });
    expect(now.status).toBe(409);
    expect(now.body.error.code).toBe('resend_too_early');
    expect(now.body.error.message).toContain('límite diario');
    expect(Date.parse(now.body.error.details[0].usefulFrom)).toBe(failedAt + DAY);
  });
});
