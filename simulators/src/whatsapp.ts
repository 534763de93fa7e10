/**
 * WhatsApp Cloud API stand-in: POST /{version}/{phone-number-id}/messages with a Bearer token (or
 * ?access_token=), JSON body; answers `{ messaging_product, contacts, messages: [{ id: "wamid…" }] }`
 * or Graph errors `{ error: { message, type, code, error_data: { messaging_product, details }, fbtrace_id } }`.
 * Status webhooks are `whatsapp_business_account` payloads signed with X-Hub-Signature-256.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  type AccountEvent,
  type CallbackContext,
  type ParsedSend,
  type ProviderFormat,
  ProviderSimulator,
  type SimResponse,
  type SimulatorOptions,
} from './base';

export interface WhatsAppSimulatorOptions {
  accessToken: string;
  phoneNumberId: string;
  appSecret: string;
  /** When given, only this Graph version is served; other versions are unknown paths. */
  apiVersion?: string;
  /** The WhatsApp Business Account ID in webhook entries. */
  businessAccountId?: string;
  displayPhoneNumber?: string;
}

/** Title and details Meta gives for the common codes (details as in error_data.details). */
const WHATSAPP_ERRORS: Record<number, { title: string; details: string; status?: number; type?: string }> = {
  0: { title: 'AuthException', details: 'We were unable to authenticate the app user.', status: 401 },
  1: { title: 'API Unknown', details: 'Invalid request or possible server error.', status: 500 },
  2: {
    title: 'Service temporarily unavailable',
    details: 'Temporary due to downtime or due to being overloaded.',
    status: 500,
  },
  3: { title: 'API Method', details: 'Capability or permissions issue.' },
  4: {
    title: 'Application request limit reached',
    details: 'The app has reached its API call rate limit.',
    status: 429,
  },
  10: { title: 'Permission denied', details: 'Permission is either not granted or has been removed.', status: 403 },
  100: {
    title: 'Invalid parameter',
    details: 'The request included one or more unsupported or misspelled parameters.',
  },
  190: { title: 'Access token has expired', details: 'Your access token has expired.', status: 401 },
  200: { title: 'API Permission', details: 'Permission is either not granted or has been removed.', status: 403 },
  368: {
    title: 'Temporarily blocked for policies violations',
    details:
      'The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy.',
    status: 403,
  },
  80007: {
    title: 'Rate limit issues',
    details: 'The WhatsApp Business Account has reached its rate limit.',
    status: 429,
  },
  130429: { title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.', status: 429 },
  130472: {
    title: "User's number is part of an experiment",
    details: 'Message was not sent as part of an experiment.',
  },
  131000: { title: 'Something went wrong', details: 'Message failed to send due to an unknown error.', status: 500 },
  131005: { title: 'Access denied', details: 'Permission is either not granted or has been removed.', status: 403 },
  131008: { title: 'Required parameter is missing', details: 'The request is missing a required parameter.' },
  131009: { title: 'Parameter value is not valid', details: 'One or more parameter values are invalid.' },
  131016: { title: 'Service unavailable', details: 'A service is temporarily unavailable.', status: 503 },
  131021: { title: 'Recipient cannot be sender', details: 'Sender and recipient phone number is the same.' },
  131026: {
    title: 'Message undeliverable',
    details:
      'Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number; the recipient has not accepted the new Terms of Service; the recipient is using an old WhatsApp version.',
  },
  131030: {
    title: 'Recipient phone number not in allowed list',
    details: 'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.',
  },
  131031: {
    title: 'Account has been locked',
    details: 'The WhatsApp Business Account has been restricted or disabled.',
  },
  131042: {
    title: 'Business eligibility payment issue',
    details: 'There was an error related to your payment method.',
  },
  131047: {
    title: 'Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131048: {
    title: 'Spam rate limit hit',
    details:
      'Message failed to send because there are restrictions on how many messages can be sent from this phone number.',
  },
  131049: {
    title: 'This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
  },
  131050: {
    title: 'User has stopped marketing messages',
    details: 'Unable to deliver the marketing message to this user because the user has stopped marketing messages.',
  },
  131051: { title: 'Unsupported message type', details: 'Unsupported message type.' },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
    status: 429,
  },
  132000: {
    title: 'Number of parameters does not match the expected number of params',
    details:
      'The number of variable parameter values included in the request did not match the number of variable parameters defined in the template.',
  },
  132001: {
    title: 'Template does not exist',
    details: 'The template does not exist in the specified language or the template has not been approved.',
  },
  132015: {
    title: 'Template is Paused',
    details: 'Template is paused due to low quality so it cannot be sent in a template message.',
  },
  132016: {
    title: 'Template is Disabled',
    details: 'Template has been paused too many times due to low quality and is now permanently disabled.',
  },
  133010: {
    title: 'Phone number Not Registered',
    details: 'The phone number is not registered on the WhatsApp Business Platform.',
  },
};

function fbtraceId(): string {
  return randomBytes(9).toString('base64').replace(/[+/=]/g, 'A');
}

/** Meta escapes non-ASCII characters and "/" in webhook JSON; the signature covers exactly these bytes. */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

/** X-Hub-Signature-256 for a raw body. */
export function metaSignatureHeader(appSecret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

export function signedMetaRequest(
  appSecret: string,
  payload: unknown,
): { headers: Record<string, string>; body: string } {
  const body = metaJson(payload);
  return {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': metaSignatureHeader(appSecret, body),
    },
    body,
  };
}

export interface GraphErrorInput {
  status: number;
  code: number;
  message: string;
  type?: string;
  subcode?: number;
  details?: string;
  headers?: Record<string, string>;
  transient?: boolean;
}

/** A Graph API error answer, as the Cloud API writes it (error_data.messaging_product for WhatsApp errors). */
export function graphError(input: GraphErrorInput, whatsapp = true): SimResponse {
  const error: Record<string, unknown> = {
    message: input.message,
    type: input.type ?? 'OAuthException',
    code: input.code,
  };
  if (input.details !== undefined && whatsapp)
    error.error_data = { messaging_product: 'whatsapp', details: input.details };
  if (input.subcode !== undefined) error.error_subcode = input.subcode;
  if (input.transient) error.is_transient = true;
  error.fbtrace_id = fbtraceId();
  const headers: Record<string, string> = { ...input.headers };
  if (input.status === 401)
    headers['www-authenticate'] = `OAuth "Facebook Platform" "invalid_token" "${input.message}"`;
  return { status: input.status, headers, body: JSON.stringify({ error }) };
}

/** The error Meta gives for a WhatsApp code, overridable message. */
function whatsappError(codeText: string, message?: string): SimResponse {
  const code = Number.parseInt(codeText, 10);
  const known = WHATSAPP_ERRORS[code];
  const title = message ?? known?.title ?? 'Provider error';
  return graphError({
    status: known?.status ?? 400,
    code: Number.isFinite(code) ? code : 131000,
    message: code === 190 ? 'Error validating access token: Session has expired.' : `(#${code}) ${title}`,
    details: message ?? known?.details ?? title,
    ...(known?.type && { type: known.type }),
  });
}

function invalidParameter(details: string): SimResponse {
  return graphError({ status: 400, code: 100, message: '(#100) Invalid parameter', details });
}

export function unsupportedRequest(method: string, objectId: string): SimResponse {
  return graphError(
    {
      status: 400,
      code: 100,
      subcode: 33,
      type: 'GraphMethodException',
      message: `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    },
    false,
  );
}

export function unknownPath(pathname: string): SimResponse {
  return graphError({ status: 400, code: 2500, message: `Unknown path components: ${pathname}` }, false);
}

export function accessTokenOf(headers: Record<string, string | string[] | undefined>, url: URL): string | undefined {
  const auth = headers.authorization;
  const value = Array.isArray(auth) ? auth[0] : auth;
  const bearer = value ? /^(?:Bearer|OAuth)\s+(.+)$/i.exec(value)?.[1]?.trim() : undefined;
  return bearer ?? url.searchParams.get('access_token') ?? undefined;
}

/** Shared by both Meta simulators: the token checks Graph does before looking at the body. */
export function graphAuthError(token: string | undefined, expected: string): SimResponse | undefined {
  if (!token) {
    return graphError(
      { status: 400, code: 104, message: 'An access token is required to request this resource.' },
      false,
    );
  }
  if (token !== expected) {
    return graphError(
      { status: 401, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' },
      false,
    );
  }
  return undefined;
}

const digits = (value: string) => value.replace(/\D/g, '');

interface WhatsAppSendBody {
  messaging_product?: unknown;
  recipient_type?: unknown;
  to?: unknown;
  type?: unknown;
  text?: { body?: unknown; preview_url?: unknown };
  template?: { name?: unknown; language?: { code?: unknown }; components?: unknown };
  biz_opaque_callback_data?: unknown;
}

/** Checks a send body the way the Cloud API does; returns the error answer, or undefined when it is fine. */
function validateBody(body: WhatsAppSendBody): SimResponse | undefined {
  if (body.messaging_product !== 'whatsapp') return invalidParameter('The parameter messaging_product is required.');
  if (typeof body.to !== 'string' || digits(body.to) === '') return invalidParameter('The parameter to is required.');
  const type = body.type ?? 'text';
  if (type === 'text') {
    const text = body.text?.body;
    if (typeof text !== 'string' || text === '') return invalidParameter("The parameter text['body'] is required.");
    if (text.length > 4096) return invalidParameter("Param text['body'] must be at most 4096 characters long.");
  } else if (type === 'template') {
    const template = body.template;
    if (typeof template?.name !== 'string' || template.name === '') {
      return invalidParameter("The parameter template['name'] is required.");
    }
    if (typeof template.language?.code !== 'string')
      return invalidParameter("The parameter template['language']['code'] is required.");
    if (template.components !== undefined && !Array.isArray(template.components)) {
      return invalidParameter("Param template['components'] must be an array.");
    }
  } else if (typeof type !== 'string') {
    return invalidParameter('The parameter type is invalid.');
  }
  const ref = body.biz_opaque_callback_data;
  if (ref !== undefined && (typeof ref !== 'string' || ref.length > 512)) {
    return invalidParameter('Param biz_opaque_callback_data must be a string of at most 512 characters.');
  }
  return undefined;
}

export interface WhatsAppStatusInput {
  appSecret: string;
  phoneNumberId: string;
  providerMessageId: string;
  /** The recipient's phone, with or without +. */
  recipient: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The biz_opaque_callback_data the send carried. */
  clientRef?: string;
  error?: { code: string; message?: string };
  at?: Date;
  businessAccountId?: string;
  displayPhoneNumber?: string;
}

function envelope(
  opts: { phoneNumberId: string; businessAccountId?: string; displayPhoneNumber?: string },
  value: Record<string, unknown>,
  field: 'messages' | 'user_preferences' = 'messages',
) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: opts.businessAccountId ?? '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: opts.displayPhoneNumber ?? '15550783881',
                phone_number_id: opts.phoneNumberId,
              },
              ...value,
            },
            field,
          },
        ],
      },
    ],
  };
}

/** A signed status webhook (sent / delivered / read / failed), as Meta posts it. */
export function whatsappStatusWebhook(input: WhatsAppStatusInput): { headers: Record<string, string>; body: string } {
  const timestamp = String(Math.floor((input.at ?? new Date()).getTime() / 1000));
  const status: Record<string, unknown> = {
    id: input.providerMessageId,
    status: input.status,
    timestamp,
    recipient_id: digits(input.recipient),
  };
  if (input.status === 'failed') {
    const code = Number.parseInt(input.error?.code ?? '131000', 10);
    const known = WHATSAPP_ERRORS[code];
    const title = input.error?.message ?? known?.title ?? 'Provider error';
    status.errors = [
      {
        code,
        title,
        message: title,
        error_data: { details: input.error?.message ?? known?.details ?? title },
        href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
      },
    ];
  } else {
    status.conversation = {
      id: randomBytes(16).toString('hex'),
      ...(input.status === 'sent' && { expiration_timestamp: String(Number(timestamp) + 86_400) }),
      origin: { type: 'service' },
    };
    status.pricing = { billable: true, pricing_model: 'CBP', category: 'service' };
  }
  if (input.clientRef !== undefined) status.biz_opaque_callback_data = input.clientRef;
  return signedMetaRequest(input.appSecret, envelope(input, { statuses: [status] }));
}

export interface WhatsAppInboundInput {
  appSecret: string;
  phoneNumberId: string;
  /** The contact's phone, with or without +. */
  from: string;
  at?: Date;
  text?: string;
  name?: string;
  businessAccountId?: string;
  displayPhoneNumber?: string;
}

/** A signed webhook for a contact's inbound text message: what opens the 24 h customer-service window. */
export function whatsappInboundWebhook(input: WhatsAppInboundInput): { headers: Record<string, string>; body: string } {
  const waId = digits(input.from);
  return signedMetaRequest(
    input.appSecret,
    envelope(input, {
      contacts: [{ profile: { name: input.name ?? 'Contact' }, wa_id: waId }],
      messages: [
        {
          from: waId,
          id: newWamid(),
          timestamp: String(Math.floor((input.at ?? new Date()).getTime() / 1000)),
          text: { body: input.text ?? 'Hola' },
          type: 'text',
        },
      ],
    }),
  );
}

export interface WhatsAppUserPreferencesInput {
  appSecret: string;
  phoneNumberId: string;
  /** The contact's phone (their WhatsApp ID), with or without +. */
  from: string;
  /** stop: the contact stopped marketing messages from the business; resume: took them back. */
  value: 'stop' | 'resume';
  at?: Date;
  name?: string;
  businessAccountId?: string;
  displayPhoneNumber?: string;
}

/**
 * A signed user_preferences webhook, as Meta posts it when a contact stops or resumes marketing
 * messages in WhatsApp's "Offers and announcements" setting (field "user_preferences").
 */
export function whatsappUserPreferencesWebhook(input: WhatsAppUserPreferencesInput): {
  headers: Record<string, string>;
  body: string;
} {
  const waId = digits(input.from);
  const payload = envelope(
    input,
    {
      contacts: [{ profile: { name: input.name ?? 'Contact' }, wa_id: waId }],
      user_preferences: [
        {
          wa_id: waId,
          detail:
            input.value === 'stop'
              ? 'User requested to stop marketing messages'
              : 'User requested to resume marketing messages',
          category: 'marketing_messages',
          value: input.value,
          timestamp: Math.floor((input.at ?? new Date()).getTime() / 1000),
        },
      ],
    },
    'user_preferences',
  );
  return signedMetaRequest(input.appSecret, payload);
}

/**
 * A signed account webhook, as Meta posts it for the business account (no phone number metadata):
 * message_template_status_update (event PAUSED, DISABLED, REINSTATED…) or phone_number_quality_update
 * (event FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE).
 */
export function whatsappAccountWebhook(
  input: { appSecret: string; businessAccountId?: string; displayPhoneNumber?: string },
  event: AccountEvent,
): { headers: Record<string, string>; body: string } {
  const time = Math.floor((event.at ?? new Date()).getTime() / 1000);
  const change =
    event.kind === 'templateStatus'
      ? {
          field: 'message_template_status_update',
          value: {
            event: event.event,
            message_template_id: 1_064_720_318_000_000 + (event.template.length % 1000),
            message_template_name: event.template,
            message_template_language: event.language ?? 'es_AR',
            reason: event.reason ?? null,
            ...(event.event === 'PAUSED' && {
              other_info: { title: 'FIRST_PAUSE', description: 'Your template has been paused for 3 hours.' },
            }),
          },
        }
      : {
          field: 'phone_number_quality_update',
          value: {
            display_phone_number: input.displayPhoneNumber ?? '15550783881',
            event: event.event,
            current_limit: event.currentLimit ?? 'TIER_1K',
          },
        };
  return signedMetaRequest(input.appSecret, {
    object: 'whatsapp_business_account',
    entry: [{ id: input.businessAccountId ?? '102290129340398', time, changes: [change] }],
  });
}

function newWamid(): string {
  return `wamid.HBgM${randomBytes(30).toString('base64')}`;
}

export function whatsappFormat(opts: WhatsAppSimulatorOptions): ProviderFormat {
  return {
    name: 'whatsapp',
    contactEvent(event, url) {
      const base = { ...opts, from: event.from, ...(event.at && { at: event.at }) };
      const signed =
        event.kind === 'message'
          ? whatsappInboundWebhook({ ...base, text: event.text })
          : whatsappUserPreferencesWebhook({ ...base, value: event.kind === 'optOut' ? 'stop' : 'resume' });
      const subscription = event.kind === 'optOut' ? 'out' : event.kind === 'optIn' ? 'in' : undefined;
      return {
        callback: { url, method: 'POST', headers: signed.headers, body: signed.body },
        ...(subscription && { subscription }),
      };
    },
    accountEvent(event, url) {
      const signed = whatsappAccountWebhook(opts, event);
      return { url, method: 'POST', headers: signed.headers, body: signed.body };
    },
    optOutFailure(send) {
      // Only marketing templates stop; a reply inside an open conversation still goes through.
      return (send.body as WhatsAppSendBody).type === 'template' ? { code: '131050' } : undefined;
    },
    parseSend({ method, url, headers, rawBody }): ParsedSend | SimResponse {
      const match = /^\/(v\d+\.\d+)\/([^/]+)\/messages\/?$/.exec(url.pathname);
      if (!match || (opts.apiVersion && match[1] !== opts.apiVersion)) return unknownPath(url.pathname);
      const authError = graphAuthError(accessTokenOf(headers, url), opts.accessToken);
      if (authError) return authError;
      const objectId = decodeURIComponent(match[2] ?? '');
      if (objectId !== opts.phoneNumberId || method !== 'POST') return unsupportedRequest(method, objectId);
      let body: WhatsAppSendBody;
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as WhatsAppSendBody;
      } catch {
        return invalidParameter('The request body must be a JSON object.');
      }
      const invalid = validateBody(body);
      if (invalid) return invalid;
      const ref = body.biz_opaque_callback_data;
      return { recipient: String(body.to), body, ...(typeof ref === 'string' && { clientRef: ref }) };
    },
    newMessageId: newWamid,
    accept(providerMessageId, send) {
      const body = send.body as WhatsAppSendBody;
      const to = String(body.to);
      return {
        status: 200,
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          contacts: [{ input: to, wa_id: digits(to) }],
          messages: [{ id: providerMessageId, ...(body.type === 'template' && { message_status: 'accepted' }) }],
        }),
      };
    },
    fail(code, message) {
      return whatsappError(code, message);
    },
    throttle(retryAfterSeconds) {
      const response = whatsappError('130429');
      return { ...response, status: 429, headers: { ...response.headers, 'retry-after': String(retryAfterSeconds) } };
    },
    serverError() {
      return graphError({
        status: 500,
        code: 2,
        message: '(#2) Service temporarily unavailable',
        details: 'Temporary due to downtime or due to being overloaded.',
        transient: true,
      });
    },
    callback(outcome, context: CallbackContext) {
      const signed = whatsappStatusWebhook({
        ...opts,
        providerMessageId: context.providerMessageId,
        recipient: context.recipient,
        status: outcome.kind,
        ...(context.clientRef !== undefined && { clientRef: context.clientRef }),
        ...(outcome.kind === 'failed' && {
          error: { code: outcome.code, ...(outcome.message !== undefined && { message: outcome.message }) },
        }),
      });
      return { url: context.url, method: 'POST', headers: signed.headers, body: signed.body };
    },
    readCallback(context: CallbackContext) {
      const signed = whatsappStatusWebhook({
        ...opts,
        providerMessageId: context.providerMessageId,
        recipient: context.recipient,
        status: 'read',
        ...(context.clientRef !== undefined && { clientRef: context.clientRef }),
      });
      return { url: context.url, method: 'POST', headers: signed.headers, body: signed.body };
    },
  };
}

export async function startWhatsAppSimulator(
  opts: WhatsAppSimulatorOptions & SimulatorOptions,
): Promise<ProviderSimulator> {
  return new ProviderSimulator(whatsappFormat(opts), opts).start();
}
