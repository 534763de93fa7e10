/**
 * The failed-message log's summary: counts by reason and by channel, and how many a re-send can help
 * now, later or never; from the kept counts where the filters allow, else one pass over the failures.
 */
import { FAILURE_REASONS, type FailureFilters, type FailureReason, failureReasons } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readColumn, readRows } from '../db/fast-read';
import {
  failureConditions,
  olderThan,
  type ResolvedFilters,
  resolveFilters,
  SEARCHED_COLUMNS,
  type SearchedText,
  textMatcher,
  textPrefilter,
} from './failure-query';

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

/** An unconfirmed row without a reason (written before reasons were kept for them) counts as uncertain. */
const REASON = sql`coalesce(m.reason, CASE WHEN m.state = 'uncertain' THEN 'uncertain' END)`;
/** Failures a text search's summary reads at a time, newest first: its memory stays this size. */
const SEARCH_CHUNK = 20_000;

function scannedGroups(db: Database, workspaceId: number, filters: ResolvedFilters): Promise<FailureGroup[]> {
  if (filters.q !== undefined) return searchedGroups(db, workspaceId, filters, filters.q);
  // For a few broadcasts, walking their failures beats the planner's pick of scanning them all.
  const messages = filters.broadcastId?.length
    ? sql`messages m INDEXED BY messages_failed_broadcast_idx`
    : sql`messages m`;
  // One pass over the matching failures, folded by reason and by channel in foldSummary.
  return readRows<FailureGroup>(
    db,
    sql`SELECT m.channel_id, ${REASON} AS reason, count(*) AS n FROM ${messages}
      WHERE ${failureConditions(workspaceId, filters)} GROUP BY 1, 2`,
  );
}

/**
 * A text search's counts: every failure by the other filters read a chunk at a time, newest first, its
 * text checked here (textMatcher, linear in the text, where SQL's GLOB was not), counted by channel and reason.
 */
async function searchedGroups(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  q: string,
): Promise<FailureGroup[]> {
  const matches = textMatcher(q);
  const prefilter = textPrefilter(q);
  const counts = new Map<string, FailureGroup>();
  // Several broadcasts one by one, each through its own index in failure order: together, SQLite sorts
  // all their failures again for every chunk. A failure is one broadcast's: the counts add up.
  const broadcasts = filters.broadcastId ?? [];
  for (const broadcastId of broadcasts.length > 1 ? broadcasts : [undefined]) {
    const one = broadcastId === undefined ? filters : { ...filters, broadcastId: [broadcastId] };
    await countMatches(db, workspaceId, one, { prefilter, matches }, counts);
  }
  return [...counts.values()];
}

/** searchedGroups for one broadcast or none: its failures a chunk at a time, newest first, counted into `counts`. */
async function countMatches(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  { prefilter, matches }: { prefilter: SQL; matches: (text: SearchedText) => boolean },
  counts: Map<string, FailureGroup>,
) {
  let after: [number, number] | undefined;
  for (;;) {
    const keyset = after ? olderThan(...after) : sql``;
    // One JSON value for the chunk: a driver row (or a JSON text) per failure costs more than the check.
    const [packed] = await readColumn<string>(
      db,
      sql`SELECT json_group_array(json_array(m.failed_at, m.id, m.channel_id, m.reason, m.first_name, m.last_name,
          m.identifier, m.provider_message) ORDER BY m.failed_at DESC, m.id DESC) AS r FROM (
        SELECT m.failed_at, m.id, m.channel_id, ${REASON} AS reason, ${SEARCHED_COLUMNS}
        FROM messages m LEFT JOIN contacts ct ON ct.id = m.contact_id
        WHERE ${failureConditions(workspaceId, filters, false)}${keyset} AND ${prefilter}
        ORDER BY m.failed_at DESC, m.id DESC LIMIT ${SEARCH_CHUNK}) m`,
      'r',
    );
    const chunk = JSON.parse(packed ?? '[]') as [number, number, number, string | null, ...SearchedText][];
    for (const [, , channelId, reason, ...text] of chunk) {
      if (!matches(text)) continue;
      const key = `${channelId}:${reason}`;
      const group = counts.get(key) ?? { channel_id: channelId, reason, n: 0 };
      group.n++;
      counts.set(key, group);
    }
    const last = chunk.at(-1);
    if (chunk.length < SEARCH_CHUNK || !last) return;
    after = [last[0], last[1]];
  }
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
