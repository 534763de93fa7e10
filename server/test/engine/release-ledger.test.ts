/**
 * A batch claimed and handed back unsent (a cancel or a pause mid-send) leaves nothing counted in the
 * channel's rolling 24 h quota: each recipient's quota-ledger entry goes back to what it was. Before,
 * up to a batch stayed counted for a day (on a 250-a-day number, a cancel could cost a good part of it).
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { harness, until, whatsappBroadcast, whatsappSimulator } from './harness';

const h = await harness();

it('a cancel mid-send leaves only what went out counted in the quota', async () => {
  const sim = await whatsappSimulator(h);
  sim.setDefault({ kind: 'accept' });
  const { id, channelId } = await whatsappBroadcast(h, sim, {
    tag: 'cancel cupo',
    count: 30,
    rate: 10,
    start: 882_000,
  });
  const patched = await h.server.request('PATCH', `/api/v1/channels/${channelId}`, {
    token: h.ws.tokens.manager,
    body: { limits: { dailyQuota: 1000 } },
  });
  expect(patched.status).toBe(200);
  // One contact had a template from this number an hour ago: counted before, and still after.
  const { db } = h.server.database;
  const earlier = Date.now() - 3_600_000;
  await db.run(sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at, last_any_at)
    VALUES (${channelId}, '+5491150882029', ${earlier}, ${earlier})`);
  await h.schedule(id);
  const running = h.engine().runUntilIdle();
  await until(async () => sim.requests.length >= 3, 10_000);
  const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${id}/cancel`, { token: h.ws.tokens.manager });
  expect(cancelled.status).toBe(200);
  await running;

  const sent = (await h.messages(id)).filter((m) => m.state === 'sent').map((m) => m.identifier);
  expect(sent.length).toBeGreaterThanOrEqual(3);
  expect(sent.length).toBeLessThan(29);
  const counted = await db.all<{ identifier: string; last_sent_at: number }>(
    sql`SELECT identifier, last_sent_at FROM quota_ledger WHERE channel_id = ${channelId} AND last_sent_at > 0 ORDER BY identifier`,
  );
  expect(counted.map((r) => r.identifier)).toEqual([...sent, '+5491150882029'].sort());
  expect(counted.find((r) => r.identifier === '+5491150882029')?.last_sent_at).toBe(earlier);
  expect((await h.get(id)).channelLimits.quotaUsed).toBe(sent.length + 1);
});
