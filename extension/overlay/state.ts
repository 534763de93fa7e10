/** What the overlay knows about the page on screen; signals, so the panel and badges redraw by themselves. */

import { signal } from '@preact/signals';
import type { Language } from '@rebound/shared/i18n';
import { ask, type ContactFailures, createBackgroundResendState, sendMessage } from '../lib/messaging';
import type { BroadcastBadge, BroadcastReport } from '../lib/report';

export type PanelContent =
  | { kind: 'loading' }
  | { kind: 'report'; report: BroadcastReport }
  | { kind: 'contact'; failures: ContactFailures | null }
  | { kind: 'nothing' }
  /** Several broadcasts share the name the page shows: the agent picks one. */
  | { kind: 'choose'; name: string; candidates: BroadcastBadge[] }
  | { kind: 'error'; message: string }
  | { kind: 'not-configured' }
  /** A page of an allowed site that no adapter describes: the agent can teach Rebound to read it. */
  | { kind: 'teach'; again?: boolean };

/** Trouble with the server or the token, as the pill shows it: never silence that looks like calm. */
export type Trouble = { kind: 'offline' | 'token' | 'server' | 'outdated'; message: string };

/** Which errors are the connection's (they get the pill and the automatic retry), not one broadcast's. */
export function troubleOf(error: unknown): Trouble | null {
  const { code = '', message = '' } = error as { code?: string; message?: string };
  if (code === 'network') return { kind: 'offline', message };
  if (code === 'server_outdated') return { kind: 'outdated', message };
  if (code === 'unauthorized' || code === 'too_many_auth_failures') return { kind: 'token', message };
  if (code === 'internal_error' || code === 'internal' || /^http_5\d\d$/.test(code)) return { kind: 'server', message };
  return null;
}

export function createOverlayState(language: Language) {
  const open = signal(false);
  /**
   * Where focus goes when the agent opens or closes the panel. An agent's click moves focus into the
   * panel and Escape brings it back to what they clicked; the panel opening by itself (a contact page)
   * never takes focus from the page.
   */
  const focus = signal<{ to: 'panel' | 'opener'; opener: HTMLElement | null } | null>(null);
  const content = signal<PanelContent>({ kind: 'nothing' });
  /** Milliseconds from the data's arrival to its first paint (the benchmark reads it). */
  const renderMs = signal<number | null>(null);
  /** Set while the server or the token fails; cleared by the next answer that works. */
  const trouble = signal<Trouble | null>(null);
  let retry: () => Promise<void> = async () => undefined;
  const resend = createBackgroundResendState();

  let latest = 0;
  /** What the panel last asked for, to ask again after trouble. */
  let lastRun: (() => Promise<PanelContent>) | null = null;
  async function load(run: () => Promise<PanelContent>): Promise<void> {
    const mine = ++latest;
    lastRun = run;
    content.value = { kind: 'loading' };
    try {
      const next = await run();
      // A slower, older request must not replace what a newer one shows.
      if (mine !== latest) return;
      const arrived = performance.now();
      resend.stop();
      resend.progress.value = { phase: 'idle' };
      content.value = next;
      trouble.value = null;
      requestAnimationFrame(() => {
        renderMs.value = performance.now() - arrived;
      });
    } catch (error) {
      if (mine !== latest) return;
      content.value = { kind: 'error', message: (error as Error).message };
      trouble.value = troubleOf(error) ?? trouble.value;
    }
  }

  return {
    language,
    open,
    focus,
    trouble,
    /** Reads the page again now (the panel's "Reintentar"; the overlay retries by itself too). */
    retry: () => retry(),
    onRetry(run: () => Promise<void>) {
      retry = run;
    },
    /** Asks again for what the panel showed (it failed for the connection's sake). */
    again: () => (lastRun ? load(lastRun) : Promise.resolve()),
    /** The agent opened the panel from `opener` (the pill or a badge). */
    openedBy(opener: HTMLElement | null) {
      open.value = true;
      focus.value = { to: 'panel', opener };
    },
    /** The agent closed it (Escape or Ocultar): focus back where they were. */
    close() {
      const opener = focus.peek()?.opener ?? null;
      open.value = false;
      focus.value = { to: 'opener', opener };
    },
    content,
    renderMs,
    resend,
    showBroadcast(broadcastId: number | undefined, openPanel: boolean) {
      if (openPanel) open.value = true;
      return load(async () => {
        const report = await ask(sendMessage('report', broadcastId === undefined ? {} : { broadcastId })).catch(
          (error: { code?: string }) => {
            // A page about a broadcast Rebound does not know (sent before it, or by another tool): nothing
            // to say about it, as for a name it does not know; not an error in an open panel.
            if (error.code !== 'not_found') throw error;
            open.value = false;
            return null;
          },
        );
        return report ? { kind: 'report', report } : { kind: 'nothing' };
      });
    },
    /** Shows `next` at once; a load still on its way (a retry's, say) no longer replaces it. */
    show(next: PanelContent) {
      latest++;
      content.value = next;
    },
    choose(name: string, candidates: BroadcastBadge[], opener: HTMLElement | null) {
      this.show({ kind: 'choose', name, candidates });
      if (opener) this.openedBy(opener);
      else open.value = true;
    },
    showContact(identifiers: string[]) {
      return load(async () => ({
        kind: 'contact',
        failures: await ask(sendMessage('contactFailures', { identifiers })),
      }));
    },
  };
}

export type OverlayState = ReturnType<typeof createOverlayState>;
