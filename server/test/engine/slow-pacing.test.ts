/**
 * A slow channel (Twilio's long code sends 1 a second) and a broadcast slower than its channel, with the
 * engine running as in production (lease recovery beside the sends):
 * - the engine never reserves sends further ahead than their lease: a recipient claimed and left waiting
 *   for its slot past the lease was taken for unconfirmed, then sent anyway;
 * - a broadcast slower than its channel keeps the channel's rate with the others sending on it.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { harness, until, WA, whatsappBroadcast, whatsappSimulator } from './harness';

const h = await harness();

it('a paced broadcast never lets its recipients wait past their lease: none is taken for unconfirmed', async () => {
  const sim = await whatsappSimulator(h);
  sim.setDefault({ kind: 'accept' });
  // 40 recipients at 10 a second with 64 sends in hand: slots up to 6.4 s ahead, against a lease of 2 s.
  const { id } = await whatsappBroadcast(h, sim, { tag: 'lento', count: 40, rate: 10, start: 883_000 });
  const engine = h.engine({ leaseMs: 2_000, pollIntervalMs: 20 });
  await h.schedule(id);
  engine.start();
  await until(async () => (await h.get(id)).status === 'completed', 30_000);
  await engine.stop();
  const [row] = await h.server.database.db.all<{ unconfirmed_at: number | null }>(
    sql`SELECT unconfirmed_at FROM broadcasts WHERE id = ${id}`,
  );
  // Never unconfirmed on the way (the mark never moves back), and each sent once.
  expect(row?.unconfirmed_at).toBeNull();
  expect(sim.requests).toHaveLength(40);
}, 60_000);

it("a broadcast slower than its channel keeps the channel's rate with another one sending on it", async () => {
  const sim = await whatsappSimulator(h);
  sim.setDefault({ kind: 'accept' });
  const channel = await h.channel({
    type: 'whatsapp',
    name: 'WA compartido',
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: null, messagesPerSecond: 10, pairRatePerRecipientSeconds: null },
  });
  await h.seedContacts(30, 'a medio ritmo', { start: 884_000 });
  await h.seedContacts(30, 'a todo ritmo', { start: 885_000 });
  const content = { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } };
  // A at 5 a second (half its channel's 10), B at the channel's rate, at the same time.
  const slower = await h.broadcast({
    name: 'A medio ritmo',
    channelId: channel.id,
    segmentId: (await h.segment('a medio ritmo', 'a medio ritmo')).id,
    content,
    sendRate: 5,
  });
  const full = await h.broadcast({
    name: 'A todo ritmo',
    channelId: channel.id,
    segmentId: (await h.segment('a todo ritmo', 'a todo ritmo')).id,
    content,
  });
  await h.schedule(slower.id);
  await h.schedule(full.id);
  await h.engine().runUntilIdle();
  const times = sim.requests.map((r) => r.at).sort((x, y) => x - y);
  expect(times).toHaveLength(60);
  // The channel's promise (rate + 1 in any second): any 12 consecutive sends span at least a second.
  for (let i = 0; i + 11 < times.length; i++)
    expect((times[i + 11] as number) - (times[i] as number), `sends ${i} to ${i + 11}`).toBeGreaterThanOrEqual(980);
}, 60_000);
