/** The badge beside a broadcast's name in the page's own table; a click opens the panel on it. */
import type { Language } from '@rebound/shared/i18n';
import type { BadgeView } from '../lib/badges';
import { translate } from '../lib/i18n';

/** Each kind's words and colour (the decision itself is lib/badges.ts). */
const WORDING = {
  failed: ['failedBadge', 'never'], // its own tone: amber when a re-send can help every failure
  resending: ['badgeResending', 'later'],
  resent: ['badgeResent', 'quiet'],
  'not-sent': ['badgeNotSent', 'never'],
  'left-out': ['badgeLeftOut', 'later'],
  unconfirmed: ['badgeUnconfirmed', 'quiet'],
  ambiguous: ['badgeAmbiguous', 'quiet'],
} as const;

function wording(view: BadgeView, language: Language): { text: string; label: string; tone: string } {
  const [key, kindTone] = WORDING[view.kind];
  const tone = view.kind === 'failed' ? view.tone : kindTone;
  const text = translate(language, key, { count: 'count' in view ? view.count : 0 });
  // Amber and red say the same count: the label says which (and the amber one wears ↻, overlay.css).
  const label =
    view.kind === 'ambiguous'
      ? translate(language, 'badgeAmbiguousLabel', { name: view.name })
      : `${view.broadcast.name}: ${text}${view.kind === 'failed' ? ` (${translate(language, view.tone === 'later' ? 'badgeLaterLabel' : 'badgeNeverLabel')})` : ''}`;
  return { text, label, tone };
}

export function Badge({
  view,
  language,
  onOpen,
}: {
  view: BadgeView;
  language: Language;
  onOpen(opener: HTMLElement): void;
}) {
  const { text, label, tone } = wording(view, language);
  return (
    <button
      type="button"
      class={`rb-badge rb-badge-${tone}`}
      data-kind={view.kind}
      {...(view.kind !== 'ambiguous' && { 'data-broadcast-id': view.broadcast.id })}
      aria-label={label}
      onClick={(event) => {
        // The badge sits inside the page's link or row: the page must not navigate or select the row.
        event.preventDefault();
        event.stopPropagation();
        onOpen(event.currentTarget);
      }}
    >
      {text}
    </button>
  );
}
