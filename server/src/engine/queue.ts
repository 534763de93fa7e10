/**
 * The engine's queue statements: which broadcasts are due or sending, whether work is left, leases
 * that ran out, and recipients handed back unsent. The orchestration (engine.ts, lane.ts) holds no SQL.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { broadcasts, channels } from '../db/schema';
import type { Claimed } from './batch';

/** Scheduled broadcasts whose time has come, the earliest first. */
export function dueBroadcasts(db: Database, now: number): Promise<{ id: number }[]> {
  return db
    .select({ id: broadcasts.id })
    .from(broadcasts)
    .where(and(eq(broadcasts.status, 'scheduled'), sql`${broadcasts.scheduledAt} <= ${now}`))
    .orderBy(broadcasts.scheduledAt);
}

export function sendingBroadcasts(db: Database): Promise<{ id: number }[]> {
  return db.select({ id: broadcasts.id }).from(broadcasts).where(eq(broadcasts.status, 'sending'));
}

/** A broadcast and its channel, as a lane sends them. */
export async function broadcastWithChannel(db: Database, broadcastId: number) {
  const [broadcast] = await db.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
  const [channel] = broadcast ? await db.select().from(channels).where(eq(channels.id, broadcast.channelId)) : [];
  return { broadcast, channel };
}

export async function broadcastStatus(db: Queryable, broadcastId: number): Promise<string | undefined> {
  return (await first<{ status: string }>(db, sql`SELECT status FROM broadcasts WHERE id = ${broadcastId}`))?.status;
}

/**
 * Work left: how many things are due now (broadcasts to start, recoveries to plan, recipients being
 * sent or due), and when the next deferred recipient of a sending broadcast is due.
 */
export async function workLeft(db: Database, now: number): Promise<{ dueNow: number; nextAt: number | null }> {
  const busy = await db.get<{ n: number }>(sql`SELECT
      (SELECT count(*) FROM broadcasts WHERE status = 'scheduled' AND scheduled_at <= ${now})
    + (SELECT count(*) FROM broadcasts WHERE recovery_due_at <= ${now})
    + (SELECT count(*) FROM messages m JOIN broadcasts b ON b.id = m.broadcast_id
       WHERE b.status = 'sending' AND (m.state = 'sending' OR (m.state = 'queued' AND m.next_attempt_at <= ${now}))) AS n`);
  const waiting = await db.get<{ at: number | null }>(sql`SELECT min(m.next_attempt_at) AS at FROM messages m
    JOIN broadcasts b ON b.id = m.broadcast_id WHERE b.status = 'sending' AND m.state = 'queued'`);
  return { dueNow: busy?.n ?? 0, nextAt: waiting?.at ?? null };
}

/**
 * Whether any lease ran out. Asked first with a read: an UPDATE takes the write lock even when it
 * matches nothing, and on a shared file every process's tick would queue behind the others' sends
 * for it (the driver waits for that lock synchronously, event loop and all).
 */
export async function anyLeaseExpired(db: Database, now: number): Promise<boolean> {
  return (
    (await first<{ one: number }>(
      db,
      sql`SELECT 1 AS one FROM messages WHERE state = 'sending' AND lease_until < ${now} LIMIT 1`,
    )) !== undefined
  );
}

/**
 * What an undispatched recipient goes back to: the queue, or, its broadcast cancelled meanwhile (a status
 * the sender may not have read yet), cancelled: nobody sends a cancelled broadcast's queue.
 */
export const QUEUED_UNLESS_CANCELLED = sql`CASE WHEN (SELECT status FROM broadcasts WHERE id = messages.broadcast_id)
  = 'cancelled' THEN 'cancelled' ELSE 'queued' END`;

/**
 * Leases that ran out: undispatched recipients go back to the queue; dispatched ones become uncertain.
 * Returns the broadcasts whose re-sends, cancelled meanwhile, had some of theirs cancelled here: never
 * sent, they are free again, and those broadcasts need an agent for them (the caller rechecks them).
 */
export async function recoverLeases(db: Database, now: number): Promise<number[]> {
  // Never sent, so back to the queue; unless its broadcast was cancelled meanwhile, whose queue nobody
  // sends any more (the cancel only cancelled who was queued at that moment).
  // The broadcasts whose rows this very update cancelled (a cancel between a read and this update would
  // be missed by a read before it).
  const cancelled = await db.all<{ id: number }>(sql`UPDATE messages SET
    state = CASE WHEN dispatched_at IS NOT NULL THEN 'uncertain'
      ELSE ${QUEUED_UNLESS_CANCELLED} END,
    reason = CASE WHEN dispatched_at IS NULL THEN reason ELSE 'uncertain' END,
    provider_message = CASE WHEN dispatched_at IS NULL THEN provider_message ELSE NULL END,
    failed_at = CASE WHEN dispatched_at IS NULL THEN failed_at ELSE ${now} END,
    lease_owner = NULL, lease_until = NULL, updated_at = ${now}
  WHERE state = 'sending' AND lease_until < ${now} RETURNING CASE WHEN state = 'cancelled' THEN broadcast_id END AS id`);
  const ids = [...new Set(cancelled.flatMap((r) => (r.id === null ? [] : [Number(r.id)])))];
  if (ids.length === 0) return [];
  const originals = await db.all<{ id: number }>(sql`SELECT DISTINCT resend_of_id AS id FROM broadcasts
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND resend_of_id IS NOT NULL`);
  return originals.map((r) => Number(r.id));
}

/**
 * Hands claimed, undispatched recipients back to the queue (or cancels them with their broadcast):
 * a batch this process claimed and never handed to the adapter. Its "dispatched" mark (set at claim
 * on unpaced channels) is lifted too: this process knows none of it went out, so it is not uncertain.
 */
export async function releaseUnsent(db: Database, items: Claimed[], cancelled: boolean): Promise<void> {
  // The claim's quota-ledger entries go back to what they were: nothing went out. Only entries no later
  // send moved since (still the claim's time).
  const undo = items.flatMap(({ identifier, ledgerBefore: l }) =>
    l ? [[identifier, l.channelId, l.at, l.sentAt, l.anyAt]] : [],
  );
  await db.transaction(async (tx) => {
    await tx.run(sql`UPDATE messages SET state = ${cancelled ? 'cancelled' : QUEUED_UNLESS_CANCELLED}, lease_owner = NULL,
        lease_until = NULL, dispatched_at = NULL, attempts = attempts - 1
      WHERE id IN ${items.map((i) => i.id)} AND state = 'sending' AND lease_owner IN ${[...new Set(items.map((i) => i.lease))]}`);
    if (undo.length === 0) return;
    await tx.run(sql`UPDATE quota_ledger SET
        last_sent_at = CASE WHEN last_sent_at = u.at THEN u.sent ELSE last_sent_at END,
        last_any_at = CASE WHEN last_any_at = u.at THEN u.prev_any ELSE last_any_at END
      FROM (SELECT value ->> 0 AS identifier, value ->> 1 AS channel_id, value ->> 2 AS at, value ->> 3 AS sent,
              value ->> 4 AS prev_any FROM json_each(${JSON.stringify(undo)})) AS u
      WHERE quota_ledger.channel_id = u.channel_id AND quota_ledger.identifier = u.identifier`);
  });
}
