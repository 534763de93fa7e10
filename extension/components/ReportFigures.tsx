/** What a broadcast's recipients got: the funnel of the providers' reports, the failures by reason, its channel's limit. */

import type { Language } from '@rebound/shared/i18n';
import { formatNumber, formatWhen, translate } from '../lib/i18n';
import { type BroadcastReport, failedAndUnconfirmed, toneOf } from '../lib/report';

/**
 * Sent → delivered → read, unconfirmed and failed, from the providers' reports: shown once anything went
 * out or failed (a scheduled broadcast has no funnel yet). Delivered and read also as a share of those
 * sent. Unconfirmed (no answer, or a final "unknown" report) only when there are some, and never
 * counted as failed: they may have arrived.
 */
export function Funnel({ report, language }: { report: BroadcastReport; language: Language }) {
  const { funnel } = report.broadcast;
  if (!funnel || funnel.sent + funnel.failed === 0) return null;
  const { failed, unconfirmed } = failedAndUnconfirmed(report.broadcast);
  // A step the channel never reports (null: Telegram's deliveries, any SMS's reads) is left out, not
  // shown as 0; so is "0 read" (a channel may report reads while the app is not subscribed to them).
  const steps = [
    { key: 'sent', label: translate(language, 'funnelSent'), n: funnel.sent },
    { key: 'delivered', label: translate(language, 'funnelDelivered'), n: funnel.delivered },
    { key: 'read', label: translate(language, 'funnelRead'), n: funnel.read },
    { key: 'unconfirmed', label: translate(language, 'funnelUnconfirmed'), n: unconfirmed > 0 ? unconfirmed : null },
    { key: 'failed', label: translate(language, 'funnelFailed'), n: failed },
  ].filter(
    (step): step is { key: string; label: string; n: number } =>
      step.n !== null && !(step.key === 'read' && step.n === 0),
  );
  // Sent, and not one report back yet: "0 entregados" would read as a failure when the reports may
  // simply not have come (yet, or at all: a channel's webhook not set up). Said as it is instead.
  const awaiting = funnel.sent > 0 && !funnel.delivered && !funnel.read && funnel.delivered !== null;
  const shown = awaiting ? steps.filter((step) => step.key !== 'delivered' && step.key !== 'read') : steps;
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

export function ReasonList({ report, language }: { report: BroadcastReport; language: Language }) {
  const max = Math.max(...report.reasons.map((r) => r.count), 1);
  return (
    <div class="rb-section">
      <h3 class="rb-subtitle">{translate(language, 'reasonsHeading')}</h3>
      <ul class="rb-reasons" aria-label={translate(language, 'chartLabel')}>
        {report.reasons.map((reason) => (
          <li key={reason.code} class={`rb-reason rb-resend-${toneOf(reason)}`} data-reason={reason.code}>
            <div class="rb-reason-row">
              <span class="rb-reason-title">{reason.title}</span>
              <span class="rb-reason-count">{formatNumber(language, reason.count)}</span>
            </div>
            <div class="rb-bar" aria-hidden="true">
              <span class="rb-bar-fill" style={{ width: `${Math.max(2, (reason.count / max) * 100)}%` }} />
            </div>
            <p class="rb-reason-text">{reason.explanation}</p>
            <p class="rb-reason-action">{reason.action}</p>
            {toneOf(reason) !== 'uncertain' && (
              <p class="rb-reason-resend">
                <span class="rb-dot" aria-hidden="true" />
                {reason.resend === 'never'
                  ? translate(language, 'leftOut', { why: translate(language, 'neverHelps') })
                  : translate(language, `resend_${reason.resend}`)}
              </p>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function LimitGauge({ report, language }: { report: BroadcastReport; language: Language }) {
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
      <p class="rb-rate">{translate(language, 'rate', { rate: limits.messagesPerSecond })}</p>
    </div>
  );
}
