/** The toolbar badge: how many broadcasts need an agent (failed or partly failed, not re-sent). */
import { browser } from 'wxt/browser';
import type { Api } from '../lib/api';
import { attentionItem } from '../lib/settings';

export async function refreshAttention(api: Api): Promise<number[]> {
  // The server applies the rule (@rebound/shared's attention.ts) over every broadcast, not only the
  // newest 100 a listing would bring, and without their channel limits.
  const ids = (await api.attention()).data.map((b) => b.id);
  await attentionItem.setValue(ids);
  await showBadge(ids.length);
  return ids;
}

export async function showBadge(count: number): Promise<void> {
  // Firefox's Manifest V2 build has browserAction where Chromium has action.
  const action = browser.action ?? browser.browserAction;
  await action.setBadgeText({ text: count > 0 ? String(count) : '' });
  await action.setBadgeBackgroundColor({ color: '#c0322b' });
}
