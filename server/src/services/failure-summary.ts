/**
 * The failed-message log's summary: counts by reason and by channel, and how many a re-send can help
 * now, later or never; from the kept counts where the filters allow, else one pass over the failures.
 */
import { FAILURE_REASONS, type FailureFilters, type FailureReason, failureReasons } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readRows } from '../db/fast-read';
import { failureConditions, type ResolvedFilters, resolveFilters } from './failure-query';

/** Counts by reason and by channel, and how many a re-send can help now, later or never. */
export async function failureSummary(db: Database, workspaceId: number, filters: FailureFilters) {
  const groups = countedByFilters(filters)
    ? await countedGroups(db, workspaceId, filters)
    : await scannedGroups(db, workspaceId, await resolveFilters(db, workspaceId, filters));
  return foldSummary(db, groups);
}

/**
 * Filters the kept counts can answer: by broadcast, channel and reason (not time, text, contact or
 * kind). Any other summary counts every matching failure: a scan, which the route runs on a heavy thread.
 */
export function countedByFilters(filters: FailureFilters): boolean {
  return (
    filters.from === undefined &&
    filters.to === undefined &&
    filters.q === undefined &&
    filters.contactId === undefined &&
    filters.subtype === undefined
  );
}

interface FailureGroup {
  channel_id: number;
  reason: string | null;
  n: number;
}

/** From failure_counts, which triggers on messages keep exact: a few rows, whatever the log's size. */
function countedGroups(db: Database, workspaceId: number, filters: FailureFilters): Promise<FailureGroup[]> {
  const parts: SQL[] = [sql`workspace_id = ${workspaceId}`];
  if (filters.broadcastId?.length) parts.push(sql`broadcast_id IN ${filters.broadcastId}`);
  if (filters.channelId !== undefined) parts.push(sql`channel_id = ${filters.channelId}`);
  if (filters.reason) parts.push(sql`reason = ${filters.reason}`);
  return readRows<FailureGroup>(
    db,
    sql`SELECT channel_id, nullif(reason, '') AS reason, sum(n) AS n FROM failure_counts
    WHERE ${sql.join(parts, sql` AND `)} GROUP BY channel_id, reason HAVING sum(n) > 0`,
  );
}

function scannedGroups(db: Database, workspaceId: number, filters: ResolvedFilters): Promise<FailureGroup[]> {
  const needsContacts = filters.q !== undefined;
  // For a few broadcasts, walking their failures beats the planner's pick of scanning them all.
  const messages = filters.broadcastId?.length
    ? sql`messages m INDEXED BY messages_failed_broadcast_idx`
    : sql`messages m`;
  const from = needsContacts ? sql`${messages} LEFT JOIN contacts ct ON ct.id = m.contact_id` : messages;
  // One pass over the matching failures, folded by reason and by channel in foldSummary.
  // An unconfirmed row without a reason (written before reasons were kept for them) counts as uncertain.
  return readRows<FailureGroup>(
    db,
    sql`SELECT m.channel_id,
      coalesce(m.reason, CASE WHEN m.state = 'uncertain' THEN 'uncertain' END) AS reason,
      count(*) AS n FROM ${from} WHERE ${failureConditions(workspaceId, filters)} GROUP BY 1, 2`,
  );
}

async function foldSummary(db: Database, groups: FailureGroup[]) {
  const channelIds = [...new Set(groups.map((g) => g.channel_id))];
  const channelRows = channelIds.length
    ? await readRows<{ id: number; name: string; type: string }>(
        db,
        sql`SELECT id, name, type FROM channels WHERE id IN ${channelIds}`,
      )
    : [];
  const perChannel = new Map<number, number>();
  for (const g of groups) perChannel.set(g.channel_id, (perChannel.get(g.channel_id) ?? 0) + g.n);
  const byChannel = channelRows
    .map((c) => ({ channel_id: c.id, name: c.name, type: c.type, n: perChannel.get(c.id) ?? 0 }))
    .sort((a, b) => b.n - a.n);
  const byReason = groups;
  const reasons: Record<string, number> = {};
  const retryable = { now: 0, later: 0, never: 0 };
  let total = 0;
  let unconfirmed = 0;
  for (const { reason, n } of byReason) {
    const code =
      reason && (FAILURE_REASONS as readonly string[]).includes(reason) ? (reason as FailureReason) : 'provider_error';
    reasons[code] = (reasons[code] ?? 0) + n;
    retryable[failureReasons[code].resend] += n;
    total += n;
    // Reason uncertain is exactly the unconfirmed kind (subtypeOf), so the kept counts can tell it too.
    if (code === 'uncertain') unconfirmed += n;
  }
  return {
    total,
    byReason: reasons,
    byChannel: byChannel.map((c) => ({ channelId: c.channel_id, name: c.name, type: c.type, count: c.n })),
    retryable,
    unconfirmed,
  };
}
