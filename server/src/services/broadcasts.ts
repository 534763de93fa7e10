import {
  type ApiErrorCode,
  ATTENTION_STATUSES,
  type AttentionList,
  type Broadcast,
  type BroadcastContent,
  billedMessages,
  type ChannelType,
  channelCapabilities,
  costSoFar,
  describeFailure,
  errorMessage,
  estimateCost,
  fixedLocale,
  forecastAdmission,
  format,
  type Language,
  type Preflight,
  type PreflightWarningCode,
  pauseText,
  preflightWarnings,
  priceTable,
  scaleCounts,
  windowFixes,
} from '@rebound/shared';
import { and, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { broadcasts, channels, segments } from '../db/schema';
import { audienceCountries, audienceSourceOf, audienceWhere, countAudience, snapshotTargets } from '../engine/audience';
import { assertTransition, EDITABLE, TransitionError } from '../engine/broadcast-state';
import { recordEvent } from '../engine/events';
import {
  overflowFitsAt,
  type QuotaScope,
  type QuotaUsage,
  quotaScope,
  quotaScopes,
  quotaUsage,
  quotaUsages,
} from '../engine/limits';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { getChannelRow } from './channels';
import { recoveryLineage } from './recovery-lineage';
import { getSegmentRow } from './segments';
import { workspaceSettings } from './workspaces';

type BroadcastRow = typeof broadcasts.$inferSelect;
type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

export interface NewBroadcast {
  name: string;
  channelId: number;
  segmentId: number;
  content: BroadcastContent;
  sendRate?: number | null | undefined;
  resendOfId?: number | null;
  /** Automatic re-sends; default: the workspace's. */
  autoRecovery?: number | undefined;
}

export async function getRow(db: Queryable, workspaceId: number, id: number): Promise<BroadcastRow> {
  const [row] = await db
    .select()
    .from(broadcasts)
    // A re-send still being written is nobody's to see or change yet (services/resend-writer.ts).
    .where(and(eq(broadcasts.id, id), eq(broadcasts.workspaceId, workspaceId), isNull(broadcasts.writingPlan)));
  if (!row) throw notFound('broadcast', { id });
  return row;
}

/** A channel that cannot broadcast is refused before anything is saved (S5). */
export async function broadcastableChannel(db: Queryable, workspaceId: number, channelId: number) {
  const channel = await getChannelRow(db, workspaceId, channelId);
  if (!channelCapabilities[channel.type].canBroadcast) {
    throw new ApiError(422, 'broadcast_unsupported_channel', {}, [
      { path: 'body.channelId', message: `${channel.type} cannot broadcast` },
    ]);
  }
  return channel;
}

/** A broadcast's own error in the help page's style, in the reader's language. */
function broadcastError(row: BroadcastRow, channelType: ChannelType | undefined, language: Language) {
  const code = row.errorCode as ApiErrorCode;
  if (code !== 'broadcast_all_failed') return { code, message: errorMessage(code, language) };
  const reason = row.errorReason ?? 'provider_error';
  if (reason === 'outside_window' && (channelType === 'whatsapp' || channelType === 'messenger'))
    return {
      code,
      reason,
      message: errorMessage('broadcast_all_outside_window', language, { fix: windowFixes[channelType][language] }),
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

export type CountsEntry = { counts: Record<string, number>; failedByReason: Record<string, number>; read: number };

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
    const entry = result.get(broadcastId) ?? { counts: {}, failedByReason: {}, read: 0 };
    result.set(broadcastId, entry);
    if (state === null) {
      entry.read = n;
      continue;
    }
    entry.counts[state] = (entry.counts[state] ?? 0) + n;
    if (state === 'failed' && reason) entry.failedByReason[reason] = (entry.failedByReason[reason] ?? 0) + n;
  }
  return result;
}

/**
 * Broadcasts as the API shows them, with a fixed number of statements whatever their number: counts
 * from the read model, then each distinct channel's limits (scope and rolling usage) once.
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
  return rows.map((row) => {
    const channel = byId.get(row.channelId);
    const scope = scopeOf(row.channelId);
    const usage = usageOf.get(row.channelId) as QuotaUsage;
    const { counts: byState, failedByReason, read } = counts.get(row.id) ?? { counts: {}, failedByReason: {}, read: 0 };
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
              billedMessages(channel.type, row.content, byState),
            )
          : null,
      channelLimits: {
        dailyQuota: scope.limit,
        quotaUsed: usage.used,
        quotaRemaining: usage.remaining,
        capacityFreesAt: usage.capacityFreesAt === null ? null : new Date(usage.capacityFreesAt).toISOString(),
        messagesPerSecond: channel?.messagesPerSecond ?? 0,
        portfolio: scope.portfolioId === null ? null : { id: scope.portfolioId, name: scope.portfolioName ?? '' },
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
      throw new ApiError(422, 'validation_failed', {}, [{ path: 'cursor', message: 'Not a cursor from this API' }]);
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

/**
 * What needs an agent's attention, newest first: the rule of shared/src/attention.ts (a status of
 * ATTENTION_STATUSES, and no re-send of it exists) as SQL, one walk down broadcasts_attention_idx per
 * status that skips broadcasts with a re-send (broadcasts_resend_of_idx), then the counts of the few
 * found from the read model. Its cost follows `limit` (plus any re-sent broadcasts it steps over),
 * not the number of broadcasts or of their recipients.
 */
export async function broadcastsNeedingAttention(
  db: Database,
  workspaceId: number,
  limit: number,
): Promise<AttentionList> {
  const perStatus = ATTENTION_STATUSES.map(
    (status) => sql`SELECT * FROM (SELECT b.id, b.name, b.status, b.channel_id, b.resend_of_id, b.finished_at
      FROM broadcasts b WHERE b.workspace_id = ${workspaceId} AND b.status = ${status}
        AND NOT EXISTS (SELECT 1 FROM broadcasts r WHERE r.resend_of_id = b.id AND r.status != 'cancelled')
      ORDER BY b.id DESC LIMIT ${limit + 1})`,
  );
  const rows = await db.all<{
    id: number;
    name: string;
    status: BroadcastRow['status'];
    channel_id: number;
    resend_of_id: number | null;
    finished_at: number | null;
  }>(sql`${sql.join(perStatus, sql` UNION ALL `)} ORDER BY id DESC LIMIT ${limit + 1}`);
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

export async function createBroadcast(db: Database, workspaceId: number, input: NewBroadcast): Promise<BroadcastRow> {
  await broadcastableChannel(db, workspaceId, input.channelId);
  await getSegmentRow(db, workspaceId, input.segmentId);
  const [row] = await db
    .insert(broadcasts)
    .values({
      workspaceId,
      name: input.name,
      channelId: input.channelId,
      segmentId: input.segmentId,
      content: input.content,
      sendRate: input.sendRate ?? null,
      resendOfId: input.resendOfId ?? null,
      autoRecovery: input.autoRecovery ?? (await workspaceSettings(db, workspaceId)).autoRecovery,
    })
    .returning();
  if (!row) throw new Error('broadcast insert returned nothing');
  return row;
}

export async function updateBroadcast(
  db: Database,
  ws: Workspace,
  id: number,
  patch: Partial<Omit<NewBroadcast, 'resendOfId'>>,
): Promise<BroadcastRow> {
  const current = await getRow(db, ws.workspaceId, id);
  if (!EDITABLE.includes(current.status)) throw new ApiError(409, 'broadcast_not_editable', { status: current.status });
  if (patch.channelId !== undefined) await broadcastableChannel(db, ws.workspaceId, patch.channelId);
  if (patch.segmentId !== undefined) await getSegmentRow(db, ws.workspaceId, patch.segmentId);
  const [row] = await db
    .update(broadcasts)
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.channelId !== undefined && { channelId: patch.channelId }),
      ...(patch.segmentId !== undefined && { segmentId: patch.segmentId }),
      ...(patch.content !== undefined && { content: patch.content }),
      ...(patch.sendRate !== undefined && { sendRate: patch.sendRate }),
      ...(patch.autoRecovery !== undefined && { autoRecovery: patch.autoRecovery }),
      updatedAt: new Date(),
    })
    .where(eq(broadcasts.id, id))
    .returning();
  if (!row) throw notFound('broadcast', { id });
  // A scheduled broadcast whose audience changed gets a fresh target.
  if (row.status === 'scheduled' && patch.segmentId !== undefined)
    return scheduleBroadcast(db, ws, id, row.scheduledAt ?? new Date());
  return row;
}

/**
 * Schedules now or at a time. The segment's size is recorded as the target; for a later send its
 * contacts are remembered too, so the start can say who entered or left in between (S2).
 */
export async function scheduleBroadcast(
  db: Database,
  ws: Workspace,
  id: number,
  at: Date | undefined,
  now = Date.now(),
) {
  const when = at ?? new Date(now);
  if (at && at.getTime() < now - 60_000)
    throw new ApiError(422, 'broadcast_schedule_past', {}, [{ path: 'body.at', message: 'in the past' }]);
  return db.transaction(async (tx) => {
    const current = await getRow(tx, ws.workspaceId, id);
    try {
      assertTransition(current.status, 'scheduled');
    } catch (error) {
      if (error instanceof TransitionError)
        throw new ApiError(409, 'broadcast_transition', { from: error.from, to: error.to });
      throw error;
    }
    await broadcastableChannel(tx, ws.workspaceId, current.channelId);
    const [segment] = current.segmentId
      ? await tx
          .select()
          .from(segments)
          .where(and(eq(segments.id, current.segmentId), eq(segments.workspaceId, ws.workspaceId)))
      : [];
    const source = await audienceSourceOf(tx, current, segment);
    if (!source) throw new ApiError(404, 'segment_not_found', {}, { id: current.segmentId });
    const where = await audienceWhere(tx, ws, source);
    const [count] = await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM contacts WHERE ${where}`);
    if (when.getTime() > now) await snapshotTargets(tx, where, id);
    else await tx.run(sql`DELETE FROM broadcast_targets WHERE broadcast_id = ${id}`);
    const [row] = await tx
      .update(broadcasts)
      .set({
        status: 'scheduled',
        scheduledAt: when,
        targetCount: count?.n ?? 0,
        errorCode: null,
        updatedAt: new Date(now),
      })
      .where(eq(broadcasts.id, id))
      .returning();
    await recordEvent(tx, {
      workspaceId: ws.workspaceId,
      type: 'broadcast.scheduled',
      broadcastId: id,
      data: { name: current.name, at: when.toISOString(), target: count?.n ?? 0, resendOfId: current.resendOfId },
      at: now,
    });
    if (!row) throw notFound('broadcast', { id });
    return row;
  });
}

/** Cancels a draft, scheduled or sending broadcast; recipients not yet sent are cancelled too. */
export async function cancelBroadcast(db: Database, workspaceId: number, id: number, now = Date.now()) {
  return db.transaction(async (tx) => {
    const current = await getRow(tx, workspaceId, id);
    try {
      assertTransition(current.status, 'cancelled');
    } catch (error) {
      if (error instanceof TransitionError)
        throw new ApiError(409, 'broadcast_transition', { from: error.from, to: error.to });
      throw error;
    }
    await tx.run(
      sql`UPDATE messages SET state = 'cancelled', updated_at = ${now} WHERE broadcast_id = ${id} AND state = 'queued'`,
    );
    // An engine freezing its audience right now loses its start lease, so it freezes nothing more.
    await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${id}`);
    const [row] = await tx
      .update(broadcasts)
      .set({ status: 'cancelled', finishedAt: new Date(now), updatedAt: new Date(now) })
      .where(eq(broadcasts.id, id))
      .returning();
    await recordEvent(tx, {
      workspaceId,
      type: 'broadcast.cancelled',
      broadcastId: id,
      data: { name: current.name },
      at: now,
    });
    if (!row) throw notFound('broadcast', { id });
    return row;
  });
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * What would happen if the broadcast went out now: who is left out and why, whether the rolling
 * quota fits and when the rest would, and whether the rate is above the channel's (S1, S4, S7).
 */
export async function preflight(
  db: Database,
  ws: Workspace,
  id: number,
  language: Language,
  now = Date.now(),
): Promise<Preflight> {
  const broadcast = await getRow(db, ws.workspaceId, id);
  const [channel] = await db.select().from(channels).where(eq(channels.id, broadcast.channelId));
  if (!channel) throw notFound('channel', { id: broadcast.channelId });
  const [segment] = broadcast.segmentId
    ? await db.select().from(segments).where(eq(segments.id, broadcast.segmentId))
    : [];
  const source = await audienceSourceOf(db, broadcast, segment);
  if (!source) throw new ApiError(404, 'segment_not_found', {}, { id: broadcast.segmentId });
  const capability = channelCapabilities[channel.type];
  const scope = await quotaScope(db, channel);
  const counts = await countAudience(db, {
    scope: ws,
    channel: { id: channel.id, type: channel.type },
    source,
    now,
    quota: scope,
  });
  const numbers = new Intl.NumberFormat(fixedLocale(language));
  const n = (value: number) => numbers.format(value);
  const warnings: Preflight['warnings'] = [];
  const warn = (code: PreflightWarningCode, params: Record<string, string | number> = {}) =>
    warnings.push({ code, message: format(preflightWarnings[code][language], params) });

  const usage = await quotaUsage(db, scope, now);
  // The engine's own cascade over the audience's facts: what it will do, said before it does it.
  const forecast = forecastAdmission(
    counts.groups,
    { ...channel, dailyQuota: scope.limit },
    broadcast.content,
    usage.remaining,
    now,
  );
  const blockedByWindow = forecast.outsideWindow;
  const needed = forecast.needsQuota;
  const overflow = forecast.overQuota;
  const allFitAt = overflow > 0 && scope.limit !== null ? await overflowFitsAt(db, scope, overflow, now) : now;
  const requested = broadcast.sendRate;
  const effective = Math.min(channel.messagesPerSecond, requested ?? Number.POSITIVE_INFINITY);
  const toSend = forecast.send;

  if (!capability.canBroadcast) warn('unsupported_channel');
  const missing = capability.credentialKeys.filter((key) => !channel.credentials[key]);
  if (missing.length && channel.type !== 'sandbox') warn('credentials_missing', { keys: missing.join(', ') });
  if (counts.total === 0) warn('empty_segment');
  const excludedTotal = counts.excluded.duplicate + counts.excluded.invalid_identifier + counts.excluded.no_identifier;
  if (excludedTotal > 0) {
    warn('excluded', {
      count: n(excludedTotal),
      duplicate: n(counts.excluded.duplicate),
      invalid: n(counts.excluded.invalid_identifier),
      none: n(counts.excluded.no_identifier),
    });
  }
  if (blockedByWindow > 0) {
    warn('outside_window', {
      count: n(blockedByWindow),
      fix: windowFixes[channel.type as 'whatsapp' | 'messenger'][language],
    });
  }
  if (forecast.optedOut > 0) warn('opted_out', { count: n(forecast.optedOut) });
  if (overflow > 0) {
    warn('quota_overflow', {
      overflow: n(overflow),
      willSend: n(needed),
      limit: n(scope.limit ?? 0),
      remaining: n(usage.remaining ?? 0),
      allFitAt: `${new Date(allFitAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    });
    if (scope.limit !== null && overflow > scope.limit)
      warn('quota_never_fits', { needed: n(needed), limit: n(scope.limit) });
  }
  if (requested !== null && requested > channel.messagesPerSecond) {
    warn('rate_above_channel', { requested: n(requested), channel: n(channel.messagesPerSecond) });
  }
  const estimatedSeconds = Math.max(0, toSend) / effective;
  if (estimatedSeconds > 600)
    warn('slow', { rate: n(effective), willSend: n(toSend), duration: formatDuration(estimatedSeconds) });

  return {
    willSend: Math.max(0, toSend),
    excluded: counts.excluded,
    outsideWindow: blockedByWindow,
    optedOut: forecast.optedOut,
    quota: {
      limit: scope.limit,
      used: usage.used,
      remaining: usage.remaining,
      needed,
      fits: overflow === 0,
      overflow,
      capacityFreesAt: usage.capacityFreesAt === null ? null : new Date(usage.capacityFreesAt).toISOString(),
      allFitAt: new Date(allFitAt).toISOString(),
    },
    rate: { channel: channel.messagesPerSecond, requested, effective, estimatedSeconds },
    warnings,
    cost: estimateCost(
      channel.type,
      broadcast.content,
      priceTable(channel.prices),
      scaleCounts(
        await audienceCountries(db, { scope: ws, channel: { id: channel.id, type: channel.type }, source }),
        Math.max(0, toSend),
      ),
    ),
  };
}
