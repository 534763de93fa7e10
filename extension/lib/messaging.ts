/**
 * Typed messages from the popup, the options page and the overlay to the background, which alone talks to
 * the API. Every answer is plain JSON; an API error arrives as ReboundError's code and message.
 */
import type { FailedMessage, Language, ResendBody, ResendResult } from '@rebound/shared';
import type { ChannelType } from '@rebound/shared/channels';
import { defineExtensionMessaging } from '@webext-core/messaging';
import type { BadgeTarget, DrawnBadge } from './badges';
import type { MessageKey } from './i18n';
import type { LearnedSite } from './learned-sites';
import type { BroadcastBadge, BroadcastLite, BroadcastReport } from './report';
import { createResendState, type ResendState } from './resend-state';
import type { Connection } from './settings';
import type { SiteAdapter } from './site-adapters';

export type Reply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export interface PageContext {
  language: Language;
  configured: boolean;
  /** The extension's words in that language (lib/words.ts), for the overlay to register. */
  words: Record<MessageKey, string>;
  /** How to read this tab's pages: the built-in site adapters, then those the agent taught for its origin. */
  adapters: SiteAdapter[];
}

/** A failed-messages CSV's first part; the rest (`rest` parts) wait in the background under `id`. */
export interface CsvFirstPart {
  name: string;
  text: string;
  id: string;
  rest: number;
}

export interface ContactFailures {
  contact: { id: number; name: string };
  /** Its latest 100 failed, left-out and unconfirmed messages, newest first. */
  messages: FailedMessage[];
  /** Of those, the ones not sent (failed or left out): unconfirmed ones may have arrived, and are not counted. */
  notSent: number;
}

/** One failed recipient as the "who failed" list shows it. */
export interface WhoRow {
  id: number;
  name: string | null;
  identifier: string | null;
  reason: string;
  reasonTitle: string;
}

export interface WhoPage {
  rows: WhoRow[];
  nextCursor: string | null;
}

/** What the popup shows: the broadcasts that still need a look, and those marked as reviewed. */
export interface AttentionState {
  needed: number[];
  reviewed: number[];
}

interface ProtocolMap {
  /** Checks a URL and token against the server (GET /me) and saves them when they work. */
  connect(data: { backendUrl: string; token: string }): Reply<Connection>;
  /** Sites, language or notifications changed: re-register the overlay and follow the stream again. */
  settingsChanged(): Reply<null>;
  context(): Reply<PageContext>;
  recentBroadcasts(): Reply<BroadcastLite[]>;
  /** The broadcasts a page links to (by ID) or names: a detail page's, a taught pattern's check. */
  findBroadcasts(data: { names: string[]; ids?: number[] }): Reply<BroadcastBadge[]>;
  /** Each broadcast a page links to (by ID) or names, with the badge beside it (null: none). */
  badges(data: { targets: BadgeTarget[] }): Reply<(DrawnBadge | null)[]>;
  /** One broadcast's report, or with no id the latest that needs attention (null when none does). */
  report(data: { broadcastId?: number }): Reply<BroadcastReport | null>;
  contactFailures(data: { identifiers: string[] }): Reply<ContactFailures | null>;
  resend(data: { broadcastId: number; body: ResendBody }): Reply<ResendResult>;
  broadcast(data: { id: number }): Reply<BroadcastLite>;
  /** The workspace's channels that can broadcast: where a re-send may go instead. */
  channels(): Reply<{ id: number; name: string; type: ChannelType }[]>;
  /** Resumes a broadcast the quality guard or Meta paused (managers and owners). */
  resume(data: { broadcastId: number }): Reply<BroadcastLite>;
  /** Lifts the hold on the number of a broadcast's channel (managers and owners). */
  resumeNumber(data: { broadcastId: number }): Reply<null>;
  /** Takes back the scheduled re-send of a broadcast (every part not started yet). */
  /** `resendIds`: the parts of the plan shown (a part not written has none). */
  cancelResend(data: { broadcastId: number; resendIds: (number | null | undefined)[] }): Reply<{ cancelled: number[] }>;
  openOptions(): Reply<null>;
  /** A page of 50 of a broadcast's failed recipients, of one reason or all. */
  failedPage(data: { broadcastId: number; reason?: string; cursor?: string }): Reply<WhoPage>;
  /** The failed-messages CSV of a broadcast (of one reason), as text for the page to save: its first part. */
  failedCsv(data: { broadcastId: number; reason?: string }): Reply<CsvFirstPart>;
  /** A big CSV's next parts (`index` from 0), asked for one by one after the first. */
  failedCsvPart(data: { id: string; index: number }): Reply<string>;
  /** To the overlay in each open helpdesk tab: a broadcast or a re-send changed, read the badges again. */
  broadcastsChanged(): void;
  /** Which broadcasts still need a look and which the agent marked as reviewed. */
  attentionState(): Reply<AttentionState>;
  /** "Enseñar esta página": starts teaching in the asking tab (the teach script, loaded only now). */
  teachPage(): Reply<null>;
  /** Keeps what the agent taught on the asking tab's site; replaces what was taught for the same pages. */
  learnSite(data: Pick<LearnedSite, 'path' | 'names' | 'linkId' | 'list' | 'sample'>): Reply<LearnedSite>;
  /** To the overlay in each tab of a site whose learned pages changed: read the page again. */
  sitesLearned(): void;
  /** Marks a broadcast as reviewed (it stops counting on the toolbar until it fails further), or takes it back. */
  /** `seen`: its failed and unconfirmed recipients as the agent read them (what the mark holds at most). */
  review(data: { broadcastId: number; reviewed: boolean; seen?: number }): Reply<AttentionState>;
}

export const { sendMessage, onMessage } = defineExtensionMessaging<ProtocolMap>();

/** Unwraps a reply, throwing the server's message so the UI can show it as it is. */
export async function ask<T>(reply: Promise<Reply<T>>): Promise<T> {
  const answer = await reply;
  if (!answer.ok) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
  return answer.data;
}

/** A re-send's state for a page (popup, overlay): the background does the API calls. */
export function createBackgroundResendState(): ResendState {
  return createResendState({
    resend: (broadcastId, body) => ask(sendMessage('resend', { broadcastId, body })),
    broadcast: (id) => ask(sendMessage('broadcast', { id })),
    cancel: (broadcastId, resendIds) => ask(sendMessage('cancelResend', { broadcastId, resendIds })),
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
}
