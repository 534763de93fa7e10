/**
 * One tag-and-re-send, from the click to the re-send's end: the state both the overlay and the popup show.
 * Kept apart from the components so it can be tested without a DOM.
 */

import { type Signal, signal } from '@preact/signals';
import type { ResendBody, ResendResult } from '@rebound/shared';
import type { BroadcastLite } from './report';

export type ResendProgress =
  | { phase: 'idle' }
  | { phase: 'working' }
  | { phase: 'done'; result: ResendResult | null; resend: BroadcastLite | null }
  /** `code` is the server's (e.g. resend_too_early); `body` what was asked, to ask again with `force`. */
  | { phase: 'error'; message: string; code?: string; broadcastId?: number; body?: ResendBody };

export interface ResendDeps {
  resend(broadcastId: number, body: ResendBody): Promise<ResendResult>;
  broadcast(id: number): Promise<BroadcastLite>;
  /** Cancels these scheduled re-sends of the broadcast (the parts of the plan shown; what is no ID is left out). */
  cancel(broadcastId: number, resendIds: (number | null | undefined)[]): Promise<{ cancelled: number[] }>;
  /** Waits between progress reads; injectable so tests need not sleep. */
  wait(ms: number): Promise<void>;
}

const FINAL = new Set(['completed', 'partially_failed', 'failed', 'cancelled']);

export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

export interface ResendState {
  progress: Signal<ResendProgress>;
  start(broadcastId: number, body: ResendBody): Promise<void>;
  /** Follows a re-send made earlier (another tab, the notification's button). */
  follow(resend: BroadcastLite): Promise<void>;
  /** What a re-send with this body would do (the server's plan, nothing written), or why it would be refused. */
  preview(broadcastId: number, body: ResendBody): Promise<{ plan: ResendResult } | { refused: string }>;
  /**
   * Takes the scheduled re-send shown back (every part of its plan, not another agent's or Rebound's own);
   * the panel then offers a new one (another time, other reasons).
   */
  cancel(broadcastId: number): Promise<void>;
  stop(): void;
}

export function createResendState(deps: ResendDeps, pollMs = 2_000): ResendState {
  const progress = signal<ResendProgress>({ phase: 'idle' });
  // Each start or follow is a run; stop() or a newer run ends the older one, which then writes nothing.
  let run = 0;

  async function follow(mine: number, result: ResendResult | null, resend: BroadcastLite | null) {
    progress.value = { phase: 'done', result, resend };
    let current = resend;
    // Until the re-send has run: scheduled → sending → a final state. Errors while following are not fatal.
    while (mine === run && current && !isFinal(current.status)) {
      await deps.wait(pollMs);
      if (mine !== run) return;
      try {
        current = await deps.broadcast(current.id);
        if (mine === run) progress.value = { phase: 'done', result, resend: current };
      } catch {
        // The next read tries again; the re-send itself is safe on the server.
      }
    }
  }

  return {
    progress,
    async start(broadcastId, body) {
      const mine = ++run;
      progress.value = { phase: 'working' };
      let result: ResendResult;
      try {
        result = await deps.resend(broadcastId, body);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (mine === run)
          progress.value = {
            phase: 'error',
            message: (error as Error).message,
            ...(typeof code === 'string' && { code }),
            broadcastId,
            body,
          };
        return;
      }
      const resend = result.broadcastId === null ? null : await deps.broadcast(result.broadcastId).catch(() => null);
      if (mine === run) await follow(mine, result, resend);
    },
    follow: (resend) => follow(++run, null, resend),
    async cancel(broadcastId) {
      const shown = progress.value;
      // The plan's parts when this page made it; a re-send followed (another tab, the notification) is itself.
      // The background leaves out what is no ID.
      const ids =
        shown.phase === 'done' ? (shown.result?.plan.map((part) => part.broadcastId) ?? [shown.resend?.id]) : [];
      const mine = ++run;
      progress.value = { phase: 'working' };
      try {
        await deps.cancel(broadcastId, ids);
        if (mine === run) progress.value = { phase: 'idle' };
      } catch (error) {
        if (mine === run) progress.value = { phase: 'error', message: (error as Error).message };
      }
    },
    async preview(broadcastId, body) {
      try {
        return { plan: await deps.resend(broadcastId, { ...body, dryRun: true }) };
      } catch (error) {
        return { refused: (error as Error).message };
      }
    },
    stop() {
      run++;
    },
  };
}
