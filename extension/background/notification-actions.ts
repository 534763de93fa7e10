/** What a click on a Rebound notification does: open the broadcast's reasons and its re-send, to review. */
import { browser } from 'wxt/browser';
import { readNotificationId } from './notifications';

/** Buttons are [review and re-send, see reasons], or only [see reasons] when a re-send cannot help. */
export function onNotificationButton(notificationId: string, index: number): Promise<void> {
  const withResend = readNotificationId(notificationId)?.withResend ?? false;
  return onNotificationAction(notificationId, index === 0 && withResend ? 'resend' : 'reasons');
}

/**
 * Nothing is sent from a notification: a re-send goes to real people, maybe at a time its advice says
 * to wait for, so the agent sees the plan and confirms it. "resend" opens the same page scrolled to it.
 */
export async function onNotificationAction(notificationId: string, action: 'resend' | 'reasons'): Promise<void> {
  const { broadcastId } = readNotificationId(notificationId) ?? {};
  if (broadcastId === undefined) return;
  const hash = action === 'resend' ? '#resend' : '';
  await browser.tabs.create({ url: browser.runtime.getURL(`/popup.html?broadcast=${broadcastId}${hash}`) });
  await browser.notifications.clear(notificationId);
}
