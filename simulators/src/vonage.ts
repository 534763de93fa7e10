/**
 * Vonage SMS API, as the real one speaks it: `POST /sms/json` (GET works too) with api_key and api_secret
 * in the form-encoded or JSON body (or the query), HTTP 200 for every verdict with a per-part `status`
 * ("0" accepted, "4" Bad Credentials, "7" Number barred, ...), and signed delivery receipts.
 *
 * Receipts go to the request's `callback` when it named one, else to the simulator's webhook URL, as a
 * POST with a JSON body (the dashboard's "POST-JSON" setting): msisdn, to, network-code, messageId, price,
 * status, scts, err-code, api-key, client-ref, message-timestamp, timestamp, nonce and sig, the signature
 * being HMAC-SHA256 over the sorted parameters (see vonageSign) keyed with the signature secret.
 *
 * Behaviours: fail("status:7" or "7") → that submit status with Vonage's error text; throttle → status
 * "1" Throttled (HTTP 200, Vonage sends no Retry-After); serverError → HTTP 500; failLater("dlr:6" or "6")
 * → a "failed" receipt with that err-code ("rejected" for the anti-spam and filter codes 6 and 50-54,
 * "expired" for the code "expired"; for "unknown", "rejected", "failed" or "deleted", a final receipt with
 * that status word and err-code 0, as carriers that give no cause send it); deliverLater →
 * a "delivered" receipt with err-code 0.
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

export interface VonageSimulatorOptions {
  apiKey: string;
  apiSecret: string;
  signatureSecret: string;
  /** How callbacks are signed (the dashboard setting); HMAC-SHA256 unless told. */
  signatureMethod?: VonageSignatureMethod;
}

export type VonageSignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

/** The submit statuses and the error text Vonage gives with each. */
export const VONAGE_STATUS_TEXT: Record<string, string> = {
  '1': 'Throttled',
  '2': 'Missing Parameters',
  '3': 'Invalid Parameters',
  '4': 'Bad Credentials',
  '5': 'Internal Error',
  '6': 'Invalid Message',
  '7': 'Number Barred',
  '8': 'Partner Account Barred',
  '9': 'Partner Quota Violation',
  '10': 'Too Many Existing Binds',
  '11': 'Account Not Enabled For HTTP',
  '12': 'Message Too Long',
  '14': 'Invalid Signature',
  '15': 'Invalid Sender Address',
  '22': 'Invalid Network Code',
  '23': 'Invalid Callback Url',
  '29': 'Non-Whitelisted Destination',
  '32': 'Signature And API Secret Disallowed',
  '33': 'Number De-activated',
};

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

/** Adds timestamp (unless given), nonce and sig to a callback's parameters, as Vonage's signed webhooks do. */
export function vonageSign(
  params: Record<string, string>,
  secret: string,
  method: VonageSignatureMethod = 'sha256',
): Record<string, string> {
  const signed: Record<string, string> = {
    ...params,
    timestamp: params.timestamp ?? String(Math.floor(Date.now() / 1000)),
    nonce: params.nonce ?? randomUUID(),
  };
  delete signed.sig;
  // HMAC digests come upper-case from Vonage; the MD5 hash lower-case.
  const sig = vonageSignature(signed, secret, method);
  signed.sig = method === 'md5hash' ? sig : sig.toUpperCase();
  return signed;
}

/** "2024-05-01 12:00:00", the format of message-timestamp (UTC). */
function vonageTimestamp(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/** The SMSC time stamp, YYMMDDhhmm. */
function scts(at: Date): string {
  return vonageTimestamp(at).replace(/\D/g, '').slice(2, 12);
}

/**
 * A signed inbound SMS webhook, as Vonage sends it to the number's inbound URL. Returns the parameters
 * (to put in a query string, a form or a JSON body).
 */
export function vonageInboundSms(opts: {
  apiKey: string;
  signatureSecret: string;
  /** The sender, digits without +. */
  msisdn: string;
  /** The Vonage number that received it. */
  to: string;
  text: string;
  messageId?: string;
  /** Unix seconds; defaults to now (set an old one to test stale callbacks). */
  timestamp?: number;
  method?: VonageSignatureMethod;
}): Record<string, string> {
  const now = new Date();
  const keyword = opts.text.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
  return vonageSign(
    {
      msisdn: opts.msisdn.replace(/^\+/, ''),
      to: opts.to.replace(/^\+/, ''),
      messageId: opts.messageId ?? newVonageMessageId(),
      text: opts.text,
      type: /^[\x20-\x7e\n\r]*$/.test(opts.text) ? 'text' : 'unicode',
      keyword,
      'api-key': opts.apiKey,
      'message-timestamp': vonageTimestamp(now),
      ...(opts.timestamp !== undefined && { timestamp: String(opts.timestamp) }),
    },
    opts.signatureSecret,
    opts.method,
  );
}

export function newVonageMessageId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

function json(body: unknown, status = 200): SimResponse {
  return { status, body: JSON.stringify(body) };
}

function submitError(status: string, errorText?: string): SimResponse {
  return json({
    'message-count': '1',
    messages: [{ status, 'error-text': errorText ?? VONAGE_STATUS_TEXT[status] ?? 'Unknown Error' }],
  });
}

function readParams(
  url: URL,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) params[key] = value;
  const contentType = String(headers['content-type'] ?? '');
  const raw = rawBody.trim();
  if (!raw) return params;
  if (contentType.includes('json')) {
    try {
      const body = JSON.parse(raw) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
      for (const [key, value] of Object.entries(body))
        if (value !== null && value !== undefined) params[key] = String(value);
      return params;
    } catch {
      return null;
    }
  }
  for (const [key, value] of new URLSearchParams(raw)) params[key] = value;
  return params;
}

export function vonageFormat(opts: VonageSimulatorOptions): ProviderFormat {
  /** What each accepted message was sent from, for the receipt's `to`. */
  const senders = new Map<string, string>();
  const method = opts.signatureMethod ?? 'sha256';

  return {
    name: 'vonage',

    parseSend({ method: httpMethod, url, headers, rawBody }) {
      if (url.pathname !== '/sms/json' || (httpMethod !== 'POST' && httpMethod !== 'GET')) {
        return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
      }
      const params = readParams(url, headers, rawBody);
      if (!params) return submitError('3', 'Invalid JSON body');
      if (!params.api_key) return submitError('2', 'Missing api_key');
      if (params.api_secret && params.sig) return submitError('32');
      if (params.api_key !== opts.apiKey) return submitError('4');
      if (params.sig) {
        const expected = vonageSignature(params, opts.signatureSecret, method);
        if (expected.toLowerCase() !== params.sig.toLowerCase()) return submitError('14');
      } else if (params.api_secret !== opts.apiSecret) {
        return submitError('4');
      }
      if (!params.from) return submitError('2', 'Missing from param');
      if (!params.to) return submitError('2', 'Missing to param');
      if (params.text === undefined || params.text === '') return submitError('2', 'Missing text param');
      if (!/^\d{6,15}$/.test(params.to)) return submitError('3', 'Invalid to number');
      if (params.callback && !/^https?:\/\//.test(params.callback)) return submitError('23');
      return {
        recipient: params.to,
        ...(params['client-ref'] !== undefined && { clientRef: params['client-ref'] }),
        ...(params.callback && { callbackUrl: params.callback }),
        body: params,
      };
    },

    newMessageId: newVonageMessageId,

    accept(providerMessageId, send: ParsedSend) {
      const params = send.body as Record<string, string>;
      senders.set(providerMessageId, params.from ?? '');
      // Only receipts read it; keep the map bounded when most messages get none (benchmarks).
      if (senders.size > 100_000) senders.delete(senders.keys().next().value as string);
      return json({
        'message-count': '1',
        messages: [
          {
            to: send.recipient,
            'message-id': providerMessageId,
            status: '0',
            'remaining-balance': '15.53590000',
            'message-price': '0.03330000',
            network: '22201',
            ...(send.clientRef !== undefined && { 'client-ref': send.clientRef }),
          },
        ],
      });
    },

    fail(code, message) {
      const status = code.replace(/^status:/, '');
      return submitError(status, message);
    },

    throttle() {
      return submitError('1');
    },

    serverError() {
      return { status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal Server Error' };
    },

    callback(outcome, context: CallbackContext): Callback {
      const now = new Date();
      let status = 'delivered';
      let errCode = '0';
      if (outcome.kind === 'failed') {
        const code = outcome.code.replace(/^dlr:/, '');
        if (code === 'expired') {
          status = 'expired';
          errCode = '1';
        } else if (code === 'unknown' || code === 'rejected' || code === 'failed' || code === 'deleted') {
          // The carrier never said: a final receipt with only its status word, no error code.
          status = code;
          errCode = '0';
        } else {
          errCode = code;
          const n = Number(code);
          status = n === 6 || (n >= 50 && n <= 54) ? 'rejected' : 'failed';
        }
      }
      const params = vonageSign(
        {
          msisdn: context.recipient.replace(/^\+/, ''),
          to: senders.get(context.providerMessageId) ?? '',
          'network-code': '22201',
          messageId: context.providerMessageId,
          price: '0.03330000',
          status,
          scts: scts(now),
          'err-code': errCode,
          'api-key': opts.apiKey,
          ...(context.clientRef !== undefined && { 'client-ref': context.clientRef }),
          'message-timestamp': vonageTimestamp(now),
        },
        opts.signatureSecret,
        method,
      );
      senders.delete(context.providerMessageId);
      return {
        url: context.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      };
    },
  };
}

export function startVonageSimulator(opts: VonageSimulatorOptions & SimulatorOptions): Promise<ProviderSimulator> {
  return new ProviderSimulator(vonageFormat(opts), opts).start();
}
