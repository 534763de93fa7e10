/**
 * The popup's offer for a broadcast's unconfirmed recipients, beside the re-send (ResendBox's `Offer`):
 * kept out of the content script, which stays within its budget.
 */
import { useSignal } from '@preact/signals';
import type { ResendBody } from '@rebound/shared';
import { useEffect } from 'preact/hooks';
import { formatWhen, translate } from '../lib/i18n';
import type { OfferProps } from './ResendBox';

const UNCONFIRMED: ResendBody = { reasons: ['uncertain'], includeUnconfirmed: true };

/**
 * Unconfirmed recipients (the provider may have the message): never re-sent unasked. While a report may
 * still come, when they can be; once their wait is over, a button of their own, saying they may get it
 * twice, counted by the server's dry run (a late "unknown" report counts too). Those a re-send took are
 * not offered again (`left`).
 */
export function UnconfirmedOffer({ report, language, resend }: OfferProps) {
  // Those a re-send already took are its own to follow: only the rest are offered.
  const { left: count, waitEndsAt } = report.unconfirmed;
  const over = waitEndsAt !== null && Date.parse(waitEndsAt) <= Date.now();
  const planned = useSignal(0);
  const progress = resend.progress.value;
  const following = progress.phase === 'done' ? progress.resend?.id : progress.phase;
  useEffect(() => {
    let current = over;
    if (!current) return;
    void resend.preview(report.broadcast.id, UNCONFIRMED).then((answer) => {
      if (current) planned.value = 'plan' in answer && !answer.plan.reused ? answer.plan.recipients : 0;
    });
    return () => {
      current = false;
    };
  }, [report.broadcast.id, over, count, following]);
  if (!count || !waitEndsAt || (over && !planned.value)) return null;
  const n = over ? planned.value : count;
  return (
    <div class="rb-section" data-testid="resend-unconfirmed">
      <p>
        {translate(language, over ? 'unconfirmedReady' : 'unconfirmedWaiting', {
          count: n,
          when: formatWhen(language, waitEndsAt),
        })}
      </p>
      {over && (
        <button
          type="button"
          class="rb-secondary"
          onClick={(event) => trusted(event) && resend.start(report.broadcast.id, UNCONFIRMED)}
        >
          {translate(language, 'resendUnconfirmedAction', { count: n })}
        </button>
      )}
    </div>
  );
}

/** Only the agent's own click re-sends, never a script's click(), which the browser marks untrusted. */
function trusted(event: Event): boolean {
  return event.isTrusted;
}
