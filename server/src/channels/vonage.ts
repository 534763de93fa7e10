/**
 * Vonage (ex-Nexmo) SMS API: `POST https://rest.nexmo.com/sms/json`, and the delivery receipts and inbound
 * SMS it calls back with.
 *
 * Sending: the API key and secret travel in the (form-encoded) body with from, to (digits, no +), text,
 * client-ref (Rebound's message ID, echoed in every delivery receipt) and callback (a per-message DLR URL).
 * The answer is HTTP 200 whatever happened: each part of the message carries its own `status`, "0" for
 * accepted and anything else with an `error-text` (1 Throttled, 4 Bad Credentials, 7 Number barred, ...).
 *
 * Callbacks: delivery receipts and inbound SMS come as a GET query, a POST form or a POST JSON body,
 * depending on the dashboard setting; all three are read (for a POST, only the body: query parameters of
 * Rebound's own in the callback URL are not Vonage's and are not signed). With signed webhooks on, they carry `timestamp`,
 * `nonce` and `sig`: a digest of every other parameter, sorted by name, written `&name=value` with `&` and
 * `=` inside values replaced by `_`; "md5hash" is MD5 over that string followed by the signature secret,
 * the HMAC methods (MD5, SHA-1, SHA-256, SHA-512) key the HMAC with the secret. The method is the one
 * chosen in the dashboard: credentials.signatureMethod pins it ("md5hash", "md5", "sha1", "sha256",
 * "sha512"); without it the method is told from the digest's length (SHA-256 for 64 hex characters, the
 * dashboard default for HMAC; a 32-character digest is checked as MD5 hash and as HMAC-MD5).
 *
 * Provider codes: "status:<n>" for a refused submit ("status:7"), "dlr:<err-code>" for a failed delivery
 * receipt ("dlr:6"), or "dlr:<status>" ("dlr:expired", "dlr:rejected") when the receipt has no err-code
 * (or err-code 0 beside a failed status); "http_<status>" for a non-200 answer, "connection" when the
 * request never left.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { channelCapabilities, isOptOutWord, normalizeKeyword, retryClass, vonageCodes } from '@rebound/shared';
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
  InboundActivity,
  OptOutSignal,
  OutboundMessage,
  SendOutcome,
  WebhookContent,
  WebhookHandler,
  WebhookRequest,
} from './types';

export const VONAGE_BASE_URL = 'https://rest.nexmo.com';

/** Signed callbacks older (or further in the future) than this are refused, so a captured one cannot be replayed. */
export const VONAGE_SIGNATURE_MAX_AGE_SECONDS = 300;

export function createVonageAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const base = (channel.baseUrl ?? VONAGE_BASE_URL).replace(/\/+$/, '');
  const { apiKey = '', apiSecret = '', from = '' } = channel.credentials;
  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      const text = message.content.text;
      const params = new URLSearchParams({
        api_key: apiKey,
        api_secret: apiSecret,
        // A phone-number sender goes as digits; an alphanumeric sender ID as it is.
        from: /^\+?\d+$/.test(from) ? from.replace(/^\+/, '') : from,
        to: message.to.replace(/\D/g, ''),
        text,
        'client-ref': String(message.messageId),
      });
      // GSM-7 is the default; anything outside it would arrive as '?' unless sent as UCS-2.
      if (!isGsm7(text)) params.set('type', 'unicode');
      if (message.statusCallbackUrl) params.set('callback', message.statusCallbackUrl);

      let answer: HttpAnswer;
      try {
        answer = await httpRequest(`${base}/sms/json`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: params.toString(),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      return vonageOutcome(answer);
    },
  };
}

/**
 * The text of Vonage's own error formats: `error-text` (the SMS API's, at the top or in messages[0]) or
 * the problem-details `title` and `detail` of its newer APIs. Anything else is not Vonage's and is not shown.
 */
function vonageErrorText(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown> & { messages?: unknown };
  const part = Array.isArray(record.messages) ? (record.messages[0] as Record<string, unknown> | undefined) : undefined;
  const fields = [record['error-text'], part?.['error-text'], record.title, record.detail];
  const strings = fields.filter((field): field is string => typeof field === 'string' && field.trim() !== '');
  return strings.length > 0 ? strings.join(': ') : undefined;
}

interface VonageSubmitPart {
  status?: string;
  'message-id'?: string;
  'error-text'?: string;
}

/** Reads the submit answer. Exported for tests of odd answers. */
export function vonageOutcome(answer: HttpAnswer): SendOutcome {
  if (answer.status !== 200) {
    const providerCode = `http_${answer.status}`;
    const recognised = vonageErrorText(answer.text);
    const providerMessage = recognised ? providerText(recognised) : unrecognizedAnswer(answer.status);
    if (answer.status === 429 || answer.status >= 500) {
      const wait = retryAfterMs(answer.headers['retry-after']);
      return { kind: 'retry', providerCode, providerMessage, ...(wait !== undefined && { retryAfterMs: wait }) };
    }
    return { kind: 'failed', providerCode, providerMessage };
  }
  let parts: VonageSubmitPart[];
  try {
    const body = JSON.parse(answer.text) as { messages?: VonageSubmitPart[] };
    parts = Array.isArray(body.messages) ? body.messages : [];
  } catch {
    parts = [];
  }
  if (parts.length === 0) {
    // A 200 we cannot read: the request reached Vonage and may have been sent.
    return { kind: 'uncertain', providerMessage: `Unreadable Vonage answer (HTTP ${answer.status})` };
  }
  // A long text is split into parts, each with its own status and message-id. Once any part is accepted
  // the message is on its way (the receipts, all carrying client-ref, tell the rest).
  const accepted = parts.find((p) => String(p.status) === '0' && p['message-id']);
  if (accepted) return { kind: 'accepted', providerMessageId: String(accepted['message-id']) };
  const refused = parts[0] as VonageSubmitPart;
  const status = providerCodeText(refused.status) ?? '';
  const providerCode = `status:${status}`;
  const errorText = refused['error-text'];
  const providerMessage =
    typeof errorText === 'string' && errorText ? providerText(errorText) : `Vonage status ${status}`;
  // The code table says which submit statuses are sent again unchanged: 1 Throttled, 5 Internal Error,
  // 10 Too Many Existing Binds.
  if (retryClass(vonageCodes, providerCode) !== 'final') return { kind: 'retry', providerCode, providerMessage };
  return { kind: 'failed', providerCode, providerMessage };
}

// ---------------------------------------------------------------------------------------------------------
// Callbacks

export type VonageSignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

/** The string Vonage signs: `&name=value` for every parameter but sig, sorted by name, `&`/`=` in values as `_`. */
export function vonageSignatureBase(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((key) => key !== 'sig')
    .sort()
    .map((key) => `&${key}=${String(params[key]).replace(/[&=]/g, '_')}`)
    .join('');
}

export function vonageSignature(
  params: Record<string, string>,
  secret: string,
  method: VonageSignatureMethod = 'sha256',
): string {
  const base = vonageSignatureBase(params);
  if (method === 'md5hash')
    return createHash('md5')
      .update(base + secret)
      .digest('hex');
  return createHmac(method, secret).update(base).digest('hex');
}

const METHODS_BY_LENGTH: Record<number, VonageSignatureMethod[]> = {
  32: ['md5hash', 'md5'],
  40: ['sha1'],
  64: ['sha256'],
  128: ['sha512'],
};

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A callback's parameters: the body's (JSON or form) when there is one, else the query string's. A POST
 * callback URL may carry Rebound's own query parameters, which Vonage does not sign, so they are left out.
 */
export function vonageCallbackParams(request: WebhookRequest): Record<string, string> {
  const params: Record<string, string> = {};
  const raw = request.rawBody.trim();
  if (!raw) {
    const url = safeUrl(request.url);
    if (url) for (const [key, value] of url.searchParams) params[key] = value;
    return params;
  }
  const contentType = request.headers.get('content-type') ?? '';
  if (contentType.includes('json') || raw.startsWith('{')) {
    try {
      const body = JSON.parse(raw) as Record<string, unknown>;
      if (body && typeof body === 'object' && !Array.isArray(body)) {
        for (const [key, value] of Object.entries(body)) {
          if (value !== null && value !== undefined)
            params[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
        }
      }
    } catch {
      // Not JSON after all: nothing to read.
    }
    return params;
  }
  for (const [key, value] of new URLSearchParams(raw)) params[key] = value;
  return params;
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url, 'http://localhost');
  } catch {
    return undefined;
  }
}

export function verifyVonageParams(
  params: Record<string, string>,
  secret: string | undefined,
  options: { method?: string | undefined; nowSeconds?: number } = {},
): boolean {
  const sig = params.sig;
  if (!secret || !sig || !/^[0-9a-fA-F]+$/.test(sig)) return false;
  const timestamp = Number(params.timestamp);
  if (!params.timestamp || !Number.isFinite(timestamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > VONAGE_SIGNATURE_MAX_AGE_SECONDS) return false;
  const pinned = options.method?.toLowerCase().replace(/^hmac[-_]?/, '');
  const methods: VonageSignatureMethod[] = pinned
    ? isMethod(pinned)
      ? [pinned]
      : []
    : (METHODS_BY_LENGTH[sig.length] ?? []);
  let valid = false;
  // Every candidate is checked (no early exit), so timing says nothing about which one matched.
  for (const method of methods) if (sameHex(sig, vonageSignature(params, secret, method))) valid = true;
  return valid;
}

function isMethod(value: string): value is VonageSignatureMethod {
  return ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'].includes(value);
}

/**
 * A receipt's status word, in the SMS API's spelling or the SMPP one Vonage's DLR article uses (DELIVRD,
 * ACCEPTD): a receipt that says delivered must never land in the failed log.
 */
const DELIVERED = new Set(['delivered', 'delivrd']);
const IN_FLIGHT = new Set(['accepted', 'acceptd', 'buffered']);
/** Final words that are failures; "unknown" is a final state nobody knows (it may have arrived). */
const FAILED = new Set(['expired', 'failed', 'rejected', 'rejectd', 'undelivered', 'undeliv', 'deleted']);
const UNKNOWN = 'unknown';

/** Vonage's DLR err-code table, for the message shown beside the code. */
const DLR_ERRORS: Record<string, string> = {
  '1': 'Unknown',
  '2': 'Absent Subscriber - Temporary',
  '3': 'Absent Subscriber - Permanent',
  '4': 'Call Barred by User',
  '5': 'Portability Error',
  '6': 'Anti-Spam Rejection',
  '7': 'Handset Busy',
  '8': 'Network Error',
  '9': 'Illegal Number',
  '10': 'Illegal Message',
  '11': 'Unroutable',
  '12': 'Destination Unreachable',
  '13': 'Subscriber Age Restriction',
  '14': 'Number Blocked by Carrier',
  '15': 'Prepaid Insufficient Funds',
  '16': 'Gateway Quota Exceeded',
  '50': 'Entity Filter',
  '51': 'Header Filter',
  '52': 'Content Filter',
  '53': 'Consent Filter',
  '54': 'Regulation Error',
  '99': 'General Error',
};

/** Texts that opt a contact out of SMS: the shared opt-out words (English and Spanish), the whole message. */
export function isOptOutText(text: string): boolean {
  return isOptOutWord(text);
}

/** "2020-01-01 12:00:00" (UTC), else the SMSC timestamp YYMMDDhhmm, else the signing timestamp, else now. */
function callbackTime(params: Record<string, string>): Date {
  const stamp = params['message-timestamp'];
  if (stamp) {
    const at = new Date(`${stamp.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(stamp) ? '' : 'Z'}`);
    if (!Number.isNaN(at.getTime())) return at;
  }
  const scts = params.scts;
  if (scts && /^\d{10}$/.test(scts)) {
    const [yy, mm, dd, hh, mi] = [0, 2, 4, 6, 8].map((i) => Number(scts.slice(i, i + 2))) as [
      number,
      number,
      number,
      number,
      number,
    ];
    return new Date(Date.UTC(2000 + yy, mm - 1, dd, hh, mi));
  }
  const seconds = Number(params.timestamp);
  if (params.timestamp && Number.isFinite(seconds)) return new Date(seconds * 1000);
  return new Date();
}

export function parseVonageParams(params: Record<string, string>): WebhookContent {
  const updates: DeliveryUpdate[] = [];
  const inbound: InboundActivity[] = [];
  const optOuts: OptOutSignal[] = [];
  const at = callbackTime(params);
  const isInbound = params.text !== undefined && params.msisdn !== undefined && params['err-code'] === undefined;

  if (isInbound) {
    const activity = { from: params.msisdn as string, at, ...(params.to && { to: params.to }) };
    inbound.push(activity);
    const text = params.text as string;
    if (isOptOutText(text)) {
      optOuts.push({ ...activity, source: 'inbound_word', detail: normalizeKeyword(text) });
    }
  } else if (params.status && (params.messageId || params['client-ref'])) {
    const status = params.status.toLowerCase();
    const clientRef = params['client-ref'];
    const base = {
      ...(params.messageId && { providerMessageId: params.messageId }),
      ...(clientRef && /^\d+$/.test(clientRef) && { messageId: Number(clientRef) }),
      at,
    };
    if (DELIVERED.has(status)) {
      updates.push({ ...base, status: 'delivered' });
    } else if (IN_FLIGHT.has(status)) {
      updates.push({ ...base, status: 'sent' });
    } else {
      const errCode = params['err-code'];
      const failedCode = errCode && errCode !== '0' ? errCode : undefined;
      // A word none of Vonage's tables has, with no error either, says nothing: the message stays as it is.
      if (!FAILED.has(status) && status !== UNKNOWN && !failedCode) return { updates, inbound };
      // An unknown final state stays unconfirmed whatever the err-code says ("1", Unknown).
      const code = status === UNKNOWN ? UNKNOWN : (failedCode ?? status);
      updates.push({
        ...base,
        status: 'failed',
        providerCode: `dlr:${code}`,
        providerMessage: errCode && DLR_ERRORS[errCode] ? `${status}: ${DLR_ERRORS[errCode]}` : status,
      });
    }
  }
  return { updates, inbound, ...(optOuts.length > 0 && { optOuts }) };
}

export const vonageWebhook: WebhookHandler = {
  verify(request, channel) {
    return verifyVonageParams(vonageCallbackParams(request), channel.credentials.signatureSecret, {
      method: channel.credentials.signatureMethod,
    });
  },
  parse(request) {
    return parseVonageParams(vonageCallbackParams(request));
  },
};

// ---------------------------------------------------------------------------------------------------------

const GSM7_CHARS = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà' +
    '\f^{}\\[~]|€',
);

/** True when every character is in the GSM 03.38 alphabet (basic set or extension table). */
export function isGsm7(text: string): boolean {
  for (const char of text) if (!GSM7_CHARS.has(char)) return false;
  return true;
}

export const vonageProvider: ChannelProvider = {
  type: 'vonage_sms',
  capabilities: channelCapabilities.vonage_sms,
  createAdapter: createVonageAdapter,
  webhook: { path: 'vonage', handler: vonageWebhook },
};
