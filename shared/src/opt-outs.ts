/**
 * Opt-outs: when a contact no longer wants messages on a channel. Two questions any part of Rebound
 * may ask: is this inbound text an opt-out word, and does this provider failure mean the contact
 * opted out (rather than some other refusal)? Pure: no I/O.
 */
import type { ChannelType } from './channels';
import { providerFailureCodes } from './failure-codes';
import { normalizeCode } from './failure-codes/types';

/** What told Rebound the contact opted out. */
export const OPT_OUT_SOURCES = ['provider_code', 'webhook', 'inbound_word', 'manual', 'import'] as const;
export type OptOutSource = (typeof OPT_OUT_SOURCES)[number];

/**
 * Whole-message opt-out words. English: the carriers' standard keywords, which Twilio honours by
 * itself (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, plus REVOKE and OPTOUT, added in 2025).
 * Spanish: no provider honours them, so Rebound does (channels.md, "Twilio opt-out").
 */
export const OPT_OUT_WORDS: readonly string[] = Object.freeze([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
  'BAJA',
  'ALTO',
  'PARAR',
  'CANCELAR',
]);

const WORDS = new Set(OPT_OUT_WORDS);

/** Upper case without accents or surrounding spaces and punctuation ("¡Bajá!" → "BAJA"). */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
}

/**
 * True when the whole message is an opt-out word: "STOP", " baja ", "¡Alto!" and "Parar." are;
 * "please stop" and "dar de baja" are not. Punctuation around the word is forgiven, other words are not.
 */
export function isOptOutWord(text: string | null | undefined): boolean {
  if (!text) return false;
  return WORDS.has(normalizeKeyword(text));
}

/**
 * True when a send failure means the contact opted out of (or blocked) this channel, so Rebound
 * should stop sending there. Precise on purpose: a code that only sometimes means a block (Twilio
 * 30004 "blocked: opted out, carrier blocklist, DND…", Messenger 2 "unexpected error") is not one.
 *
 * - WhatsApp 131050: the user stopped marketing messages from this business.
 * - Twilio 21610: the recipient replied STOP (or another opt-out word).
 * - Telegram 403 "bot was blocked by the user". Not "user is deactivated" (the account was deleted:
 *   not on the channel, see failure-codes/telegram.ts) nor "bot can't initiate conversation".
 * - Messenger 551 (any subcode) or subcode 1545041: "This person isn't available right now", which
 *   Meta returns when the person blocked the Page or turned its messages off.
 * - Sandbox: the code "opted_out" (the sandbox names reasons as codes).
 */
export function isOptOutFailure(channelType: ChannelType, providerCode: string, providerMessage?: string): boolean {
  // The sandbox names reasons as codes; every provider's own rule sits with its code table.
  if (channelType === 'sandbox') return normalizeCode(providerCode) === 'opted_out';
  return providerFailureCodes[channelType]?.isOptOut?.(providerCode, providerMessage) ?? false;
}

/** Whether an opt-out failure on this channel stops marketing only (WhatsApp 131050), not everything. */
export function optOutFailureIsMarketingOnly(channelType: ChannelType): boolean {
  return providerFailureCodes[channelType]?.optOutMarketingOnly === true;
}
