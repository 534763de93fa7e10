/**
 * Tag and re-send: the reference page's manual recovery (export, re-import with a tag, segment
 * "contact tag has any of <tag>", send again) as one call, done right:
 * - exactly the failed message rows asked for, never anyone else (resend_targets; the tag only labels);
 * - each reason at its earliest useful time (shared/src/policy.ts), as linked re-sends, and a quota
 *   backlog in daily waves;
 * - asking twice never tags twice or re-sends anyone twice: rows already in a live re-send are skipped.
 * The SQL lives in resend-store.ts, when each part goes in resend-parts.ts, how it reads in
 * resend-format.ts; this file is the plan.
 */
import {
  anotherChannelReasons,
  BroadcastContentSchema,
  channelCapabilities,
  contentForChannel,
  DAY_MS,
  defaultResendReasons,
  estimateCost,
  type FailureReason,
  format,
  isSmsChannel,
  type Language,
  outsideWindowCarrier,
  permissions,
  priceTable,
  type ResendBody,
  type ResendResult,
  type Role,
  resendHolds,
  roleAllows,
  smsSegments,
  workspaceTimeZone,
} from '@rebound/shared';
import { unconfirmedWindowMs } from '../config';
import type { Database } from '../db/client';
import { countriesOn, reachableOn, textWindowHours, windowClosedAt } from '../engine/audience';
import { quotaScope, quotaUsage } from '../engine/limits';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { assertTextFits, broadcastableChannel, cancelIfNotStarted, notStarted } from './broadcasts';
import {
  defaultResendTag,
  formatPlanTime,
  NOTHING_WHY,
  summarize,
  WARNINGS,
  WINDOW_CLOSED_WORDS,
} from './resend-format';
import { type Part, planParts } from './resend-parts';
import * as store from './resend-store';
import { claimPlan, releasePlan, writePlan } from './resend-writer';

// The default tag is said in resend-format.ts; callers and tests have always found it here.
export { defaultResendTag };

export type ResendRequest = ResendBody;

export interface ResendOptions {
  /** Rows per transaction (tests make it small). */
  writeRows?: number;
  /**
   * Rebound's own re-send (automatic recovery): contacts the marketing cap refused three times in a row
   * within a week are left out, as one more try only counts against the number.
   */
  automatic?: boolean;
  /**
   * Told when the plan leaves a quota backlog for later (waves ahead, past the last wave): the earliest
   * time a plan can take it. Automatic recovery comes back then; an agent reads it in the warnings.
   */
  onUnplanned?: (againAt: number) => void;
  /** Tests: what happens between the plan's read and its write (a provider's report landing meanwhile). */
  beforeWrite?: () => Promise<void>;
}

/** Automatic recovery leaves a contact alone after this many marketing-cap refusals in a row… */
export const CAPPED_IN_A_ROW = 3;
/** …within this long. */
export const CAPPED_FOR_MS = 7 * DAY_MS;

/**
 * Plans and schedules the re-send. Returns the plan; with `tagOnly` only tags. Refuses (409) a time
 * earlier than a chosen reason's advice unless `force`, and (422) an `at` in the past or missing.
 */
export async function resendFailed(
  db: Database,
  /** `role`: the caller's; none for the operator's CLI and automatic recovery. */
  ws: Pick<AuthContext, 'workspaceId' | 'defaultCountry'> & { language?: Language; role?: Role },
  broadcastId: number,
  request: ResendRequest,
  now = Date.now(),
  options: ResendOptions = {},
): Promise<ResendResult> {
  const found = await store.originalBroadcast(db, ws.workspaceId, broadcastId);
  if (!found) throw notFound('broadcast', { id: broadcastId });
  // Another channel, other content: planned and written as the re-send's own (its quota, its window;
  // a template may go outside the window), as the engine will read them.
  const target =
    request.channelId !== undefined && request.channelId !== found.channelId
      ? await broadcastableChannel(db, ws.workspaceId, request.channelId)
      : undefined;
  // Its own channel disconnected since: a re-send there would fail at its start and hold those it was
  // for. The agent chooses another channel (its fallback, say).
  const own = target ? undefined : await store.channelOf(db, found.channelId);
  if (own?.deletedAt) throw new ApiError(409, 'resend_channel_disconnected');
  const content = request.content ? BroadcastContentSchema.parse(request.content) : found.content;
  const original = {
    ...found,
    channelId: target?.id ?? found.channelId,
    content: target ? contentForChannel(target.type, content) : content,
  };
  // On another channel (SMS takes 1,600 characters where WhatsApp took 4,096), or with other content: a
  // text that channel cannot take would fail for every contact.
  const sendsOn = target ?? (request.content ? own : undefined);
  if (sendsOn && !request.tagOnly) assertTextFits(sendsOn, original.content);
  if (['draft', 'scheduled', 'sending', 'paused'].includes(original.status)) {
    throw new ApiError(409, 'resend_not_finished', { status: original.status });
  }
  // A re-send that never went out (failed at its start, or taken back before it) holds nobody: those it
  // was for are its original's to re-send again. Re-sending its own rows as well would plan them twice.
  if (
    original.resendOfId !== null &&
    !resendHolds({
      status: original.status,
      startedAt: original.startedAt?.toISOString() ?? null,
      error: original.errorCode ? { code: original.errorCode } : null,
    })
  )
    throw new ApiError(409, 'resend_of_unsent_resend');
  // A broadcast cancelled on purpose (only a manager cancels one; an agent may take back a re-send) is not
  // brought back to those it failed for by an agent: that is a manager's call, as writing one is.
  if (
    original.status === 'cancelled' &&
    original.resendOfId === null &&
    ws.role !== undefined &&
    !roleAllows(ws.role, 'broadcasts:write')
  )
    throw new ApiError(403, 'resend_cancelled_broadcast', { required: permissions['broadcasts:write'] });
  // A number paused for its own sake (the guard, or Meta's flag): a re-send on it would start unseen and
  // send on it. A manager weighs the pause and resumes first; another channel may take it meanwhile.
  // Tagging alone sends nothing: still what an agent may do to follow them up by hand meanwhile.
  // (The channel it goes on was read above, its hold with it.)
  if (!request.tagOnly && (target ?? own)?.hold) throw new ApiError(409, 'resend_number_paused');
  // A dry run writes nothing and needs no claim; a real one plans and writes under its broadcast's
  // claim, so a second click waits for the first and then finds its plan.
  if (request.dryRun) return planAndWrite(db, ws, original, target, own, request, now, null, options);
  const planId = await claimPlan(db, ws.workspaceId, original.id);
  try {
    return await planAndWrite(db, ws, original, target, own, request, now, planId, options);
  } finally {
    await releasePlan(db, planId);
  }
}

async function planAndWrite(
  db: Database,
  ws: Pick<AuthContext, 'workspaceId' | 'defaultCountry'> & { language?: Language },
  original: store.OriginalBroadcast,
  /** The other channel it goes on (original.channelId is already it), or undefined for its own. */
  target: store.ChannelRow | undefined,
  /** Its own channel as read for the request, when it goes there (read once). */
  own: store.ChannelRow | undefined,
  request: ResendRequest,
  now: number,
  planId: number | null,
  options: ResendOptions,
): Promise<ResendResult> {
  const broadcastId = original.id;
  const workspace = await store.workspaceOf(db, ws.workspaceId);
  // Names stored for everyone (tag, re-send broadcasts) in the workspace's language; what this
  // answer says (plan, summary, warnings) in the language of whoever asked.
  const storedLanguage: Language = workspace?.language ?? 'es';
  const language: Language = ws.language ?? storedLanguage;
  const zone = workspaceTimeZone(workspace?.defaultCountry ?? ws.defaultCountry, workspace?.timeZone);
  // Times in the answer's words are said in the reader's zone when given (an agent in another country
  // than the workspace's); the tag's date stays the workspace's, one label for everyone.
  const said = request.timeZone ?? zone;
  const warnings: ResendResult['warnings'] = [];
  const warn = (code: keyof typeof WARNINGS, params: Record<string, string | number>) =>
    warnings.push({ code, message: format(WARNINGS[code][language], params, language) });

  // Who: the chosen reasons' failed rows, less those already in a live re-send. Opt-outs never.
  const unconfirmedWindow = unconfirmedWindowMs();
  const explicitUnconfirmed = request.includeUnconfirmed === true || request.reasons?.includes('uncertain') === true;
  // Other content that may go outside the window makes the closed window a reason a re-send helps.
  const channel = target ?? own;
  const carrier = request.content && channel ? outsideWindowCarrier(channel.type, original.content) : null;
  // On another channel: by default those this one could not reach.
  const reasons = new Set<FailureReason>(
    request.reasons ??
      (target
        ? anotherChannelReasons(await store.broadcastChannelType(db, broadcastId), target.type, original.content)
        : defaultResendReasons(carrier)),
  );
  if (explicitUnconfirmed) reasons.add('uncertain');
  reasons.delete('opted_out');
  const { candidates, skipped, alreadyPlanned } = await store.candidates(db, broadcastId, [...reasons]);
  // Unconfirmed recipients only once their delivery-report window has passed.
  const tooSoon = candidates.filter((c) => c.reason === 'uncertain' && c.failedAt + unconfirmedWindow > now);
  const rows = candidates.filter((c) => !(c.reason === 'uncertain' && c.failedAt + unconfirmedWindow > now));
  if (tooSoon.length) {
    skipped.uncertain = (skipped.uncertain ?? 0) + tooSoon.length;
    const at = tooSoon.reduce((min, c) => Math.min(min, c.failedAt), Number.POSITIVE_INFINITY) + unconfirmedWindow;
    warn('unconfirmed_too_soon', {
      count: tooSoon.length,
      at: formatPlanTime(at, now, said, language),
    });
  }
  // Duplicates still sharing the number another contact kept: that contact's own row is the number's.
  if (channel && rows.some((c) => c.reason === 'duplicate')) {
    const shared = await store.stillSharingANumber(
      db,
      channel,
      rows.filter((c) => c.reason === 'duplicate').map((c) => c.messageId),
    );
    if (shared.size) {
      skipped.duplicate = (skipped.duplicate ?? 0) + shared.size;
      keepOnly(rows, (c) => !shared.has(c.messageId));
    }
  }
  if (options.automatic) {
    // What a person took back (a re-send cancelled before it began) stays theirs to send again, not ours.
    const back = await store.takenBack(db, broadcastId);
    if (back.size) {
      for (const row of rows) if (back.has(row.messageId)) skipped[row.reason] = (skipped[row.reason] ?? 0) + 1;
      keepOnly(rows, (c) => !back.has(c.messageId));
    }
    const capped = await store.cappedInARow(
      db,
      original.channelId,
      rows.filter((c) => c.reason === 'recipient_limit').map((c) => c.contactId),
      now - CAPPED_FOR_MS,
      CAPPED_IN_A_ROW,
    );
    if (capped.size) {
      const before = rows.length;
      keepOnly(rows, (c) => !(c.reason === 'recipient_limit' && capped.has(c.contactId)));
      skipped.recipient_limit = (skipped.recipient_limit ?? 0) + before - rows.length;
    }
  }
  // The tag labels exactly these people: one other contacts already carry is replaced by a unique one.
  const asked = request.tag ?? defaultResendTag(storedLanguage, original, zone);
  const { tag, othersCarrying } = await store.uniqueTag(db, ws.workspaceId, broadcastId, asked);
  if (tag !== asked) warn('tag_changed', { asked, tag, others: othersCarrying });

  // Nothing new: an earlier call planned these already (asking twice changes nothing), or nothing fits.
  // A late failure that brought it back to the list may be in hand already.
  const nothingNew = async () => {
    if (planId !== null) await store.recheckLateFailures(db, broadcastId);
    const live = alreadyPlanned > 0 ? await store.liveResends(db, broadcastId) : [];
    // Said in the message too: an agent's popup shows the message, and the warnings say why (a window
    // closed, a report still awaited).
    const why = warnings.length ? warnings.map((w) => w.message).join(' ') : NOTHING_WHY[language];
    if (live.length === 0) throw new ApiError(422, 'resend_nothing', { why }, { skipped, warnings });
    return reusedResult(db, tag, broadcastId, live, skipped, warnings, now, said, language);
  };
  if (rows.length === 0) return nothingNew();

  // When: the plan, decided by the policy before anything is written (tagging alone sends nothing).
  const { parts, unplanned, againAt } = request.tagOnly
    ? { parts: [], unplanned: [], againAt: undefined }
    : await planParts(db, original, channel, rows, request, now, said, language, unconfirmedWindow, warn);
  if (againAt !== undefined) options.onUnplanned?.(againAt);
  // A quota backlog the plan leaves for later (waves ahead, past the last wave) is neither tagged nor taken.
  if (unplanned.length) {
    const later = new Set(unplanned.map((r) => r.messageId));
    for (const r of unplanned) skipped[r.reason] = (skipped[r.reason] ?? 0) + 1;
    keepOnly(rows, (r) => !later.has(r.messageId));
    if (rows.length === 0) return nothingNew();
  }

  // A text on a channel with a 24 h window (WhatsApp with no template, Messenger with no tag: its own,
  // or the other one it goes on) reaches only those who wrote there in the window before their part
  // goes: the claim refuses the rest. Left out and still failed, free for a re-send that carries past it.
  const hours = channel ? textWindowHours(channel.type, original.content) : null;
  if (channel && hours !== null) {
    const closed = await leaveOutClosedWindows(db, channel, original.content, parts);
    if (closed.length) {
      for (const r of closed) skipped[r.reason] = (skipped[r.reason] ?? 0) + 1;
      const gone = new Set(closed.map((r) => r.messageId));
      keepOnly(rows, (r) => !gone.has(r.messageId));
      // Messenger's HUMAN_AGENT tag widened the window to 7 days; past them only another tag carries it.
      const week = hours !== 24;
      const carrier = channelCapabilities[channel.type].outsideWindow?.carrier ?? 'template';
      warn('window_closed', {
        count: closed.length,
        window: WINDOW_CLOSED_WORDS.window[week ? 'week' : 'day'][language],
        fix: WINDOW_CLOSED_WORDS.fix[carrier === 'tag' && week ? 'otherTag' : carrier][language],
      });
      if (rows.length === 0) return nothingNew();
    }
  }

  // Said of those it takes: a quota backlog left for later, or a closed window, is not re-sent now.
  const unconfirmed = rows.filter((c) => c.reason === 'uncertain').length;
  if (unconfirmed) warn('unconfirmed_duplicates', { count: unconfirmed });

  // A dry run answers the same plan and writes nothing (no tag, no segment, no broadcast).
  if (planId !== null) await options.beforeWrite?.();
  const written =
    planId === null
      ? { tagged: rows.length, newlyTagged: 0, segmentId: null, broadcastIds: [] as number[], released: [] }
      : await writePlan(db, {
          planId,
          writeRows: options.writeRows,
          workspaceId: ws.workspaceId,
          original,
          tag,
          language: storedLanguage,
          parts: request.tagOnly ? [] : parts,
          allRows: rows,
          now,
        });
  if (written.broadcastIds.length) await store.recheckLateFailures(db, broadcastId);
  // The re-sends as written: a report may have moved or let go some of their targets while they were
  // (followReportsSincePlanned, or a report after a chunk's write): counted from their notes, as a second
  // click would count them; the estimates leave out those let go here.
  const letGo = new Set(written.released);
  const taken = letGo.size ? rows.filter((r) => !letGo.has(r.messageId)) : rows;
  const notes = await store.takenNow(db, written.broadcastIds);
  const plan = parts.map((part, i) => {
    const id = written.broadcastIds[i];
    const byReason = id === undefined ? countByReason(part.rows) : (notes.get(id) ?? {});
    const count = Object.values(byReason).reduce((a, n) => a + n, 0);
    return { broadcastId: id ?? null, at: new Date(part.at).toISOString(), count, byReason, why: part.why };
  });
  return {
    ...(target && { channel: await reachOn(db, target, taken, original.content, now) }),
    ...(channel && {
      cost: estimateCost(
        channel.type,
        original.content,
        priceTable(channel.prices),
        await countriesOn(db, channel, [...new Set(taken.map((r) => r.contactId))]),
      ),
    }),
    tag,
    tagged: written.tagged,
    newlyTagged: written.newlyTagged,
    skipped,
    segmentId: written.segmentId,
    broadcastId: written.broadcastIds[0] ?? null,
    scheduledAt: request.tagOnly ? null : (plan[0]?.at ?? null),
    reused: false,
    recipients: request.tagOnly ? taken.length : plan.reduce((a, part) => a + part.count, 0),
    plan: request.tagOnly ? [] : plan,
    summary: request.tagOnly ? '' : summarize(plan, now, said, language),
    warnings,
  };
}

/** What the other channel can do with these recipients: who has an identifier there, what its limit lets through now. */
async function reachOn(
  db: Database,
  channel: store.ChannelRow,
  rows: store.Candidate[],
  content: store.OriginalBroadcast['content'],
  now: number,
): Promise<NonNullable<ResendResult['channel']>> {
  const contacts = [...new Set(rows.map((r) => r.contactId))];
  const reachable = await reachableOn(db, channel, contacts, content, now);
  const usage = await quotaUsage(db, await quotaScope(db, channel), now);
  const sms = isSmsChannel(channel.type) ? smsSegments(content.text) : null;
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    reachable,
    unreachable: contacts.length - reachable,
    allowedNow: usage.remaining === null ? reachable : Math.min(reachable, usage.remaining),
    sms: sms && { encoding: sms.encoding, segments: sms.segments },
  };
}

/**
 * Takes out of each part, in place, those whose window on the channel will have closed at the part's time
 * (`windowClosedAt`), and parts left empty; returns them. Read before the parts let them go: at one time
 * for everyone, the part's rows are the plan's own list.
 */
async function leaveOutClosedWindows(
  db: Database,
  channel: store.ChannelRow,
  content: store.OriginalBroadcast['content'],
  parts: Part[],
): Promise<store.Candidate[]> {
  const closed: store.Candidate[] = [];
  for (const part of parts) {
    const shut = await windowClosedAt(db, channel, [...new Set(part.rows.map((r) => r.contactId))], content, part.at);
    if (shut.size === 0) continue;
    for (const r of part.rows) if (shut.has(r.contactId)) closed.push(r);
    keepOnly(part.rows, (r) => !shut.has(r.contactId));
  }
  keepOnly(parts, (part) => part.rows.length > 0);
  return closed;
}

/** Keeps the rows `keep` says, in place (a spread of a million rows into splice overflows the stack). */
function keepOnly<T>(list: T[], keep: (item: T) => boolean): void {
  let n = 0;
  for (const item of list) if (keep(item)) list[n++] = item;
  list.length = n;
}

function countByReason(rows: store.Candidate[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const row of rows) by[row.reason] = (by[row.reason] ?? 0) + 1;
  return by;
}

async function reusedResult(
  db: Database,
  tag: string,
  broadcastId: number,
  live: store.LiveResend[],
  skipped: Record<string, number>,
  warnings: ResendResult['warnings'],
  now: number,
  zone: string,
  language: Language,
): Promise<ResendResult> {
  const first = live[0];
  const plan = live.map((r) => ({
    broadcastId: r.id,
    at: r.scheduledAt ?? new Date(now).toISOString(),
    count: r.count,
    byReason: r.byReason,
    why: r.status,
  }));
  const tagged = await store.taggedCount(db, broadcastId, first?.tag ?? tag);
  return {
    tag: first?.tag ?? tag,
    tagged,
    newlyTagged: 0,
    skipped,
    segmentId: first?.segmentId ?? null,
    broadcastId: first?.id ?? null,
    scheduledAt: first?.scheduledAt ?? null,
    reused: true,
    recipients: live.reduce((a, r) => a + r.count, 0),
    plan,
    summary: summarize(plan, now, zone, language),
    warnings,
  };
}

/**
 * Cancels the parts of a broadcast's re-send that have not started: the agent who made it can take it
 * back (or cancel and re-send at another time); its failed recipients are free to re-send again.
 */
export async function cancelResend(
  db: Database,
  workspaceId: number,
  broadcastId: number,
  /** The parts of the plan the agent sees; others (another agent's, Rebound's own) stay. Absent: all. */
  resendIds?: readonly number[],
  now = Date.now(),
) {
  const original = await store.originalBroadcast(db, workspaceId, broadcastId);
  if (!original) throw notFound('broadcast', { id: broadcastId });
  const asked = resendIds && new Set(resendIds);
  const scheduled = (await store.liveResends(db, broadcastId)).filter(
    (r) => notStarted(r) && (!asked || asked.has(r.id)),
  );
  // Each checked again in its cancel's transaction: a part the engine started meanwhile is sending,
  // and stopping a broadcast that sends is a manager's cancel, not this one.
  const cancelled: number[] = [];
  for (const part of scheduled) if (await cancelIfNotStarted(db, workspaceId, part.id, now)) cancelled.push(part.id);
  if (cancelled.length === 0) throw new ApiError(409, 'resend_nothing_to_cancel', {});
  // What those parts took is free again: with an earlier re-send still holding, only the flag lists it.
  await store.recheckLateFailures(db, broadcastId, now);
  return { cancelled };
}
