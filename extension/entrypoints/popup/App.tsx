/** The toolbar popup: recent broadcasts, and for one of them the reasons, the channel's limit and the re-send. */

import { useSignal } from '@preact/signals';
import type { ResendResult } from '@rebound/shared';
import { anotherChannelReasons, type ChannelType, isSmsChannel } from '@rebound/shared/channels';
import { type Language, localeFor } from '@rebound/shared/i18n';
import { useEffect, useMemo } from 'preact/hooks';
import { ReportCard } from '../../components/ReportCard';
import { UnconfirmedOffer } from '../../components/UnconfirmedOffer';
import { statusLabel } from '../../lib/i18n';
import { type AttentionState, ask, createBackgroundResendState, sendMessage } from '../../lib/messaging';
import { type BroadcastLite, type BroadcastReport, failedAndUnconfirmed, sentFigures } from '../../lib/report';
import { popupText } from './messages';

type View =
  | { kind: 'loading' }
  | { kind: 'not-configured' }
  | { kind: 'list'; broadcasts: BroadcastLite[] }
  | { kind: 'report'; report: BroadcastReport }
  | { kind: 'error'; message: string };

export function App({
  language,
  configured,
  initialBroadcast,
}: {
  language: Language;
  configured: boolean;
  initialBroadcast: number | null;
}) {
  // popup.html?broadcast=<id> is the notification's "Ver motivos", opened in a full tab.
  const inTab = initialBroadcast !== null;
  const view = useSignal<View>({ kind: 'loading' });
  const resend = useMemo(createBackgroundResendState, []);
  // Which broadcasts still need a look and which this agent marked as reviewed (null: not known).
  const attention = useSignal<AttentionState | null>(null);
  const keep = (state: AttentionState) => {
    attention.value = state;
  };
  // Unknown is fine for the list (no "revisada" shown); a failed mark is said.
  const loadAttention = () => ask(sendMessage('attentionState')).then(keep, () => undefined);
  // The mark holds what the agent read; more failed since, it does not take, and the report shows them.
  const review = (broadcastId: number, reviewed: boolean, seen?: number) =>
    ask(sendMessage('review', { broadcastId, reviewed, ...(seen !== undefined && { seen }) })).then(
      (state) => {
        keep(state);
        if (reviewed && state.needed.includes(broadcastId)) void showReport(broadcastId);
      },
      (error: Error) => {
        view.value = { kind: 'error', message: error.message };
      },
    );
  const t = (key: Parameters<typeof popupText>[1], params?: Record<string, string | number>) =>
    popupText(language, key, params);

  async function show(load: () => Promise<View>) {
    view.value = { kind: 'loading' };
    try {
      view.value = await load();
    } catch (error) {
      view.value = { kind: 'error', message: (error as Error).message };
    }
  }
  const showList = () => {
    void loadAttention();
    return show(async () => ({ kind: 'list', broadcasts: await ask(sendMessage('recentBroadcasts')) }));
  };
  const showReport = (broadcastId: number) => {
    resend.stop();
    resend.progress.value = { phase: 'idle' };
    void loadAttention();
    return show(async () => {
      const report = await ask(sendMessage('report', { broadcastId }));
      return report ? { kind: 'report', report } : { kind: 'error', message: t('noBroadcasts') };
    });
  };

  useEffect(() => {
    if (!configured) view.value = { kind: 'not-configured' };
    else if (initialBroadcast !== null) void showReport(initialBroadcast);
    else void showList();
  }, []);

  const current = view.value;
  // From a notification's "Revisar y reenviar" (#resend): the keyboard lands on the re-send to confirm.
  useEffect(() => {
    if (current.kind !== 'report' || location.hash !== '#resend') return;
    const button = document.querySelector<HTMLButtonElement>('.rb-actions .rb-primary');
    button?.scrollIntoView({ block: 'center' });
    button?.focus();
  }, [current.kind]);
  return (
    <main class={inTab ? 'rb-popup rb-popup-tab' : 'rb-popup'}>
      <header class="rb-popup-head">
        <h1 class="rb-popup-title">{t('appName')}</h1>
        {current.kind === 'report' && (
          <button type="button" class="rb-link" onClick={() => void showList()}>
            {t('back')}
          </button>
        )}
      </header>
      {current.kind === 'loading' && <p class="rb-muted">{t('loading')}</p>}
      {current.kind === 'error' && (
        <div>
          <p class="rb-error" role="alert">
            {current.message}
          </p>
          <button type="button" class="rb-secondary" onClick={() => void showList()}>
            {t('retry')}
          </button>
        </div>
      )}
      {current.kind === 'not-configured' && (
        <div>
          <p>{t('notConfigured')}</p>
          <button type="button" class="rb-primary" onClick={() => void sendMessage('openOptions')}>
            {t('openOptions')}
          </button>
        </div>
      )}
      {current.kind === 'list' && (
        <section aria-label={t('recent')}>
          <h2 class="rb-subtitle">{t('recent')}</h2>
          {current.broadcasts.length === 0 && <p class="rb-muted">{t('noBroadcasts')}</p>}
          <ul class="rb-list">
            {current.broadcasts.map((b) => {
              const { failed, unconfirmed } = failedAndUnconfirmed(b);
              return (
                <li key={b.id}>
                  <button type="button" class="rb-row" data-broadcast-id={b.id} onClick={() => void showReport(b.id)}>
                    <span class="rb-row-name">{b.name}</span>
                    <span class={`rb-status rb-status-${b.status}`}>{statusLabel(language, b.status)}</span>
                    <span class="rb-row-figures">
                      {b.status === 'draft' || b.status === 'scheduled'
                        ? t('rowPlanned', { total: b.targetCount ?? 0 })
                        : t('rowSent', sentFigures(b))}
                      {failed > 0 && <strong class="rb-row-failed"> · {t('failedBadge', { count: failed })}</strong>}
                      {unconfirmed > 0 && (
                        <span class="rb-row-unconfirmed"> · {t('badgeUnconfirmed', { count: unconfirmed })}</span>
                      )}
                      {attention.value?.reviewed.includes(b.id) && (
                        <span class="rb-row-reviewed"> · {t('reviewedChip')}</span>
                      )}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      {current.kind === 'report' && (
        <ReportCard
          report={current.report}
          language={language}
          resend={resend}
          onOpenBroadcast={(id) => void showReport(id)}
          onResume={(id) => ask(sendMessage('resume', { broadcastId: id })).then(() => showReport(id))}
          Offer={UnconfirmedOffer}
        />
      )}
      {current.kind === 'report' && current.report.channelLimits.hold && !current.report.broadcast.pause && (
        <HeldNumber
          report={current.report}
          t={t}
          onResume={() =>
            ask(sendMessage('resumeNumber', { broadcastId: current.report.broadcast.id })).then(() =>
              showReport(current.report.broadcast.id),
            )
          }
        />
      )}
      {current.kind === 'report' && <OtherChannel report={current.report} t={t} language={language} />}
      {current.kind === 'report' && <Lineage report={current.report} t={t} />}
      {/* A paused broadcast waits for a manager's decision, not a review: it stays counted until then. */}
      {current.kind === 'report' && current.report.broadcast.status !== 'paused' && (
        <ReviewMark
          broadcastId={current.report.broadcast.id}
          attention={attention.value}
          t={t}
          onReview={(reviewed) => {
            const { failed, unconfirmed } = failedAndUnconfirmed(current.report.broadcast);
            void review(current.report.broadcast.id, reviewed, failed + unconfirmed);
          }}
        />
      )}
    </main>
  );
}

/**
 * The number of the report's channel held for its own sake (the guard, Meta's flag), even with none of
 * its broadcasts paused: why, and Resume the number for a manager; an agent is told who can.
 */
function HeldNumber({
  report,
  t,
  onResume,
}: {
  report: BroadcastReport;
  t: (key: Parameters<typeof popupText>[1]) => string;
  onResume: () => Promise<unknown>;
}) {
  const failed = useSignal('');
  return (
    <p class="rb-error" role="alert" data-testid="number-held">
      {failed.value || report.channelLimits.hold?.message}{' '}
      {report.canResume ? (
        <button
          type="button"
          class="rb-primary"
          onClick={() => void onResume().catch((failure: Error) => (failed.value = failure.message))}
        >
          {t('resumeNumber')}
        </button>
      ) : (
        <>
          <br />
          {t('resumeNumberByManager')}
        </>
      )}
    </p>
  );
}

/**
 * "Revisada": an agent who has looked at a broadcast's failures and decided takes it off the toolbar
 * count; it comes back by itself when more of its messages fail.
 */
function ReviewMark({
  broadcastId,
  attention,
  t,
  onReview,
}: {
  broadcastId: number;
  attention: AttentionState | null;
  t: (key: Parameters<typeof popupText>[1]) => string;
  onReview: (reviewed: boolean) => void;
}) {
  const needed = attention?.needed.includes(broadcastId) ?? false;
  const reviewed = attention?.reviewed.includes(broadcastId) ?? false;
  if (!needed && !reviewed) return null;
  return (
    <section class="rb-review" data-testid="review" aria-live="polite">
      {needed ? (
        <>
          <button type="button" class="rb-secondary" onClick={() => onReview(true)}>
            {t('markReviewed')}
          </button>
          <p class="rb-muted">{t('markReviewedHint')}</p>
        </>
      ) : (
        <>
          <p>{t('reviewedNote')}</p>
          <button type="button" class="rb-link" onClick={() => onReview(false)}>
            {t('unmarkReviewed')}
          </button>
        </>
      )}
    </section>
  );
}

/**
 * The broadcast's lineage: what the first send reached, what each round of re-sends recovered (Rebound's
 * own or an agent's), and who is left, by reason. Only for a broadcast re-sent or with automatic re-sends.
 */
function Lineage({
  report,
  t,
}: {
  report: BroadcastReport;
  t: (key: Parameters<typeof popupText>[1], params?: Record<string, string | number>) => string;
}) {
  const recovery = report.broadcast.recovery;
  if (!recovery) return null;
  const titles = new Map<string, string>(report.reasons.map((r) => [r.code, r.title]));
  const left = Object.entries(recovery.left.byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${titles.get(code) ?? code} (${n})`)
    .join(', ');
  return (
    <section class="rb-section" data-testid="lineage" aria-label={t('lineage')}>
      <h3 class="rb-subtitle">{t('lineage')}</h3>
      <ol class="rb-reasons">
        <li>{t('lineageFirst', { n: recovery.firstSend.reached, unconfirmed: recovery.firstSend.unconfirmed })}</li>
        {recovery.attempts.map((round) => (
          <li key={round.attempt}>
            {t('lineageRound', {
              attempt: round.attempt,
              n: round.recovered,
              pending: round.pending,
              unconfirmed: round.unconfirmed,
            })}
          </li>
        ))}
        <li>
          {recovery.left.total > 0 ? t('lineageLeft', { n: recovery.left.total, reasons: left }) : t('lineageNoneLeft')}
        </li>
      </ol>
      {recovery.automatic.attempts > 0 && (
        <p class="rb-muted">{t('lineageAuto', { n: recovery.automatic.attempts })}</p>
      )}
    </section>
  );
}

type Words = (key: Parameters<typeof popupText>[1], params?: Record<string, string | number>) => string;

/**
 * "Enviar por SMS a los 3 contactos que WhatsApp no alcanza": those this channel cannot reach (not on
 * it, an unknown chat, a closed window) re-sent on another channel of the workspace, an SMS one first.
 * The first click asks the server what it would do (who has a number there, the SMS segments); the
 * second sends.
 */
function OtherChannel({ report, t, language }: { report: BroadcastReport; t: Words; language: Language }) {
  const channels = useSignal<{ id: number; name: string; type: ChannelType }[]>([]);
  const preview = useSignal<ResendResult | null>(null);
  const said = useSignal('');
  const broadcastId = report.broadcast.id;
  useEffect(() => {
    ask(sendMessage('channels')).then(
      (list) => {
        channels.value = list;
      },
      () => undefined,
    );
  }, [broadcastId]);
  const others = channels.value.filter((c) => c.id !== report.broadcast.channelId);
  const target = others.find((c) => isSmsChannel(c.type)) ?? others[0];
  const own = channels.value.find((c) => c.id === report.broadcast.channelId);
  const current = own?.name ?? '';
  // Its own channel disconnected since (not listed): what the other channel can reach all the same.
  // As the server takes them by default, with what the broadcast sent (a text reaches no closed window).
  const reached: readonly string[] = target ? anotherChannelReasons(own?.type, target.type, report.content) : [];
  const count = report.reasons.filter((r) => reached.includes(r.code)).reduce((n, r) => n + r.count, 0);
  if (count === 0 || !target) return null;
  const send = (dryRun: boolean) =>
    ask(sendMessage('resend', { broadcastId, body: { channelId: target.id, dryRun } })).then(
      (result) => {
        if (dryRun) preview.value = result;
        else {
          preview.value = null;
          said.value = t('otherChannelDone', { channel: target.name, summary: result.summary });
        }
      },
      (error: Error) => {
        said.value = error.message;
      },
    );
  const plan = preview.value;
  const reach = plan?.channel;
  // SMS is billed per segment: what it would cost, in the agent's own way of writing money, before the click.
  const cost = plan?.cost;
  const unpriced = Object.values(cost?.unpriced ?? {}).reduce((n, c) => n + c, 0);
  return (
    <section class="rb-section" data-testid="other-channel" aria-live="polite">
      {!preview.value && !said.value && (
        <button type="button" class="rb-secondary" onClick={() => void send(true)}>
          {current
            ? t('otherChannel', { channel: target.name, n: count, current })
            : // Its channel was disconnected: the list of channels no longer names it.
              t('otherChannelGone', { channel: target.name, n: count })}
        </button>
      )}
      {reach && plan && (
        <>
          <p>
            {t('otherChannelReach', { reachable: reach.reachable, channel: target.name })}
            {reach.sms && ` · ${t('otherChannelSms', { segments: reach.sms.segments, encoding: reach.sms.encoding })}`}
          </p>
          <p>
            {t('otherChannelWhen', { summary: plan.summary })}
            {cost &&
              cost.total > 0 &&
              ` · ${t('otherChannelCost', {
                cost: new Intl.NumberFormat(localeFor(language), { style: 'currency', currency: cost.currency }).format(
                  cost.total,
                ),
                unpriced,
              })}`}
          </p>
          {/* What the plan warns of (someone may get it twice...), read before the click, as the panel shows it. */}
          {plan.warnings.map((warning) => (
            <p key={warning.message} class="rb-muted" data-testid="other-channel-warning">
              {warning.message}
            </p>
          ))}
          <button type="button" class="rb-primary" onClick={() => void send(false)}>
            {t('otherChannelConfirm')}
          </button>
        </>
      )}
      {said.value && <p role="status">{said.value}</p>}
    </section>
  );
}
