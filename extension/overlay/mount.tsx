/**
 * Puts Rebound on a helpdesk page: a panel in its own shadow root (page styles and ours never mix) and
 * badges beside the broadcast names the site adapter finds. Only the badges take room in the page.
 */

import { setRegion } from '@rebound/shared/i18n';
import { render } from 'preact';
import { candidatesFor } from '../lib/badges';
import { setWords } from '../lib/i18n';
import { ask, onMessage, sendMessage } from '../lib/messaging';
import { decidePage } from '../lib/page-decision';
import { readPage } from '../lib/site-adapters';
import { onlyTheAgent } from '../lib/trust';
import { Badge } from './Badge';
import { Overlay } from './Overlay';
import { createOverlayState, type OverlayState, troubleOf } from './state';

const HOST_ATTRIBUTE = 'data-rebound';

export interface OverlayHandle {
  state: OverlayState;
  /** Reads the page again (the helpdesk re-rendered or navigated). */
  rescan(): Promise<void>;
  destroy(): void;
}

export async function mountOverlay(win: Window, css: string): Promise<OverlayHandle | null> {
  const doc = win.document;
  // Once per page: the background also starts the overlay in tabs already open on a site just allowed.
  // Marked at once on the content scripts' own window (the page cannot see it), before any await.
  const marked = win as Window & { reboundOverlayMounted?: boolean };
  if (marked.reboundOverlayMounted || doc.querySelector(`[${HOST_ATTRIBUTE}="panel"]`)) return null;
  marked.reboundOverlayMounted = true;
  const context = await ask(sendMessage('context'));
  setWords(context.language, context.words);
  setRegion(win.navigator.language);
  const state = createOverlayState(context.language);
  const sheet = makeSheet(win, css);

  const panelHost = doc.createElement('div');
  panelHost.setAttribute(HOST_ATTRIBUTE, 'panel');
  const panelRoot = panelHost.attachShadow({ mode: 'open' });
  adopt(panelRoot, sheet, css);
  onlyTheAgent(panelRoot);
  // Typing in our fields must not trigger the helpdesk's keyboard shortcuts.
  panelHost.addEventListener('keydown', (event) => event.stopPropagation());
  doc.body.append(panelHost);
  render(<Overlay state={state} />, panelRoot);
  state.renderMs.subscribe((ms) => {
    if (ms !== null) panelHost.dataset.renderMs = ms.toFixed(1);
  });

  if (!context.configured) {
    state.show({ kind: 'not-configured' });
    return { state, rescan: async () => undefined, destroy: () => panelHost.remove() };
  }

  let adapters = context.adapters;
  let badged = new WeakSet<Element>();
  /**
   * The badge host of each broadcast (or ambiguous name) badged on this page. One that left the page (the
   * helpdesk re-rendered its list) no longer counts: its broadcast is badged again on the new row.
   */
  const shown = new Map<string, Element>();
  let lastKey = '';
  let [lostPath, lostSince, seen] = ['', 0, false];
  let lostTimer: ReturnType<typeof setTimeout> | undefined;

  // One reading at a time: two at once would badge the same names twice. A reading that fails for the
  // connection's sake shows on the pill, and the page is read again from scratch once it answers.
  let scanning = Promise.resolve();
  const rescan = (): Promise<void> => {
    scanning = scanning.then(scan, scan).then(
      () => undefined,
      (error: unknown) => {
        const trouble = troubleOf(error);
        if (!trouble) throw error;
        state.trouble.value = trouble;
      },
    );
    return scanning;
  };
  // The page is the same; what failed is read again: a panel left on an error reloads what it showed
  // (not the page's default, which would swap the broadcast the agent chose for another).
  const retry = () => {
    if (state.content.value.kind === 'error') void state.again();
    return rescan();
  };
  state.onRetry(retry);
  // While in trouble, try again by itself: 5 s, then 10, 20, up to a minute; no reload needed.
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = 5_000;
  const unwatchTrouble = state.trouble.subscribe((trouble) => {
    clearTimeout(retryTimer);
    if (!trouble) {
      retryDelay = 5_000;
      return;
    }
    retryTimer = setTimeout(() => void retry().catch(() => undefined), retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60_000);
  });

  async function scan(): Promise<void> {
    const reading = readPage(win, adapters);
    // A taught page without its names is lost only once it had time to draw them and showed none on this
    // path: a list that loads late, or empties for a moment, is not offered to be taught again.
    const path = win.location.pathname;
    if (path !== lostPath) [lostPath, lostSince, seen] = [path, Date.now(), false];
    seen ||= !!reading?.names.length;
    if (reading?.lost && !seen && Date.now() - lostSince < 3_000) {
      lostTimer ??= setTimeout(() => {
        lostTimer = undefined;
        void rescan().catch(() => undefined);
      }, 3_000);
      return;
    }
    if (reading?.lost && seen) reading.known = true;
    const kind = state.content.value.kind;
    const { decision, key } = decidePage(
      reading,
      win.location.pathname,
      kind === 'nothing' || kind === 'teach' ? kind : 'other',
      lastKey,
    );
    lastKey = key;
    if (decision.show === 'teach') state.show({ kind: 'teach', again: reading?.lost });
    if (!reading?.known) return;
    // Read again by an adapter: the offer to teach is over.
    if (kind === 'teach') state.show({ kind: 'nothing' });
    // On a contact page the pill says how many failed; the panel opens when the agent asks (the
    // helpdesk's own composer and buttons sit where an open panel would cover them).
    if (decision.show === 'contact') void state.showContact(decision.refs);
    else if (decision.show === 'broadcast') void state.showBroadcast(decision.id, true);
    else if (decision.show === 'broadcast-named')
      await showNamedBroadcast(decision.name).catch((error: unknown) => {
        lastKey = '';
        throw error;
      });
    else if (decision.show === 'latest') void state.showBroadcast(undefined, false);
    const fresh = reading.names.filter(({ element }) => !badged.has(element));
    if (fresh.length === 0) return;
    // The background decides each badge (lib/badges.ts); the page only draws them.
    const views = await ask(sendMessage('badges', { targets: fresh.map(({ id, name }) => ({ id, name })) }));
    // Badges came back: whatever the trouble was, the server answers again.
    state.trouble.value = null;
    for (const [i, target] of fresh.entries()) {
      badged.add(target.element);
      const view = views[i];
      // One badge per broadcast on a page: a log page lists the same broadcast on many rows.
      const key = view && view.kind !== 'ambiguous' ? `id:${view.broadcast.id}` : `name:${target.name}`;
      if (!view || shown.get(key)?.isConnected) continue;
      const host = doc.createElement('span');
      shown.set(key, host);
      host.setAttribute(HOST_ATTRIBUTE, 'badge');
      const root = host.attachShadow({ mode: 'open' });
      adopt(root, sheet, css);
      onlyTheAgent(root);
      render(
        <Badge
          view={view}
          onOpen={(opener) => {
            if (view.kind === 'ambiguous') return state.choose(view.name, view.candidates, opener);
            state.openedBy(opener);
            void state.showBroadcast(view.broadcast.id, true);
          }}
        />,
        root,
      );
      target.element.append(host);
    }
  }

  /** The broadcast a detail page names without an ID: only if one broadcast has that name. */
  async function showNamedBroadcast(name: string): Promise<void> {
    const found = await ask(sendMessage('findBroadcasts', { names: [name] }));
    const candidates = candidatesFor({ name }, found);
    // A name Rebound does not know is not "the latest with failures", nor "all sent": say nothing about it.
    if (candidates.length === 0) {
      state.show({ kind: 'nothing' });
      state.open.value = false;
    } else if (candidates.length > 1) state.choose(name, candidates, null);
    else void state.showBroadcast(candidates[0]?.id, true);
  }

  /**
   * Badges say what is true now: after a re-send here, and every minute (a re-send from another tab,
   * a broadcast that finished), they are read again from scratch.
   */
  function refreshBadges(): void {
    for (const host of doc.querySelectorAll(`[${HOST_ATTRIBUTE}="badge"]`)) host.remove();
    badged = new WeakSet();
    shown.clear();
    void rescan();
  }
  const badgeClock = setInterval(() => {
    if (doc.visibilityState === 'visible') refreshBadges();
  }, 60_000);
  // A followed re-send is read every 2 s: the badges are read again when its status moves, not at each read.
  let resendSeen = '';
  const unwatchResend = state.resend.progress.subscribe((progress) => {
    const seen = progress.phase === 'done' ? `${progress.resend?.id}:${progress.resend?.status}` : '';
    if (seen && seen !== resendSeen) refreshBadges();
    resendSeen = seen;
  });
  // Taught (or edited in the options) for this site: read the page again with what was learned.
  const unlistenLearned = onMessage('sitesLearned', async () => {
    adapters = (await ask(sendMessage('context'))).adapters;
    lastKey = '';
    refreshBadges();
  });
  // Events from the stream (the background tells every open tab): a burst reads the badges once.
  let changedTimer: ReturnType<typeof setTimeout> | undefined;
  const unlistenChanged = onMessage('broadcastsChanged', () => {
    clearTimeout(changedTimer);
    changedTimer = setTimeout(refreshBadges, 500);
  });

  // Helpdesks render late and navigate without reloading: read again when the page changes (not for our own nodes).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const observer = new MutationObserver((mutations) => {
    if (mutations.every(isOurs)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void rescan().catch(() => undefined), 150);
  });
  observer.observe(doc.body, { childList: true, subtree: true, characterData: true });
  await rescan().catch((error: Error) => {
    state.show({ kind: 'error', message: error.message });
  });

  return {
    state,
    rescan,
    destroy() {
      observer.disconnect();
      clearTimeout(timer);
      clearTimeout(retryTimer);
      clearInterval(badgeClock);
      clearTimeout(changedTimer);
      clearTimeout(lostTimer);
      unlistenChanged();
      unlistenLearned();
      unwatchTrouble();
      unwatchResend();
      state.resend.stop();
      render(null, panelRoot);
      panelHost.remove();
      for (const host of doc.querySelectorAll(`[${HOST_ATTRIBUTE}="badge"]`)) host.remove();
    },
  };
}

/** Our own hosts coming and going; what happens inside their shadow roots is not observed at all. */
function isOurs(mutation: MutationRecord): boolean {
  if (mutation.type !== 'childList') return false;
  return [...mutation.addedNodes, ...mutation.removedNodes].every(
    (node) => node instanceof Element && node.hasAttribute(HOST_ATTRIBUTE),
  );
}

/** A constructed sheet is shared by every shadow root and, unlike a <style>, is not blocked by a page's CSP. */
function makeSheet(win: Window, css: string): CSSStyleSheet | null {
  try {
    const sheet = new (win as Window & typeof globalThis).CSSStyleSheet();
    sheet.replaceSync(css);
    return sheet;
  } catch {
    return null;
  }
}

function adopt(root: ShadowRoot, sheet: CSSStyleSheet | null, css: string): void {
  if (sheet) {
    try {
      root.adoptedStyleSheets = [sheet];
      return;
    } catch {
      // Firefox's content-script wrappers may refuse a sheet from another compartment: fall back to <style>.
    }
  }
  const style = root.ownerDocument.createElement('style');
  style.textContent = css;
  root.append(style);
}
