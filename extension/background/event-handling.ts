/**
 * What the background does with the workspace's events, one decision per event and one per batch: a
 * desktop notification for what happened lately, and the toolbar count read again once per batch (a
 * catch-up after a weekend asleep is hundreds of events: one read, not one per event).
 */
import type { BroadcastEvent } from '@rebound/shared';
import { settingsItem } from '../lib/settings';
import { refreshAttention } from './attention';
import { currentApi, currentLanguage } from './client';
import { clearPaused, notifyFailure, notifyPaused, notifyResendFinished, refreshShownFailure } from './notifications';
import { tellOpenTabs } from './overlay-registration';

/**
 * A failure or a finished re-send older than this is not told on the desktop when it is caught up on:
 * the toolbar count and the popup show what still needs the agent, without a pile of notifications.
 */
export const NOTIFY_WITHIN_MS = 12 * 3_600_000;

const recent = (event: BroadcastEvent, now: number) => now - Date.parse(event.createdAt) <= NOTIFY_WITHIN_MS;

export async function handleEvent(event: BroadcastEvent, now = Date.now()): Promise<void> {
  const api = await currentApi();
  if (!api) return;
  const { notify } = await settingsItem.getValue();
  const language = await currentLanguage();
  const fresh = recent(event, now);
  if (
    fresh &&
    ((event.type === 'broadcast.partially_failed' && notify.partiallyFailed) ||
      (event.type === 'broadcast.failed' && notify.failed))
  ) {
    await notifyFailure(api, language, event, { resendsToldElsewhere: notify.resendFinished });
  }
  if (fresh && event.type === 'resend.finished' && notify.resendFinished) await notifyResendFinished(language, event);
  // A pause waits for a manager however old it is; a resume or cancel takes its notification away.
  if (event.type === 'broadcast.paused') await notifyPaused(api, language, event);
  if (event.type === 'broadcast.resumed' || event.type === 'broadcast.cancelled') await clearPaused(event);
}

/**
 * The broadcasts a batch says delivery reports failed more of after their verdict (S10), lately, and no
 * broadcast event of the same batch told already: once each, however many reports came.
 */
export function lateFailuresIn(events: BroadcastEvent[], now = Date.now()): number[] {
  const told = new Set(events.filter((e) => e.type.startsWith('broadcast.')).map((e) => e.broadcastId));
  const late = events.filter(
    (e) => e.type === 'messages.failed' && e.data.late === true && e.broadcastId !== null && recent(e, now),
  );
  return [...new Set(late.map((e) => e.broadcastId as number))].filter((id) => !told.has(id));
}

/**
 * After a batch of events: the toolbar count and the open pages, once, when any broadcast moved or
 * reports failed more of one; a failure notification still shown says the counts as they are now.
 */
export async function afterEvents(events: BroadcastEvent[], now = Date.now()): Promise<void> {
  const late = lateFailuresIn(events, now);
  if (late.length === 0 && !events.some((e) => e.type.startsWith('broadcast.') || e.type.startsWith('resend.'))) return;
  const api = await currentApi();
  if (!api) return;
  const { notify } = await settingsItem.getValue();
  if (notify.partiallyFailed || notify.failed) {
    const language = await currentLanguage();
    // One broadcast's read failing (a busy server) leaves its notification; the count is read all the same.
    for (const id of late)
      await refreshShownFailure(api, language, id, { resendsToldElsewhere: notify.resendFinished }).catch(
        () => undefined,
      );
  }
  await refreshAttention(api);
  await tellOpenTabs();
}
