/**
 * Pre-flight: what a broadcast would do if it went out now, said before it does it, from the engine's
 * own admission cascade over its audience (shared's forecastAdmission) and the channel's limits, with
 * what it would cost. Reads only; broadcasts.ts schedules.
 */
import {
  billedSends,
  channelCapabilities,
  estimateCost,
  fixedLocale,
  forecastAdmission,
  format,
  type Language,
  type Preflight,
  type PreflightWarningCode,
  preflightWarnings,
  priceTable,
  scaleCounts,
  textTooLong,
  workspaceTimeZone,
} from '@rebound/shared';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { channels, segments, workspaces } from '../db/schema';
import { audienceCountries, audienceSourceOf, countAudience } from '../engine/audience';
import { guardHolds } from '../engine/guard';
import { overflowFitsAt, quotaScope, quotaUsage } from '../engine/limits';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { getRow } from './broadcast-read';
import { formatPlanTime } from './resend-format';

type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function preflightZone(db: Database, ws: Workspace): Promise<string> {
  const [workspace] = await db
    .select({ country: workspaces.defaultCountry, timeZone: workspaces.timeZone })
    .from(workspaces)
    .where(eq(workspaces.id, ws.workspaceId));
  return workspaceTimeZone(workspace?.country ?? ws.defaultCountry, workspace?.timeZone);
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
  // Started, it sends only the recipients it froze then (paused or sending): the segment read now (who
  // joined it since) is not who it will reach.
  if (broadcast.startedAt !== null && (broadcast.status === 'sending' || broadcast.status === 'paused'))
    throw new ApiError(409, 'preflight_started', { status: broadcast.status });
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
    content: broadcast.content,
    now,
    quota: scope,
  });
  const numbers = new Intl.NumberFormat(fixedLocale(language));
  const n = (value: number) => numbers.format(value);
  const warnings: Preflight['warnings'] = [];
  const warn = (code: PreflightWarningCode, params: Record<string, string | number> = {}) =>
    warnings.push({ code, message: format(preflightWarnings[code][language], params, language) });

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
  const allFitAt = overflow > 0 && scope.limit !== null ? await overflowFitsAt(db, scope, usage, overflow, now) : now;
  const requested = broadcast.sendRate;
  const effective = Math.min(channel.messagesPerSecond, requested ?? Number.POSITIVE_INFINITY);
  const toSend = forecast.send;

  if (!capability.canBroadcast) warn('unsupported_channel');
  if (await guardHolds(db, channel.id)) warn('number_paused');
  const over = textTooLong(channel.type, broadcast.content.text);
  if (over) warn('text_too_long', { length: n(over.length), max: n(over.max) });
  const missing = capability.credentialKeys.filter((key) => !channel.credentials[key]);
  if (missing.length) warn('credentials_missing', { keys: missing.join(', ') });
  if (counts.total === 0) warn('empty_segment');
  const excludedTotal = counts.excluded.duplicate + counts.excluded.invalid_identifier + counts.excluded.no_identifier;
  if (excludedTotal > 0) {
    // Raw numbers: the words pick "1 contacto" or "2 contactos" and format them by locale.
    warn('excluded', {
      count: excludedTotal,
      duplicate: counts.excluded.duplicate,
      invalid: counts.excluded.invalid_identifier,
      none: counts.excluded.no_identifier,
    });
  }
  if (blockedByWindow > 0) {
    warn('outside_window', {
      count: blockedByWindow,
      fix: capability.outsideWindow?.fix[language] ?? '',
    });
  }
  if (forecast.optedOut > 0) warn('opted_out', { count: forecast.optedOut });
  if (overflow > 0) {
    warn('quota_overflow', {
      overflow,
      willSend: n(needed),
      limit: n(scope.limit ?? 0),
      remaining: n(usage.remaining ?? 0),
      // In the workspace's time zone, as the re-send's plan says its times: "mañana 14:05", not UTC.
      allFitAt: formatPlanTime(allFitAt, now, await preflightZone(db, ws), language),
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
        await audienceCountries(db, {
          scope: ws,
          channel: { id: channel.id, type: channel.type },
          source,
          content: broadcast.content,
        }),
        billedSends(channel.type, Math.max(0, toSend), forecast.freeInWindow),
      ),
    ),
  };
}
