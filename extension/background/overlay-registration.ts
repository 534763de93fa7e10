/**
 * The overlay runs only on the helpdesk pages the agent listed (and granted) in the options, so it is
 * registered at run time instead of in the manifest.
 */
import { browser } from 'wxt/browser';
import { sendMessage } from '../lib/messaging';
import { settingsItem } from '../lib/settings';

const SCRIPT_ID = 'rebound-overlay';

let syncing: Promise<unknown> = Promise.resolve();

/** One sync at a time: two at once could both register the script ("duplicate script ID"). */
export function syncOverlayRegistration(): Promise<string[]> {
  const next = syncing.then(sync, sync);
  syncing = next.catch(() => undefined);
  return next;
}

async function sync(): Promise<string[]> {
  const { sites } = await settingsItem.getValue();
  const granted: string[] = [];
  for (const site of sites) {
    if (await browser.permissions.contains({ origins: [site] })) granted.push(site);
  }
  const existing = await browser.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  const before = existing[0]?.matches ?? [];
  if (existing.length > 0) await browser.scripting.unregisterContentScripts({ ids: [SCRIPT_ID] });
  if (granted.length > 0) {
    await browser.scripting.registerContentScripts([
      { id: SCRIPT_ID, matches: granted, js: ['content-scripts/overlay.js'], runAt: 'document_idle' },
    ]);
  }
  // A registered script only runs on pages loaded from now on: a site just allowed starts at once in
  // the tabs already open on it (the overlay mounts once per page, so a tab that has it is left alone).
  for (const site of granted.filter((s) => !before.includes(s))) await startInOpenTabs(site);
  return granted;
}

/** The open tabs on these URL patterns (only those of allowed sites can be seen). */
async function openTabs(patterns: string | string[]): Promise<number[]> {
  const tabs = await browser.tabs.query({ url: patterns }).catch(() => []);
  return tabs.flatMap((tab) => (tab.id === undefined ? [] : [tab.id]));
}

async function startInOpenTabs(site: string) {
  for (const tabId of await openTabs(site)) {
    // A tab that closed or navigated meanwhile is nothing to report.
    await browser.scripting
      .executeScript({ target: { tabId }, files: ['/content-scripts/overlay.js'] })
      .catch(() => undefined);
  }
}

/**
 * Tells the overlay in every open tab of an allowed site that broadcasts changed (an event of the
 * stream): its badges follow a re-send scheduled or finished elsewhere at once, not at the next minute.
 */
export async function tellOpenTabs(): Promise<void> {
  const [registered] = await browser.scripting.getRegisteredContentScripts({ ids: [SCRIPT_ID] });
  if (!registered?.matches?.length) return;
  for (const tabId of await openTabs(registered.matches)) {
    // A tab without the overlay (still loading, or navigated away) has nobody to answer.
    await sendMessage('broadcastsChanged', undefined, tabId).catch(() => undefined);
  }
}
