/**
 * The toolbar badge: how many broadcasts need an agent (failed or partly failed, not re-sent; paused;
 * or finished with unconfirmed recipients no re-send took, their wait over) and have not been marked as
 * reviewed since their last failure.
 */
import type { AttentionItem } from '@rebound/shared';
import { browser } from 'wxt/browser';
import type { Api } from '../lib/api';
import type { AttentionState } from '../lib/messaging';
import { attentionItem, reviewedItem, settingsItem } from '../lib/settings';
import { clearAllNotifications } from './notifications';

/**
 * What an agent has not reviewed: a mark holds while the broadcast's failures stay at most what they were.
 * A paused broadcast counts whatever its mark: it sends nothing until a manager resumes or cancels it.
 */
export function splitReviewed(items: AttentionItem[], marks: Record<string, number>): AttentionState {
  const needed: number[] = [];
  const reviewed: number[] = [];
  for (const item of items) {
    const mark = marks[String(item.id)];
    const holds = mark !== undefined && item.failed + item.uncertain <= mark && item.status !== 'paused';
    (holds ? reviewed : needed).push(item.id);
  }
  return { needed, reviewed };
}

/**
 * Keeps what needs attention and the marks, and shows the count of what is not reviewed. Marks of
 * broadcasts that no longer need attention (re-sent, or gone past the list) are let go. An answer from
 * a server the extension left meanwhile (an alarm's read, a switch before it answered) writes nothing:
 * its IDs name other broadcasts on the new one.
 */
async function settle(
  from: Api,
  items: AttentionItem[],
  marks: Record<string, number>,
  changed = false,
): Promise<AttentionState> {
  if (!from.isFor(await settingsItem.getValue())) return splitReviewed(items, marks);
  const listed = new Set(items.map((b) => String(b.id)));
  const kept = Object.fromEntries(Object.entries(marks).filter(([id]) => listed.has(id)));
  if (changed || Object.keys(kept).length !== Object.keys(marks).length) await reviewedItem.setValue(kept);
  const state = splitReviewed(items, kept);
  await attentionItem.setValue(state.needed);
  await showBadge(state.needed.length);
  return state;
}

/**
 * Asks the server what needs attention (it applies @rebound/shared's attention.ts over every
 * broadcast, not only the newest 100 a listing would bring) and settles the badge; returns the state
 * the popup shows.
 */
export async function attentionState(api: Api): Promise<AttentionState> {
  return settle(api, (await api.attention()).data, await reviewedItem.getValue());
}

/** The broadcasts that need a look, newest first, after settling the badge. */
export async function refreshAttention(api: Api): Promise<number[]> {
  return (await attentionState(api)).needed;
}

/**
 * Marks a broadcast as reviewed at its failures as they are now, or as the agent saw them (`seen`) when
 * fewer: failures that came while the report was open were never reviewed, and keep it counted. Or takes
 * the mark back. Updates the badge.
 */
export async function markReviewed(
  api: Api,
  broadcastId: number,
  reviewed: boolean,
  seen?: number,
): Promise<AttentionState> {
  const items = (await api.attention()).data;
  const marks = { ...(await reviewedItem.getValue()) };
  const item = items.find((b) => b.id === broadcastId);
  if (reviewed && item)
    marks[String(broadcastId)] = Math.min(item.failed + item.uncertain, seen ?? Number.MAX_SAFE_INTEGER);
  else delete marks[String(broadcastId)];
  return settle(api, items, marks, true);
}

export async function showBadge(count: number): Promise<void> {
  // Firefox's Manifest V2 build has browserAction where Chromium has action.
  const action = browser.action ?? browser.browserAction;
  await action.setBadgeText({ text: count > 0 ? String(count) : '' });
  await action.setBadgeBackgroundColor({ color: '#c0322b' });
}

/**
 * Connected to another server or workspace: its broadcast IDs name other broadcasts here. A mark would hide
 * one of them from the count, and a notification's button would open (or re-send) one the agent never saw.
 */
export async function forgetConnection(): Promise<void> {
  await reviewedItem.setValue({});
  await attentionItem.setValue([]);
  await clearAllNotifications();
}
