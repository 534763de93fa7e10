/** Everything the extension keeps, in one place (chrome.storage.local). */
import type { Language } from '@rebound/shared/i18n';
import { storage } from 'wxt/utils/storage';
import type { LanguageSetting } from './i18n';
import type { LearnedSite } from './learned-sites';

export interface Settings {
  /** The Rebound server, e.g. http://127.0.0.1:8787 (no trailing slash). */
  backendUrl: string;
  token: string;
  language: LanguageSetting;
  /** Match patterns of the helpdesk pages to overlay; each was granted as an optional host permission. */
  sites: string[];
  notify: { failed: boolean; partiallyFailed: boolean; resendFinished: boolean };
}

export interface Connection {
  workspace: { id: number; name: string; language: Language };
  role: 'agent' | 'manager' | 'owner';
  checkedAt: string;
}

export const DEFAULT_SETTINGS: Settings = {
  backendUrl: '',
  token: '',
  language: 'auto',
  sites: [],
  notify: { failed: true, partiallyFailed: true, resendFinished: true },
};

export const settingsItem = storage.defineItem<Settings>('local:settings', { fallback: DEFAULT_SETTINGS });

/** The workspace and role the token was last checked against; null until the options page checks it. */
export const connectionItem = storage.defineItem<Connection | null>('local:connection', { fallback: null });

/** The last event id seen, so a restarted service worker resumes where it stopped. */
export const eventCursorItem = storage.defineItem<string | null>('local:eventCursor', { fallback: null });

/** Broadcasts that need attention: failed or partly failed, not re-sent yet. Drives the badge. */
export const attentionItem = storage.defineItem<number[]>('local:attention', { fallback: [] });

/**
 * Broadcasts this agent marked as reviewed, with how many of their recipients had failed or were
 * unconfirmed then: one that fails further (a count above it) needs attention again.
 */
export const reviewedItem = storage.defineItem<Record<string, number>>('local:reviewed', { fallback: {} });

/** Helpdesk pages the agent taught Rebound to read (lib/teach.ts), newest last. */
export const learnedSitesItem = storage.defineItem<LearnedSite[]>('local:learnedSites', { fallback: [] });

export function isConfigured(settings: Settings): boolean {
  return settings.backendUrl !== '' && settings.token !== '';
}

/**
 * Which server and workspace the extension is connected to, as one key: broadcast IDs are per server, so
 * what was read under one key is not to be acted on under another.
 */
export async function connectionKey(): Promise<string> {
  const [settings, connection] = await Promise.all([settingsItem.getValue(), connectionItem.getValue()]);
  return `${settings.backendUrl}|${connection?.workspace.id ?? ''}`;
}
