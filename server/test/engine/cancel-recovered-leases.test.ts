/**
 * A cancel cancels who is queued at that moment. Recipients a dead process had claimed (sending, never
 * dispatched) come back when its lease runs out: with their broadcast cancelled, nobody would ever send
 * that queue, and the cancelled broadcast showed "queued" recipients forever.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { harness } from './harness';

const h = await harness();

it('recipients a dead process claimed and never sent are cancelled with their broadcast, not queued forever', async () => {
  // A process claimed 3 recipients and died before sending them; meanwhile a manager cancelled the broadcast.
  await h.seedContacts(6, 'lease-cancel', { start: 100 });
  const channel = await h.channel({ type: 'sandbox', name: 'Cancelada', credentials: {} });
  const b = await h.broadcast({
    name: 'Lease cancel',
    channelId: channel.id,
    segmentId: (await h.segment('Lease cancel', 'lease-cancel')).id,
    content: { text: 'Hola' },
  });
  await h.schedule(b.id);
  const { db } = h.server.database;
  await h.engine().startBroadcast(b.id);
  await db.run(sql`UPDATE messages SET state = 'sending', lease_owner = 'dead:1', lease_until = ${Date.now() + 60_000},
      attempts = 1 WHERE id IN (SELECT id FROM messages WHERE broadcast_id = ${b.id} ORDER BY id LIMIT 3)`);
  const cancel = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/cancel`, { token: h.ws.tokens.manager });
  expect(cancel.status, cancel.text).toBe(200);
  // The dead process's lease runs out; recovery must not hand its recipients back to a queue nobody sends.
  await db.run(
    sql`UPDATE messages SET lease_until = ${Date.now() - 1} WHERE broadcast_id = ${b.id} AND state = 'sending'`,
  );
  await h.engine().runUntilIdle();
  const rows = await db.all<{ state: string; n: number }>(
    sql`SELECT state, count(*) AS n FROM messages WHERE broadcast_id = ${b.id} GROUP BY state`,
  );
  expect(rows).toEqual([{ state: 'cancelled', n: 6 }]);
  const detail = await h.get(b.id);
  expect(detail.status).toBe('cancelled');
  expect(detail.counts.queued ?? 0).toBe(0);
  expect(detail.counts.cancelled).toBe(6);
});
