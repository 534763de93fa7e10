/**
 * Telegram Bot API: `POST /bot<token>/sendMessage` with `{ chat_id, text }`.
 *
 * Answers are `{ ok: true, result: Message }` or `{ ok: false, error_code, description, parameters? }`
 * with the HTTP status equal to `error_code`. Telegram has no delivery receipts: an accepted message
 * stays "sent". What Telegram does push (to the URL given in setWebhook, with the header
 * X-Telegram-Bot-Api-Secret-Token) are updates: messages from users, and `my_chat_member` changes,
 * where status "kicked" means the user blocked the bot.
 *
 * providerCode: the `error_code` as a string ("403", "400", "429", "401"), with the `description` as
 * providerMessage; "http_<status>" when the answer carried no Telegram error; "connection" when the
 * request never left.
 *
 * providerMessageId: `<chat_id>:<message_id>`. Telegram numbers messages per chat, so `message_id`
 * alone repeats across recipients; the chat ID makes it unique within the bot.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { channelCapabilities, retryClass, telegramCodes } from '@rebound/shared';
import { providerUrlAllowlistFromEnv } from '../config';
import { type HttpAnswer, httpRequest, networkOutcome, providerText, retryAfterMs, unrecognizedAnswer } from './http';
import type {
  AdapterOptions,
  ChannelAdapter,
  ChannelConfig,
  ChannelProvider,
  InboundActivity,
  OutboundMessage,
  SendOutcome,
  WebhookContent,
  WebhookHandler,
  WebhookRequest,
} from './types';

export const TELEGRAM_API_URL = 'https://api.telegram.org';
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

interface TelegramAnswer {
  ok?: boolean;
  result?: { message_id?: number; chat?: { id?: number | string } };
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export function createTelegramAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const botToken = channel.credentials.botToken ?? '';
  const base = (channel.baseUrl ?? TELEGRAM_API_URL).replace(/\/+$/, '');
  const url = `${base}/bot${botToken}/sendMessage`;

  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      if (!botToken)
        return { kind: 'failed', providerCode: '401', providerMessage: 'Unauthorized: no bot token is set' };
      let answer: Awaited<ReturnType<typeof httpRequest>>;
      try {
        answer = await httpRequest(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chat_id: chatIdParam(message.to), text: message.content.text }),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      return telegramOutcome(answer, message.to);
    },
  };
}

/** Numeric chat IDs go as numbers (as Telegram's own clients send them); "@channelusername" stays a string. */
function chatIdParam(to: string): number | string {
  const trimmed = to.trim();
  if (/^-?\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (Number.isSafeInteger(n)) return n;
  }
  return trimmed;
}

/** Reads the answer to a send to `to`. Exported for tests of odd answers. */
export function telegramOutcome(answer: HttpAnswer, to: string): SendOutcome {
  const { status, headers, text } = answer;
  const body = parseJson<TelegramAnswer>(text);
  if (status >= 200 && status < 300) {
    const messageId = body?.result?.message_id;
    if (body?.ok === true && messageId !== undefined) {
      const chatId = body.result?.chat?.id ?? to;
      return { kind: 'accepted', providerMessageId: `${chatId}:${messageId}` };
    }
    // A 2xx we cannot read: Telegram may well have sent the message.
    return { kind: 'uncertain', providerMessage: `Unreadable answer (HTTP ${status})` };
  }

  const code = body?.ok === false && typeof body.error_code === 'number' ? String(body.error_code) : `http_${status}`;
  // Only Telegram's own description is shown: any other body (a proxy's page, an internal server's) is not.
  let description =
    typeof body?.description === 'string' && body.description
      ? providerText(body.description)
      : unrecognizedAnswer(status);
  if (typeof body?.parameters?.migrate_to_chat_id === 'number') {
    description += ` (migrate_to_chat_id ${body.parameters.migrate_to_chat_id})`;
  }

  // The code table says which error_codes are sent again: 429 (flood control) after its wait, 5xx at once.
  const retry = typeof body?.error_code === 'number' ? retryClass(telegramCodes, String(body.error_code)) : 'final';
  if (status === 429 || retry === 'later') {
    const retryAfter = body?.parameters?.retry_after;
    const wait = typeof retryAfter === 'number' ? retryAfter * 1000 : retryAfterMs(headers['retry-after']);
    return {
      kind: 'retry',
      providerCode: code,
      providerMessage: description,
      ...(wait !== undefined && { retryAfterMs: wait }),
    };
  }
  if (status >= 500 || retry === 'now') return { kind: 'retry', providerCode: code, providerMessage: description };
  return { kind: 'failed', providerCode: code, providerMessage: description };
}

function parseJson<T>(text: string): T | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Compares two secrets in constant time, whatever their lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

interface TelegramUpdate {
  update_id?: number;
  message?: { chat?: { id?: number | string }; date?: number };
  my_chat_member?: {
    chat?: { id?: number | string };
    date?: number;
    old_chat_member?: { status?: string };
    new_chat_member?: { status?: string };
  };
}

function dateOf(seconds: number | undefined): Date {
  return typeof seconds === 'number' ? new Date(seconds * 1000) : new Date();
}

export const telegramWebhook: WebhookHandler = {
  verify(request: WebhookRequest, channel: ChannelConfig): boolean {
    const expected = channel.credentials.webhookSecret;
    const given = request.headers.get(TELEGRAM_SECRET_HEADER);
    if (!expected || given === null) return false;
    return sameSecret(given, expected);
  },

  parse(request: WebhookRequest): WebhookContent {
    const content: WebhookContent = { updates: [], inbound: [], optOuts: [] };
    const parsed = parseJson<TelegramUpdate | TelegramUpdate[]>(request.rawBody);
    if (!parsed) return content;
    // Telegram posts one Update per request; a list is accepted too (getUpdates' shape, replays).
    for (const update of Array.isArray(parsed) ? parsed : [parsed]) {
      if (!update || typeof update !== 'object') continue;
      const message = update.message;
      if (message?.chat?.id !== undefined) {
        content.inbound.push({ from: String(message.chat.id), at: dateOf(message.date) });
      }
      const member = update.my_chat_member;
      if (member?.chat?.id === undefined) continue;
      const signal: InboundActivity = { from: String(member.chat.id), at: dateOf(member.date) };
      const before = member.old_chat_member?.status;
      const now = member.new_chat_member?.status;
      // "kicked": the user blocked the bot (or a group removed it); back to "member": unblocked.
      if (now === 'kicked') content.optOuts?.push({ ...signal, source: 'webhook', detail: 'my_chat_member: kicked' });
      else if (before === 'kicked' && now === 'member') {
        content.optIns = [...(content.optIns ?? []), { ...signal, detail: 'my_chat_member: member' }];
      }
    }
    return content;
  },
};

export const telegramProvider: ChannelProvider = {
  type: 'telegram',
  capabilities: channelCapabilities.telegram,
  createAdapter: createTelegramAdapter,
  webhook: { path: 'telegram', handler: telegramWebhook },
};
