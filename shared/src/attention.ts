/**
 * What needs an agent: a broadcast that failed or partly failed and has not been re-sent yet, or paused,
 * or a finished one with unconfirmed recipients no re-send took, once their wait for a delivery report
 * is over (a re-send of its other failures does not settle them), or one with failures a delivery report
 * brought after its latest re-send was planned. The
 * one copy of the rule: the server's GET /broadcasts/attention selects by it, and anything holding a
 * list of broadcasts (tests, a client with a page in hand) filters with it.
 */
import type { BROADCAST_STATUSES } from './schemas/broadcasts';

type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

/**
 * The statuses that call for an agent, until a re-send of the broadcast exists: a paused one waits for a
 * manager to resume or cancel it.
 */
export const ATTENTION_STATUSES = [
  'failed',
  'partially_failed',
  'paused',
] as const satisfies readonly BroadcastStatus[];

/**
 * A re-send that holds what it was planned for: not cancelled, or cancelled only after it began sending
 * (what it sent stays sent, so its targets are not planned again and their broadcast is re-sent); and not
 * failed at its start (its channel deleted meanwhile, nobody left to reach when it froze): that one sent
 * nothing, and its targets are free for another re-send, on another channel say. One that ran and failed
 * for everyone (broadcast_all_failed) holds them: its own failures carry them on. As RESEND_HOLDS in SQL.
 */
export function resendHolds(resend: {
  status: BroadcastStatus;
  startedAt?: string | null;
  error?: { code: string } | null;
}): boolean {
  return (resend.status !== 'cancelled' || (resend.startedAt ?? null) !== null) && !failedAtStart(resend);
}

/** The error of a broadcast that ran and failed for every recipient; any other error stopped it at its start. */
export const ALL_FAILED = 'broadcast_all_failed';

/** Failed at its start (its channel gone, its segment deleted, nobody reachable when it froze): it sent nothing. */
export function failedAtStart(broadcast: { status: BroadcastStatus; error?: { code: string } | null }): boolean {
  return broadcast.status === 'failed' && broadcast.error != null && broadcast.error.code !== ALL_FAILED;
}

/**
 * When it is: `now` and the wait for a delivery report (the server's UNCONFIRMED_AFTER_HOURS). Without
 * it, only the status rule applies.
 */
export interface AttentionClock {
  now: number;
  unconfirmedWindowMs: number;
}

/** Finished: nothing more goes out (late reports may still move its recipients). */
const FINISHED: readonly BroadcastStatus[] = ['completed', 'partially_failed', 'failed'];

/**
 * When the unconfirmed recipients of a finished broadcast (the request may have reached the provider,
 * and no answer or report said whether it arrived) have waited out their delivery reports. A re-send
 * waits out each one's from when it became unconfirmed; so the wait here runs from the latest of those
 * moments (`unconfirmedAt`), and never ends before the broadcast does. From then on a re-send of them
 * can take them all. Unconfirmed: no answer (`uncertain`) or a final "unknown" report (`failedUncertain`,
 * an SMS provider's dlr:unknown, which often comes after the broadcast ended). Null when it has none,
 * has not finished, or its re-sends that hold took every one of them (`taken` from the re-sends' notes,
 * null when one holds without a note: all taken).
 */
export function unconfirmedWaitEnds(
  broadcast: {
    finishedAt: string | null;
    unconfirmedAt?: string | null;
    uncertain: number;
    failedUncertain?: number;
    taken?: number | null;
  },
  unconfirmedWindowMs: number,
): number | null {
  const { finishedAt, unconfirmedAt = null, uncertain, failedUncertain = 0, taken = 0 } = broadcast;
  const unconfirmed = uncertain + failedUncertain;
  if (unconfirmed <= 0 || finishedAt === null || taken === null || unconfirmed <= taken) return null;
  const from = Math.max(Date.parse(finishedAt), unconfirmedAt === null ? 0 : Date.parse(unconfirmedAt));
  return from + unconfirmedWindowMs;
}

/**
 * A finished broadcast whose unconfirmed recipients, not taken by a re-send, waited out their delivery
 * reports (`unconfirmedWaitEndsAt`, from unconfirmedWaitEnds): it needs an agent now (before, the
 * catalog's advice is to wait), even when a re-send already took its other failures.
 */
export function unconfirmedWaitOver(
  broadcast: { status: BroadcastStatus; unconfirmedWaitEndsAt?: string | null | undefined },
  now: number,
): boolean {
  const ends = broadcast.unconfirmedWaitEndsAt;
  return FINISHED.includes(broadcast.status) && ends != null && Date.parse(ends) <= now;
}

/**
 * The rule for one broadcast: `hasResend` is true once a re-send of it exists that holds (`resendHolds`).
 * A finished one with failures a delivery report brought after its latest re-send was planned
 * (`lateFailedAt`, cleared when the next is written) needs an agent again whatever re-sends it has.
 * Without a clock, only the status rules apply.
 */
export function needsAttention(
  broadcast: {
    status: BroadcastStatus;
    unconfirmedWaitEndsAt?: string | null | undefined;
    lateFailedAt?: string | null | undefined;
  },
  hasResend: boolean,
  clock?: Pick<AttentionClock, 'now'>,
): boolean {
  if (!hasResend && (ATTENTION_STATUSES as readonly BroadcastStatus[]).includes(broadcast.status)) return true;
  if (FINISHED.includes(broadcast.status) && broadcast.lateFailedAt != null) return true;
  return clock !== undefined && unconfirmedWaitOver(broadcast, clock.now);
}

/** The rule over a list: a broadcast counts as re-sent when a re-send of it is in the same list. */
export function needingAttention<
  T extends {
    id: number;
    status: BroadcastStatus;
    resendOfId: number | null;
    startedAt?: string | null;
    error?: { code: string } | null;
    unconfirmedWaitEndsAt?: string | null | undefined;
    lateFailedAt?: string | null | undefined;
  },
>(list: T[], clock?: Pick<AttentionClock, 'now'>): T[] {
  // A re-send cancelled before it began was taken back: the broadcast needs an agent again.
  const resent = new Set(list.flatMap((b) => (b.resendOfId !== null && resendHolds(b) ? [b.resendOfId] : [])));
  return list.filter((b) => needsAttention(b, resent.has(b.id), clock));
}
