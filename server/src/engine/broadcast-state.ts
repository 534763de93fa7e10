/**
 * The broadcast state machine, in one place. Every status change in Rebound goes through transition().
 *
 *   draft ──schedule──▶ scheduled ──start──▶ sending ──▶ completed | partially_failed | failed
 *     ▲                   │  │                  │
 *     └──────unschedule───┘  └─▶ failed         └──cancel──▶ cancelled
 *   (segment missing or empty at start)   (late delivery reports move completed ⇄ partially_failed ⇄ failed)
 *   scheduled | sending ──quality guard or Meta──▶ paused ──resume──▶ where it was (scheduled if it never
 *   started, sending otherwise); paused ──cancel──▶ cancelled
 */
import type { BroadcastStatus, MessageState } from '../db/schema';
import { ApiError } from '../lib/errors';

const allowed: Record<BroadcastStatus, readonly BroadcastStatus[]> = {
  draft: ['scheduled', 'cancelled'],
  scheduled: ['draft', 'sending', 'failed', 'cancelled', 'paused'],
  sending: ['completed', 'partially_failed', 'failed', 'cancelled', 'paused'],
  // Held by the quality guard or Meta until a manager decides.
  paused: ['sending', 'scheduled', 'cancelled'],
  // A delivery report can arrive after the last send and change the verdict.
  completed: ['partially_failed', 'failed'],
  partially_failed: ['completed', 'failed'],
  failed: ['partially_failed', 'completed'],
  cancelled: [],
};

export function canTransition(from: BroadcastStatus, to: BroadcastStatus): boolean {
  return from === to || allowed[from].includes(to);
}

export class TransitionError extends Error {
  constructor(
    readonly from: BroadcastStatus,
    readonly to: BroadcastStatus,
  ) {
    super(`A broadcast cannot go from ${from} to ${to}`);
  }
}

export function assertTransition(from: BroadcastStatus, to: BroadcastStatus): void {
  if (!canTransition(from, to)) throw new TransitionError(from, to);
}

/** The furthest ahead a broadcast or a re-send may be scheduled: a year typed wrong would wait decades. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 86_400_000;

/** Refuses a send time past MAX_SCHEDULE_AHEAD_MS (2062 typed for 2026); `given` is what the caller sent. */
export function refuseFarAhead(at: number, now: number, given: string): void {
  if (at <= now + MAX_SCHEDULE_AHEAD_MS) return;
  throw new ApiError(422, 'broadcast_schedule_far', { days: MAX_SCHEDULE_AHEAD_MS / 86_400_000 }, [
    { path: 'body.at', message: given },
  ]);
}

/** Statuses a broadcast can still be edited in (a paused one that never started may also take a new time). */
export const EDITABLE: readonly BroadcastStatus[] = ['draft', 'scheduled'];
/** Statuses after the last send. */
export const FINISHED: readonly BroadcastStatus[] = ['completed', 'partially_failed', 'failed', 'cancelled'];

export type StateCounts = Partial<Record<MessageState, number>>;

/**
 * The verdict once no recipient is queued or sending: every recipient reached → completed; none
 * reached → failed; in between → partially failed. Uncertain recipients count as not failed.
 */
export function finishedStatus(counts: StateCounts): 'completed' | 'partially_failed' | 'failed' | undefined {
  if ((counts.queued ?? 0) > 0 || (counts.sending ?? 0) > 0) return undefined;
  const reached = (counts.sent ?? 0) + (counts.delivered ?? 0) + (counts.uncertain ?? 0);
  const failed = counts.failed ?? 0;
  if (failed === 0) return 'completed';
  return reached === 0 ? 'failed' : 'partially_failed';
}
