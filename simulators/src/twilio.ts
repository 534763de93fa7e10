/**
 * Twilio Programmable Messaging, as far as Rebound uses it:
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (AccountSid:AuthToken)
 * and a form-encoded body (To, From or MessagingServiceSid, Body, StatusCallback).
 *
 * Answers: 201 with the Message resource; errors as `{ code, message, more_info, status }` (400 for
 * 21211/21610/21408/21614…, 401 with 20003, 404 with 20404, 429 with 20429 and Retry-After, 500 with
 * 20500). Status callbacks are form-encoded POSTs signed with X-Twilio-Signature, sent to the
 * message's StatusCallback (else the simulator's webhook URL).
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  type Callback,
  type CallbackContext,
  type ParsedSend,
  type ProviderFormat,
  ProviderSimulator,
  type SimResponse,
  type SimulatorOptions,
} from './base';

export interface TwilioSimulatorOptions {
  accountSid: string;
  authToken: string;
  /** The business number contacts write to (the To of incoming SMS); default +15005550006. */
  phoneNumber?: string;
}

/**
 * Keywords Twilio acts on by itself when they are the whole incoming message: opting out (later sends
 * fail 21610) and back in. Other languages' words (BAJA) are only passed on: the business must honour them.
 */
const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
const OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);

const API_VERSION = '2010-04-01';

/** The HTTP status and message Twilio gives for an error code (the message may name the To number). */
const ERRORS: Record<string, { status: number; message: (to: string) => string }> = {
  '20003': { status: 401, message: () => 'Authenticate' },
  '20404': { status: 404, message: () => 'The requested resource was not found' },
  '20429': { status: 429, message: () => 'Too Many Requests' },
  '20500': { status: 500, message: () => 'An internal server error has occurred' },
  '21211': { status: 400, message: (to) => `The 'To' number ${to} is not a valid phone number.` },
  '21408': {
    status: 400,
    message: (to) =>
      `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
  },
  '21602': { status: 400, message: () => 'Message body is required.' },
  '21603': { status: 400, message: () => "A 'From' phone number is required." },
  '21604': { status: 400, message: () => "A 'To' phone number is required." },
  '21606': {
    status: 400,
    message: () =>
      "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
  },
  '21610': { status: 400, message: () => 'Attempt to send to unsubscribed recipient' },
  '21611': { status: 400, message: () => "This 'From' number has exceeded the maximum number of queued messages" },
  '21612': {
    status: 400,
    message: () => "The 'To' phone number is not currently reachable using the 'From' phone number via SMS.",
  },
  '21614': { status: 400, message: (to) => `'To' number ${to} is not a valid mobile number` },
  '21617': { status: 400, message: () => 'The concatenated message body exceeds the 1600 character limit.' },
};

/** Delivery error codes reported with MessageStatus "failed" (never left Twilio); the rest are "undelivered". */
const FAILED_CODES = new Set(['30001', '30002', '30010', '30022', '30034', '21610', '21611', '21612']);

function moreInfo(code: string | number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

function twilioError(code: string, message: string, status: number, extra?: Record<string, unknown>): SimResponse {
  const numeric = Number(code);
  return {
    status,
    body: JSON.stringify({
      code: Number.isInteger(numeric) ? numeric : code,
      message,
      more_info: moreInfo(code),
      status,
      ...extra,
    }),
  };
}

/** RFC 2822 dates, as Twilio writes date_created ("Thu, 24 Aug 2023 05:01:45 +0000"). */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
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

function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Headers Twilio sends with its webhooks. */
function webhookHeaders(authToken: string, url: string, params: URLSearchParams): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'TwilioProxy/1.1',
    'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
    'x-twilio-signature': twilioSignature(authToken, url, params),
  };
}

function errorFor(code: string, message: string | undefined, to: string): SimResponse {
  const known = ERRORS[code];
  return twilioError(code, message ?? known?.message(to) ?? `Twilio error ${code}`, known?.status ?? 400);
}

export function twilioFormat(opts: TwilioSimulatorOptions): ProviderFormat {
  const expectedAuth = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;
  /** To and From of recent messages, for their status callbacks (bounded: oldest forgotten first). */
  const sent = new Map<string, { to: string; from: string }>();
  const remember = (sid: string, to: string, from: string) => {
    sent.set(sid, { to, from });
    if (sent.size > 100_000) {
      const oldest = sent.keys().next().value;
      if (oldest !== undefined) sent.delete(oldest);
    }
  };

  return {
    name: 'twilio_sms',

    contactEvent(event, url) {
      // Twilio has no opt-out webhook of its own: the contact texts a keyword, and the incoming
      // message says what Twilio did with it (OptOutType, with Advanced Opt-Out).
      const text = event.kind === 'message' ? event.text : event.kind === 'optOut' ? 'STOP' : 'START';
      const keyword = text.trim().toUpperCase();
      const subscription = OPT_OUT_KEYWORDS.has(keyword) ? 'out' : OPT_IN_KEYWORDS.has(keyword) ? 'in' : undefined;
      const signed = twilioInboundWebhook({
        authToken: opts.authToken,
        accountSid: opts.accountSid,
        url,
        from: event.from,
        to: opts.phoneNumber ?? '+15005550006',
        body: text,
        ...(subscription && { optOutType: subscription === 'out' ? 'STOP' : 'START' }),
      });
      return {
        callback: { url, method: 'POST', headers: signed.headers, body: signed.body },
        ...(subscription && { subscription }),
      };
    },

    optOutFailure() {
      return { code: '21610' };
    },

    parseSend({ method, url, headers, rawBody }): ParsedSend | SimResponse {
      const notFound = twilioError('20404', `The requested resource ${url.pathname} was not found`, 404);
      if (!url.pathname.startsWith(`/${API_VERSION}/Accounts/`)) return notFound;
      if (headers.authorization !== expectedAuth) {
        return twilioError('20003', 'Authenticate', 401, { detail: 'Your AccountSid or AuthToken was incorrect.' });
      }
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
      if (!match || decodeURIComponent(match[1] ?? '') !== opts.accountSid) return notFound;
      if (method !== 'POST') {
        return twilioError('20004', 'Method not allowed', 405);
      }

      const form = new URLSearchParams(rawBody);
      const to = form.get('To')?.trim() ?? '';
      const from = form.get('From')?.trim() ?? '';
      const serviceSid = form.get('MessagingServiceSid')?.trim() ?? '';
      const body = form.get('Body') ?? '';
      if (!to) return errorFor('21604', undefined, to);
      if (!from && !serviceSid) return errorFor('21603', undefined, to);
      if (!body && !form.get('MediaUrl')) return errorFor('21602', undefined, to);
      if (body.length > 1600) return errorFor('21617', undefined, to);
      if (!/^\+?[1-9]\d{6,14}$/.test(to.replace(/[\s().-]/g, ''))) return errorFor('21211', undefined, to);

      const statusCallback = form.get('StatusCallback') ?? undefined;
      return {
        recipient: to,
        ...(statusCallback && { callbackUrl: statusCallback }),
        body: Object.fromEntries(form),
      };
    },

    newMessageId(): string {
      return newSid('SM');
    },

    accept(providerMessageId: string, send: ParsedSend): SimResponse {
      const form = send.body as Record<string, string>;
      const from = form.From ?? '';
      remember(providerMessageId, send.recipient, from);
      const now = rfc2822(new Date());
      const uri = `/${API_VERSION}/Accounts/${opts.accountSid}/Messages/${providerMessageId}.json`;
      const text = form.Body ?? '';
      return {
        status: 201,
        body: JSON.stringify({
          account_sid: opts.accountSid,
          api_version: API_VERSION,
          body: text,
          date_created: now,
          date_sent: null,
          date_updated: now,
          direction: 'outbound-api',
          error_code: null,
          error_message: null,
          from: from || null,
          messaging_service_sid: form.MessagingServiceSid ?? null,
          num_media: '0',
          num_segments: String(Math.max(1, Math.ceil(text.length / 160))),
          price: null,
          price_unit: 'USD',
          sid: providerMessageId,
          status: 'queued',
          subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
          to: send.recipient,
          uri,
        }),
      };
    },

    fail(code: string, message: string | undefined, send: ParsedSend): SimResponse {
      return errorFor(code, message, send.recipient);
    },

    throttle(retryAfterSeconds: number): SimResponse {
      return {
        ...twilioError('20429', 'Too Many Requests', 429),
        headers: { 'retry-after': String(Math.max(0, Math.ceil(retryAfterSeconds))) },
      };
    },

    serverError(): SimResponse {
      return twilioError('20500', 'An internal server error has occurred', 500);
    },

    callback(outcome, context: CallbackContext): Callback {
      const message = sent.get(context.providerMessageId);
      sent.delete(context.providerMessageId);
      const status =
        outcome.kind === 'delivered' ? 'delivered' : FAILED_CODES.has(outcome.code) ? 'failed' : 'undelivered';
      // Twilio's parameter order; the signature sorts them anyway.
      const params = new URLSearchParams();
      if (outcome.kind === 'failed') params.set('ErrorCode', outcome.code);
      params.set('SmsSid', context.providerMessageId);
      params.set('SmsStatus', status);
      params.set('MessageStatus', status);
      params.set('To', message?.to ?? context.recipient);
      params.set('MessageSid', context.providerMessageId);
      params.set('AccountSid', opts.accountSid);
      params.set('From', message?.from ?? '');
      params.set('ApiVersion', API_VERSION);
      return {
        url: context.url,
        method: 'POST',
        headers: webhookHeaders(opts.authToken, context.url, params),
        body: params.toString(),
      };
    },
  };
}

export async function startTwilioSimulator(
  opts: TwilioSimulatorOptions & SimulatorOptions,
): Promise<ProviderSimulator> {
  return new ProviderSimulator(twilioFormat(opts), opts).start();
}

/**
 * An incoming SMS exactly as Twilio posts it to the number's messaging webhook: form-encoded,
 * signed with X-Twilio-Signature over `url`.
 */
export function twilioInboundWebhook(opts: {
  authToken: string;
  url: string;
  from: string;
  to: string;
  body: string;
  accountSid?: string;
  /** With Advanced Opt-Out, what Twilio did with a keyword message. */
  optOutType?: 'STOP' | 'START' | 'HELP';
}): { headers: Record<string, string>; body: string } {
  const sid = newSid('SM');
  const params = new URLSearchParams({
    ToCountry: 'US',
    ToState: '',
    SmsMessageSid: sid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '',
    SmsSid: sid,
    FromState: '',
    SmsStatus: 'received',
    FromCity: '',
    Body: opts.body,
    FromCountry: '',
    To: opts.to,
    ToZip: '',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: opts.accountSid ?? `AC${'0'.repeat(32)}`,
    From: opts.from,
    ApiVersion: API_VERSION,
  });
  if (opts.optOutType) params.set('OptOutType', opts.optOutType);
  return { headers: webhookHeaders(opts.authToken, opts.url, params), body: params.toString() };
}
