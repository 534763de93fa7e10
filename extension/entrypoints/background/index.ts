import type { StreamEvent } from '@rebound/shared';
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { refreshAttention } from '../../background/attention';
import { currentApi, currentLanguage } from '../../background/client';
import { createEventSink, followStream, pollEvents } from '../../background/events';
import { registerHandlers } from '../../background/handlers';
import {
  notifyFailure,
  notifyResendFinished,
  notifyResendScheduled,
  readNotificationId,
} from '../../background/notifications';
import { syncOverlayRegistration } from '../../background/overlay-registration';
import { settingsItem } from '../../lib/settings';

const POLL_ALARM = 'rebound-poll';

export default defineBackground(() => {
  const sink = createEventSink(handleEvent);
  let follower: AbortController | null = null;

  /** The live stream with backoff; polling first catches up on what happened while the worker slept. */
  function restartFollower(): void {
    follower?.abort();
    const controller = new AbortController();
    follower = controller;
    void (async () => {
      let delay = 1_000;
      while (!controller.signal.aborted) {
        const api = await currentApi();
        if (!api) return;
        try {
          await pollEvents(api, sink);
          await followStream(api, sink, controller.signal);
          delay = 1_000;
        } catch {
          if (controller.signal.aborted) return;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 60_000);
        }
      }
    })();
  }

  async function handleEvent(event: StreamEvent): Promise<void> {
    const api = await currentApi();
    if (!api) return;
    const { notify } = await settingsItem.getValue();
    const language = await currentLanguage();
    if (
      (event.type === 'broadcast.partially_failed' && notify.partiallyFailed) ||
      (event.type === 'broadcast.failed' && notify.failed)
    ) {
      await notifyFailure(api, language, event);
    }
    if (event.type === 'resend.finished' && notify.resendFinished) await notifyResendFinished(language, event);
    if (event.type.startsWith('broadcast.') || event.type.startsWith('resend.')) await refreshAttention(api);
  }

  async function onNotificationAction(notificationId: string, action: 'resend' | 'reasons'): Promise<void> {
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
    const result = await api.resend(broadcastId, {});
    const broadcast = await api.broadcast(broadcastId);
    await browser.notifications.clear(notificationId);
    await notifyResendScheduled(language, broadcastId, broadcast.name, result.tagged, result.scheduledAt);
    await refreshAttention(api);
  }

  registerHandlers({ restartFollower });

  browser.notifications.onButtonClicked.addListener((id, index) => {
    // Buttons are [tag and re-send, see reasons], or only [see reasons] when a re-send cannot help.
    const withResend = readNotificationId(id)?.withResend ?? false;
    void onNotificationAction(id, index === 0 && withResend ? 'resend' : 'reasons');
  });
  browser.notifications.onClicked.addListener((id) => void onNotificationAction(id, 'reasons'));

  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name !== POLL_ALARM) return;
    void (async () => {
      const api = await currentApi();
      if (!api) return;
      await pollEvents(api, sink);
      await refreshAttention(api);
    })().catch(() => undefined);
  });

  browser.runtime.onInstalled.addListener(() => void setUp());
  browser.runtime.onStartup.addListener(() => void setUp());

  async function setUp(): Promise<void> {
    await browser.alarms.create(POLL_ALARM, { periodInMinutes: 1 });
    await syncOverlayRegistration();
  }

  restartFollower();
});
