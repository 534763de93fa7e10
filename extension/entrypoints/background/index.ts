import '../../lib/all-words';
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { refreshAttention } from '../../background/attention';
import { currentApi } from '../../background/client';
import { afterEvents, handleEvent } from '../../background/event-handling';
import { createEventSink, followStream, pollEvents } from '../../background/events';
import { registerHandlers } from '../../background/handlers';
import { onNotificationAction, onNotificationButton } from '../../background/notification-actions';
import { syncOverlayRegistration } from '../../background/overlay-registration';

const POLL_ALARM = 'rebound-poll';

export default defineBackground(() => {
  // The token lives in storage.local. Content scripts run inside web pages and read none of it: a page
  // that took its renderer over must not read (or rewrite) the server and token there. Chromium only:
  // Firefox has no such switch yet.
  void browser.storage.local.setAccessLevel?.({ accessLevel: 'TRUSTED_CONTEXTS' }).catch(() => undefined);
  const sink = createEventSink(handleEvent, afterEvents);
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

  registerHandlers({ restartFollower, between: sink.between });

  browser.notifications.onButtonClicked.addListener((id, index) => void onNotificationButton(id, index));
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
