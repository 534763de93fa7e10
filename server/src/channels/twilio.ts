/**
 * Twilio Programmable Messaging (SMS):
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth (AccountSid:AuthToken), a
 * form-encoded body with To, From (or MessagingServiceSid), Body and StatusCallback.
 *
 * Twilio answers 201 with the Message resource (`sid` "SM…"), or `{ code, message, more_info, status }`
 * (400 for 21211/21610/21408/21614…, 401 with 20003, 429 with 20429). Delivery comes later as a
 * form-encoded status callback signed with X-Twilio-Signature; incoming SMS (replies, STOP) come
 * the same way to the number's messaging webhook.
 *
 * providerCode: the Twilio error code as a string ("21610", "20003", "20429", and "30003"… from status
 * callbacks); "http_<status>" when the answer carried no Twilio code; "connection" when the request never left.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { channelCapabilities, isOptOutWord, normalizeKeyword, retryClass, twilioCodes } from '@rebound/shared';
import { providerUrlAllowlistFromEnv } from '../config';
import {
  type HttpAnswer,
  httpRequest,
  networkOutcome,
  providerCodeText,
  providerText,
  retryAfterMs,
  unrecognizedAnswer,
} from './http';
import type {
  AdapterOptions,
  ChannelAdapter,
  ChannelConfig,
  ChannelProvider,
  DeliveryUpdate,
  OutboundMessage,
  SendOutcome,
  WebhookContent,
  WebhookHandler,
  WebhookRequest,
} from './types';

export const TWILIO_API_URL = 'https://api.twilio.com';
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * Twilio's default opt-in keywords: after STOP, any of these as the whole message subscribes the
 * number again at Twilio (https://help.twilio.com/articles/223134027). Opt-out words are the shared
 * OPT_OUT_WORDS (Twilio's own plus the Spanish ones Rebound honours itself).
 */
export const TWILIO_OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);

interface TwilioAnswer {
  sid?: string;
  status?: string | number;
  code?: number | string;
  message?: string;
  detail?: string;
}

export function createTwilioAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const { accountSid = '', authToken = '', from = '' } = channel.credentials;
  const base = (channel.baseUrl ?? TWILIO_API_URL).replace(/\/+$/, '');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      if (!accountSid || !authToken) {
        return {
          kind: 'failed',
          providerCode: '20003',
          providerMessage: 'Authenticate: no Account SID or Auth Token is set',
        };
      }
      if (!from)
        return { kind: 'failed', providerCode: '21603', providerMessage: "A 'From' phone number is required." };

      const form = new URLSearchParams();
      // Twilio wants E.164 with the plus; contacts may be stored without it.
      const to = message.to.trim();
      form.set('To', /^\d+$/.test(to) ? `+${to}` : to);
      // A Messaging Service SID (MG + 32 hex) goes in its own parameter; Twilio then picks the sender.
      if (/^MG[0-9a-fA-F]{32}$/.test(from)) form.set('MessagingServiceSid', from);
      else form.set('From', from);
      form.set('Body', message.content.text);
      if (message.statusCallbackUrl) form.set('StatusCallback', message.statusCallbackUrl);

      let answer: Awaited<ReturnType<typeof httpRequest>>;
      try {
        answer = await httpRequest(url, {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form.toString(),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      return twilioOutcome(answer);
    },
  };
}

/** Reads the answer to a send. Exported for tests of odd answers. */
export function twilioOutcome(answer: HttpAnswer): SendOutcome {
  const { status, headers, text } = answer;
  const body = parseJson<TwilioAnswer>(text);
  if (status >= 200 && status < 300) {
    if (typeof body?.sid === 'string' && body.sid) return { kind: 'accepted', providerMessageId: body.sid };
    // A 2xx we cannot read: Twilio may well have queued the message.
    return { kind: 'uncertain', providerMessage: `Unreadable answer (HTTP ${status})` };
  }

  const code = providerCodeText(body?.code) ?? `http_${status}`;
  // Only Twilio's own error fields are shown: any other body (a proxy's page, an internal server's) is not.
  const recognised = [body?.message, body?.detail].filter((part) => typeof part === 'string' && part).join(': ');
  const providerMessage = recognised ? providerText(recognised) : unrecognizedAnswer(status);

  // The code table says which of Twilio's codes are sent again (20429: too many concurrent requests).
  const retry = retryClass(twilioCodes, code);
  if (status === 429 || retry === 'later') {
    const wait = retryAfterMs(headers['retry-after']);
    return { kind: 'retry', providerCode: code, providerMessage, ...(wait !== undefined && { retryAfterMs: wait }) };
  }
  if (status >= 500 || retry === 'now') return { kind: 'retry', providerCode: code, providerMessage };
  return { kind: 'failed', providerCode: code, providerMessage };
}

function parseJson<T>(text: string): T | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + every POST parameter's name and value,
 * sorted by name)). Repeated names contribute each value, sorted.
 */
export function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]> = []): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of params) {
    const values = grouped.get(name);
    if (values) values.push(value);
    else grouped.set(name, [value]);
  }
  let data = url;
  for (const name of [...grouped.keys()].sort()) {
    for (const value of (grouped.get(name) ?? []).sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The URL as Twilio may have signed it: as given, and with the default port added or removed. */
function urlVariants(raw: string): string[] {
  const variants = [raw];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return variants;
  }
  const defaultPort = url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : undefined;
  if (!defaultPort) return variants;
  const authority = `${url.protocol}//${url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''}`;
  const rest = url.pathname + url.search + url.hash;
  if (url.port === '') {
    variants.push(`${authority}${url.hostname}:${defaultPort}${rest}`, `${authority}${url.hostname}${rest}`);
  } else if (url.port === defaultPort) {
    variants.push(`${authority}${url.hostname}${rest}`);
  }
  return [...new Set(variants)];
}

function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isForm(request: WebhookRequest): boolean {
  const type = request.headers.get('content-type') ?? '';
  return request.method.toUpperCase() === 'POST' && (type === '' || type.includes('application/x-www-form-urlencoded'));
}

/** The callback's parameters: the form body of a POST, else the query string (callbacks set to GET). */
function paramsOf(request: WebhookRequest): URLSearchParams {
  if (isForm(request)) return new URLSearchParams(request.rawBody);
  try {
    return new URL(request.url).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

function optionalParam(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

export const twilioWebhook: WebhookHandler = {
  verify(request: WebhookRequest, channel: ChannelConfig): boolean {
    const authToken = channel.credentials.authToken;
    const given = request.headers.get(TWILIO_SIGNATURE_HEADER);
    if (!authToken || !given) return false;

    let signedParams: [string, string][] = [];
    if (isForm(request)) {
      signedParams = [...new URLSearchParams(request.rawBody)];
    } else if (request.rawBody) {
      // A JSON body is not signed itself: Twilio adds its SHA-256 to the URL as bodySHA256 and signs the URL.
      let bodyHash: string | null = null;
      try {
        bodyHash = new URL(request.url).searchParams.get('bodySHA256');
      } catch {
        return false;
      }
      const actual = createHash('sha256').update(request.rawBody, 'utf8').digest('hex');
      if (!bodyHash || !sameSignature(bodyHash.toLowerCase(), actual)) return false;
    }
    return urlVariants(request.url).some((url) => sameSignature(given, twilioSignature(authToken, url, signedParams)));
  },

  parse(request: WebhookRequest): WebhookContent {
    const content: WebhookContent = { updates: [], inbound: [], optOuts: [] };
    const params = paramsOf(request);
    const at = new Date();
    const status = optionalParam(params, 'MessageStatus') ?? optionalParam(params, 'SmsStatus');
    const body = params.get('Body');
    const from = optionalParam(params, 'From');
    const to = optionalParam(params, 'To');
    const sid =
      optionalParam(params, 'MessageSid') ?? optionalParam(params, 'SmsMessageSid') ?? optionalParam(params, 'SmsSid');

    // Incoming SMS: Body and From, status "received" (or none).
    if (body !== null && from && (status === undefined || status === 'received' || status === 'receiving')) {
      // With Advanced Opt-Out, Twilio names what it did with the message (STOP, START or HELP).
      const optOutType = params.get('OptOutType')?.toUpperCase();
      const word = normalizeKeyword(body).slice(0, 50);
      // Timed by its arrival (Twilio sends no time): only its SID tells a replay from a new message.
      const signal = { from, at, ...(to && { to }), ...(sid && { eventId: sid }) };
      if (isOptOutWord(body) || optOutType === 'STOP') {
        content.optOuts?.push({ ...signal, source: 'inbound_word', detail: word || 'STOP' });
        return content;
      }
      content.inbound.push({ from, at, ...(to && { to }) });
      if (TWILIO_OPT_IN_KEYWORDS.has(word) || optOutType === 'START') {
        content.optIns = [{ ...signal, detail: word || 'START' }];
      }
      return content;
    }

    const mapped = status ? STATUS_MAP[status] : undefined;
    if (!sid || !mapped) return content;
    const update: DeliveryUpdate = { providerMessageId: sid, status: mapped, at };
    const messageId = messageIdOf(request.url);
    if (messageId !== undefined) update.messageId = messageId;
    if (mapped === 'failed') {
      // Twilio always names the ErrorCode on failed/undelivered; without one the catalog sees no code.
      const errorCode = optionalParam(params, 'ErrorCode');
      if (errorCode) update.providerCode = errorCode;
      update.providerMessage = optionalParam(params, 'ErrorMessage') ?? `Message ${status}`;
    }
    content.updates.push(update);
    return content;
  },
};

/** Twilio's MessageStatus values that mean something to Rebound; queued/accepted/sending/scheduled are ignored. */
const STATUS_MAP: Record<string, DeliveryUpdate['status'] | undefined> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
};

/** The numeric `messageId` query parameter the engine may have put in the StatusCallback URL. */
function messageIdOf(url: string): number | undefined {
  try {
    const raw = new URL(url).searchParams.get('messageId');
    if (raw === null || !/^\d+$/.test(raw)) return undefined;
    const id = Number(raw);
    return Number.isSafeInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export const twilioProvider: ChannelProvider = {
  type: 'twilio_sms',
  capabilities: channelCapabilities.twilio_sms,
  createAdapter: createTwilioAdapter,
  webhook: { path: 'twilio', handler: twilioWebhook },
};
