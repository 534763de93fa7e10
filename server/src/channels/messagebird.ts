/**
 * MessageBird (now Bird) SMS REST API v1: `POST https://rest.messagebird.com/messages`, and the status
 * reports it calls the message's reportUrl with.
 *
 * Sending: header `Authorization: AccessKey <key>`, JSON { originator, recipients: [number], body,
 * reference, reportUrl, datacoding: "auto" }. The answer is 201 with the message object; a refusal is
 * `{ "errors": [{ code, description, parameter }] }` with 401 (2 bad access key), 422 (9 missing params,
 * 10 invalid params, 21 bad request, 25 not enough balance), 404 (20 not found), 429 or 500 (99).
 *
 * Status reports: a GET to reportUrl with id, reference, recipient, status (scheduled, sent, buffered,
 * delivered, expired, delivery_failed), statusReason, statusErrorCode, statusDatetime, mccmnc, ported and
 * price[amount]/price[currency]. They are signed with the `MessageBird-Signature-JWT` header: an HS256
 * JWT keyed with the account's signing key, claims iss "MessageBird", nbf, exp, jti, url_hash (SHA-256
 * hex of the full URL called) and payload_hash (SHA-256 hex of the body, present when there is one).
 *
 * Provider codes: "api:<code>" for a refused request ("api:25"), "http_<status>" when the refusal has no
 * code (429 without an error body, a proxy's 502), "dlr:<statusErrorCode>" for a failed status report
 * ("dlr:1"), or "dlr:<status>" ("dlr:expired", "dlr:delivery_failed") when the report carries no error
 * code; "connection" when the request never left.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { channelCapabilities, messagebirdCodes, retryClass } from '@rebound/shared';
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

export const MESSAGEBIRD_BASE_URL = 'https://rest.messagebird.com';
export const MESSAGEBIRD_SIGNATURE_HEADER = 'MessageBird-Signature-JWT';
/** Clock skew allowed on nbf/exp, as MessageBird's own SDK does. */
const CLOCK_LEEWAY_SECONDS = 5;

export function createMessageBirdAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const base = (channel.baseUrl ?? MESSAGEBIRD_BASE_URL).replace(/\/+$/, '');
  const { accessKey = '', originator = '' } = channel.credentials;
  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      const digits = message.to.replace(/\D/g, '');
      const body = {
        // A phone-number originator goes as digits; an alphanumeric sender ID as it is.
        originator: /^\+?\d+$/.test(originator) ? originator.replace(/^\+/, '') : originator,
        recipients: [Number(digits)],
        body: message.content.text,
        reference: String(message.messageId),
        // Plain (GSM-7) unless the text needs Unicode, instead of replacing what GSM-7 lacks.
        datacoding: 'auto',
        ...(message.statusCallbackUrl && { reportUrl: message.statusCallbackUrl }),
      };

      let answer: HttpAnswer;
      try {
        answer = await httpRequest(`${base}/messages`, {
          method: 'POST',
          headers: {
            authorization: `AccessKey ${accessKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify(body),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      return messageBirdOutcome(answer);
    },
  };
}

interface MessageBirdError {
  code?: number | string | null;
  description?: string;
  parameter?: string | null;
}

/** Reads the answer to `POST /messages`. Exported for tests of odd answers. */
export function messageBirdOutcome(answer: HttpAnswer): SendOutcome {
  let body: { id?: string; errors?: MessageBirdError[] } | undefined;
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    body = undefined;
  }
  if (answer.status >= 200 && answer.status < 300) {
    if (body?.id) return { kind: 'accepted', providerMessageId: String(body.id) };
    return { kind: 'uncertain', providerMessage: `Unreadable MessageBird answer (HTTP ${answer.status})` };
  }
  const error = Array.isArray(body?.errors) ? body.errors[0] : undefined;
  const code = providerCodeText(error?.code);
  const providerCode = code !== undefined ? `api:${code}` : `http_${answer.status}`;
  // Only MessageBird's own error fields are shown: any other body (a proxy's page, an internal server's) is not.
  const description = typeof error?.description === 'string' && error.description ? error.description : undefined;
  const parameter = typeof error?.parameter === 'string' && error.parameter ? error.parameter : undefined;
  const providerMessage = description
    ? providerText(parameter ? `${description} (${parameter})` : description)
    : unrecognizedAnswer(answer.status);
  // 429 and 5xx are sent again, and the codes the code table retries (api:99, an internal error).
  if (answer.status === 429 || answer.status >= 500 || retryClass(messagebirdCodes, providerCode) !== 'final') {
    const wait = retryAfterMs(answer.headers['retry-after']);
    return { kind: 'retry', providerCode, providerMessage, ...(wait !== undefined && { retryAfterMs: wait }) };
  }
  return { kind: 'failed', providerCode, providerMessage };
}

// ---------------------------------------------------------------------------------------------------------
// Status reports

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const HMAC_BY_ALG: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Checks a MessageBird-Signature-JWT against the URL called and the raw body. Only node:crypto: the
 * HMAC over `header.payload` compared in constant time, then iss, nbf/exp (with a few seconds' leeway),
 * jti, url_hash, and payload_hash (required when there is a body).
 */
export function verifyMessageBirdJwt(
  token: string | null | undefined,
  url: string,
  rawBody: string,
  signingKey: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  if (!token || !signingKey) return false;
  const parts = token.trim().split('.');
  if (parts.length !== 3) return false;
  const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
  let header: unknown;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  // Anyone can send any header: `null`, an array, an alg of "constructor" must be a refusal, not a 500.
  const alg = header !== null && typeof header === 'object' ? (header as { alg?: unknown }).alg : undefined;
  const hash = typeof alg === 'string' && Object.hasOwn(HMAC_BY_ALG, alg) ? HMAC_BY_ALG[alg] : undefined;
  if (!hash || !claims || typeof claims !== 'object') return false;
  const expected = createHmac(hash, signingKey).update(`${encodedHeader}.${encodedPayload}`).digest('base64url');
  if (!sameText(signature, expected)) return false;

  if (claims.iss !== 'MessageBird') return false;
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + CLOCK_LEEWAY_SECONDS) return false;
  if (typeof claims.exp !== 'number' || claims.exp < nowSeconds - CLOCK_LEEWAY_SECONDS) return false;
  if (typeof claims.jti !== 'string' || claims.jti === '') return false;
  if (typeof claims.url_hash !== 'string' || !sameText(claims.url_hash.toLowerCase(), sha256Hex(url))) return false;
  if (typeof claims.payload_hash === 'string') {
    if (!sameText(claims.payload_hash.toLowerCase(), sha256Hex(rawBody))) return false;
  } else if (rawBody.length > 0) {
    return false;
  }
  return true;
}

/** The report's parameters: the query string, with a form or JSON body on top when there is one. */
export function messageBirdCallbackParams(request: WebhookRequest): Record<string, string> {
  const params: Record<string, string> = {};
  let url: URL | undefined;
  try {
    url = new URL(request.url, 'http://localhost');
  } catch {
    url = undefined;
  }
  if (url) for (const [key, value] of url.searchParams) params[key] = value;
  const raw = request.rawBody.trim();
  if (!raw) return params;
  if (raw.startsWith('{')) {
    try {
      const body = JSON.parse(raw) as Record<string, unknown>;
      for (const [key, value] of Object.entries(body)) {
        if (value !== null && value !== undefined)
          params[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
    } catch {
      // Not JSON: ignore.
    }
    return params;
  }
  for (const [key, value] of new URLSearchParams(raw)) params[key] = value;
  return params;
}

export function parseMessageBirdParams(params: Record<string, string>): WebhookContent {
  const updates: DeliveryUpdate[] = [];
  const status = params.status?.toLowerCase();
  if (status && (params.id || params.reference)) {
    const at = params.statusDatetime ? new Date(params.statusDatetime) : new Date();
    const reference = params.reference;
    const base = {
      ...(params.id && { providerMessageId: params.id }),
      ...(reference && /^\d+$/.test(reference) && { messageId: Number(reference) }),
      at: Number.isNaN(at.getTime()) ? new Date() : at,
    };
    if (status === 'delivered') {
      updates.push({ ...base, status: 'delivered' });
    } else if (status === 'sent' || status === 'buffered') {
      updates.push({ ...base, status: 'sent' });
    } else if (status === 'expired' || status === 'delivery_failed') {
      const errorCode = params.statusErrorCode;
      updates.push({
        ...base,
        status: 'failed',
        providerCode: `dlr:${errorCode && errorCode !== '0' ? errorCode : status}`,
        providerMessage: params.statusReason ? `${status}: ${params.statusReason}` : status,
      });
    }
    // "scheduled" says nothing new: the message has not left yet.
  }
  return { updates, inbound: [] };
}

export const messagebirdWebhook: WebhookHandler = {
  verify(request, channel) {
    return verifyMessageBirdJwt(
      request.headers.get(MESSAGEBIRD_SIGNATURE_HEADER),
      request.url,
      request.rawBody,
      channel.credentials.signingKey,
    );
  },
  parse(request) {
    return parseMessageBirdParams(messageBirdCallbackParams(request));
  },
};

export const messagebirdProvider: ChannelProvider = {
  type: 'messagebird_sms',
  capabilities: channelCapabilities.messagebird_sms,
  createAdapter: createMessageBirdAdapter,
  webhook: { path: 'messagebird', handler: messagebirdWebhook },
};
