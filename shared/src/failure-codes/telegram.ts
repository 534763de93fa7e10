/**
 * Telegram Bot API: providerCode is the `error_code` ("403", "400", "429"); the `description`
 * (providerMessage) decides between the 403s and the 400s. Descriptions are matched case-insensitively
 * as substrings, so "Forbidden: bot was blocked by the user" matches "bot was blocked by the user".
 * Sources: channels.md section 2c; entries marked "(extra)" are other Bot API descriptions.
 */
import type { FailureReason } from '../failure-reasons';
import {
  lookup,
  normalizeCode,
  type ProviderCodeEntry,
  type ProviderCodeTable,
  type ProviderFailureCodes,
} from './types';

/** What a bare error_code means when its description is missing or unknown. */
export const telegramCodes: ProviderCodeTable = Object.freeze({
  '429': {
    reason: 'throttled',
    retry: 'later',
    note: 'Flood control ("Too Many Requests: retry after N"); wait retry_after seconds',
  },
  '403': {
    reason: 'blocked',
    retry: 'final',
    note: 'Forbidden with an unknown description: the bot may not write to this chat',
  },
  '400': { reason: 'provider_error', retry: 'final', note: 'Bad Request with an unknown description' },
  '401': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) Unauthorized: the bot token is invalid or revoked',
  },
  '404': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) Not Found: Telegram answers this when the bot token is wrong',
  },
  '500': { reason: 'provider_error', retry: 'now', note: '(extra) Internal Server Error at Telegram' },
  '502': { reason: 'provider_error', retry: 'now', note: '(extra) Bad Gateway at Telegram' },
});

export interface TelegramDescriptionEntry extends ProviderCodeEntry {
  /** The error_code this description comes with. */
  code: string;
  /** Lower-case fragment of the description. */
  text: string;
}

/** Known descriptions, checked before the bare code. */
export const telegramDescriptions: readonly TelegramDescriptionEntry[] = Object.freeze([
  {
    code: '403',
    text: 'bot was blocked by the user',
    reason: 'blocked',
    retry: 'final',
    note: 'The user blocked the bot',
  },
  {
    code: '403',
    text: 'user is deactivated',
    reason: 'not_on_channel',
    retry: 'final',
    note: 'The Telegram account was deleted',
  },
  {
    code: '403',
    text: "bot can't initiate conversation with a user",
    reason: 'not_on_channel',
    retry: 'final',
    note: 'The user never started the bot: the contact must press Start first',
  },
  {
    code: '403',
    text: "bot can't send messages to bots",
    reason: 'invalid_identifier',
    retry: 'final',
    note: '(extra) The chat ID belongs to another bot',
  },
  {
    code: '403',
    text: 'bot was kicked from',
    reason: 'blocked',
    retry: 'final',
    note: '(extra) The bot was removed from the group or channel',
  },
  {
    code: '403',
    text: 'bot is not a member of',
    reason: 'not_on_channel',
    retry: 'final',
    note: '(extra) The bot is not in this group or channel',
  },
  {
    code: '400',
    text: 'chat not found',
    reason: 'invalid_identifier',
    retry: 'final',
    note: 'Wrong chat_id, or the bot has no chat with this user',
  },
  {
    code: '400',
    text: 'group chat was upgraded to a supergroup chat',
    reason: 'invalid_identifier',
    retry: 'final',
    note: 'The chat ID changed (migrate_to_chat_id); replace it, then re-send',
  },
  {
    code: '400',
    text: 'peer_id_invalid',
    reason: 'invalid_identifier',
    retry: 'final',
    note: '(extra) The chat ID is not valid',
  },
  {
    code: '400',
    text: 'user not found',
    reason: 'invalid_identifier',
    retry: 'final',
    note: '(extra) No user with this ID',
  },
  {
    code: '400',
    text: 'not enough rights to send',
    reason: 'blocked',
    retry: 'final',
    note: '(extra) The group does not let the bot post',
  },
  {
    code: '400',
    text: 'message is too long',
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) The text is over 4,096 characters',
  },
  {
    code: '400',
    text: 'message text is empty',
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) The message has no text',
  },
  {
    code: '400',
    text: "can't parse entities",
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) Broken Markdown/HTML formatting',
  },
  {
    code: '400',
    text: 'wrong file identifier',
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) The attached file cannot be used',
  },
]);

export function classifyTelegram(providerCode: string, providerMessage?: string): FailureReason | undefined {
  const code = normalizeCode(providerCode);
  if (providerMessage) {
    const description = providerMessage.toLowerCase();
    const known =
      telegramDescriptions.find((entry) => entry.code === code && description.includes(entry.text)) ??
      telegramDescriptions.find((entry) => description.includes(entry.text));
    if (known) return known.reason;
  }
  return lookup(telegramCodes, code)?.reason;
}

export const telegramFailureCodes: ProviderFailureCodes = {
  isOptOut: (code, message) =>
    normalizeCode(code) === '403' && (message ?? '').toLowerCase().includes('bot was blocked by the user'),
  classify: classifyTelegram,
  tables: {
    codes: telegramCodes,
    // Keyed "<code> <text>" so they list like the other tables.
    descriptions: Object.fromEntries(
      telegramDescriptions.map((entry) => [
        `${entry.code} ${entry.text}`,
        { reason: entry.reason, retry: entry.retry, note: entry.note },
      ]),
    ),
  },
};
