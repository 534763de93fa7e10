/**
 * What the overlay and the popup show about a broadcast, put together in the background from the API:
 * the broadcast, its failures by reason (explained), the channel's limits and any re-send already made.
 */
import type { Broadcast, FailureDescription } from '@rebound/shared';
// The rule alone: the package's index would bring zod into the content script.
import { resendHolds } from '@rebound/shared/attention';
import type { Language } from '@rebound/shared/i18n';
import type { Api } from './api';
import { formatWhen, translate } from './i18n';

export interface ReasonLine extends FailureDescription {
  count: number;
}

export type BroadcastLite = Pick<
  Broadcast,
  | 'id'
  | 'name'
  | 'status'
  | 'targetCount'
  | 'completedCount'
  | 'counts'
  | 'failedByReason'
  | 'funnel'
  | 'error'
  | 'scheduledAt'
  | 'startedAt'
  | 'finishedAt'
  | 'resendOfId'
  | 'channelId'
  | 'pause'
  | 'recovery'
  | 'lateFailedAt'
> & {
  /**
   * Whether, as a re-send, it holds those it was for (shared `resendHolds`), decided where the broadcast is
   * read (lite), so the content script follows it without carrying the rule.
   */
  holds?: boolean;
};

export interface BroadcastReport {
  broadcast: BroadcastLite;
  /** What it sent (the popup's "send on another channel" reads what that channel can carry of it). */
  content?: Broadcast['content'];
  /** Failed at the provider or left out before sending. */
  notSent: number;
  reasons: ReasonLine[];
  /** How many a re-send can help (now or later); the rest are shown but left out. */
  resendable: number;
  /** Whether a re-send reaches every recipient it did not reach (reachesAll): the pill's amber, as the badge's. */
  retryable: boolean;
  /**
   * Its unconfirmed recipients, and when their wait for a delivery report ends (null: none, or it has not
   * finished). After that an agent may re-send to them, knowing some may get it twice.
   */
  unconfirmed: {
    count: number;
    /** Those no re-send took (the badge's count): what a re-send of them can still reach. */
    left: number;
    waitEndsAt: string | null;
  };
  channelLimits: Broadcast['channelLimits'];
  resend: BroadcastLite | null;
  /** Whether this token may resume a paused broadcast (a manager or the owner). */
  canResume?: boolean;
}

/** The count shown on a badge beside a broadcast's name. */
export interface BroadcastBadge {
  id: number;
  name: string;
  status: Broadcast['status'];
  failed: number;
  /** Unconfirmed: no answer, or a final "unknown" report (they may have it). */
  uncertain: number;
  /** Of those, the ones no re-send took (the server's `unconfirmedLeft`): all of them until a re-send. */
  unconfirmedLeft: number;
  /** Left out before sending (opted out, invalid number, no identifier on the channel). */
  excluded: number;
  /** When it was scheduled, to tell apart broadcasts that share a name. */
  scheduledAt: string | null;
  /**
   * Its latest re-send, if one was made: with the recipients it failed for in its turn (`failed`), and
   * whether a re-send of it reaches them all (`retryable`, reachesAll: amber, else red).
   */
  resend: { id: number; status: Broadcast['status']; failed: number; retryable: boolean } | null;
  /** When a delivery report last brought a failure after its re-send was written (null: none since). */
  lateFailedAt: string | null;
  /**
   * Whether a re-send reaches every recipient it did not reach (reachesAll): amber; else red. False
   * where no catalog was at hand (the chooser and the teaching bar, which draw no badge).
   */
  retryable: boolean;
  /** Needs an agent by the attention rule (@rebound/shared/attention, the toolbar's count): a re-sent one again. */
  attention: boolean;
}

export function lite(b: Broadcast): BroadcastLite {
  return {
    id: b.id,
    name: b.name,
    status: b.status,
    targetCount: b.targetCount,
    completedCount: b.completedCount,
    counts: b.counts,
    failedByReason: b.failedByReason,
    funnel: b.funnel,
    error: b.error,
    scheduledAt: b.scheduledAt,
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    resendOfId: b.resendOfId,
    channelId: b.channelId,
    pause: b.pause,
    recovery: b.recovery,
    lateFailedAt: b.lateFailedAt,
    holds: resendHolds(b),
  };
}

/**
 * Its failed and its unconfirmed recipients as an agent reads them. Unconfirmed: no answer, or a final
 * receipt that said "unknown" (failed, reason `uncertain`: an SMS provider's dlr:unknown); either may
 * have arrived, so neither is called failed.
 */
export function failedAndUnconfirmed(b: Pick<Broadcast, 'counts' | 'failedByReason'>): {
  failed: number;
  unconfirmed: number;
} {
  const unknown = b.failedByReason.uncertain ?? 0;
  return { failed: (b.counts.failed ?? 0) - unknown, unconfirmed: (b.counts.uncertain ?? 0) + unknown };
}

/**
 * Whether a re-send can reach every one of the broadcast's failures: each failure's reason is one a
 * re-send helps, now or later (the catalog's advice, as the panel colours its reasons). The one rule for
 * amber, on the badge (which counts the failures) and the pill (which counts those left out before
 * sending too: amber only when there are none, BroadcastReport.retryable); red otherwise. Final
 * "unknown" receipts are unconfirmed, no failure: not counted.
 */
export function reachesAll(
  b: Pick<Broadcast, 'counts' | 'failedByReason'>,
  catalog: Map<string, FailureDescription>,
): boolean {
  const { failed } = failedAndUnconfirmed(b);
  if (failed <= 0) return false;
  let helped = 0;
  for (const [code, count] of Object.entries(b.failedByReason)) {
    const advice = catalog.get(code)?.resend;
    if (advice === 'now' || advice === 'later') helped += count;
  }
  return helped === failed;
}

export async function buildReport(
  api: Api,
  broadcastId: number,
  catalog: Map<string, FailureDescription>,
): Promise<BroadcastReport> {
  const [broadcast, summary, resends] = await Promise.all([
    api.broadcast(broadcastId),
    api.summary(broadcastId),
    api.broadcasts({ resendOfId: broadcastId, limit: 10 }),
  ]);
  const reasons = Object.entries(summary.byReason)
    .map(([code, count]) => {
      const description = catalog.get(code);
      return description ? { ...description, count } : null;
    })
    .filter((line): line is ReasonLine => line !== null)
    .sort((a, b) => b.count - a.count);
  // A re-send cancelled before it began was taken back: the broadcast is open to a new one. One
  // cancelled mid-send stays its re-send (what it sent stays sent); ResendBox offers the rest.
  const resend = resends.data.find(resendHolds);
  return {
    broadcast: lite(broadcast),
    content: broadcast.content,
    notSent: summary.total,
    reasons,
    resendable: summary.retryable.now + summary.retryable.later,
    // The pill counts the recipients left out before sending with the failures: none of them a re-send reaches.
    retryable: reachesAll(broadcast, catalog) && !broadcast.counts.excluded,
    unconfirmed: {
      count: failedAndUnconfirmed(broadcast).unconfirmed,
      left: broadcast.unconfirmedLeft,
      waitEndsAt: broadcast.unconfirmedWaitEndsAt,
    },
    channelLimits: broadcast.channelLimits,
    resend: resend ? lite(resend) : null,
  };
}

/**
 * A reason's colour (ux.md): amber when a re-send can help later, red when it cannot, grey for an
 * unconfirmed recipient, whose message may have arrived (its own offer says when a re-send may go).
 */
export const toneOf = (reason: { code: string; resend: string }) =>
  reason.code === 'uncertain' ? 'uncertain' : reason.resend;

/**
 * Recipients the provider took (sent or delivered), and how many the broadcast went to: every recipient
 * it froze, each counted once in its state, those left out before sending (a bad number, opted out)
 * included, as the figures of not sent count them ("500 de 1.500", never "500 de 1.480"); never fewer
 * than it went through (completedCount). A row left out while it sent (a re-send's recipient a report
 * said it cannot reach) moves from queued to left out, and is still one.
 */
export function sentFigures(b: BroadcastLite): { sent: number; total: number } {
  const sent = (b.counts.sent ?? 0) + (b.counts.delivered ?? 0);
  const frozen = Object.values(b.counts).reduce((sum: number, n) => sum + (n ?? 0), 0);
  const total = b.completedCount === null ? (b.targetCount ?? sent) : Math.max(b.completedCount, frozen);
  return { sent, total };
}

/**
 * "500 de 1.500 no se enviaron": how many of how many, one rule for the headline, the popup and the
 * notification (out of the recipients the broadcast went through, never fewer than those not sent).
 * Unconfirmed recipients went out (they may have it): never among those not sent.
 */
export function notSentFigures(report: BroadcastReport): { failed: number; total: number } {
  const { total } = sentFigures(report.broadcast);
  const failed = Math.max(0, report.notSent - report.unconfirmed.count);
  return { failed, total: Math.max(total, failed) };
}

/**
 * The one line at the top of a report. Only a finished broadcast can say every message went out: a
 * scheduled one has sent nothing yet, a sending one is on its way, a paused or cancelled one stopped.
 */
export function headline(report: BroadcastReport, language: Language, now = new Date()): string {
  const b = report.broadcast;
  const { sent, total } = sentFigures(b);
  if (b.status === 'draft') return translate(language, 'headlineDraft');
  if (b.status === 'scheduled')
    return translate(language, 'headlineScheduled', {
      when: b.scheduledAt ? formatWhen(language, b.scheduledAt, now) : '',
    });
  // A paused one is not finished either: how far it got, not "all went out" (its pause line says why).
  if (b.status === 'sending' || b.status === 'paused') {
    const done = sent + (b.counts.failed ?? 0) + (b.counts.uncertain ?? 0) + (b.counts.excluded ?? 0);
    return translate(language, `headline_${b.status}`, { done, total: Math.max(total, done) });
  }
  const notSent = notSentFigures(report);
  if (notSent.failed > 0) return translate(language, 'notDelivered', notSent);
  if (b.status === 'cancelled') return translate(language, 'headlineCancelled', { sent });
  // A broadcast that failed as a whole says why in its error; no headline claims anything beside it.
  if (b.error || b.status === 'failed') return '';
  // All went out, but not all are confirmed: never "all went out" alone. The broadcast's own count (the
  // badge counts only those no re-send took: what needs an agent).
  if (report.unconfirmed.count > 0) return translate(language, 'badgeUnconfirmed', { count: report.unconfirmed.count });
  return translate(language, 'allSent');
}
