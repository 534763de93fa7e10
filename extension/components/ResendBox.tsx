/** The one-click tag and re-send of a broadcast's failures, and how the re-send went once asked for. */

import { useSignal } from '@preact/signals';
import type { ResendBody, ResendResult } from '@rebound/shared';
import type { Language } from '@rebound/shared/i18n';
import type { FunctionComponent, JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { formatNumber, formatWhen, statusLabel, translate } from '../lib/i18n';
import { type BroadcastReport, failedAndUnconfirmed, sentFigures } from '../lib/report';
import type { ResendState } from '../lib/resend-state';
import { Button } from './Button';

interface Props {
  report: BroadcastReport;
  language: Language;
  resend: ResendState;
  /** Shows another broadcast's report here (a re-send that failed in its turn). */
  onOpenBroadcast?: ((id: number) => void) | undefined;
  /** What to offer for unconfirmed recipients (the popup's UnconfirmedOffer); none in the panel. */
  Offer?: FunctionComponent<OfferProps> | undefined;
}

/** What an offer beside the re-send is given. */
export interface OfferProps {
  report: BroadcastReport;
  language: Language;
  resend: ResendState;
}

/**
 * The plan in the agent's own clock, as the quota line above it reads: the server's `summary` is in the
 * workspace's time zone, and the same moment read in two zones on one card looked like two moments.
 */
function planSummary(language: Language, plan: ResendResult['plan']): string {
  // A part a late report left nobody to take goes with nothing, as in the server's summary.
  return plan
    .filter((part) => part.count > 0)
    .map((part) => `${formatNumber(language, part.count)} ${formatWhen(language, part.at)}`)
    .join(', ');
}

export function ResendBox({ report, language, resend, onOpenBroadcast, Offer }: Props) {
  const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) =>
    translate(language, key, params);
  const helpful = report.reasons.filter((r) => r.resend !== 'never');
  const chosen = useSignal<Set<string>>(new Set(helpful.map((r) => r.code)));
  // The default is the policy's: each reason when a re-send can help (the server plans it).
  const when = useSignal<'auto' | 'now' | 'at'>('auto');
  const at = useSignal('');
  const progress = resend.progress.value;
  // Following a re-send that was cancelled (mid-send: it kept what it reached), one that failed at its
  // start (it holds nobody), or one planned before a delivery report brought new failures (lateFailedAt):
  // the rest are free. Its outcome, then the offer.
  const rest =
    progress.phase === 'done' &&
    (progress.resend?.status === 'cancelled' ||
      progress.resend?.holds === false ||
      report.broadcast.lateFailedAt != null);
  // Tagged, not re-sent: the next step is one click away, planned as the first click is (the server's count
  // and time, its warnings), not the tag's size: the tag counts everyone who carries it.
  const taggedOnly = progress.phase === 'done' && progress.result !== null && progress.result.segmentId === null;
  const offerAgain = rest || taggedOnly;

  // A re-send made earlier (another tab, the notification): follow it instead of offering a second one.
  useEffect(() => {
    const existing = report.resend;
    if (existing && resend.progress.peek().phase === 'idle') {
      void resend.follow(existing);
    }
    return () => resend.stop();
  }, [report.resend?.id]);

  // The server's plan for what the buttons would do, asked again whenever the choices change: the agent
  // reads when the re-send goes before confirming it.
  const preview = useSignal<{ plan: ResendResult } | { refused: string } | null>(null);
  const choiceKey = `${[...chosen.value].sort().join()}|${when.value}|${at.value}`;
  useEffect(() => {
    // Not while following a re-send, unless it was cancelled (then, or once it is, the rest are offered);
    // after a refused click, the choices stay to change. The last plan is not shown for new choices.
    const { phase } = resend.progress.peek();
    const following = phase === 'working' || phase === 'done';
    if (report.resendable === 0 || broadcastNotFinished(report) || (following && !offerAgain)) return;
    preview.value = null;
    let current = true;
    void resend.preview(report.broadcast.id, body(false)).then((answer) => {
      if (current) preview.value = answer;
    });
    return () => {
      current = false;
    };
  }, [choiceKey, report.broadcast.id, offerAgain, progress.phase]);
  // What the click does: the server's plan once in hand (some failures may be held by a re-send already;
  // one it would only reuse adds nobody), the failures of the chosen reasons until then.
  const plan = (preview.value as { plan?: ResendResult } | null)?.plan;
  const chosenFailures = report.reasons.filter((r) => chosen.value.has(r.code)).reduce((sum, r) => sum + r.count, 0);
  let count = rest ? 0 : chosenFailures;
  if (plan) count = plan.reused ? 0 : plan.recipients;
  // Off until the plan for these choices is in: a click would send them under the last plan's words.
  const off = !count || !preview.value;
  const body = (tagOnly: boolean): ResendBody => ({
    reasons: [...chosen.value] as ResendBody['reasons'],
    ...(when.value === 'now' && { when: 'now' as const }),
    ...(when.value === 'at' && at.value ? { when: new Date(at.value).toISOString() } : {}),
    ...(tagOnly && { tagOnly: true }),
  });

  // Unconfirmed recipients' own offer: the popup's (the content script stays within its budget).
  const unconfirmedOffer = Offer && <Offer report={report} language={language} resend={resend} />;
  let outcome: JSX.Element | undefined;
  if (progress.phase !== 'idle') {
    const scheduled = progress.phase === 'done' && progress.resend?.status === 'scheduled';
    outcome = (
      <div
        ref={(element) => {
          element?.scrollIntoView({ block: 'nearest' });
          // The clicked button went with the click (the outcome took its place): the focus goes here, which a
          // screen reader then reads, rather than to the page; only when it was lost, never taken from where
          // the agent put it.
          if (progress.phase === 'working' && document.activeElement === document.body)
            element?.focus({ preventScroll: true });
        }}
        tabIndex={-1}
        class="rb-section rb-progress"
        role="status"
        data-testid="resend-progress"
      >
        {progress.phase === 'working' && <p class="rb-working">{t('working')}</p>}
        {progress.phase === 'error' && <p class="rb-error">{progress.message}</p>}
        {progress.phase === 'error' && progress.code === 'resend_too_early' && progress.body && (
          <Button
            class="rb-secondary"
            onClick={() =>
              progress.broadcastId !== undefined &&
              resend.start(progress.broadcastId, { ...progress.body, force: true })
            }
          >
            {t('forceAction')}
          </Button>
        )}
        {progress.phase === 'done' && (
          <ResendOutcome progress={progress} language={language} onOpenBroadcast={onOpenBroadcast} />
        )}
        {scheduled && (
          <Button class="rb-secondary" onClick={() => resend.cancel(report.broadcast.id)}>
            {t('cancelResend')}
          </Button>
        )}
      </div>
    );
    if (!offerAgain && progress.phase !== 'error')
      return (
        <>
          {outcome}
          {unconfirmedOffer}
        </>
      );
  }
  if (report.resendable === 0 || broadcastNotFinished(report)) {
    // Unconfirmed recipients can be re-sent once their wait is over (the popup's offer): never "nothing to fix".
    // Failures a re-send can help, on a broadcast still sending or paused: once it finishes, not "nothing".
    return (
      <>
        {outcome}
        {report.unconfirmed.count > 0 && !report.resendable
          ? unconfirmedOffer
          : report.notSent > 0 && (
              <p class="rb-muted">{t(report.resendable ? 'resendWhenFinished' : 'nothingToResend')}</p>
            )}
      </>
    );
  }
  return (
    <>
      {outcome}
      {unconfirmedOffer}
      <div class="rb-section rb-actions">
        <p class="rb-plan" data-testid="resend-when" aria-live="polite">
          {preview.value === null
            ? t('planLoading')
            : 'plan' in preview.value
              ? t('planWhen', { summary: planSummary(language, preview.value.plan.plan) })
              : preview.value.refused}
        </p>
        {/* What the plan warns of (they may get it twice, a quota wave capped...), read before the click. */}
        {plan?.warnings.map((warning) => (
          <p key={warning.code} class="rb-muted" data-testid="resend-warning">
            {warning.message}
          </p>
        ))}
        <Button class="rb-primary" disabled={off} onClick={() => resend.start(report.broadcast.id, body(false))}>
          {taggedOnly ? t('resendTaggedToo', { count }) : t('resendAction', { count: formatNumber(language, count) })}
        </Button>
        {!taggedOnly && (
          <Button class="rb-secondary" disabled={off} onClick={() => resend.start(report.broadcast.id, body(true))}>
            {t('tagOnlyAction')}
          </Button>
        )}
        <details class="rb-choices">
          <summary>{t('resendChoices')}</summary>
          <fieldset>
            <legend>{t('whichReasons')}</legend>
            {report.reasons.map((reason) => (
              <label key={reason.code} class="rb-check">
                <input
                  type="checkbox"
                  checked={chosen.value.has(reason.code)}
                  onChange={(event) => {
                    const next = new Set(chosen.value);
                    if ((event.currentTarget as HTMLInputElement).checked) next.add(reason.code);
                    else next.delete(reason.code);
                    chosen.value = next;
                  }}
                />
                {reason.title} ({formatNumber(language, reason.count)})
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{t('when')}</legend>
            {(['auto', 'now', 'at'] as const).map((option) => (
              <label key={option} class="rb-check">
                <input
                  type="radio"
                  name="rb-when"
                  checked={when.value === option}
                  onChange={() => {
                    when.value = option;
                  }}
                />
                {t(option === 'auto' ? 'whenAuto' : option === 'now' ? 'whenNow' : 'whenAt')}
              </label>
            ))}
            {when.value === 'at' && (
              <input
                type="datetime-local"
                class="rb-input"
                value={at.value}
                aria-label={t('whenAt')}
                onInput={(event) => {
                  at.value = (event.currentTarget as HTMLInputElement).value;
                }}
              />
            )}
          </fieldset>
        </details>
      </div>
    </>
  );
}

function ResendOutcome({
  progress,
  language,
  onOpenBroadcast,
}: {
  progress: Extract<ResendState['progress']['value'], { phase: 'done' }>;
  language: Language;
  onOpenBroadcast?: ((id: number) => void) | undefined;
}) {
  const { result, resend } = progress;
  const n = (value: number) => formatNumber(language, value);
  const lines: string[] = [];
  if (result) {
    lines.push(translate(language, 'tagged', { count: result.tagged, tag: result.tag }));
    // The server's plan: what goes now and what waits, and until when ("1 ahora, 500 mañana a las 10:21").
    const summary = planSummary(language, result.plan);
    if (summary) lines.push(translate(language, 'resendPlan', { summary }));
    for (const warning of result.warnings) lines.push(warning.message);
  } else if (resend)
    lines.push(
      translate(language, 'alreadyResent', { name: resend.name, status: statusLabel(language, resend.status) }),
    );
  if (resend?.status === 'scheduled' && resend.scheduledAt)
    lines.push(translate(language, 'resendScheduled', { when: formatWhen(language, resend.scheduledAt) }));
  if (resend?.status === 'sending') {
    const done = sentFigures(resend).sent + (resend.counts.failed ?? 0);
    lines.push(
      translate(language, 'resendSending', {
        done: n(done),
        total: n(resend.completedCount ?? resend.targetCount ?? done),
      }),
    );
  }
  // A final "unknown" report is not a failure (failedAndUnconfirmed): said apart, as the badge says it.
  const { failed, unconfirmed } = resend ? failedAndUnconfirmed(resend) : { failed: 0, unconfirmed: 0 };
  if (resend && isFinished(resend.status)) {
    lines.push(translate(language, 'resendDone', { sent: sentFigures(resend).sent, failed }));
    if (unconfirmed > 0) lines.push(translate(language, 'badgeUnconfirmed', { count: unconfirmed }));
  }
  // A re-send that failed in its turn is not the end: its own report explains it and offers its re-send
  // (or, for unconfirmed ones, offers them once their wait is over).
  const failedAgain = resend && isFinished(resend.status) && failed + unconfirmed > 0;
  return (
    <>
      {lines.map((line) => (
        <p key={line}>{line}</p>
      ))}
      {failedAgain && onOpenBroadcast && (
        <Button class="rb-secondary" onClick={() => onOpenBroadcast(resend.id)}>
          {failed > 0
            ? translate(language, 'openResendFailures', { count: failed })
            : translate(language, 'openResendUnconfirmed', { count: unconfirmed })}
        </Button>
      )}
    </>
  );
}

function isFinished(status: string) {
  return status === 'completed' || status === 'partially_failed' || status === 'failed';
}

/** What the server will not re-send yet (resend_not_finished): on its way, or paused until someone decides. */
function broadcastNotFinished(report: BroadcastReport) {
  return ['scheduled', 'sending', 'paused'].includes(report.broadcast.status);
}
