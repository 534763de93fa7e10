/** "500 fallidos" beside a broadcast's name in the page's own table; a click opens the panel on it. */
import type { Language } from '@rebound/shared/i18n';
import { translate } from '../lib/i18n';
import type { BroadcastBadge } from '../lib/report';

export function Badge({
  badge,
  language,
  onOpen,
}: {
  badge: BroadcastBadge;
  language: Language;
  onOpen(opener: HTMLElement): void;
}) {
  const label = translate(language, 'failedBadge', { count: badge.failed });
  return (
    <button
      type="button"
      class="rb-badge"
      data-broadcast-id={badge.id}
      aria-label={`${badge.name}: ${label}`}
      onClick={(event) => {
        // The badge sits inside the page's link or row: the page must not navigate or select the row.
        event.preventDefault();
        event.stopPropagation();
        if (event.isTrusted) onOpen(event.currentTarget);
      }}
    >
      {label}
    </button>
  );
}
