/**
 * THE RECOVERY POLICY: who is sent, who fails and why, who waits, and when a re-send can help.
 * Pure: no database, no clock of its own. The engine's claim, the pre-flight, the audience counts,
 * the re-send planner, the failed log's retry time and the extension all read these functions, so
 * they cannot disagree (they did: the pre-flight and the engine on a quota without a 24 h window).
 *
 * Admission, in order, for one recipient of a broadcast on a channel:
 *   1. opted out on this channel            → fail  opted_out
 *   2. 24 h window closed (WhatsApp, Messenger) and nothing that may go outside it
 *                                            → fail  outside_window
 *      (WhatsApp with a template: the template goes; Messenger with a message tag: the tagged text goes)
 *   3. written to less than the pair rate ago → defer until the pair rate allows
 *   4. a new business-initiated recipient and the rolling 24 h quota is full
 *                                            → fail  quota_reached (re-send at capacity)
 *   otherwise                                → send
 */
import { type ChannelType, channelCapabilities, outsideWindowCarrier } from './channels';
import { type FailureReason, failureReasons, type ResendAdvice } from './failure-reasons';
import type { BroadcastContent } from './schemas/broadcasts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The channel facts admission needs. */
export interface ChannelRules {
  type: ChannelType;
  /** The rolling 24 h unique-recipient limit that applies (the portfolio's when the number shares one). */
  dailyQuota: number | null;
  pairRatePerRecipientSeconds: number | null;
}

/** What the database knows about one recipient on the channel, right now. */
export interface RecipientFacts {
  optedOut: boolean;
  /** The contact wrote within the channel's customer-service window (ignored on channels without one). */
  windowOpen: boolean;
  /** Counted in the rolling quota already (messaged by this number or its portfolio in the last 24 h). */
  countedInQuota: boolean;
  /** Last message to this recipient on this very channel, when within the last 24 h (pair rate). */
  lastSentAt: number | null;
}

export type Admission =
  | {
      kind: 'send';
      useTemplate: boolean;
      countsAgainstQuota: boolean;
      /** The business writes first (outside the window, or a channel without one): what a quota counts. */
      businessInitiated: boolean;
    }
  | { kind: 'fail'; reason: Extract<FailureReason, 'opted_out' | 'outside_window' | 'quota_reached'> }
  | { kind: 'defer'; until: number };

/** True when the channel has a customer-service window (WhatsApp, Messenger). */
export function hasWindow(type: ChannelType): boolean {
  return channelCapabilities[type].customerServiceWindowHours !== null;
}

/** Messenger's HUMAN_AGENT tag: a person's reply up to 7 days after the contact's last message (channels.md). */
const HUMAN_AGENT_HOURS = 7 * 24;

/**
 * Hours of the window this content may go in, or null (no window). Messenger's HUMAN_AGENT tag widens
 * its 24 h to 7 days, and nothing carries it past them (`outsideWindowCarrier`): Meta refuses it then.
 */
export function windowHours(type: ChannelType, content?: BroadcastContent): number | null {
  const hours = channelCapabilities[type].customerServiceWindowHours;
  if (hours !== null && type === 'messenger' && content?.messengerTag === 'HUMAN_AGENT') return HUMAN_AGENT_HOURS;
  return hours;
}

/**
 * The content as a channel of `type` can carry it: the text, plus what the channel may send outside
 * its window (a WhatsApp template, a Messenger tag); SMS and Telegram send the plain text (a template
 * or a tag means nothing there).
 */
export function contentForChannel(type: ChannelType, content: BroadcastContent): BroadcastContent {
  const carrier = channelCapabilities[type].outsideWindow?.carrier;
  if (carrier === 'template')
    return content.template ? { text: content.text, template: content.template } : { text: content.text };
  if (carrier === 'tag')
    return content.messengerTag ? { text: content.text, messengerTag: content.messengerTag } : { text: content.text };
  return { text: content.text };
}

/**
 * Whether a contact's stop of marketing messages (opt_outs.marketing_only: WhatsApp's user_preferences,
 * 131050) keeps this content from them: yes, unless it goes as a utility or authentication template,
 * which Meta still delivers to them ("your order shipped", a code). Plain text is kept from them too: a
 * broadcast is a promotion more often than not, and they asked for none.
 */
export function marketingStopApplies(content: BroadcastContent): boolean {
  const category = content.template?.category;
  return category !== 'utility' && category !== 'authentication';
}

/**
 * Steps 1 to 3 and whether step 4 applies; the quota's capacity is the caller's `QuotaBudget`, because
 * it is spent recipient by recipient. A recipient counts against the quota when it is new in the
 * rolling window and the message is business-initiated: on a channel with a window, outside it; on a
 * channel without one, always.
 */
export function admit(
  recipient: RecipientFacts,
  channel: ChannelRules,
  content: BroadcastContent,
  now: number,
): Admission {
  if (recipient.optedOut) return { kind: 'fail', reason: 'opted_out' };
  const windowed = hasWindow(channel.type);
  const inWindow = windowed && recipient.windowOpen;
  let useTemplate = false;
  if (windowed && !inWindow) {
    const carrier = outsideWindowCarrier(channel.type, content);
    if (carrier === null) return { kind: 'fail', reason: 'outside_window' };
    useTemplate = carrier === 'template';
  }
  if (channel.pairRatePerRecipientSeconds !== null && recipient.lastSentAt !== null) {
    const freeAt = recipient.lastSentAt + channel.pairRatePerRecipientSeconds * 1000;
    if (freeAt > now) return { kind: 'defer', until: freeAt };
  }
  const countsAgainstQuota = channel.dailyQuota !== null && !inWindow && !recipient.countedInQuota;
  return { kind: 'send', useTemplate, countsAgainstQuota, businessInitiated: !inWindow };
}

/**
 * A recipient refused by a full quota whose next place frees within this long waits for it instead of
 * failing. A quota wave is planned 24 h after the wave before it, but that wave's places were counted
 * as its batches went out, seconds to minutes after its start: the next wave's first batches would
 * otherwise fail `quota_reached` again for the seconds between.
 */
export const QUOTA_FREES_SOON_MS = 60_000;

/** The rolling quota's room, spent one new recipient at a time. */
export class QuotaBudget {
  constructor(
    readonly limit: number | null,
    private used: number,
    /** When the next place frees (`QuotaUsage.capacityFreesAt`); null when unknown. */
    readonly freesAt: number | null = null,
  ) {}
  /** Takes one place; false when the quota is full. */
  take(): boolean {
    if (this.limit === null) return true;
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
  get remaining(): number | null {
    return this.limit === null ? null : Math.max(0, this.limit - this.used);
  }
}

/**
 * Admits one recipient, spending quota: the whole cascade as the engine runs it per recipient.
 * `quota_reached` carries when capacity frees (the oldest counted recipient leaves the window).
 */
export function admitWithQuota(
  recipient: RecipientFacts,
  channel: ChannelRules,
  content: BroadcastContent,
  budget: QuotaBudget,
  now: number,
): Admission {
  const admission = admit(recipient, channel, content, now);
  if (admission.kind === 'send' && admission.countsAgainstQuota && !budget.take()) {
    if (budget.freesAt !== null && budget.freesAt <= now + QUOTA_FREES_SOON_MS)
      return { kind: 'defer', until: Math.max(budget.freesAt, now + 1) };
    return { kind: 'fail', reason: 'quota_reached' };
  }
  return admission;
}

/** Counts of an audience grouped by the facts admission reads (the pre-flight and audience counts). */
export interface FactGroup {
  optedOut: boolean;
  windowOpen: boolean;
  countedInQuota: boolean;
  n: number;
}

export interface AdmissionForecast {
  /** Recipients that would go out (within the quota) now. */
  send: number;
  optedOut: number;
  outsideWindow: number;
  /** New recipients that count against the rolling quota. */
  needsQuota: number;
  /** Of needsQuota, those that do not fit in what remains. */
  overQuota: number;
  /** Of send, free text inside an open window (a reply: WhatsApp bills no template for it). */
  freeInWindow: number;
}

/** The same cascade over grouped counts: what the engine will do, said before it does it. */
export function forecastAdmission(
  groups: FactGroup[],
  channel: ChannelRules,
  content: BroadcastContent,
  quotaRemaining: number | null,
  now: number,
): AdmissionForecast {
  const forecast: AdmissionForecast = {
    send: 0,
    optedOut: 0,
    outsideWindow: 0,
    needsQuota: 0,
    overQuota: 0,
    freeInWindow: 0,
  };
  for (const group of groups) {
    if (group.n === 0) continue;
    // The pair rate only delays; it never changes who is sent.
    const admission = admit({ ...group, lastSentAt: null }, channel, content, now);
    if (admission.kind === 'fail') {
      if (admission.reason === 'opted_out') forecast.optedOut += group.n;
      else if (admission.reason === 'outside_window') forecast.outsideWindow += group.n;
      continue;
    }
    if (admission.kind === 'send' && admission.countsAgainstQuota) forecast.needsQuota += group.n;
    if (admission.kind === 'send' && !admission.businessInitiated && !admission.useTemplate)
      forecast.freeInWindow += group.n;
    forecast.send += group.n;
  }
  if (quotaRemaining !== null) forecast.overQuota = Math.max(0, forecast.needsQuota - quotaRemaining);
  forecast.send -= forecast.overQuota;
  return forecast;
}

// ── re-sending ──────────────────────────────────────────────────────────────────────────────────

/**
 * When a re-send of a failed message can help, counted from the failure. The catalog's advice text
 * (failure-reasons.ts) says the same in words; a unit test keeps them together.
 * - `capacity`: when the rolling quota has room again (computed from the quota ledger);
 * - `afterMs`: this long after the failure;
 * - `never`: a re-send of the same message cannot help (something must change first);
 * - `onRequest`: only when asked explicitly, once the delivery-report window has passed (unconfirmed).
 */
export type ResendTiming =
  | { kind: 'capacity' }
  | { kind: 'afterMs'; ms: number }
  | { kind: 'never' }
  | { kind: 'onRequest' };

const TIMING: Partial<Record<FailureReason, ResendTiming>> = {
  quota_reached: { kind: 'capacity' },
  // "Espere unos minutos": the provider's or the pair rate's wait is short.
  throttled: { kind: 'afterMs', ms: 5 * 60_000 },
  // WhatsApp 131049 (marketing limit per person): "espere unas 24 horas".
  recipient_limit: { kind: 'afterMs', ms: DAY_MS },
  // Handset off or out of signal (Twilio 30003): "en una o dos horas".
  unreachable: { kind: 'afterMs', ms: 2 * HOUR_MS },
  provider_error: { kind: 'afterMs', ms: 0 },
  uncertain: { kind: 'onRequest' },
};

export function resendTiming(reason: FailureReason): ResendTiming {
  return TIMING[reason] ?? { kind: 'never' };
}

/** The catalog's one-word advice, derived from the timing. */
export function resendAdvice(reason: FailureReason): ResendAdvice {
  const timing = resendTiming(reason);
  if (timing.kind === 'never' || timing.kind === 'onRequest') return 'never';
  if (timing.kind === 'afterMs' && timing.ms === 0) return 'now';
  return 'later';
}

/**
 * Reasons a default (one-click) re-send includes: those a re-send can help, now or later. A re-send
 * with content that may go outside the 24 h window (a WhatsApp template, a Messenger tag: `carrier`)
 * helps the closed window too, at once.
 */
export function defaultResendReasons(carrier: 'template' | 'tag' | null = null): FailureReason[] {
  return (Object.keys(failureReasons) as FailureReason[]).filter(
    (reason) => resendAdvice(reason) !== 'never' || (reason === 'outside_window' && carrier !== null),
  );
}

/**
 * Failures that say no re-send on the same channel will reach this recipient, whatever it carries: they
 * blocked the business or opted out, the number is wrong or has no account there, their carrier filters
 * the message as spam (another try hurts the number) or refuses it without a cause. Not the channel's, the content's or the window's
 * trouble (account, template, a closed window: the send's own checks catch that one), which can be put
 * right for everyone. A re-send lets go of someone a late report moves to one of these, rather than send
 * them the message once more (releaseHopelessTarget in server/src/services/resend-store.ts).
 */
export const UNREACHABLE_AGAIN = [
  'blocked',
  'opted_out',
  'invalid_identifier',
  'no_identifier',
  'not_on_channel',
  'marketing_held',
  'spam_filtered',
  'carrier_rejected',
] as const satisfies readonly FailureReason[];

export function cannotReachAgain(reason: FailureReason): boolean {
  return (UNREACHABLE_AGAIN as readonly FailureReason[]).includes(reason);
}

/**
 * The earliest time a re-send of failures of `reason` that happened at `failedAt` can help, or null
 * when only quota capacity can tell (the caller asks the ledger) or it never helps by itself.
 * Unconfirmed recipients: after the delivery-report window (`unconfirmedWindowMs`). A daily limit the
 * provider reported (`byProvider`: a carrier's daily cap, Twilio 30022 or 63018, Bird's 106) is not the
 * one Rebound counts, and nothing in the answer says when it frees: a day after the failure.
 */
export function earliestUsefulResend(
  reason: FailureReason,
  failedAt: number,
  now: number,
  unconfirmedWindowMs: number,
  byProvider = false,
): number | null {
  const timing = resendTiming(reason);
  if (timing.kind === 'afterMs') return Math.max(now, failedAt + timing.ms);
  if (timing.kind === 'onRequest') return Math.max(now, failedAt + unconfirmedWindowMs);
  if (timing.kind === 'capacity' && byProvider) return Math.max(now, failedAt + DAY_MS);
  return null;
}

/** True when sending at `at` is earlier than the reason's advice: such a re-send needs `force`. */
export function tooEarly(reason: FailureReason, failedAt: number, at: number, unconfirmedWindowMs: number): boolean {
  const earliest = earliestUsefulResend(reason, failedAt, at, unconfirmedWindowMs);
  return earliest !== null && earliest > at + 60_000;
}

/**
 * The most daily waves a re-send's quota backlog is planned in: a week, as peers retry frequency caps
 * (WATI, Interakt: up to 7 days). A plan of months would hold the number's whole quota every day for
 * new broadcasts too, for a message long stale when its last wave goes; the rest is left to the agent.
 */
export const MAX_QUOTA_WAVES = 7;

/**
 * Waves for `count` recipients that each use one place of a rolling quota of `limit`: the first at
 * `firstAt` with what fits then (`roomAtFirst`), each next a day later with a full quota, at most
 * MAX_QUOTA_WAVES of them (their sizes then add up to fewer than `count`).
 */
export function quotaWaves(
  count: number,
  limit: number | null,
  firstAt: number,
  roomAtFirst: number | null,
): { at: number; size: number }[] {
  if (limit === null || limit <= 0) return count > 0 ? [{ at: firstAt, size: count }] : [];
  const waves: { at: number; size: number }[] = [];
  let left = count;
  let at = firstAt;
  let room = Math.max(1, Math.min(limit, roomAtFirst ?? limit));
  while (left > 0 && waves.length < MAX_QUOTA_WAVES) {
    const size = Math.min(left, room);
    waves.push({ at, size });
    left -= size;
    at += DAY_MS;
    room = limit;
  }
  return waves;
}
