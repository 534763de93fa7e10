/** The floating panel: the broadcast on screen (or the latest with failures), or a contact's failed messages. */
import type { Language } from '@rebound/shared/i18n';
import { useEffect, useRef } from 'preact/hooks';
import { Button } from '../components/Button';
import { ReportCard } from '../components/ReportCard';
import { toneWords } from '../lib/badges';
import { formatAgo, formatWhen, statusLabel, translate } from '../lib/i18n';
import type { ContactFailures } from '../lib/messaging';
import { ask, sendMessage } from '../lib/messaging';
import { notSentFigures, toneOf } from '../lib/report';
import type { OverlayState } from './state';

const PILL = {
  offline: 'pillOffline',
  token: 'pillTokenRefused',
  server: 'pillTrouble',
  outdated: 'pillOutdated',
} as const;

export function Overlay({ state }: { state: OverlayState }) {
  const { language } = state;
  const content = state.content.value;
  const failed =
    content.kind === 'report'
      ? // As the headline counts: unconfirmed recipients are not "failed" (they have their own words).
        notSentFigures(content.report).failed
      : content.kind === 'contact'
        ? (content.failures?.notSent ?? 0)
        : 0;
  const panel = useRef<HTMLElement>(null);
  const pill = useRef<HTMLButtonElement>(null);
  const open = state.open.value;
  const focus = state.focus.value;
  useEffect(() => {
    if (!focus) return;
    if (focus.to === 'panel' && open) panel.current?.focus();
    if (focus.to === 'opener' && !open) (focus.opener?.isConnected ? focus.opener : pill.current)?.focus();
  }, [focus, open]);
  const trouble = state.trouble.value;
  if (!open) {
    // The pill says what is wrong first (a refused token, no server), then how many failed.
    if (!trouble && (content.kind === 'nothing' || content.kind === 'loading')) return null;
    const label = trouble
      ? translate(language, PILL[trouble.kind])
      : failed > 0
        ? translate(language, 'expand', { count: failed })
        : translate(
            language,
            content.kind !== 'teach' ? 'expandQuiet' : content.again ? 'teachAgainPill' : 'teachPill',
          );
    // A page Rebound cannot read yet: the pill starts teaching (the teaching bar explains itself).
    const teach = !trouble && content.kind === 'teach';
    // A broadcast's: amber when a re-send reaches them all (reachesAll, as the badge), red when not, said
    // in words too. A contact's failures are red, with no claim about a re-send.
    const tone = !trouble && failed > 0 && content.kind === 'report' && (content.report.retryable ? 'later' : 'never');
    return (
      <button
        ref={pill}
        type="button"
        class={`rb-pill${tone === 'later' ? ' rb-pill-later' : trouble || failed > 0 ? ' rb-pill-alert' : ''}`}
        aria-label={tone ? `${label} (${toneWords(language, tone)})` : undefined}
        aria-expanded={teach ? undefined : 'false'}
        data-trouble={trouble?.kind}
        onClick={(event) => (teach ? void sendMessage('teachPage') : state.openedBy(event.currentTarget))}
      >
        {label}
      </button>
    );
  }
  return (
    <aside
      ref={panel}
      class="rb-card rb-overlay"
      aria-label={translate(language, 'panelTitle')}
      data-testid="rebound-panel"
      // Focusable as a whole, so an agent's click lands the keyboard here (first in Tab order from then on).
      tabIndex={-1}
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return;
        event.preventDefault();
        state.close();
      }}
    >
      <div class="rb-overlay-bar">
        <span class="rb-overlay-brand">{translate(language, 'appName')}</span>
        <Button class="rb-link" aria-expanded="true" onClick={() => state.close()}>
          {translate(language, 'collapse')}
        </Button>
      </div>
      {content.kind === 'loading' && <p class="rb-muted">{translate(language, 'loading')}</p>}
      {trouble ? (
        <div role="alert" data-testid="trouble">
          <p class="rb-error">{trouble.message}</p>
          <p class="rb-muted">{translate(language, 'retryingSoon')}</p>
          <p class="rb-actions">
            <Button class="rb-secondary" onClick={() => void state.retry()}>
              {translate(language, 'retry')}
            </Button>
            {trouble.kind === 'token' && (
              <Button class="rb-link" onClick={() => void sendMessage('openOptions')}>
                {translate(language, 'openOptions')}
              </Button>
            )}
          </p>
        </div>
      ) : (
        content.kind === 'error' && (
          <p class="rb-error" role="alert">
            {content.message}
          </p>
        )
      )}
      {content.kind === 'not-configured' && (
        <p>
          {translate(language, 'notConfigured')}{' '}
          <Button class="rb-link" onClick={() => void sendMessage('openOptions')}>
            {translate(language, 'openOptions')}
          </Button>
        </p>
      )}
      {content.kind === 'nothing' && <p class="rb-muted">{translate(language, 'allSent')}</p>}
      {content.kind === 'report' && (
        <ReportCard
          report={content.report}
          language={language}
          resend={state.resend}
          onOpenBroadcast={(id) => void state.showBroadcast(id, true)}
          onResume={(id) => ask(sendMessage('resume', { broadcastId: id })).then(() => state.showBroadcast(id, true))}
        />
      )}
      {content.kind === 'contact' && <ContactFailuresView failures={content.failures} language={language} />}
      {content.kind === 'choose' && (
        <section aria-label={translate(language, 'chooseHeading', { name: content.name })}>
          <p>{translate(language, 'chooseHeading', { name: content.name })}</p>
          <ul class="rb-choices-list">
            {content.candidates.map((b) => (
              <li key={b.id}>
                <Button class="rb-secondary" onClick={() => void state.showBroadcast(b.id, true)}>
                  {[
                    `#${b.id}`,
                    statusLabel(language, b.status),
                    b.scheduledAt && translate(language, 'chooseWhen', { when: whenOf(language, b.scheduledAt) }),
                    b.failed > 0 && translate(language, 'failedBadge', { count: b.failed }),
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </Button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </aside>
  );
}

function ContactFailuresView({ failures, language }: { failures: ContactFailures | null; language: Language }) {
  if (!failures || failures.messages.length === 0) return <p class="rb-muted">{translate(language, 'contactNone')}</p>;
  return (
    <section aria-label={translate(language, 'contactHeading')}>
      <h2 class="rb-title">{failures.contact.name}</h2>
      <h3 class="rb-subtitle">{translate(language, 'contactHeading')}</h3>
      <ul class="rb-contact-list">
        {failures.messages.map((message) => (
          <li key={message.messageId} class={`rb-reason rb-resend-${toneOf(message.reason)}`}>
            <div class="rb-reason-row">
              <span>{message.sender.name}</span>
              <span class="rb-muted">{formatAgo(language, message.failedAt)}</span>
            </div>
            <p class="rb-reason-title">{message.reason.title}</p>
            <p class="rb-reason-text">{message.reason.explanation}</p>
            <p class="rb-reason-action">{message.reason.action}</p>
            {message.providerMessage && (
              <>
                {/* The provider's own words, as it sent them (often English): said so, not passed off as ours. */}
                <p class="rb-muted rb-provider-label">{translate(language, 'providerSaid')}</p>
                <p class="rb-provider">{message.providerMessage}</p>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A time still to come in the future tense, a past one in the past. */
function whenOf(language: Language, iso: string): string {
  return Date.parse(iso) > Date.now() ? formatWhen(language, iso) : formatAgo(language, iso);
}
