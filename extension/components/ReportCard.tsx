/** A broadcast's failures explained, its channel's limit, and the one-click tag and re-send. */

import { useSignal } from '@preact/signals';
import type { ResendBody, ResendResult } from '@rebound/shared';
import type { Language } from '@rebound/shared/i18n';
import { useEffect } from 'preact/hooks';
import { formatNumber, formatWhen, statusLabel, translate } from '../lib/i18n';
import { type BroadcastReport, headline, sentFigures } from '../lib/report';
import type { ResendState } from '../lib/resend-state';
import { WhoFailed } from './WhoFailed';

interface Props {
  report: BroadcastReport;
  language: Language;
  resend: ResendState;
  /** Shows another broadcast's report here (a re-send that failed in its turn). */
  onOpenBroadcast?: (id: number) => void;
  /** Resumes a paused broadcast (the background asks the server), then shows it again. */
  onResume?: (id: number) => Promise<void>;
}

/** Failures of the broadcast as a whole (before any message), each with what the agent can do. */
const WHOLE_FAILURES = ['broadcast_empty_target', 'broadcast_segment_deleted', 'broadcast_channel_missing'] as const;

export function ReportCard({ report, language, resend, onOpenBroadcast, onResume }: Props) {
  const { broadcast } = report;
  const wholeFailure = WHOLE_FAILURES.find((code) => code === broadcast.error?.code);
  return (
    <section class="rb-report" aria-label={broadcast.name}>
      <header class="rb-report-head">
        <h2 class="rb-title">{broadcast.name}</h2>
        <span class={`rb-status rb-status-${broadcast.status}`}>{statusLabel(language, broadcast.status)}</span>
      </header>
      {broadcast.error && (
        <p class="rb-error" role="alert">
          {broadcast.error.message}
        </p>
      )}
      {broadcast.pause && <Paused report={report} language={language} onResume={onResume} />}
      {wholeFailure && (
        // Nothing was sent for a reason of the broadcast itself: no channel limit explains it; say what to do.
        <p class="rb-reason-action" data-testid="whole-failure-fix">
          {translate(language, `fix_${wholeFailure}`)}
        </p>
      )}
      <p class="rb-headline" data-testid="headline">
        {headline(report, language)}
      </p>
      <Funnel report={report} language={language} />
      {report.reasons.length > 0 && <ReasonList report={report} language={language} />}
      {report.reasons.length > 0 && <WhoFailed report={report} language={language} />}
      {!wholeFailure && <LimitGauge report={report} language={language} />}
      <ResendBox report={report} language={language} resend={resend} onOpenBroadcast={onOpenBroadcast} />
    </section>
  );
}

/**
 * Why the broadcast is paused (the server's words, which say what to check), and Resume for a manager;
 * a failed resume says why in the same line. An agent cannot resume: told who can, so the pause is
 * not read as something broken.
 */
function Paused({ report, onResume, language }: Pick<Props, 'report' | 'language' | 'onResume'>) {
  const failed = useSignal('');
  return (
    <p class="rb-error" role="alert" data-testid="paused">
      {failed.value || report.broadcast.pause?.message}{' '}
      {report.canResume ? (
        onResume && (
          <button
            type="button"
            class="rb-primary"
            onClick={() => onResume(report.broadcast.id).catch((failure: Error) => (failed.value = failure.message))}
          >
            {translate(language, 'resume')}
          </button>
        )
      ) : (
        <>
          <br />
          {translate(language, 'resumeByManager')}
        </>
      )}
    </p>
  );
}

/**
 * Sent → delivered → read, and failed, from the providers' reports: shown once anything went out or
 * failed (a scheduled broadcast has no funnel yet). Delivered and read also as a share of those sent.
 */
function Funnel({ report, language }: { report: BroadcastReport; language: Language }) {
  const { funnel } = report.broadcast;
  if (!funnel || funnel.sent + funnel.failed === 0) return null;
  // A step the channel never reports (null: Telegram's deliveries, any SMS's reads) is left out, not
  // shown as 0; so is "0 read" (a channel may report reads while the app is not subscribed to them).
  const steps = [
    { key: 'sent', label: translate(language, 'funnelSent'), n: funnel.sent },
    { key: 'delivered', label: translate(language, 'funnelDelivered'), n: funnel.delivered },
    { key: 'read', label: translate(language, 'funnelRead'), n: funnel.read },
    { key: 'failed', label: translate(language, 'funnelFailed'), n: funnel.failed },
  ].filter(
    (step): step is { key: string; label: string; n: number } =>
      step.n !== null && !(step.key === 'read' && step.n === 0),
  );
  // Sent, and not one report back yet: "0 entregados" would read as a failure when the reports may
  // simply not have come (yet, or at all: a channel's webhook not set up). Said as it is instead.
  const awaiting = funnel.sent > 0 && !funnel.delivered && !funnel.read && funnel.delivered !== null;
  const shown = awaiting ? steps.filter((step) => step.key === 'sent' || step.key === 'failed') : steps;
  return (
    <div class="rb-section" data-testid="funnel">
      <h3 class="rb-subtitle">{translate(language, 'funnelHeading')}</h3>
      <dl class="rb-funnel">
        {shown.map((step) => (
          <div key={step.key} class={`rb-funnel-step rb-funnel-${step.key}`} data-step={step.key}>
            <dt>{step.label}</dt>
            <dd>
              <span class="rb-funnel-count">{formatNumber(language, step.n)}</span>
              {(step.key === 'delivered' || step.key === 'read') && funnel.sent > 0 && (
                <span class="rb-muted rb-funnel-share">
                  {translate(language, 'funnelShare', { share: shareOf(step.n, funnel.sent) })}
                </span>
              )}
            </dd>
          </div>
        ))}
      </dl>
      {awaiting && (
        <p class="rb-muted" data-testid="funnel-awaiting">
          {translate(language, 'funnelAwaiting')}
        </p>
      )}
    </div>
  );
}

/** A whole percentage that never says 100 % before all, nor 0 % for some: 999 of 1,000 is 99 %, 4 is 1 %. */
function shareOf(n: number, of: number): number {
  if (n <= 0 || of <= 0) return 0;
  return Math.min(n >= of ? 100 : 99, Math.max(1, Math.floor((n / of) * 100)));
}

function ReasonList({ report, language }: { report: BroadcastReport; language: Language }) {
  const max = Math.max(...report.reasons.map((r) => r.count), 1);
  return (
    <div class="rb-section">
      <h3 class="rb-subtitle">{translate(language, 'reasonsHeading')}</h3>
      <ul class="rb-reasons" aria-label={translate(language, 'chartLabel')}>
        {report.reasons.map((reason) => (
          <li key={reason.code} class={`rb-reason rb-resend-${reason.resend}`} data-reason={reason.code}>
            <div class="rb-reason-row">
              <span class="rb-reason-title">{reason.title}</span>
              <span class="rb-reason-count">{formatNumber(language, reason.count)}</span>
            </div>
            <div class="rb-bar" aria-hidden="true">
              <span class="rb-bar-fill" style={{ width: `${Math.max(2, (reason.count / max) * 100)}%` }} />
            </div>
            <p class="rb-reason-text">{reason.explanation}</p>
            <p class="rb-reason-action">{reason.action}</p>
            <p class="rb-reason-resend">
              <span class="rb-dot" aria-hidden="true" />
              {reason.resend === 'never'
                ? translate(language, 'leftOut', { why: translate(language, 'neverHelps') })
                : translate(language, `resend_${reason.resend}`)}
            </p>
          </li>
        ))}
      </ul>
    </div>
  );
}

function LimitGauge({ report, language }: { report: BroadcastReport; language: Language }) {
  const limits = report.channelLimits;
  const n = (value: number) => formatNumber(language, value);
  return (
    <div class="rb-section rb-limits" data-testid="channel-limit">
      <h3 class="rb-subtitle">{translate(language, 'limitHeading')}</h3>
      {limits.portfolio && (
        // Since October 2025 WhatsApp's limit is the business portfolio's, shared by all its numbers.
        <p class="rb-muted" data-testid="portfolio">
          {translate(language, 'portfolioShared', { name: limits.portfolio.name })}
        </p>
      )}
      {limits.dailyQuota === null ? (
        <p>{translate(language, 'quotaUnlimited', { used: n(limits.quotaUsed) })}</p>
      ) : (
        <>
          <meter
            class="rb-meter"
            min={0}
            max={limits.dailyQuota}
            value={Math.min(limits.quotaUsed, limits.dailyQuota)}
            // A full quota is the bad end: the browser colours the gauge accordingly.
            low={limits.dailyQuota * 0.7}
            high={limits.dailyQuota * 0.9}
            optimum={0}
            aria-label={translate(language, 'limitHeading')}
          />
          <p>{translate(language, 'quotaUsed', { used: n(limits.quotaUsed), limit: n(limits.dailyQuota) })}</p>
          <p class="rb-frees">
            {limits.capacityFreesAt && (limits.quotaRemaining ?? 0) === 0
              ? translate(language, 'quotaFrees', { when: formatWhen(language, limits.capacityFreesAt) })
              : translate(language, 'quotaFree', { remaining: n(limits.quotaRemaining ?? 0) })}
          </p>
        </>
      )}
      <p class="rb-rate">{translate(language, 'rate', { rate: n(limits.messagesPerSecond) })}</p>
    </div>
  );
}

/**
 * The plan in the agent's own clock, as the quota line above it reads: the server's `summary` is in the
 * workspace's time zone, and the same moment read in two zones on one card looked like two moments.
 */
function planSummary(language: Language, plan: ResendResult['plan']): string {
  return plan.map((part) => `${formatNumber(language, part.count)} ${formatWhen(language, part.at)}`).join(', ');
}

function ResendBox({ report, language, resend, onOpenBroadcast }: Props) {
  const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) =>
    translate(language, key, params);
  const helpful = report.reasons.filter((r) => r.resend !== 'never');
  const chosen = useSignal<Set<string>>(new Set(helpful.map((r) => r.code)));
  // The default is the policy's: each reason when a re-send can help (the server plans it).
  const when = useSignal<'auto' | 'now' | 'at'>('auto');
  const at = useSignal('');
  const progress = resend.progress.value;

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
    if (report.resendable === 0 || broadcastNotFinished(report) || resend.progress.peek().phase !== 'idle') return;
    let current = true;
    void resend.preview(report.broadcast.id, body(false)).then((answer) => {
      if (current) preview.value = answer;
    });
    return () => {
      current = false;
    };
  }, [choiceKey, report.broadcast.id]);
  const count = report.reasons.filter((r) => chosen.value.has(r.code)).reduce((sum, r) => sum + r.count, 0);
  const body = (tagOnly: boolean): ResendBody => ({
    ...(chosen.value.size > 0 && { reasons: [...chosen.value] as ResendBody['reasons'] }),
    ...(when.value === 'now' && { when: 'now' as const }),
    ...(when.value === 'at' && at.value ? { when: new Date(at.value).toISOString() } : {}),
    ...(tagOnly && { tagOnly: true }),
  });

  if (progress.phase === 'done' || progress.phase === 'working' || progress.phase === 'error') {
    const scheduled = progress.phase === 'done' && progress.resend?.status === 'scheduled';
    const taggedOnly = progress.phase === 'done' && progress.result !== null && progress.result.segmentId === null;
    return (
      <div
        ref={(element) => element?.scrollIntoView({ block: 'nearest' })}
        class="rb-section rb-progress"
        role="status"
        aria-live="polite"
        data-testid="resend-progress"
      >
        {progress.phase === 'working' && <p class="rb-working">{t('working')}</p>}
        {progress.phase === 'error' && <p class="rb-error">{progress.message}</p>}
        {progress.phase === 'error' && progress.code === 'resend_too_early' && progress.body && (
          <button
            type="button"
            class="rb-secondary"
            onClick={(event) =>
              trusted(event) &&
              progress.broadcastId !== undefined &&
              resend.start(progress.broadcastId, { ...progress.body, force: true })
            }
          >
            {t('forceAction')}
          </button>
        )}
        {progress.phase === 'done' && (
          <ResendOutcome progress={progress} language={language} onOpenBroadcast={onOpenBroadcast} />
        )}
        {taggedOnly && (
          // Tagged, not re-sent: the next step is one click away, not a tag name to go and find.
          <button
            type="button"
            class="rb-primary"
            onClick={(event) => trusted(event) && resend.start(report.broadcast.id, body(false))}
          >
            {t('resendTaggedToo', { count: progress.result?.tagged ?? 0 })}
          </button>
        )}
        {scheduled && (
          <button
            type="button"
            class="rb-secondary"
            onClick={(event) => trusted(event) && resend.cancel(report.broadcast.id)}
          >
            {t('cancelResend')}
          </button>
        )}
      </div>
    );
  }
  if (report.resendable === 0 || broadcastNotFinished(report)) {
    return report.notSent > 0 ? <p class="rb-muted">{t('nothingToResend')}</p> : null;
  }
  return (
    <div class="rb-section rb-actions">
      <p class="rb-plan" data-testid="resend-when" aria-live="polite">
        {preview.value === null
          ? t('planLoading')
          : 'plan' in preview.value
            ? t('planWhen', { summary: planSummary(language, preview.value.plan.plan) })
            : preview.value.refused}
      </p>
      <button
        type="button"
        class="rb-primary"
        disabled={count === 0}
        onClick={(event) => trusted(event) && resend.start(report.broadcast.id, body(false))}
      >
        {t('resendAction', { count: formatNumber(language, count) })}
      </button>
      <button
        type="button"
        class="rb-secondary"
        disabled={count === 0}
        onClick={(event) => trusted(event) && resend.start(report.broadcast.id, body(true))}
      >
        {t('tagOnlyAction')}
      </button>
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
    if (result.plan.length)
      lines.push(translate(language, 'resendPlan', { summary: planSummary(language, result.plan) }));
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
  if (resend && isFinished(resend.status))
    lines.push(
      translate(language, 'resendDone', { sent: sentFigures(resend).sent, failed: resend.counts.failed ?? 0 }),
    );
  // A re-send that failed in its turn is not the end: its own report explains it and offers its re-send.
  const failedAgain = resend && isFinished(resend.status) && (resend.counts.failed ?? 0) > 0;
  return (
    <>
      {lines.map((line) => (
        <p key={line}>{line}</p>
      ))}
      {failedAgain && onOpenBroadcast && (
        <button type="button" class="rb-secondary" onClick={() => onOpenBroadcast(resend.id)}>
          {translate(language, 'openResendFailures', { count: resend.counts.failed ?? 0 })}
        </button>
      )}
    </>
  );
}

/**
 * Only the agent's own click re-sends: on a helpdesk page the page's scripts could reach our open shadow
 * root and call click(), which the browser marks untrusted.
 */
function trusted(event: Event): boolean {
  return event.isTrusted;
}

function isFinished(status: string) {
  return status === 'completed' || status === 'partially_failed' || status === 'failed';
}

/** What the server will not re-send yet (resend_not_finished): on its way, or paused until someone decides. */
function broadcastNotFinished(report: BroadcastReport) {
  return ['scheduled', 'sending', 'paused'].includes(report.broadcast.status);
}
