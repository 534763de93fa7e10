/**
 * Broadcasts as the API reads them: one, a page, and what needs an agent's attention, with their counts
 * from the read model (broadcast_counts, broadcast_reads), never from their recipients. Creating and
 * scheduling them is broadcasts.ts; what would happen if one went out now, broadcast-preflight.ts.
 */
import {
  ALL_FAILED,
  type ApiErrorCode,
  ATTENTION_STATUSES,
  type AttentionClock,
  type AttentionList,
  type Broadcast,
  billedMessages,
  type ChannelType,
  channelCapabilities,
  costSoFar,
  describeFailure,
  errorMessage,
  holdText,
  type Language,
  pauseText,
  priceTable,
  unconfirmedWaitEnds,
} from '@rebound/shared';
import { and, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { unconfirmedWindowMs } from '../config';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { type BroadcastRow, broadcasts, channels } from '../db/schema';
import { type QuotaScope, type QuotaUsage, quotaScopes, quotaUsages } from '../engine/limits';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import { ApiError, fieldIssue, notFound } from '../lib/errors';
import { recoveryLineage } from './recovery-lineage';
import { RESEND_HOLDS, TARGET_HELD, UNREACHED } from './resend-store';

export async function getRow(db: Queryable, workspaceId: number, id: number): Promise<BroadcastRow> {
  const [row] = await db
    .select()
    .from(broadcasts)
    // A re-send still being written is nobody's to see or change yet (services/resend-writer.ts).
    .where(and(eq(broadcasts.id, id), eq(broadcasts.workspaceId, workspaceId), isNull(broadcasts.writingPlan)));
  if (!row) throw notFound('broadcast', { id });
  return row;
}

/** A broadcast's own error in the help page's style, in the reader's language. */
function broadcastError(row: BroadcastRow, channelType: ChannelType | undefined, language: Language) {
  const code = row.errorCode as ApiErrorCode;
  if (code !== ALL_FAILED) return { code, message: errorMessage(code, language) };
  const reason = row.errorReason ?? 'provider_error';
  // A channel that can still reach a closed window (a template, a message tag) says how.
  const outside = channelType ? channelCapabilities[channelType].outsideWindow : null;
  if (reason === 'outside_window' && outside)
    return {
      code,
      reason,
      message: errorMessage('broadcast_all_outside_window', language, { fix: outside.fix[language] }),
    };
  const info = describeFailure(reason, language);
  return {
    code,
    reason,
    message: errorMessage(code, language, { reason: info.title, action: info.action }),
  };
}

/**
 * Sent → delivered → read, each including the next (a read message was delivered and sent), and the
 * failed beside them: what the provider's reports say of the recipients the broadcast went to.
 */
function funnelOf(
  counts: Record<string, number>,
  read: number,
  type: ChannelType | undefined,
  readsKept: boolean,
): Broadcast['funnel'] {
  const delivered = counts.delivered ?? 0;
  // A step the channel's reports never give is null, not 0: "0 entregados" on Telegram would be false.
  const reports: readonly string[] = type ? channelCapabilities[type].reports : [];
  return {
    sent: (counts.sent ?? 0) + delivered,
    delivered: reports.includes('delivered') || delivered > 0 ? delivered : null,
    // Reads of a broadcast made before they were recorded are unknown, not 0.
    read: (reports.includes('read') && readsKept) || read > 0 ? read : null,
    failed: counts.failed ?? 0,
  };
}

export type CountsEntry = {
  counts: Record<string, number>;
  failedByReason: Record<string, number>;
  /** Left out before sending (opted out, invalid number…), by reason. */
  excludedByReason: Record<string, number>;
  read: number;
};

/** A broadcast with no recipient rows yet. */
const NO_COUNTS: CountsEntry = { counts: {}, failedByReason: {}, excludedByReason: {}, read: 0 };

/**
 * Each broadcast's counts by state and failures by reason, from the read model (a few rows each),
 * coming back as one JSON value rather than a driver row per count.
 */
export async function countsOf(db: Database, ids: number[]): Promise<Map<number, CountsEntry>> {
  const result = new Map<number, CountsEntry>();
  if (ids.length === 0) return result;
  const row = await first<{ rows: string }>(
    db,
    // Ordered as the GROUP BY over messages was, so the objects keep their key order.
    // The reads (broadcast_reads) come along as rows with no state: they are not a state of their own.
    sql`SELECT json_group_array(json_array(broadcast_id, state, reason, n)) AS rows FROM (
      SELECT broadcast_id, state, reason, n FROM broadcast_counts
      WHERE broadcast_id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND n > 0
      UNION ALL
      SELECT broadcast_id, NULL, NULL, n FROM broadcast_reads
      WHERE broadcast_id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND n > 0
      ORDER BY 1, 2, 3)`,
  );
  for (const [broadcastId, state, reason, n] of JSON.parse(row?.rows ?? '[]') as [
    number,
    string | null,
    string | null,
    number,
  ][]) {
    const entry = result.get(broadcastId) ?? structuredClone(NO_COUNTS);
    result.set(broadcastId, entry);
    if (state === null) {
      entry.read = n;
      continue;
    }
    entry.counts[state] = (entry.counts[state] ?? 0) + n;
    if (state === 'failed' && reason) entry.failedByReason[reason] = (entry.failedByReason[reason] ?? 0) + n;
    if (state === 'excluded' && reason) entry.excludedByReason[reason] = (entry.excludedByReason[reason] ?? 0) + n;
  }
  return result;
}

/**
 * How many of broadcast `b`'s unconfirmed recipients its re-sends that hold took, by their notes
 * (`resend_reasons`, kept in step with late reports), or NULL when one holds without a note (made
 * before re-sends noted what they took): counted as taking them all. One cancelled mid-send holds only
 * those it sent (TARGET_HELD): its unconfirmed targets are counted one by one, as the lineage does.
 * unconfirmedWaitEnds' `taken`. Built when asked: at this module's load, resend-store's pieces may not
 * be there yet (the two import each other through the engine).
 */
const unconfirmedTakenSql = () => sql`(SELECT CASE WHEN max(r.resend_reasons IS NULL) THEN NULL
    ELSE coalesce(sum(CASE WHEN r.status != 'cancelled' THEN max(coalesce(r.resend_reasons ->> '$.uncertain', 0), 0)
      ELSE (SELECT count(*) FROM resend_targets t JOIN messages m ON m.id = t.message_id
        WHERE t.broadcast_id = r.id AND m.reason = 'uncertain' AND ${UNREACHED} AND ${TARGET_HELD}) END), 0) END
  FROM broadcasts r WHERE r.resend_of_id = b.id AND ${RESEND_HOLDS})`;

/** Of the finished broadcasts among `rows` with unconfirmed recipients (a final "unknown" too), how many of those their re-sends took. */
async function unconfirmedTaken(db: Database, rows: BroadcastRow[], counts: Map<number, CountsEntry>) {
  const ids = rows
    .filter((r) => {
      const c = counts.get(r.id);
      return r.finishedAt !== null && (c?.counts.uncertain ?? 0) + (c?.failedByReason.uncertain ?? 0) > 0;
    })
    .map((r) => r.id);
  if (!ids.length) return new Map<number, number | null>();
  const taken = await db.all<{ id: number; taken: number | null }>(
    sql`SELECT b.id, ${unconfirmedTakenSql()} AS taken FROM broadcasts b WHERE b.id IN ${ids}`,
  );
  return new Map(taken.map((r) => [r.id, r.taken]));
}

/**
 * Broadcasts as the API shows them, with a fixed number of statements whatever their number: counts
 * from the read model, then each distinct channel's limits (scope and rolling usage) once, and what
 * re-sends took of the unconfirmed recipients of those finished (unconfirmedTaken).
 */
export async function toBroadcasts(
  db: Database,
  rows: BroadcastRow[],
  language: Language,
  now = Date.now(),
): Promise<Broadcast[]> {
  if (rows.length === 0) return [];
  const counts = await countsOf(db, [...new Set(rows.map((r) => r.id))]);
  const channelIds = [...new Set(rows.map((r) => r.channelId))];
  // Only what the limits need (not the credentials JSON, parsed for nothing on every read).
  const channelRows = await db
    .select({
      id: channels.id,
      type: channels.type,
      dailyQuota: channels.dailyQuota,
      portfolioId: channels.portfolioId,
      messagesPerSecond: channels.messagesPerSecond,
      prices: channels.prices,
      hold: channels.hold,
    })
    .from(channels)
    .where(inArray(channels.id, channelIds));
  const byId = new Map(channelRows.map((c) => [c.id, c]));
  const scopes = await quotaScopes(db, channelRows);
  const scopeOf = (channelId: number): QuotaScope =>
    scopes.get(channelId) ?? { limit: null, channelIds: [channelId], portfolioId: null };
  const usages = await quotaUsages(db, channelIds.map(scopeOf), now);
  const usageOf = new Map(channelIds.map((id, i) => [id, usages[i] as QuotaUsage]));
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  const isoMs = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const unconfirmedWindow = unconfirmedWindowMs();
  const taken = await unconfirmedTaken(db, rows, counts);
  return rows.map((row) => {
    const channel = byId.get(row.channelId);
    const scope = scopeOf(row.channelId);
    const usage = usageOf.get(row.channelId) as QuotaUsage;
    const { counts: byState, failedByReason, read } = counts.get(row.id) ?? NO_COUNTS;
    const unconfirmed = (byState.uncertain ?? 0) + (failedByReason.uncertain ?? 0);
    // Not asked (none unconfirmed, or not finished): none taken; null (a re-send without a note): all.
    const took = taken.has(row.id) ? (taken.get(row.id) ?? null) : 0;
    return {
      id: row.id,
      name: row.name,
      channelId: row.channelId,
      segmentId: row.segmentId,
      content: row.content,
      sendRate: row.sendRate,
      status: row.status,
      error: row.errorCode ? broadcastError(row, channel?.type, language) : null,
      pause:
        row.status === 'paused' && row.pause
          ? { ...row.pause, message: pauseText(row.name, row.pause, language) }
          : null,
      scheduledAt: iso(row.scheduledAt),
      startedAt: iso(row.startedAt),
      finishedAt: iso(row.finishedAt),
      unconfirmedWaitEndsAt: isoMs(
        unconfirmedWaitEnds(
          {
            finishedAt: iso(row.finishedAt),
            unconfirmedAt: isoMs(row.unconfirmedAt),
            uncertain: byState.uncertain ?? 0,
            failedUncertain: failedByReason.uncertain ?? 0,
            taken: took,
          },
          unconfirmedWindow,
        ),
      ),
      unconfirmedLeft: took === null ? 0 : Math.max(0, unconfirmed - took),
      lateFailedAt: isoMs(row.lateFailedAt),
      targetCount: row.targetCount,
      completedCount: row.reconciliation?.completed ?? null,
      counts: byState,
      funnel: funnelOf(byState, read, channel?.type, row.readsKept),
      failedByReason,
      reconciliation: row.reconciliation ?? null,
      resendOfId: row.resendOfId,
      autoRecovery: row.autoRecovery,
      recovery: null,
      cost:
        row.countryMix && channel
          ? costSoFar(
              channel.type,
              row.content,
              priceTable(channel.prices),
              row.countryMix,
              billedMessages(channel.type, row.content, byState, row.templatesDelivered),
            )
          : null,
      channelLimits: {
        dailyQuota: scope.limit,
        quotaUsed: usage.used,
        quotaRemaining: usage.remaining,
        capacityFreesAt: usage.capacityFreesAt === null ? null : new Date(usage.capacityFreesAt).toISOString(),
        messagesPerSecond: channel?.messagesPerSecond ?? 0,
        portfolio: scope.portfolioId === null ? null : { id: scope.portfolioId, name: scope.portfolioName ?? '' },
        hold: channel?.hold ? { ...channel.hold, message: holdText(channel.hold, language) } : null,
      },
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  });
}

/** One broadcast as GET /broadcasts/{id} shows it: the list's fields and its lineage of re-sends. */
export async function toBroadcast(db: Database, row: BroadcastRow, language: Language): Promise<Broadcast> {
  const [broadcast] = await toBroadcasts(db, [row], language);
  if (!broadcast) throw new Error('toBroadcasts returned nothing');
  return { ...broadcast, recovery: await recoveryLineage(db, row, countsOf) };
}

export async function getBroadcast(db: Database, workspaceId: number, id: number, language: Language) {
  return toBroadcast(db, await getRow(db, workspaceId, id), language);
}

export async function listBroadcasts(
  db: Database,
  workspaceId: number,
  query: {
    cursor?: string | undefined;
    limit: number;
    status?: BroadcastRow['status'] | undefined;
    name?: string[] | undefined;
    resendOfId?: number[] | undefined;
    id?: number[] | undefined;
  },
  language: Language,
) {
  const conditions: SQL[] = [eq(broadcasts.workspaceId, workspaceId), isNull(broadcasts.writingPlan)];
  const after = decodeCursor(query.cursor);
  if (after !== undefined) {
    if (Number.isNaN(after))
      throw new ApiError(422, 'validation_failed', {}, [fieldIssue('query.cursor', 'badCursor')]);
    conditions.push(lt(broadcasts.id, after));
  }
  if (query.status) conditions.push(eq(broadcasts.status, query.status));
  if (query.name?.length) conditions.push(inArray(broadcasts.name, query.name));
  if (query.resendOfId?.length) conditions.push(inArray(broadcasts.resendOfId, query.resendOfId));
  if (query.id?.length) conditions.push(inArray(broadcasts.id, query.id));
  const rows = await db
    .select()
    .from(broadcasts)
    .where(and(...conditions))
    .orderBy(desc(broadcasts.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const data = await toBroadcasts(db, page, language);
  const last = page.at(-1);
  return { data, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
}

/** The attention list's walks (broadcastsNeedingAttention), each newest first, at most `limit` rows. */
export function attentionWalks(workspaceId: number, limit: number, clock: AttentionClock): SQL[] {
  const columns = sql`b.id, b.name, b.status, b.channel_id, b.resend_of_id, b.finished_at`;
  const unresent = sql`NOT EXISTS (SELECT 1 FROM broadcasts r WHERE r.resend_of_id = b.id AND ${RESEND_HOLDS})`;
  const perStatus = ATTENTION_STATUSES.map(
    (status) => sql`SELECT * FROM (SELECT ${columns} FROM broadcasts b
      WHERE b.workspace_id = ${workspaceId} AND b.status = ${status} AND ${unresent} ORDER BY b.id DESC LIMIT ${limit})`,
  );
  // Down the workspace's finished broadcasts that have unconfirmed recipients (broadcasts_unconfirmed_idx),
  // newest first: it steps over those still in their wait (from its end, or from the latest recipient to
  // become unconfirmed after it) and those whose re-sends took them all (their unconfirmed ones, a final
  // "unknown" report included, against the notes: unconfirmedWaitEnds), no other.
  const unconfirmed = sql`(SELECT coalesce(sum(c.n), 0) FROM broadcast_counts c
    WHERE c.broadcast_id = b.id AND c.reason = 'uncertain' AND c.state IN ('uncertain', 'failed'))`;
  const waitOver = sql`SELECT * FROM (SELECT ${columns} FROM broadcasts b INDEXED BY broadcasts_unconfirmed_idx
      WHERE b.workspace_id = ${workspaceId} AND b.status IN ('completed', 'partially_failed', 'failed')
        AND b.unconfirmed > 0 AND b.finished_at <= ${clock.now - clock.unconfirmedWindowMs}
        AND coalesce(b.unconfirmed_at, 0) <= ${clock.now - clock.unconfirmedWindowMs}
        AND coalesce(${unconfirmed} > ${unconfirmedTakenSql()}, 0) ORDER BY b.id DESC LIMIT ${limit})`;
  // Down the workspace's finished broadcasts with failures reported after their latest re-send was
  // planned (broadcasts_late_failed_idx: only those not re-sent since), however many re-sends they had.
  const lateFailures = sql`SELECT * FROM (SELECT ${columns} FROM broadcasts b INDEXED BY broadcasts_late_failed_idx
      WHERE b.workspace_id = ${workspaceId} AND b.late_failed_at IS NOT NULL
        AND b.status IN ('completed', 'partially_failed', 'failed') ORDER BY b.id DESC LIMIT ${limit})`;
  return [...perStatus, waitOver, lateFailures];
}

/**
 * What needs an agent's attention, newest first: the rule of shared/src/attention.ts as SQL. A status
 * of ATTENTION_STATUSES is one walk down broadcasts_attention_idx per status, skipping broadcasts with a
 * re-send that holds (broadcasts_resend_of_idx); a finished broadcast whose unconfirmed recipients no
 * re-send took waited out the report window (unconfirmedWaitOver) is one more walk, down
 * broadcasts_unconfirmed_idx; one with failures reported after its latest re-send (lateFailedAt) is
 * one more, down broadcasts_late_failed_idx; then the counts of the few found come from the read model. Its cost follows
 * `limit` (plus any re-sent broadcasts it steps over, and finished ones still in their wait or whose
 * unconfirmed recipients were re-sent), not the number of broadcasts or of their recipients.
 */
export async function broadcastsNeedingAttention(
  db: Database,
  workspaceId: number,
  limit: number,
  clock: AttentionClock = { now: Date.now(), unconfirmedWindowMs: unconfirmedWindowMs() },
): Promise<AttentionList> {
  const rows = await db.all<{
    id: number;
    name: string;
    status: BroadcastRow['status'];
    channel_id: number;
    resend_of_id: number | null;
    finished_at: number | null;
  }>(
    // UNION: a failed broadcast not re-sent yet may be found by its status and by its unconfirmed recipients.
    sql`${sql.join(attentionWalks(workspaceId, limit + 1, clock), sql` UNION `)} ORDER BY id DESC LIMIT ${limit + 1}`,
  );
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const counts = await countsOf(db, ids);
  return {
    data: page.map((r) => {
      const c = counts.get(r.id);
      return {
        id: r.id,
        name: r.name,
        status: r.status,
        channelId: r.channel_id,
        finishedAt: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
        failed: c?.counts.failed ?? 0,
        uncertain: c?.counts.uncertain ?? 0,
        failedByReason: c?.failedByReason ?? {},
        resendOfId: r.resend_of_id,
      };
    }),
    hasMore: rows.length > limit,
  };
}
