/**
 * The badge beside a broadcast's name in the page's own table; a click opens the panel on it. What it
 * says and its colour come decided and worded from the background (background/badges.ts).
 */
import type { DrawnBadge } from '../lib/badges';

export function Badge({ view, onOpen }: { view: DrawnBadge; onOpen(opener: HTMLElement): void }) {
  const { text, label, colour } = view;
  return (
    <button
      type="button"
      class={`rb-badge rb-badge-${colour}`}
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
