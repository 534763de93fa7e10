/**
 * Channel limits as the engine enforces them, shared through the database so that every engine
 * process sees the same numbers: the rolling 24 h unique-recipient quota, the send rate, the pair rate.
 */
import { DAY_MS } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';

type Runner = Pick<Database, 'get' | 'all' | 'run'>;

export { DAY_MS };

/**
 * The slowest pace the engine keeps, in messages a second (one every 100 s): the floor the API refuses
 * to go below. A smaller rate stored before that check (1e-300) is paced at this floor rather than
 * turned into waits of 1e303 ms that overflow every timer and slot.
 */
export const MIN_SEND_RATE = 0.01;

/** The rate the engine paces at: the stored one, never below MIN_SEND_RATE (NaN included). */
export function usableRate(ratePerSecond: number): number {
  return Number.isNaN(ratePerSecond) ? MIN_SEND_RATE : Math.max(ratePerSecond, MIN_SEND_RATE);
}

/** The longest a provider's Retry-After holds a message or a channel back; past it, normal backoff resumes. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** A provider's Retry-After as the engine honours it: within [0, MAX_RETRY_AFTER_MS], undefined when absent or not a number. */
export function cappedRetryAfter(ms: number | undefined): number | undefined {
  if (ms === undefined || Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * How far ahead a stored next slot can legitimately be: a throttle pushes it back at most
 * MAX_RETRY_AFTER_MS and claims reserve seconds of sending on top. A slot further ahead was written
 * under a rate that no longer holds (or an absurd one: 2e304) and counts as now, or a later sane
 * rate would be ignored for good.
 */
export const SLOT_HORIZON_MS = 60 * 60_000;

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
  const duration = (count * 1000) / usableRate(ratePerSecond);
  return sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${key}, ${now + duration})
    ON CONFLICT (key) DO UPDATE SET next_slot_at =
      (CASE WHEN next_slot_at > ${now + SLOT_HORIZON_MS} THEN ${now} ELSE max(next_slot_at, ${now}) END) + ${duration}
    RETURNING next_slot_at - ${duration} AS start`;
}

/** After the provider throttled us: nobody on this key sends before `until`. */
export async function pushBackSendSlots(db: Runner, key: string, until: number): Promise<void> {
  await db.run(sql`INSERT INTO send_slots (key, next_slot_at) VALUES (${key}, ${until})
    ON CONFLICT (key) DO UPDATE SET next_slot_at = CASE WHEN next_slot_at > ${until + SLOT_HORIZON_MS}
      THEN excluded.next_slot_at ELSE max(next_slot_at, excluded.next_slot_at) END`);
}

/**
 * Forgets a channel's reserved slots: called when its limits change, so that the next send is paced
 * by the new rate and not by reservations made under the old one. A throttle in force is lost with
 * them; the provider says so again at the next send if it still holds.
 */
export async function resetSendSlot(db: Runner, channelId: number): Promise<void> {
  await db.run(sql`DELETE FROM send_slots WHERE key = ${`channel:${channelId}`}`);
}

/**
 * Whose rolling 24 h quota a channel spends: its own, or its WhatsApp business portfolio's, shared by
 * every number of the portfolio (Meta's messaging limit since October 2025). The ledger stays per
 * channel (the pair rate is per number); a recipient counts once across the scope.
 */
export interface QuotaScope {
  limit: number | null;
  channelIds: number[];
  portfolioId: number | null;
  /** The portfolio's name, read with its limit (for what the API shows). */
  portfolioName?: string;
}

type ScopedChannel = { id: number; dailyQuota: number | null; portfolioId?: number | null };
type PortfolioRow = { id: number; quota: number | null; name: string; ids: string };

/**
 * A portfolio with its numbers, as quotaScope reads it: disconnected ones too. Disconnecting a number
 * in Rebound does not take it out of Meta's portfolio, whose limit still counts what it sent in the
 * last 24 h; once it has sent nothing for a day its ledger counts nothing here either.
 */
const portfolioColumns = sql`p.id AS id, p.daily_quota AS quota, p.name AS name,
  (SELECT json_group_array(c.id) FROM channels c WHERE c.portfolio_id = p.id) AS ids`;

function scopeOf(channel: ScopedChannel, portfolio: PortfolioRow | undefined): QuotaScope {
  if (channel.portfolioId == null || !portfolio)
    return { limit: channel.dailyQuota, channelIds: [channel.id], portfolioId: null };
  const ids = JSON.parse(portfolio.ids) as number[];
  if (!ids.includes(channel.id)) ids.push(channel.id);
  return { limit: portfolio.quota, channelIds: ids, portfolioId: channel.portfolioId, portfolioName: portfolio.name };
}

export async function quotaScope(db: Runner, channel: ScopedChannel): Promise<QuotaScope> {
  return (await quotaScopes(db, [channel])).get(channel.id) ?? scopeOf(channel, undefined);
}

/** quotaScope for several channels (a page of broadcasts): one statement, whatever their number. */
export async function quotaScopes(db: Runner, channels: ScopedChannel[]): Promise<Map<number, QuotaScope>> {
  const portfolioIds = [...new Set(channels.flatMap((c) => (c.portfolioId == null ? [] : [c.portfolioId])))];
  const portfolios = new Map(
    portfolioIds.length === 0
      ? []
      : (
          await db.all<PortfolioRow>(
            sql`SELECT ${portfolioColumns} FROM portfolios p WHERE p.id IN (SELECT value FROM json_each(${JSON.stringify(portfolioIds)}))`,
          )
        ).map((row) => [row.id, row]),
  );
  return new Map(
    channels.map((c) => [c.id, scopeOf(c, c.portfolioId == null ? undefined : portfolios.get(c.portfolioId))]),
  );
}

/** The scope's counted recipients: one row per identifier with its latest send in the window. */
function countedInScope(scope: QuotaScope, now: number) {
  if (scope.channelIds.length === 1)
    return sql`SELECT identifier, last_sent_at FROM quota_ledger
      WHERE channel_id = ${scope.channelIds[0]} AND last_sent_at > ${now - DAY_MS}`;
  return sql`SELECT identifier, max(last_sent_at) AS last_sent_at FROM quota_ledger
    WHERE channel_id IN (SELECT value FROM json_each(${JSON.stringify(scope.channelIds)})) AND last_sent_at > ${now - DAY_MS}
    GROUP BY identifier`;
}

/** SQL condition: `identifier` (an SQL expression) is already counted in the scope's window. */
export function countedInScopeSql(scope: QuotaScope, identifier: SQL, now: number): SQL {
  // One number (the usual case): an equality the ledger's key answers, per audience row.
  if (scope.channelIds.length === 1)
    return sql`EXISTS (SELECT 1 FROM quota_ledger q WHERE q.channel_id = ${scope.channelIds[0]}
      AND q.identifier = ${identifier} AND q.last_sent_at > ${now - DAY_MS})`;
  return sql`EXISTS (SELECT 1 FROM quota_ledger q WHERE q.channel_id IN (SELECT value FROM json_each(${JSON.stringify(scope.channelIds)}))
    AND q.identifier = ${identifier} AND q.last_sent_at > ${now - DAY_MS})`;
}

export interface QuotaUsage {
  limit: number | null;
  used: number;
  remaining: number | null;
  /**
   * When the next place frees: the oldest counted recipient leaves the rolling window, or, over the limit
   * (a tier lowered, numbers moved into a portfolio), enough of them to bring it one under (null when
   * nothing is counted).
   */
  capacityFreesAt: number | null;
}

function usageOf(scope: QuotaScope, row: { used: number; oldest: number | null } | undefined): QuotaUsage {
  const used = row?.used ?? 0;
  const limit = scope.limit;
  return {
    limit,
    used,
    remaining: limit === null ? null : Math.max(0, limit - used),
    capacityFreesAt: row?.oldest == null ? null : row.oldest + DAY_MS,
  };
}

export async function quotaUsage(db: Runner, scope: QuotaScope, now: number): Promise<QuotaUsage> {
  return (await quotaUsages(db, [scope], now))[0] as QuotaUsage;
}

/**
 * quotaUsage for several scopes (a page of broadcasts), in the same order: one statement per 100
 * scopes (SQLite joins at most 500 SELECTs), each part the very query quotaUsage runs.
 */
export async function quotaUsages(db: Runner, scopes: QuotaScope[], now: number): Promise<QuotaUsage[]> {
  const usages: QuotaUsage[] = [];
  for (let start = 0; start < scopes.length; start += 100) {
    const chunk = scopes.slice(start, start + 100);
    const rows = await db.all<{ k: number; used: number; oldest: number | null }>(
      sql.join(
        chunk.map(
          (scope, k) =>
            sql`SELECT ${k} AS k, count(*) AS used, min(last_sent_at) AS oldest FROM (${countedInScope(scope, now)})`,
        ),
        sql` UNION ALL `,
      ),
    );
    const byPart = new Map(rows.map((row) => [row.k, row]));
    for (const [k, scope] of chunk.entries()) {
      const usage = usageOf(scope, byPart.get(k));
      // Over the limit, the oldest leaving frees nothing: the place comes with the (used - limit + 1)-th.
      if (scope.limit !== null && usage.used > scope.limit)
        usage.capacityFreesAt = await kthAgesOutAt(db, scope, usage.used - scope.limit + 1, now);
      usages.push(usage);
    }
  }
  return usages;
}

/** When the k-th oldest counted recipient leaves the window (null when fewer than k are counted). */
async function kthAgesOutAt(db: Runner, scope: QuotaScope, k: number, now: number): Promise<number | null> {
  const row = await first<{ at: number }>(
    db,
    sql`SELECT last_sent_at AS at FROM (${countedInScope(scope, now)}) ORDER BY last_sent_at LIMIT 1 OFFSET ${k - 1}`,
  );
  return row ? row.at + DAY_MS : null;
}

/**
 * When the recipients that do not fit now can start, if what fits is sent now: the moment as many
 * counted recipients (the ones already counted, oldest first, then the ones sent now) have aged out
 * of the window as there are recipients left over (at most a full window's worth).
 */
export async function overflowFitsAt(
  db: Runner,
  scope: QuotaScope,
  usage: QuotaUsage,
  overflow: number,
  now: number,
): Promise<number> {
  if (scope.limit === null) return now;
  // Over the limit, as many more must age out as it is over before any place frees.
  const over = Math.max(0, usage.used - scope.limit);
  const k = Math.min(overflow, scope.limit) + over;
  // Not enough counted yet: the k-th to age out is one of those sent now.
  return (await kthAgesOutAt(db, scope, k, now)) ?? now + DAY_MS;
}

/**
 * When `needed` new recipients fit in the rolling window: now if they fit already, otherwise when
 * enough of the counted recipients have aged out. Null when they can never fit (more than the limit).
 */
export async function capacityAvailableAt(
  db: Runner,
  scope: QuotaScope,
  needed: number,
  now: number,
): Promise<number | null> {
  if (scope.limit === null || needed <= 0) return now;
  if (needed > scope.limit) return null;
  // Counted from what is used, not what remains: over the limit, remaining says 0 and hides how far over.
  const missing = (await quotaUsage(db, scope, now)).used + needed - scope.limit;
  if (missing <= 0) return now;
  return (await kthAgesOutAt(db, scope, missing, now)) ?? now;
}
