/** What a page's own scripts cannot do in Rebound's roots, shared by the overlay and the teaching bar. */

/**
 * Only the agent acts in our roots. The page's scripts can reach an open shadow root: click() the
 * re-send, "resume" or a badge, tick a reason, type a date, open the list of who failed. Those events
 * are untrusted: stopped here, before any handler of ours, and their default (a tick) undone.
 */
export function onlyTheAgent(root: ShadowRoot): void {
  for (const type of ['click', 'change', 'input'])
    root.addEventListener(
      type,
      (e) => {
        if (e.isTrusted) return;
        e.preventDefault();
        e.stopImmediatePropagation();
      },
      true,
    );
}
