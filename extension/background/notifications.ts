/**
 * Browser notifications for broadcasts that failed, with the counts and the main reason in plain words,
 * and buttons to tag and re-send or to see the reasons.
 */
import type { StreamEvent } from '@rebound/shared';
import type { Language } from '@rebound/shared/i18n';
import { browser } from 'wxt/browser';
import type { Api } from '../lib/api';
import { formatNumber, formatWhen, translate } from '../lib/i18n';
import { buildReport } from '../lib/report';
import { failureCatalog } from './client';

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

/** A failed or partly failed broadcast: "Black Friday: 500 de 1.500 no se enviaron — <main reason>". */
export async function notifyFailure(api: Api, language: Language, event: StreamEvent): Promise<void> {
  if (event.broadcastId === null) return;
  const report = await buildReport(api, event.broadcastId, await failureCatalog(api, language));
  const { broadcast } = report;
  const main = report.reasons[0]?.title ?? broadcast.error?.message ?? '';
  const total = broadcast.targetCount ?? broadcast.completedCount ?? report.notSent;
  const message =
    broadcast.status === 'failed' && report.notSent === 0
      ? translate(language, 'notifyFailed', { reason: broadcast.error?.message ?? main })
      : translate(language, 'notifyPartial', {
          failed: formatNumber(language, report.notSent),
          total: formatNumber(language, total),
          reason: main,
        });
  const buttons =
    report.resendable > 0
      ? [
          { title: translate(language, 'resendAction', { count: formatNumber(language, report.resendable) }) },
          { title: translate(language, 'seeReasons') },
        ]
      : [{ title: translate(language, 'seeReasons') }];
  await browser.notifications.create(notificationId(broadcast.id, report.resendable > 0), {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: broadcast.name,
    message,
    buttons,
    priority: 2,
    requireInteraction: true,
  });
}

/** After the notification's own button: what happened, in the same notification. */
export async function notifyResendScheduled(
  language: Language,
  broadcastId: number,
  name: string,
  tagged: number,
  scheduledAt: string | null,
): Promise<void> {
  await browser.notifications.create(notificationId(broadcastId), {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: name,
    message: translate(language, 'notifyResendDone', {
      name,
      when: scheduledAt ? formatWhen(language, scheduledAt) : translate(language, 'whenNow').toLowerCase(),
      count: tagged,
    }),
    priority: 1,
  });
}

/** A re-send ran: the server's own sentence. */
export async function notifyResendFinished(language: Language, event: StreamEvent): Promise<void> {
  if (event.broadcastId === null) return;
  const name = typeof event.data.name === 'string' ? event.data.name : '';
  await browser.notifications.create(notificationId(event.broadcastId), {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: translate(language, 'resendFinishedTitle', { name }),
    message: event.message,
    priority: 1,
  });
}
