/**
 * MessageBird (Bird) SMS REST API v1, as the real one speaks it: `POST /messages` with
 * `Authorization: AccessKey <key>` and a JSON (or form) body { originator, recipients, body, reference,
 * reportUrl, ... }; 201 with the message object; `{ "errors": [{ code, description, parameter }] }` with
 * 401 (code 2), 422 (9, 10, 21, 25), 404 (20, 98), 500 (99).
 *
 * Status reports go to the request's reportUrl when it named one, else to the simulator's webhook URL,
 * as a GET whose query carries id, reference, recipient, status, statusReason, statusErrorCode,
 * statusDatetime, mccmnc, ported, price[amount], price[currency]; signed with the
 * `MessageBird-Signature-JWT` header (HS256 with the signing key; iss, nbf, exp, jti, url_hash).
 *
 * Behaviours: fail("api:25" or "25") → that error with its HTTP status; throttle → 429 with Retry-After
 * (the body Bird sends with a 429 is not documented: this one has no code, so adapters fall back to
 * "http_429"); serverError → 500 with code 99; failLater("dlr:1" or "1") → a delivery_failed report with
 * that statusErrorCode ("expired" → an expired report); deliverLater → a delivered report.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  type Callback,
  type CallbackContext,
  type ParsedSend,
  type ProviderFormat,
  ProviderSimulator,
  type SimResponse,
  type SimulatorOptions,
} from './base';

export interface MessageBirdSimulatorOptions {
  accessKey: string;
  signingKey: string;
}

export const MESSAGEBIRD_SIGNATURE_HEADER = 'MessageBird-Signature-JWT';

/** The REST API's error codes: HTTP status and the description MessageBird gives. */
export const MESSAGEBIRD_ERRORS: Record<string, { status: number; description: string; parameter: string | null }> = {
  '2': { status: 401, description: 'Request not allowed (incorrect access_key)', parameter: 'access_key' },
  '9': { status: 422, description: 'no (correct) recipients found', parameter: 'recipient' },
  '10': { status: 422, description: 'originator is invalid', parameter: 'originator' },
  '20': { status: 404, description: 'message not found', parameter: null },
  '21': { status: 422, description: 'Bad request', parameter: null },
  '25': { status: 422, description: 'Not enough balance', parameter: null },
  '98': { status: 404, description: 'API not found', parameter: null },
  '99': { status: 500, description: 'Internal error', parameter: null },
};

/** GSM MAP error codes MessageBird passes on as statusErrorCode, with its statusReason wording. */
const STATUS_REASONS: Record<string, string> = {
  '1': 'unknown subscriber',
  '5': 'unidentified subscriber',
  '6': 'absent subscriber',
  '9': 'illegal subscriber',
  '11': 'teleservice not provisioned',
  '13': 'call barred',
  '27': 'absent subscriber',
  '31': 'subscriber busy for MT SMS',
  '32': 'SM delivery failure',
  '33': 'message waiting list full',
  '34': 'system failure',
  '36': 'unexpected data value',
};

function errorResponse(code: string, description?: string, parameter?: string | null): SimResponse {
  const known = MESSAGEBIRD_ERRORS[code];
  return {
    status: known?.status ?? 422,
    body: JSON.stringify({
      errors: [
        {
          code: Number(code),
          description: description ?? known?.description ?? 'Bad request',
          parameter: parameter !== undefined ? parameter : (known?.parameter ?? null),
        },
      ],
    }),
  };
}

/** RFC 3339 without milliseconds, the way MessageBird writes datetimes: 2024-05-01T12:00:00+00:00. */
function birdTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/**
 * The MessageBird-Signature-JWT for a call to `url` with `body` (empty for GET): HS256 keyed with the
 * signing key; claims iss, nbf, exp, jti, url_hash and, with a body, payload_hash.
 */
export function messageBirdSignatureJwt(
  url: string,
  body: string,
  signingKey: string,
  opts: { nowSeconds?: number; ttlSeconds?: number; issuer?: string } = {},
): string {
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT' };
  const claims: Record<string, unknown> = {
    iss: opts.issuer ?? 'MessageBird',
    nbf: now,
    exp: now + (opts.ttlSeconds ?? 300),
    jti: randomUUID(),
    url_hash: createHash('sha256').update(url, 'utf8').digest('hex'),
    ...(body.length > 0 && { payload_hash: createHash('sha256').update(body, 'utf8').digest('hex') }),
  };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', signingKey).update(unsigned).digest('base64url')}`;
}

interface SendBody {
  originator?: unknown;
  recipients?: unknown;
  body?: unknown;
  reference?: unknown;
  reportUrl?: unknown;
  [key: string]: unknown;
}

function readBody(headers: Record<string, string | string[] | undefined>, rawBody: string): SendBody | null {
  const contentType = String(headers['content-type'] ?? '');
  if (contentType.includes('json')) {
    try {
      const parsed = JSON.parse(rawBody) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as SendBody) : null;
    } catch {
      return null;
    }
  }
  const form = new URLSearchParams(rawBody);
  const body: SendBody = Object.fromEntries(form);
  if (form.has('recipients')) body.recipients = form.getAll('recipients').flatMap((r) => r.split(','));
  return body;
}

export function messagebirdFormat(opts: MessageBirdSimulatorOptions): ProviderFormat {
  return {
    name: 'messagebird',

    parseSend({ method, url, headers, rawBody }) {
      if (url.pathname !== '/messages' || method !== 'POST') return errorResponse('98');
      const auth = String(headers.authorization ?? '');
      const match = /^AccessKey\s+(\S+)$/i.exec(auth.trim());
      if (!match || match[1] !== opts.accessKey) return errorResponse('2');
      const body = readBody(headers, rawBody);
      if (!body) return errorResponse('21', 'JSON is not valid');
      if (!body.originator) return errorResponse('9', 'originator is required', 'originator');
      const originator = String(body.originator);
      if (!/^\+?\d{1,17}$/.test(originator) && !/^[A-Za-z0-9 ]{1,11}$/.test(originator)) return errorResponse('10');
      if (body.body === undefined || body.body === '') return errorResponse('9', 'body is required', 'body');
      const recipients = Array.isArray(body.recipients)
        ? body.recipients
        : body.recipients !== undefined
          ? String(body.recipients).split(',')
          : [];
      const recipient = String(recipients[0] ?? '').replace(/^\+/, '');
      if (!/^\d{6,15}$/.test(recipient)) return errorResponse('9');
      if (body.reportUrl !== undefined && !/^https?:\/\//.test(String(body.reportUrl))) {
        return errorResponse('10', 'reportUrl is invalid', 'reportUrl');
      }
      return {
        recipient,
        ...(body.reference !== undefined && body.reference !== null && { clientRef: String(body.reference) }),
        ...(body.reportUrl !== undefined && { callbackUrl: String(body.reportUrl) }),
        body,
      };
    },

    newMessageId() {
      return randomBytes(16).toString('hex');
    },

    accept(providerMessageId, send: ParsedSend) {
      const body = send.body as SendBody;
      const now = birdTime(new Date());
      return {
        status: 201,
        body: JSON.stringify({
          id: providerMessageId,
          href: `https://rest.messagebird.com/messages/${providerMessageId}`,
          direction: 'mt',
          type: body.type ?? 'sms',
          originator: String(body.originator),
          body: String(body.body),
          reference: send.clientRef ?? null,
          validity: body.validity ?? null,
          gateway: 10,
          typeDetails: {},
          datacoding: body.datacoding ?? 'plain',
          mclass: 1,
          scheduledDatetime: null,
          createdDatetime: now,
          recipients: {
            totalCount: 1,
            totalSentCount: 1,
            totalDeliveredCount: 0,
            totalDeliveryFailedCount: 0,
            items: [{ recipient: Number(send.recipient), status: 'sent', statusDatetime: now }],
          },
        }),
      };
    },

    fail(code, message) {
      return errorResponse(code.replace(/^api:/, ''), message);
    },

    throttle(retryAfterSeconds) {
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfterSeconds) },
        body: JSON.stringify({ errors: [{ description: 'Too many requests', parameter: null }] }),
      };
    },

    serverError() {
      return errorResponse('99');
    },

    callback(outcome, context: CallbackContext): Callback {
      const now = new Date();
      const query = new URLSearchParams();
      query.set('id', context.providerMessageId);
      if (context.clientRef !== undefined) query.set('reference', context.clientRef);
      query.set('recipient', context.recipient.replace(/^\+/, ''));
      if (outcome.kind === 'delivered') {
        query.set('status', 'delivered');
        query.set('statusReason', 'successfully delivered');
        query.set('statusErrorCode', '0');
      } else {
        const code = outcome.code.replace(/^dlr:/, '');
        if (code === 'expired') {
          query.set('status', 'expired');
          query.set('statusReason', outcome.message ?? 'expired');
        } else {
          query.set('status', 'delivery_failed');
          query.set('statusReason', outcome.message ?? STATUS_REASONS[code] ?? 'delivery failed');
          query.set('statusErrorCode', code);
        }
      }
      query.set('statusDatetime', birdTime(now));
      query.set('mccmnc', '72234');
      query.set('ported', '0');
      query.set('price[amount]', '0.045');
      query.set('price[currency]', 'EUR');
      // Appended to reportUrl as it was given (its own query kept byte for byte), then serialized the way
      // fetch will send it, since url_hash covers the exact URL called.
      const url = new URL(`${context.url}${context.url.includes('?') ? '&' : '?'}${query}`).toString();
      return {
        url,
        method: 'GET',
        headers: { [MESSAGEBIRD_SIGNATURE_HEADER]: messageBirdSignatureJwt(url, '', opts.signingKey) },
      };
    },
  };
}

export function startMessageBirdSimulator(
  opts: MessageBirdSimulatorOptions & SimulatorOptions,
): Promise<ProviderSimulator> {
  return new ProviderSimulator(messagebirdFormat(opts), opts).start();
}
