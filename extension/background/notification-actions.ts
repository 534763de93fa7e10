/** What a click on a Rebound notification does: tag and re-send at once, or open the reasons. */
import { browser } from 'wxt/browser';
import { refreshAttention } from './attention';
import { currentApi, currentLanguage } from './client';
import { notifyResendScheduled, readNotificationId } from './notifications';

/** Buttons are [tag and re-send, see reasons], or only [see reasons] when a re-send cannot help. */
export function onNotificationButton(notificationId: string, index: number): Promise<void> {
  const withResend = readNotificationId(notificationId)?.withResend ?? false;
  return onNotificationAction(notificationId, index === 0 && withResend ? 'resend' : 'reasons');
}

export async function onNotificationAction(notificationId: string, action: 'resend' | 'reasons'): Promise<void> {
  const { broadcastId } = readNotificationId(notificationId) ?? {};
  if (broadcastId === undefined) return;
  if (action === 'reasons') {
    await browser.tabs.create({ url: browser.runtime.getURL(`/popup.html?broadcast=${broadcastId}`) });
    await browser.notifications.clear(notificationId);
    return;
  }
  const api = await currentApi();
  if (!api) return;
  const language = await currentLanguage();
  // The API's defaults: the reasons a re-send can help, scheduled when the quota frees if it was a reason.
  const result = await api.resend(broadcastId, {});
  const broadcast = await api.broadcast(broadcastId);
  await browser.notifications.clear(notificationId);
  await notifyResendScheduled(language, broadcastId, broadcast.name, result.tagged, result.scheduledAt);
  await refreshAttention(api);
}
