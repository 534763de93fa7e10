/**
 * What needs an agent: a broadcast that failed or partly failed and has not been re-sent yet, or paused. The one
 * copy of the rule: the server's GET /broadcasts/attention selects by it, and anything holding a list
 * of broadcasts (tests, a client with a page in hand) filters with it.
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

/** The rule for one broadcast: `hasResend` is true once a re-send of it exists that holds (`resendHolds`). */
export function needsAttention(broadcast: { status: BroadcastStatus }, hasResend: boolean): boolean {
  return (ATTENTION_STATUSES as readonly BroadcastStatus[]).includes(broadcast.status) && !hasResend;
}

/** The rule over a list: a broadcast counts as re-sent when a re-send of it is in the same list. */
export function needingAttention<
  T extends { id: number; status: BroadcastStatus; resendOfId: number | null; startedAt?: string | null },
>(list: T[]): T[] {
  // A re-send cancelled before it began was taken back: the broadcast needs an agent again.
  const resent = new Set(list.flatMap((b) => (b.resendOfId !== null && resendHolds(b) ? [b.resendOfId] : [])));
  return list.filter((b) => needsAttention(b, resent.has(b.id)));
}
