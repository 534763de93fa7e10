/**
 * Messenger Send API stand-in: POST /{version}/me/messages (or /{page-id}/messages) with the Page
 * access token as ?access_token= (or a Bearer header), JSON body
 * `{ recipient: { id }, messaging_type, tag?, message: { text, metadata? } }`; answers
 * `{ recipient_id, message_id }` or a Graph error. Messenger refuses at once rather than reporting
 * failures later, so only delivery comes through the (signed) `page` webhook.
 */
import { randomBytes } from 'node:crypto';
import {
  type CallbackContext,
  type ParsedSend,
  type ProviderFormat,
  ProviderSimulator,
  type SimResponse,
  type SimulatorOptions,
} from './base';
import {
  accessTokenOf,
  graphAuthError,
  graphError,
  signedMetaRequest,
  unknownPath,
  unsupportedRequest,
} from './whatsapp';

export interface MessengerSimulatorOptions {
  pageAccessToken: string;
  pageId: string;
  appSecret: string;
  /** When given, only this Graph version is served; other versions are unknown paths. */
  apiVersion?: string;
}

const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);
const TAGS = new Set([
  'CONFIRMED_EVENT_UPDATE',
  'POST_PURCHASE_UPDATE',
  'ACCOUNT_UPDATE',
  'HUMAN_AGENT',
  'CUSTOMER_FEEDBACK',
]);

/**
 * Messages Meta gives for the common Send API errors, keyed "code" or "code/subcode". Real 551 answers
 * usually carry subcode 1545041; script "551/1545041" to get it.
 */
const MESSENGER_ERRORS: Record<string, { message: string; status?: number; type?: string }> = {
  '1': { message: 'An unknown error occurred', status: 500 },
  '2': { message: 'An unexpected error has occurred. Please retry your request later.', status: 500 },
  '4': { message: '(#4) Application request limit reached', status: 429 },
  '10': { message: '(#10) Application does not have permission for this action', status: 403 },
  '10/2018278': {
    message:
      '(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview',
  },
  '17': { message: '(#17) User request limit reached', status: 429 },
  '32': { message: '(#32) Page request limit reached', status: 429 },
  '100': { message: '(#100) Invalid parameter' },
  '100/2018001': { message: '(#100) No matching user found' },
  '190': { message: 'Invalid OAuth access token.', status: 401 },
  '230': { message: '(#230) Requires pages_messaging permission to manage the object', status: 403 },
  '551': { message: "(#551) This person isn't available right now." },
  '551/1545041': { message: "(#551) This person isn't available right now." },
  '613': { message: '(#613) Calls to this API have exceeded the rate limit.', status: 429 },
  '1200': { message: 'Temporary send message failure. Please try again later', status: 500 },
};

function messengerError(codeText: string, message?: string): SimResponse {
  const [codePart, subPart] = codeText.split('/');
  const code = Number.parseInt(codePart ?? '', 10);
  const subcode = subPart === undefined ? undefined : Number.parseInt(subPart, 10);
  const known = MESSENGER_ERRORS[codeText] ?? MESSENGER_ERRORS[codePart ?? ''];
  return graphError(
    {
      status: known?.status ?? 400,
      code: Number.isFinite(code) ? code : 2,
      message: message ?? known?.message ?? `(#${code}) Provider error`,
      ...(subcode !== undefined && Number.isFinite(subcode) && { subcode }),
      ...(known?.type && { type: known.type }),
      ...((code === 1 || code === 2 || code === 1200) && { transient: true }),
    },
    false,
  );
}

function invalidParameter(message: string): SimResponse {
  return graphError({ status: 400, code: 100, message: `(#100) ${message}` }, false);
}

interface MessengerSendBody {
  recipient?: { id?: unknown };
  messaging_type?: unknown;
  tag?: unknown;
  message?: { text?: unknown; attachment?: unknown; metadata?: unknown };
}

function validateBody(body: MessengerSendBody): SimResponse | undefined {
  const id = body.recipient?.id;
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number')
    return invalidParameter('The parameter recipient is required');
  if (typeof body.messaging_type !== 'string' || !MESSAGING_TYPES.has(body.messaging_type)) {
    return invalidParameter('Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}');
  }
  if (body.messaging_type === 'MESSAGE_TAG' && (typeof body.tag !== 'string' || !TAGS.has(body.tag))) {
    return invalidParameter(`Param tag must be one of {${[...TAGS].join(', ')}}`);
  }
  const message = body.message;
  if (!message || (message.text === undefined && message.attachment === undefined)) {
    return invalidParameter('The parameter message is required');
  }
  if (message.text !== undefined && (typeof message.text !== 'string' || message.text === '')) {
    return invalidParameter('Param message[text] must be a non-empty UTF-8 encoded string');
  }
  if (typeof message.text === 'string' && message.text.length > 2000) {
    return invalidParameter('Length of param message[text] must be less than or equal to 2000');
  }
  if (message.metadata !== undefined && (typeof message.metadata !== 'string' || message.metadata.length > 1000)) {
    return invalidParameter('Length of param message[metadata] must be less than or equal to 1000');
  }
  return undefined;
}

function newMid(): string {
  return `m_${randomBytes(48).toString('base64url')}`;
}

function pageEnvelope(pageId: string, events: Record<string, unknown>[], at: number) {
  return { object: 'page', entry: [{ id: pageId, time: at, messaging: events }] };
}

/** A signed `delivery` event for some of the Page's messages. */
export function messengerDeliveryWebhook(input: {
  appSecret: string;
  pageId: string;
  psid: string;
  mids: string[];
  at?: Date;
}): { headers: Record<string, string>; body: string } {
  const at = (input.at ?? new Date()).getTime();
  return signedMetaRequest(
    input.appSecret,
    pageEnvelope(
      input.pageId,
      [
        {
          sender: { id: input.psid },
          recipient: { id: input.pageId },
          timestamp: at,
          delivery: { mids: input.mids, watermark: at },
        },
      ],
      at,
    ),
  );
}

/**
 * A signed read receipt as Messenger posts it: no message IDs, a watermark instead; every message the
 * Page sent the contact up to that time has been read.
 */
export function messengerReadWebhook(input: {
  appSecret: string;
  pageId: string;
  psid: string;
  /** The watermark; default now. */
  at?: Date;
}): { headers: Record<string, string>; body: string } {
  const at = (input.at ?? new Date()).getTime();
  return signedMetaRequest(
    input.appSecret,
    pageEnvelope(
      input.pageId,
      [{ sender: { id: input.psid }, recipient: { id: input.pageId }, timestamp: at, read: { watermark: at } }],
      at,
    ),
  );
}

/** A signed inbound text message from a contact: what opens the 24 h standard messaging window. */
export function messengerInboundWebhook(input: {
  appSecret: string;
  pageId: string;
  psid: string;
  at?: Date;
  text?: string;
}): { headers: Record<string, string>; body: string } {
  const at = (input.at ?? new Date()).getTime();
  return signedMetaRequest(
    input.appSecret,
    pageEnvelope(
      input.pageId,
      [
        {
          sender: { id: input.psid },
          recipient: { id: input.pageId },
          timestamp: at,
          message: { mid: newMid(), text: input.text ?? 'Hola' },
        },
      ],
      at,
    ),
  );
}

/** A signed message_echoes event: the Page's own message as Meta repeats it, with the metadata sent. */
export function messengerEchoWebhook(input: {
  appSecret: string;
  pageId: string;
  psid: string;
  mid: string;
  text: string;
  metadata?: string;
  appId?: string;
  at?: Date;
}): { headers: Record<string, string>; body: string } {
  const at = (input.at ?? new Date()).getTime();
  const message: Record<string, unknown> = {
    mid: input.mid,
    is_echo: true,
    app_id: Number(input.appId ?? '1517776481860111'),
    text: input.text,
  };
  if (input.metadata !== undefined) message.metadata = input.metadata;
  return signedMetaRequest(
    input.appSecret,
    pageEnvelope(
      input.pageId,
      [{ sender: { id: input.pageId }, recipient: { id: input.psid }, timestamp: at, message }],
      at,
    ),
  );
}

export function messengerFormat(opts: MessengerSimulatorOptions): ProviderFormat {
  return {
    name: 'messenger',
    contactEvent(event, url) {
      // Meta sends no webhook when a person blocks a Page or turns its messages off: sends just start
      // failing with 551 "This person isn't available right now".
      if (event.kind !== 'message') return { callback: null, subscription: event.kind === 'optOut' ? 'out' : 'in' };
      const signed = messengerInboundWebhook({
        appSecret: opts.appSecret,
        pageId: opts.pageId,
        psid: event.from,
        text: event.text,
        ...(event.at && { at: event.at }),
      });
      return { callback: { url, method: 'POST', headers: signed.headers, body: signed.body } };
    },
    optOutFailure() {
      return { code: '551/1545041' };
    },
    parseSend({ method, url, headers, rawBody }): ParsedSend | SimResponse {
      const match = /^\/(v\d+\.\d+)\/([^/]+)\/messages\/?$/.exec(url.pathname);
      if (!match || (opts.apiVersion && match[1] !== opts.apiVersion)) return unknownPath(url.pathname);
      const authError = graphAuthError(accessTokenOf(headers, url), opts.pageAccessToken);
      if (authError) return authError;
      const objectId = decodeURIComponent(match[2] ?? '');
      if ((objectId !== 'me' && objectId !== opts.pageId) || method !== 'POST')
        return unsupportedRequest(method, objectId);
      let body: MessengerSendBody;
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as MessengerSendBody;
      } catch {
        return invalidParameter('The request body must be a JSON object');
      }
      const invalid = validateBody(body);
      if (invalid) return invalid;
      const metadata = body.message?.metadata;
      return {
        recipient: String(body.recipient?.id),
        body,
        ...(typeof metadata === 'string' && { clientRef: metadata }),
      };
    },
    newMessageId: newMid,
    accept(providerMessageId, send) {
      return { status: 200, body: JSON.stringify({ recipient_id: send.recipient, message_id: providerMessageId }) };
    },
    fail(code, message) {
      return messengerError(code, message);
    },
    throttle(retryAfterSeconds) {
      const response = messengerError('613');
      return { ...response, status: 429, headers: { ...response.headers, 'retry-after': String(retryAfterSeconds) } };
    },
    serverError() {
      return messengerError('2');
    },
    callback(outcome, context: CallbackContext) {
      // Messenger reports refusals in the Send API answer itself; there is no failure callback.
      if (outcome.kind !== 'delivered') return null;
      const signed = messengerDeliveryWebhook({
        appSecret: opts.appSecret,
        pageId: opts.pageId,
        psid: context.recipient,
        mids: [context.providerMessageId],
      });
      return { url: context.url, method: 'POST', headers: signed.headers, body: signed.body };
    },
    readCallback(context: CallbackContext) {
      const read = messengerReadWebhook({ appSecret: opts.appSecret, pageId: opts.pageId, psid: context.recipient });
      return { url: context.url, method: 'POST', headers: read.headers, body: read.body };
    },
  };
}

export async function startMessengerSimulator(
  opts: MessengerSimulatorOptions & SimulatorOptions,
): Promise<ProviderSimulator> {
  return new ProviderSimulator(messengerFormat(opts), opts).start();
}
