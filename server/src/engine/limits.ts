/**
 * Channel limits as the engine enforces them, shared through the database so that every engine
 * process sees the same numbers: the rolling 24 h unique-recipient quota, the send rate, the pair rate.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';

type Runner = Pick<Database, 'get' | 'all' | 'run'>;

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reserves `count` consecutive send slots at `ratePerSecond` on a shared key and returns when the
 * first may go out; slot k is at start + k / rate. One statement, so concurrent processes never
 * hand out the same slot (a GCRA: no window of one second ever holds more than rate + 1 sends).
 */
export async function acquireSendSlots(
  db: Runner,
  key: string,
  ratePerSecond: number,
  count: number,
  now: number,
): Promise<number> {
  const [row] = await db.all<{ start: number }>(sendSlotsQuery(key, ratePerSecond, count, now));
  return row?.start ?? now;
}

/** The one statement behind acquireSendSlots, for callers that batch it with other writes. */
export function sendSlotsQuery(key: string, ratePerSecond: number, count: number, now: number) {
  const duration = (count * 1000) / ratePerSecond;
  return sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${key}, ${now + duration})
    ON CONFLICT (key) DO UPDATE SET next_slot_at = max(next_slot_at, ${now}) + ${duration}
    RETURNING next_slot_at - ${duration} AS start`;
}

/** After the provider throttled us: nobody on this key sends before `until`. */
export async function pushBackSendSlots(db: Runner, key: string, until: number): Promise<void> {
  await db.run(sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${key}, ${until})
    ON CONFLICT (key) DO UPDATE SET next_slot_at = max(next_slot_at, excluded.next_slot_at)`);
}

export interface QuotaUsage {
  limit: number | null;
  used: number;
  remaining: number | null;
  /** When the oldest counted recipient leaves the rolling window (null when nothing is counted). */
  capacityFreesAt: number | null;
}

export async function quotaUsage(
  db: Runner,
  channelId: number,
  limit: number | null,
  now: number,
): Promise<QuotaUsage> {
  const row = await db.get<{
    used: number;
    oldest: number | null;
  }>(sql`SELECT count(*) AS used, min(last_sent_at) AS oldest
    FROM quota_ledger WHERE channel_id = ${channelId} AND last_sent_at > ${now - DAY_MS}`);
  const used = row?.used ?? 0;
  return {
    limit,
    used,
    remaining: limit === null ? null : Math.max(0, limit - used),
    capacityFreesAt: row?.oldest == null ? null : row.oldest + DAY_MS,
  };
}

/**
 * When the recipients that do not fit now can start, if what fits is sent now: the moment as many
 * counted recipients (the ones already counted, oldest first, then the ones sent now) have aged out
 * of the window as there are recipients left over (at most a full window's worth).
 */
export async function overflowFitsAt(
  db: Runner,
  channelId: number,
  limit: number,
  overflow: number,
  now: number,
): Promise<number> {
  const k = Math.min(overflow, limit);
  const row = await first<{ at: number }>(
    db,
    sql`SELECT last_sent_at AS at FROM quota_ledger
    WHERE channel_id = ${channelId} AND last_sent_at > ${now - DAY_MS}
    ORDER BY last_sent_at LIMIT 1 OFFSET ${k - 1}`,
  );
  // Not enough counted yet: the k-th to age out is one of those sent now.
  return (row?.at ?? now) + DAY_MS;
}

/**
 * When `needed` new recipients fit in the rolling window: now if they fit already, otherwise when
 * enough of the counted recipients have aged out. Null when they can never fit (more than the limit).
 */
export async function capacityAvailableAt(
  db: Runner,
  channelId: number,
  limit: number | null,
  needed: number,
  now: number,
): Promise<number | null> {
  if (limit === null || needed <= 0) return now;
  if (needed > limit) return null;
  const usage = await quotaUsage(db, channelId, limit, now);
  const missing = needed - (usage.remaining ?? 0);
  if (missing <= 0) return now;
  const row = await first<{ at: number }>(
    db,
    sql`SELECT last_sent_at AS at FROM quota_ledger
    WHERE channel_id = ${channelId} AND last_sent_at > ${now - DAY_MS}
    ORDER BY last_sent_at LIMIT 1 OFFSET ${missing - 1}`,
  );
  return row ? row.at + DAY_MS : now;
}
