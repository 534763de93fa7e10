/**
 * The Telegram Bot API, as far as Rebound uses it: `POST /bot<token>/sendMessage` (JSON, form or
 * query parameters) and `getMe`. Answers are `{ ok: true, result }` or
 * `{ ok: false, error_code, description, parameters? }` with the HTTP status equal to `error_code`.
 * A wrong token gets 401 "Unauthorized"; an unknown path or method 404 "Not Found".
 *
 * Telegram has no delivery receipts, so `callback()` is always null. What Telegram pushes are
 * updates (user messages, `my_chat_member` when a user blocks the bot): build them with
 * `telegramUpdate()` and the update helpers below.
 */
import {
  type ParsedSend,
  type ProviderFormat,
  ProviderSimulator,
  type SimResponse,
  type SimulatorOptions,
} from './base';

export interface TelegramSimulatorOptions {
  /** The bot token the simulator accepts, "<bot id>:<secret>" as BotFather issues them. */
  botToken: string;
  /** The secret_token given to setWebhook: sent with every update (X-Telegram-Bot-Api-Secret-Token). */
  webhookSecret?: string;
}

/** Descriptions Telegram gives for the codes a script may name without a message. */
const DEFAULT_DESCRIPTIONS: Record<string, string> = {
  '400': 'Bad Request: chat not found',
  '401': 'Unauthorized',
  '403': 'Forbidden: bot was blocked by the user',
  '404': 'Not Found',
  '409': 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  '429': 'Too Many Requests: retry after 1',
  '500': 'Internal Server Error',
};

const MAX_TEXT = 4096;

function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body: JSON.stringify(body), ...(headers && { headers }) };
}

function error(code: number, description: string, parameters?: Record<string, unknown>): SimResponse {
  return json(code, { ok: false, error_code: code, description, ...(parameters && { parameters }) });
}

/** Telegram reads parameters from the query string, a JSON body or a form body. */
function paramsOf(url: URL, contentType: string, rawBody: string): Record<string, unknown> | null {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (!rawBody) return params;
  if (contentType.includes('application/json')) {
    try {
      const body: unknown = JSON.parse(rawBody);
      if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
      return { ...params, ...(body as Record<string, unknown>) };
    } catch {
      return null;
    }
  }
  if (contentType.includes('application/x-www-form-urlencoded')) {
    return { ...params, ...Object.fromEntries(new URLSearchParams(rawBody)) };
  }
  return params;
}

function chatType(chatId: string): string {
  if (chatId.startsWith('@') || chatId.startsWith('-100')) return 'supergroup';
  if (chatId.startsWith('-')) return 'group';
  return 'private';
}

function chatIdValue(chatId: string): number | string {
  return /^-?\d+$/.test(chatId) && Number.isSafeInteger(Number(chatId)) ? Number(chatId) : chatId;
}

export function telegramFormat(opts: TelegramSimulatorOptions): ProviderFormat {
  const botId = Number(opts.botToken.split(':')[0]) || 1_000_000_001;
  const bot = { id: botId, is_bot: true, first_name: 'Rebound Simulator', username: 'rebound_simulator_bot' };
  let nextMessageId = 0;

  return {
    name: 'telegram',

    contactEvent(event, url) {
      const chatId = Number(event.from);
      const date = event.at ? Math.floor(event.at.getTime() / 1000) : undefined;
      const update =
        event.kind === 'message'
          ? telegramMessageUpdate({ chatId, text: event.text, ...(date && { date }) })
          : telegramChatMemberUpdate({
              chatId,
              status: event.kind === 'optOut' ? 'kicked' : 'member',
              botId,
              ...(date && { date }),
            });
      const signed = telegramUpdate({
        ...(opts.webhookSecret !== undefined && { secret: opts.webhookSecret }),
        update,
      });
      const subscription = event.kind === 'optOut' ? 'out' : event.kind === 'optIn' ? 'in' : undefined;
      return {
        callback: { url, method: 'POST', headers: signed.headers, body: signed.body },
        ...(subscription && { subscription }),
      };
    },

    optOutFailure() {
      return { code: '403', message: 'Forbidden: bot was blocked by the user' };
    },

    parseSend({ method, url, headers, rawBody }): ParsedSend | SimResponse {
      const match = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
      if (!match) return error(404, 'Not Found');
      const [, token = '', apiMethod = ''] = match;
      if (token !== opts.botToken) return error(401, 'Unauthorized');
      if (method !== 'POST' && method !== 'GET') return error(404, 'Not Found');

      const params = paramsOf(url, String(headers['content-type'] ?? ''), rawBody);
      if (!params) return error(400, "Bad Request: can't parse JSON object");

      // Method names are case-insensitive in the Bot API.
      switch (apiMethod.toLowerCase()) {
        case 'getme':
          return json(200, { ok: true, result: { ...bot, can_join_groups: true, can_read_all_group_messages: false } });
        case 'sendmessage':
          break;
        default:
          return error(404, 'Not Found');
      }

      const chatId = params.chat_id === undefined || params.chat_id === null ? '' : String(params.chat_id).trim();
      if (!chatId) return error(400, 'Bad Request: chat_id is empty');
      const text = typeof params.text === 'string' ? params.text : params.text === undefined ? '' : String(params.text);
      if (!text.trim()) return error(400, 'Bad Request: message text is empty');
      if (text.length > MAX_TEXT) return error(400, 'Bad Request: message is too long');
      return { recipient: chatId, body: { method: 'sendMessage', ...params } };
    },

    newMessageId(): string {
      nextMessageId++;
      return String(nextMessageId);
    },

    accept(providerMessageId: string, send: ParsedSend): SimResponse {
      const params = send.body as { text?: unknown };
      const type = chatType(send.recipient);
      const chat =
        type === 'private'
          ? { id: chatIdValue(send.recipient), first_name: 'Contact', type }
          : { id: chatIdValue(send.recipient), title: 'Group', type };
      return json(200, {
        ok: true,
        result: {
          message_id: Number(providerMessageId),
          from: bot,
          chat,
          date: Math.floor(Date.now() / 1000),
          text: String(params.text ?? ''),
        },
      });
    },

    fail(code: string, message: string | undefined): SimResponse {
      const status = Number(code);
      const errorCode = Number.isInteger(status) && status >= 400 && status < 600 ? status : 400;
      return error(errorCode, message ?? DEFAULT_DESCRIPTIONS[String(errorCode)] ?? `Error ${code}`);
    },

    throttle(retryAfterSeconds: number): SimResponse {
      const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
      return error(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds });
    },

    serverError(): SimResponse {
      return error(500, 'Internal Server Error');
    },

    callback() {
      return null;
    },
  };
}

export async function startTelegramSimulator(
  opts: TelegramSimulatorOptions & SimulatorOptions,
): Promise<ProviderSimulator> {
  return new ProviderSimulator(telegramFormat(opts), opts).start();
}

/** A webhook request exactly as Telegram posts an Update to the URL given in setWebhook. */
export function telegramUpdate(opts: { secret?: string; update: unknown }): {
  headers: Record<string, string>;
  body: string;
} {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.secret !== undefined) headers['x-telegram-bot-api-secret-token'] = opts.secret;
  return { headers, body: JSON.stringify(opts.update) };
}

let nextUpdateId = 100_000_000;

function user(chatId: number) {
  return { id: chatId, is_bot: false, first_name: 'Contact', language_code: 'es' };
}

/** An Update carrying a private message from a user. */
export function telegramMessageUpdate(opts: { chatId: number; text: string; date?: number }) {
  const date = opts.date ?? Math.floor(Date.now() / 1000);
  nextUpdateId++;
  return {
    update_id: nextUpdateId,
    message: {
      message_id: nextUpdateId % 1_000_000,
      from: user(opts.chatId),
      chat: { id: opts.chatId, first_name: 'Contact', type: 'private' },
      date,
      text: opts.text,
    },
  };
}

/**
 * The `my_chat_member` Update Telegram sends when a user blocks the bot (status "kicked") or
 * unblocks it (status "member").
 */
export function telegramChatMemberUpdate(opts: {
  chatId: number;
  status: 'kicked' | 'member';
  botId?: number;
  date?: number;
}) {
  const date = opts.date ?? Math.floor(Date.now() / 1000);
  const bot = {
    id: opts.botId ?? 1_000_000_001,
    is_bot: true,
    first_name: 'Rebound Simulator',
    username: 'rebound_simulator_bot',
  };
  nextUpdateId++;
  return {
    update_id: nextUpdateId,
    my_chat_member: {
      chat: { id: opts.chatId, first_name: 'Contact', type: 'private' },
      from: user(opts.chatId),
      date,
      old_chat_member:
        opts.status === 'kicked' ? { user: bot, status: 'member' } : { user: bot, status: 'kicked', until_date: 0 },
      new_chat_member:
        opts.status === 'kicked' ? { user: bot, status: 'kicked', until_date: 0 } : { user: bot, status: 'member' },
    },
  };
}
