/**
 * What the two Meta channels (WhatsApp Cloud API and the Messenger Send API) share: the
 * X-Hub-Signature-256 header on webhooks, the GET verification handshake, the Graph API error
 * payload, and how a Graph answer or a network error becomes a SendOutcome.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ProviderCodeTable, RetryClass } from '@rebound/shared';
import { type HttpAnswer, providerText, retryAfterMs, unrecognizedAnswer } from './http';
import type { ChannelConfig, SendOutcome, WebhookContent, WebhookHandler } from './types';

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = 'v21.0';

/** "sha256=" + hex HMAC-SHA256 of the raw body, keyed with the app secret: the X-Hub-Signature-256 value. */
export function metaSignature(appSecret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

/** True when the header is the signature of exactly this raw body; compared in constant time. */
export function verifyMetaSignature(header: string | null | undefined, appSecret: string | undefined, rawBody: string) {
  if (!header || !appSecret) return false;
  const expected = Buffer.from(metaSignature(appSecret, rawBody), 'utf8');
  const given = Buffer.from(header.trim().toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Constant-time string comparison that does not leak the length either. */
function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Meta's webhook verification: GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…; the
 * endpoint answers the challenge when the token is the one configured, and refuses otherwise.
 */
export function metaHandshake(url: URL, verifyToken: string | undefined): string | null {
  const params = url.searchParams;
  const token = params.get('hub.verify_token');
  const challenge = params.get('hub.challenge');
  if (params.get('hub.mode') !== 'subscribe' || !verifyToken || token === null || challenge === null) return null;
  return sameSecret(token, verifyToken) ? challenge : null;
}

/** The `error` object of a Graph API error answer. */
export interface GraphError {
  code: number;
  subcode?: number;
  type?: string;
  message: string;
  /** WhatsApp: error_data.details, the part Meta says to rely on (titles are being deprecated). */
  details?: string;
  userTitle?: string;
  userMessage?: string;
  fbtraceId?: string;
}

/** Reads `{ "error": { message, type, code, error_subcode, error_data: { details }, fbtrace_id } }`, or undefined. */
export function readGraphError(text: string): GraphError | undefined {
  const body = parseJson(text);
  const error = isRecord(body) ? body.error : undefined;
  if (!isRecord(error)) return undefined;
  const code = Number(error.code);
  if (!Number.isInteger(code)) return undefined;
  const subcode = Number(error.error_subcode);
  const errorData = isRecord(error.error_data) ? error.error_data : undefined;
  const result: GraphError = { code, message: typeof error.message === 'string' ? error.message : '' };
  if (Number.isInteger(subcode) && error.error_subcode !== undefined && error.error_subcode !== null)
    result.subcode = subcode;
  if (typeof error.type === 'string') result.type = error.type;
  if (typeof errorData?.details === 'string') result.details = errorData.details;
  if (typeof error.error_user_title === 'string') result.userTitle = error.error_user_title;
  if (typeof error.error_user_msg === 'string') result.userMessage = error.error_user_msg;
  if (typeof error.fbtrace_id === 'string') result.fbtraceId = error.fbtrace_id;
  return result;
}

/** Message, details and the user-facing text, without repeats: what the failure log shows. */
export function graphErrorText(error: GraphError): string {
  return joinDistinct([error.message, error.details, error.userMessage]) || `Graph API error ${error.code}`;
}

export function joinDistinct(parts: (string | undefined)[]): string {
  const seen: string[] = [];
  for (const part of parts) {
    const text = part?.trim();
    if (text && !seen.some((s) => s.includes(text))) seen.push(text);
  }
  return seen.join(': ');
}

/**
 * How long to wait before retrying a throttled call: Retry-After when given, else the
 * `estimated_time_to_regain_access` (minutes) of Graph's X-Business-Use-Case-Usage header.
 */
export function graphRetryAfterMs(headers: HttpAnswer['headers']): number | undefined {
  const fromRetryAfter = retryAfterMs(headers['retry-after']);
  if (fromRetryAfter !== undefined) return fromRetryAfter;
  const raw = headers['x-business-use-case-usage'];
  const usage = parseJson(Array.isArray(raw) ? raw[0] : raw);
  if (!isRecord(usage)) return undefined;
  let minutes = 0;
  for (const entries of Object.values(usage)) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      const wait = isRecord(entry) ? Number(entry.estimated_time_to_regain_access) : Number.NaN;
      if (Number.isFinite(wait) && wait > minutes) minutes = wait;
    }
  }
  return minutes > 0 ? minutes * 60_000 : undefined;
}

export interface GraphErrorRules {
  /** Codes that mean "too many calls": retry after a wait. */
  throttleCodes: ReadonlySet<number>;
  /** Codes that mean a transient failure on Meta's side: retry. */
  retryCodes: ReadonlySet<number>;
  /** How the channel writes a Graph error as a providerCode. */
  providerCode(error: GraphError): string;
}

/**
 * A Graph channel's rules from its code table (shared/src/failure-codes): the codes retried 'later' are
 * its throttle codes, those retried 'now' its transient ones. Graph's retries go by the error's `code`,
 * so only whole-code keys count ("613", not "10/2018278").
 */
export function graphErrorRules(
  table: ProviderCodeTable,
  providerCode: (error: GraphError) => string,
): GraphErrorRules {
  const codes = (retry: RetryClass) =>
    new Set(
      Object.entries(table)
        .filter(([code, entry]) => entry.retry === retry && /^\d+$/.test(code))
        .map(([code]) => Number(code)),
    );
  return { throttleCodes: codes('later'), retryCodes: codes('now'), providerCode };
}

/** A non-2xx Graph answer as a SendOutcome: throttled or transient → retry; anything else → failed. */
export function graphFailureOutcome(answer: HttpAnswer, rules: GraphErrorRules): SendOutcome {
  const error = readGraphError(answer.text);
  const wait = graphRetryAfterMs(answer.headers);
  const withWait = wait === undefined ? {} : { retryAfterMs: wait };
  const transientStatus = answer.status === 429 || answer.status >= 500;
  if (!error) {
    // Not a Graph error: whatever answered (a proxy's page, an internal server's) is not shown.
    const providerCode = `http_${answer.status}`;
    const providerMessage = unrecognizedAnswer(answer.status);
    return transientStatus
      ? { kind: 'retry', providerCode, providerMessage, ...withWait }
      : { kind: 'failed', providerCode, providerMessage };
  }
  const providerCode = rules.providerCode(error);
  const providerMessage = providerText(graphErrorText(error));
  if (transientStatus || rules.throttleCodes.has(error.code) || rules.retryCodes.has(error.code)) {
    return { kind: 'retry', providerCode, providerMessage, ...withWait };
  }
  return { kind: 'failed', providerCode, providerMessage };
}

export function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Graph IDs arrive as strings, sometimes as numbers. */
export function asId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Rebound's message ID from a client reference we wrote as a decimal string, else undefined. */
export function messageIdFromRef(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * WhatsApp and Messenger callbacks come from the same Meta app machinery: X-Hub-Signature-256 with the
 * app secret, and the GET verification handshake with the verify token. Only the payload differs.
 */
export function metaWebhookHandler(parse: (rawBody: string, channel: ChannelConfig) => WebhookContent): WebhookHandler {
  return {
    verify: (request, channel) =>
      verifyMetaSignature(request.headers.get('x-hub-signature-256'), channel.credentials.appSecret, request.rawBody),
    parse: (request, channel) => parse(request.rawBody, channel),
    handshake: (url, channel) => metaHandshake(url, channel.credentials.verifyToken),
  };
}
