/**
 * A lease is one claim's, not one process's: when recipients this process claimed ran past their lease
 * and went back to the queue, and this same process claimed them again, only the newer claim may send
 * them. With the worker's name as the lease, both claims passed the "still mine" check and some
 * recipients got the message twice (seen as 20,036 requests for 20,000 in the two-process test).
 */
import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { broadcasts, channels } from '../../src/db/schema';
import { Pacer } from '../../src/engine/pacing';
import { harness } from './harness';

const h = await harness();

it('recipients claimed again by the same process go out from the newer claim only', async () => {
  await h.seedContacts(5, 'lease');
  const channel = await h.channel({
    type: 'sandbox',
    name: 'Lento',
    credentials: {},
    limits: { messagesPerSecond: 1 },
  });
  const b = await h.broadcast({
    name: 'Lease',
    channelId: channel.id,
    segmentId: (await h.segment('Lease', 'lease')).id,
    content: { text: 'Hola' },
  });
  await h.schedule(b.id);
  const engine = h.engine({ workerId: 'solo', leaseMs: 60_000 });
  await engine.startBroadcast(b.id);
  // biome-ignore lint/suspicious/noExplicitAny: the claim and the dispatched mark are the engine's own steps
  const steps = engine as any;
  const [broadcast] = await h.server.database.db.all(sql`SELECT * FROM broadcasts WHERE id = ${b.id}`);
  const [channelRow] = await h.server.database.db.all(sql`SELECT * FROM channels WHERE id = ${channel.id}`);
  const row = (r: unknown) => {
    const o = r as Record<string, unknown>;
    return {
      ...o,
      sendRate: o.send_rate ?? null,
      messagesPerSecond: o.messages_per_second,
      type: o.type,
      updatedAt: new Date(Number(o.updated_at)),
    };
  };
  const older = await steps.claimBatch(row(broadcast), row(channelRow));
  expect(older.items.length).toBeGreaterThan(0);
  // The lease runs out before the older claim's turn; recovery puts them back; this process claims again.
  await h.server.database.db.run(sql`UPDATE messages SET lease_until = 0 WHERE broadcast_id = ${b.id}`);
  await engine.recoverExpiredLeases();
  const newer = await steps.claimBatch(row(broadcast), row(channelRow));
  expect(newer.items.map((i: { id: number }) => i.id)).toEqual(older.items.map((i: { id: number }) => i.id));
  // The older claim's dispatched mark finds nothing of its own; the newer one's finds them all.
  const db = h.server.database.db;
  const pacer = new Pacer(db, Date.now, (write) => write());
  const [broadcastRow] = await db.select().from(broadcasts).where(eq(broadcasts.id, b.id));
  const [channelRow2] = await db.select().from(channels).where(eq(channels.id, channel.id));
  if (!broadcastRow || !channelRow2) throw new Error('broadcast or channel missing');
  const stale = await pacer.markDispatched(broadcastRow, channelRow2, older.items);
  expect(stale.mine.size).toBe(0);
  const fresh = await pacer.markDispatched(broadcastRow, channelRow2, newer.items);
  expect(fresh.mine.size).toBe(newer.items.length);
});
