/**
 * What needs an agent: a broadcast that failed or partly failed and has not been re-sent yet, or paused,
 * or one that completed with unconfirmed recipients once their wait for a delivery report is over. The
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
 * (what it sent stays sent, so its targets are not planned again and their broadcast is re-sent).
 */
export function resendHolds(resend: { status: BroadcastStatus; startedAt?: string | null }): boolean {
  return resend.status !== 'cancelled' || (resend.startedAt ?? null) !== null;
}

/**
 * When it is: `now` and the wait for a delivery report (the server's UNCONFIRMED_AFTER_HOURS). Without
 * it, only the status rule applies.
 */
export interface AttentionClock {
  now: number;
  unconfirmedWindowMs: number;
}

/**
 * When the unconfirmed recipients of a finished broadcast (the request may have reached the provider,
 * and no answer or report said whether it arrived) have waited out their delivery reports: the wait
 * counted from when it finished, after every one of them was sent. From then on no report will tell, and
 * a re-send of them can be asked for. Null when it has none, or has not finished.
 */
export function unconfirmedWaitEnds(
  broadcast: { finishedAt: string | null; uncertain: number },
  unconfirmedWindowMs: number,
): number | null {
  if (broadcast.uncertain <= 0 || broadcast.finishedAt === null) return null;
  return Date.parse(broadcast.finishedAt) + unconfirmedWindowMs;
}

/**
 * A completed broadcast whose unconfirmed recipients waited out their delivery reports: it needs an agent
 * now (before, the catalog's advice is to wait). The other finished statuses need attention already.
 */
export function unconfirmedWaitOver(
  broadcast: { status: BroadcastStatus; finishedAt: string | null; uncertain: number },
  clock: AttentionClock,
): boolean {
  const ends = unconfirmedWaitEnds(broadcast, clock.unconfirmedWindowMs);
  return broadcast.status === 'completed' && ends !== null && ends <= clock.now;
}

/** The rule for one broadcast: `hasResend` is true once a re-send of it exists that holds (`resendHolds`). */
export function needsAttention(
  broadcast: { status: BroadcastStatus; finishedAt?: string | null; uncertain?: number | undefined },
  hasResend: boolean,
  clock?: AttentionClock,
): boolean {
  if (hasResend) return false;
  if ((ATTENTION_STATUSES as readonly BroadcastStatus[]).includes(broadcast.status)) return true;
  if (!clock) return false;
  const { status, finishedAt = null, uncertain = 0 } = broadcast;
  return unconfirmedWaitOver({ status, finishedAt, uncertain }, clock);
}

/** The rule over a list: a broadcast counts as re-sent when a re-send of it is in the same list. */
export function needingAttention<
  T extends {
    id: number;
    status: BroadcastStatus;
    resendOfId: number | null;
    startedAt?: string | null;
    finishedAt?: string | null;
    counts?: { uncertain?: number | undefined };
  },
>(list: T[], clock?: AttentionClock): T[] {
  // A re-send cancelled before it began was taken back: the broadcast needs an agent again.
  const resent = new Set(list.flatMap((b) => (b.resendOfId !== null && resendHolds(b) ? [b.resendOfId] : [])));
  return list.filter((b) =>
    needsAttention(
      { status: b.status, finishedAt: b.finishedAt, uncertain: b.counts?.uncertain },
      resent.has(b.id),
      clock,
    ),
  );
}
