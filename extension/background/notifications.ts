/**
 * Browser notifications for broadcasts that failed, with the counts and the main reason in plain words,
 * and buttons to tag and re-send or to see the reasons; and for broadcasts paused to protect the number.
 */
import type { BroadcastEvent } from '@rebound/shared';
import { failedAtStart } from '@rebound/shared/attention';
import type { Language } from '@rebound/shared/i18n';
import { browser } from 'wxt/browser';
import type { Api } from '../lib/api';
import { formatNumber } from '../lib/i18n';
import { buildReport, notSentFigures } from '../lib/report';
import { failureCatalog } from './client';
import { backgroundText } from './messages';

/**
 * The ID says which broadcast and whether the first button is "tag and re-send", so a click is understood
 * even by a service worker that started after the notification was shown.
 */
export function notificationId(broadcastId: number, withResend = false): string {
  return `rebound:${withResend ? 'resend' : 'broadcast'}:${broadcastId}`;
}

export function readNotificationId(id: string): { broadcastId: number; withResend: boolean } | null {
  const match = /^rebound:(resend|broadcast):(\d+)$/.exec(id);
  return match ? { broadcastId: Number(match[2]), withResend: match[1] === 'resend' } : null;
}

/** Takes down every notification of ours (another server's broadcast IDs name other broadcasts here). */
export async function clearAllNotifications(): Promise<void> {
  for (const id of Object.keys(await browser.notifications.getAll()))
    if (id.startsWith('rebound:')) await browser.notifications.clear(id);
}

/**
 * A failed or partly failed broadcast: "Black Friday: 500 de 1.500 no se enviaron — <reasons with counts>".
 * The first button opens the review (what a re-send would do, and when) and sends nothing by itself.
 * A re-send that ran and failed is told once, by its resend.finished notification, when those are on.
 */
export async function notifyFailure(
  api: Api,
  language: Language,
  event: Extract<BroadcastEvent, { type: 'broadcast.partially_failed' | 'broadcast.failed' }>,
  options: { resendsToldElsewhere?: boolean } = {},
): Promise<void> {
  if (event.broadcastId === null) return;
  const { notice } = await failureNotice(api, language, event.broadcastId, options);
  if (notice) await browser.notifications.create(notice.id, notice.options);
}

/** The failure notification a broadcast needs now (none: nobody needs telling), from its report. */
async function failureNotice(
  api: Api,
  language: Language,
  broadcastId: number,
  { resendsToldElsewhere = false }: { resendsToldElsewhere?: boolean },
): Promise<{ status: string; notice: { id: string; options: chrome.notifications.NotificationCreateOptions } | null }> {
  const report = await buildReport(api, broadcastId, await failureCatalog(api, language));
  const { broadcast } = report;
  const none = { status: broadcast.status, notice: null };
  // A re-send that ran (its failures, or all of them: broadcast_all_failed) is told by its "reenvío
  // terminado"; one that could not even start (nobody left to reach, its channel gone) gets none, so here.
  const ran = !failedAtStart(broadcast);
  if (resendsToldElsewhere && broadcast.resendOfId !== null && ran) return none;
  // Re-sent already (a colleague, automatic recovery) and nothing failed since: it needs nobody, as the
  // toolbar count says; a notification caught up on later would offer what is done.
  if (report.resend && broadcast.lateFailedAt === null) return none;
  // Every reason with its count (the two largest, then how many more), so the text and the button agree.
  const shown = report.reasons.slice(0, 2).map((r) => `${r.title} (${formatNumber(language, r.count)})`);
  const more = report.reasons.length - shown.length;
  const reasons = [...shown, ...(more > 0 ? [backgroundText(language, 'moreReasons', { count: more })] : [])].join(
    ' · ',
  );
  const message =
    broadcast.status === 'failed' && report.notSent === 0
      ? backgroundText(language, 'notifyFailed', { reason: broadcast.error?.message ?? reasons })
      : backgroundText(language, 'notifyPartial', { ...notSentFigures(report), reason: reasons });
  const buttons =
    report.resendable > 0
      ? [
          { title: backgroundText(language, 'reviewResendAction', { count: report.resendable }) },
          { title: backgroundText(language, 'seeReasons') },
        ]
      : [{ title: backgroundText(language, 'seeReasons') }];
  return {
    status: broadcast.status,
    notice: {
      id: notificationId(broadcast.id, report.resendable > 0),
      options: {
        type: 'basic',
        iconUrl: browser.runtime.getURL('/icon/128.png'),
        title: broadcast.name,
        message,
        buttons,
        priority: 2,
        requireInteraction: true,
      },
    },
  };
}

/**
 * A failure notification still on the screen when delivery reports fail more of its finished broadcast:
 * told again with the counts as they are now ("510 de 1.500", not the "500" it said), with "Revisar y
 * reenviar" once some can be re-sent; only once the report is read (a read that fails leaves it). What
 * else is told under the broadcast's plain ID stays as it is: a pause (not finished) and a re-send's
 * "reenvío terminado" (no failure notice for it). None is raised anew for the reports: the toolbar count
 * and the badges say it, without a notification each time a report comes.
 */
export async function refreshShownFailure(
  api: Api,
  language: Language,
  broadcastId: number,
  options: { resendsToldElsewhere?: boolean } = {},
): Promise<void> {
  const all = await browser.notifications.getAll();
  const ids = [notificationId(broadcastId, true), notificationId(broadcastId)].filter((id) => id in all);
  if (ids.length === 0) return;
  const { status, notice } = await failureNotice(api, language, broadcastId, options);
  if (!FINISHED.has(status) || (!notice && !ids.includes(notificationId(broadcastId, true)))) return;
  for (const id of ids) await browser.notifications.clear(id);
  if (notice) await browser.notifications.create(notice.id, notice.options);
}

const FINISHED = new Set(['completed', 'partially_failed', 'failed']);

/** A re-send ran: the server's own sentence. */
export async function notifyResendFinished(
  language: Language,
  event: Extract<BroadcastEvent, { type: 'resend.finished' }>,
): Promise<void> {
  if (event.broadcastId === null) return;
  const { name } = event.data;
  await browser.notifications.create(notificationId(event.broadcastId), {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: backgroundText(language, 'resendFinishedTitle', { name }),
    message: event.message,
    priority: 1,
  });
}

/**
 * A broadcast paused to protect the number (the quality guard, or Meta's own signal): the server's
 * sentence says why; the button or a click opens its report, where a manager resumes or cancels it.
 * Nothing is decided from the notification. Always told: a paused broadcast sends nothing until someone
 * decides. An event without its sentence takes the broadcast's own (the server writes both with shared
 * pauseText, which is not bundled here: it would bring zod into the service worker); one no longer
 * paused by then is not told.
 */
export async function notifyPaused(
  api: Api,
  language: Language,
  event: Extract<BroadcastEvent, { type: 'broadcast.paused' }>,
): Promise<void> {
  if (event.broadcastId === null) return;
  const { name } = event.data;
  const message = event.message || (await api.broadcast(event.broadcastId)).pause?.message;
  if (!message) return;
  await browser.notifications.create(notificationId(event.broadcastId), {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: backgroundText(language, 'pausedTitle', { name }),
    message,
    buttons: [{ title: backgroundText(language, 'seePause') }],
    priority: 2,
    requireInteraction: true,
  });
}

/** Resumed or cancelled: someone decided, so the paused notification no longer asks for anyone. */
export async function clearPaused(
  event: Extract<BroadcastEvent, { type: 'broadcast.resumed' | 'broadcast.cancelled' }>,
): Promise<void> {
  if (event.broadcastId !== null) await browser.notifications.clear(notificationId(event.broadcastId));
}
