/** The badge beside a broadcast's name in the page's own table; a click opens the panel on it. */
import type { Language } from '@rebound/shared/i18n';
import type { BadgeView } from '../lib/badges';
import { translate } from '../lib/i18n';

/** The words and the colour of each kind of badge (the decision itself is lib/badges.ts). */
function wording(view: BadgeView, language: Language): { text: string; label: string; tone: string } {
  switch (view.kind) {
    case 'failed': {
      const text = translate(language, 'failedBadge', { count: view.count });
      return { text, label: `${view.broadcast.name}: ${text}`, tone: 'never' };
    }
    case 'resending':
    case 'resent': {
      const text = translate(language, view.kind === 'resending' ? 'badgeResending' : 'badgeResent', {
        count: view.count,
      });
      return { text, label: `${view.broadcast.name}: ${text}`, tone: view.kind === 'resending' ? 'later' : 'quiet' };
    }
    case 'not-sent': {
      const text = translate(language, 'badgeNotSent');
      return { text, label: `${view.broadcast.name}: ${text}`, tone: 'never' };
    }
    case 'left-out': {
      const text = translate(language, 'badgeLeftOut', { count: view.count });
      return { text, label: `${view.broadcast.name}: ${text}`, tone: 'later' };
    }
    case 'ambiguous':
      return {
        text: translate(language, 'badgeAmbiguous'),
        label: translate(language, 'badgeAmbiguousLabel', { name: view.name }),
        tone: 'quiet',
      };
  }
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
        if (event.isTrusted) onOpen(event.currentTarget);
      }}
    >
      {text}
    </button>
  );
}
