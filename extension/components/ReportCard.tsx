/** A broadcast's failures explained, its channel's limit, and the one-click tag and re-send. */

import { useSignal } from '@preact/signals';
import type { Language } from '@rebound/shared/i18n';
import type { FunctionComponent } from 'preact';
import { statusLabel, translate } from '../lib/i18n';
import { type BroadcastReport, headline } from '../lib/report';
import type { ResendState } from '../lib/resend-state';
import { Funnel, LimitGauge, ReasonList } from './ReportFigures';
import { type OfferProps, ResendBox } from './ResendBox';
import { WhoFailed } from './WhoFailed';

interface Props {
  report: BroadcastReport;
  language: Language;
  resend: ResendState;
  /** Shows another broadcast's report here (a re-send that failed in its turn). */
  onOpenBroadcast?: (id: number) => void;
  /** Resumes a paused broadcast (the background asks the server), then shows it again. */
  onResume?: (id: number) => Promise<void>;
  /** An offer beside the re-send for unconfirmed recipients (the popup's); none in the panel. */
  Offer?: FunctionComponent<OfferProps>;
}

/** Failures of the broadcast as a whole (before any message), each with what the agent can do. */
const WHOLE_FAILURES = ['broadcast_empty_target', 'broadcast_segment_deleted', 'broadcast_channel_missing'] as const;

export function ReportCard({ report, language, resend, onOpenBroadcast, onResume, Offer }: Props) {
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
      <ResendBox report={report} language={language} resend={resend} onOpenBroadcast={onOpenBroadcast} Offer={Offer} />
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
