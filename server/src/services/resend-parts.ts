/**
 * When each part of a re-send goes: one time for everyone (now or the chosen time, refused where the
 * policy says it cannot help yet), or, by default, each reason at its earliest useful time and a quota
 * backlog in daily waves (shared/src/policy.ts decides; this file asks it about these rows).
 */
import {
  DAY_MS,
  describeFailure,
  earliestUsefulResend,
  type FailureReason,
  format,
  type Language,
  MAX_QUOTA_WAVES,
  outsideWindowCarrier,
  quotaWaves,
  type ResendBody,
  resendTiming,
  tooEarly,
} from '@rebound/shared';
import type { Database } from '../db/client';
import { refuseFarAhead } from '../engine/broadcast-state';
import { capacityAvailableAt, quotaScope } from '../engine/limits';
import { ApiError, fieldIssue } from '../lib/errors';
import { formatPlanTime, WHY } from './resend-format';
import * as store from './resend-store';

export interface Part {
  at: number;
  why: string;
  rows: store.Candidate[];
}

/** The latest failure of a group (no spread: a group can hold a million rows). */
const latestFailure = (group: store.Candidate[]) => group.reduce((max, c) => Math.max(max, c.failedAt), 0);

/**
 * The latest time a row of the group can be helped from, as written at its failure (a provider's
 * Retry-After, a daily cap's day), or 0: the policy's timing counted from the failure never goes earlier.
 */
const usefulFloor = (group: store.Candidate[]) => group.reduce((max, c) => Math.max(max, c.usefulFrom ?? 0), 0);

/** Rounds up to the next minute: a plan reads in minutes, and never earlier than advised. */
const ceilMinute = (at: number) => Math.ceil(at / 60_000) * 60_000;

/**
 * The last wave still ahead of this broadcast's earlier re-sends of the group's reasons on the same limit,
 * or null. Waves are noted by each row's own reason: a backlog that took outside_window rows asks for both.
 */
function ownWavesAhead(
  db: Database,
  originalId: number,
  scope: Awaited<ReturnType<typeof quotaScope>>,
  group: store.Candidate[],
  now: number,
): Promise<number | null> {
  const held = [...new Set(group.map((row) => row.reason))];
  return store.lastWaveAhead(db, originalId, scope.channelIds, held, now);
}

/**
 * When the first wave of a quota backlog (`first` recipients) fits on the limit, from `from`: in the room
 * the ledger frees, beside other broadcasts' re-sends still to go on the same limit when both fit, else a
 * day after their last wave. One rule for the one-click default and for a time the agent chose (which
 * counted only the ledger, and put a backlog in the room another re-send was due to take). The default
 * counts every re-send still to go (it plans waves on from there); a chosen time, those within a day of it
 * (`near`): one due two days later takes none of that day's room.
 */
async function firstWaveFits(
  db: Database,
  originalId: number,
  scope: Awaited<ReturnType<typeof quotaScope>>,
  first: number,
  from: number,
  now: number,
  near = false,
): Promise<number> {
  const fits = (await capacityAvailableAt(db, scope, first, from)) ?? from + DAY_MS;
  if (scope.limit === null) return fits;
  const others = await store.othersQuotaAhead(db, originalId, scope.channelIds, now, near ? from : undefined);
  if (others.pending === 0) return fits;
  const beside =
    first + others.pending <= scope.limit ? await capacityAvailableAt(db, scope, first + others.pending, from) : null;
  return Math.max(fits, beside ?? (others.lastAt ?? now) + DAY_MS);
}

export async function planParts(
  db: Database,
  original: store.OriginalBroadcast,
  /** The channel it goes on, read once by the caller. */
  channel: store.ChannelRow | undefined,
  rows: store.Candidate[],
  request: ResendBody,
  now: number,
  zone: string,
  language: Language,
  unconfirmedWindow: number,
  warn: (
    code: 'forced' | 'quota_waves_capped' | 'quota_waves_ahead' | 'quota_overflow',
    params: Record<string, string | number>,
  ) => void,
): Promise<{ parts: Part[]; unplanned: store.Candidate[]; againAt?: number }> {
  const when = request.when ?? 'auto';
  const scope = channel
    ? await quotaScope(db, channel)
    : { limit: null, channelIds: [original.channelId], portfolioId: null };
  const byReason = new Map<FailureReason, store.Candidate[]>();
  for (const row of rows) {
    const group = byReason.get(row.reason);
    if (group) group.push(row);
    else byReason.set(row.reason, [row]);
  }
  // Failures outside the window that now go as a template each take a place in the daily limit (they
  // never had one), as a quota backlog does: planned with it, in its waves, so the plan does not promise
  // at once what the engine would refuse past the limit.
  const closed = byReason.get('outside_window');
  if (
    closed &&
    channel &&
    scope.limit !== null &&
    outsideWindowCarrier(channel.type, original.content) === 'template'
  ) {
    byReason.delete('outside_window');
    byReason.set('quota_reached', [...(byReason.get('quota_reached') ?? []), ...closed]);
  }

  if (when !== 'auto' && when !== 'capacity') {
    // One time for everyone: now, or the chosen time; refused where the policy says it cannot help yet.
    let at = now;
    if (when !== 'now') {
      const raw = when === 'at' ? request.at : when;
      if (!raw) throw new ApiError(422, 'resend_at_required', {}, [fieldIssue('body.at', 'required')]);
      at = Date.parse(raw);
      if (at < now - 5_000)
        throw new ApiError(422, 'resend_at_past', { at: formatPlanTime(at, now, zone, language) }, [
          { path: 'body.at', message: raw },
        ]);
      refuseFarAhead(at, now, raw);
      at = Math.max(at, now);
    }
    const early: { reason: FailureReason; until: number }[] = [];
    for (const [reason, group] of byReason) {
      const latest = latestFailure(group);
      const floor = usefulFloor(group);
      if (tooEarly(reason, latest, at, unconfirmedWindow) || floor > at + 60_000)
        early.push({
          reason,
          until: Math.max(earliestUsefulResend(reason, latest, now, unconfirmedWindow) ?? at, floor),
        });
      else if (resendTiming(reason).kind === 'capacity') {
        // As the default plans it: beside other broadcasts' re-sends on the limit, after this one's waves.
        const ahead = scope.limit === null ? null : await ownWavesAhead(db, original.id, scope, group, now);
        const fitsAt = Math.max(
          await firstWaveFits(db, original.id, scope, Math.min(group.length, scope.limit ?? 0), at, now, true),
          ahead === null ? 0 : ahead + DAY_MS,
        );
        if (fitsAt > at + 60_000) early.push({ reason, until: fitsAt });
        // A day's limit fits, but not all of them: at one time, the rest fail again (waves would not).
        else if (scope.limit !== null && group.length > scope.limit)
          warn('quota_overflow', { count: group.length - scope.limit, total: group.length, limit: scope.limit });
      }
    }
    if (early.length && !request.force) {
      const until = Math.max(...early.map((e) => e.until));
      throw new ApiError(
        409,
        'resend_too_early',
        {
          reasons: early.map((e) => describeFailure(e.reason, language).title).join('; '),
          at: formatPlanTime(until, now, zone, language),
        },
        early.map((e) => ({ reason: e.reason, usefulFrom: new Date(e.until).toISOString() })),
      );
    }
    if (early.length)
      warn('forced', { reasons: early.map((e) => describeFailure(e.reason, language).title).join('; ') });
    return { parts: [{ at, why: when === 'now' ? WHY.now[language] : WHY.chosen[language], rows }], unplanned: [] };
  }

  // auto: each reason at its earliest useful time; the quota's backlog in daily waves.
  const parts = new Map<number, Part>();
  const add = (at: number, why: string, group: store.Candidate[]) => {
    const key = at <= now + 60_000 ? now : ceilMinute(at);
    const part = parts.get(key) ?? { at: key, why, rows: [] };
    // One by one: a spread of a reason's whole group (half a million after an outage) overflows the stack.
    for (const row of group) part.rows.push(row);
    parts.set(key, part);
  };
  // A quota backlog waiting for waves ahead, or past the last wave: not planned, still failed; a plan
  // can take it from `againAt` (the day after the last wave ahead or planned).
  const unplanned: store.Candidate[] = [];
  let againAt: number | undefined;
  const later = (at: number) => {
    againAt = againAt === undefined ? at : Math.min(againAt, at);
  };
  for (const [reason, group] of byReason) {
    const timing = resendTiming(reason);
    const floor = usefulFloor(group);
    if (timing.kind === 'capacity' && scope.limit !== null) {
      // An earlier re-send's waves hold the limit: these wait for them (asking again changes nothing).
      const ahead = await ownWavesAhead(db, original.id, scope, group, now);
      if (ahead !== null) {
        warn('quota_waves_ahead', {
          count: group.length,
          at: formatPlanTime(ahead + DAY_MS, now, zone, language),
        });
        for (const row of group) unplanned.push(row);
        later(ahead + DAY_MS);
        continue;
      }
      // The first wave goes when a full wave fits (at most a day's quota); each next one a day later;
      // never before a cap the provider reported has had its day. Other broadcasts' re-sends still to go
      // on this limit take the room as it frees: this wave fits beside them, or goes after their last.
      const first = Math.min(group.length, scope.limit);
      const firstAt = Math.max(await firstWaveFits(db, original.id, scope, first, now, now), floor);
      const waves = quotaWaves(group.length, scope.limit, firstAt, first);
      let offset = 0;
      waves.forEach((wave, i) => {
        const why =
          waves.length > 1
            ? format(WHY.wave[language], { n: i + 1, of: waves.length })
            : firstAt <= now
              ? WHY.now[language]
              : WHY.capacity[language];
        add(wave.at, why, group.slice(offset, offset + wave.size));
        offset += wave.size;
      });
      // Past the last wave: not planned, so still failed and free for a later re-send (or a higher limit).
      if (offset < group.length) {
        warn('quota_waves_capped', {
          count: group.length - offset,
          total: group.length,
          days: MAX_QUOTA_WAVES,
          limit: scope.limit,
        });
        for (let i = offset; i < group.length; i++) unplanned.push(group[i] as store.Candidate);
        later(ceilMinute(waves.at(-1)?.at ?? firstAt) + DAY_MS);
      }
      continue;
    }
    // A reason whose advice is "never" but that the agent chose explicitly (a number fixed since): now.
    const latest = latestFailure(group);
    const at = Math.max(earliestUsefulResend(reason, latest, now, unconfirmedWindow) ?? now, floor);
    add(
      at,
      at <= now + 60_000
        ? WHY.now[language]
        : format(WHY.after[language], { reason: describeFailure(reason, language).title }),
      group,
    );
  }
  return {
    parts: [...parts.values()].sort((a, b) => a.at - b.at),
    unplanned,
    ...(againAt !== undefined && { againAt }),
  };
}
