/**
 * Messenger Send API: POST /{version}/me/messages?access_token=<page token> with
 * `{ recipient: { id: PSID }, messaging_type, tag?, message: { text, metadata } }`, answers
 * `{ recipient_id, message_id }` or a Graph error. Messenger refuses synchronously (551, 10/2018278,
 * 100/2018001…); delivery arrives later as a `page` webhook `delivery` event, signed with
 * X-Hub-Signature-256 like WhatsApp. `message.metadata` carries Rebound's message ID: Meta repeats it in
 * the message_echoes event, which therefore settles a message whose send timed out.
 */
import { channelCapabilities, messengerCodes } from '@rebound/shared';
import { providerUrlAllowlistFromEnv } from '../config';
import { httpRequest, networkOutcome } from './http';
import {
  asArray,
  asId,
  DEFAULT_GRAPH_BASE_URL,
  DEFAULT_GRAPH_VERSION,
  type GraphErrorRules,
  graphErrorRules,
  graphFailureOutcome,
  isRecord,
  messageIdFromRef,
  metaWebhookHandler,
  parseJson,
} from './meta-signature';
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
} from './types';

/**
 * From the code table's retry classes: throttling (613 Send API rate limit, 4 application, 17 user and
 * 32 page request limits) and transient faults (1 unknown, 2 unexpected error, 1200 temporary send
 * failure) are sent again.
 */
export const messengerErrorRules: GraphErrorRules = graphErrorRules(messengerCodes, (error) =>
  error.subcode !== undefined ? `${error.code}/${error.subcode}` : String(error.code),
);

/** The Send API body for one message: RESPONSE inside the 24 h window, MESSAGE_TAG with a tag outside it. */
export function messengerMessageBody(message: OutboundMessage): Record<string, unknown> {
  const tag = message.content.messengerTag;
  return {
    recipient: { id: message.to },
    messaging_type: tag ? 'MESSAGE_TAG' : 'RESPONSE',
    ...(tag && { tag }),
    message: { text: message.content.text, metadata: String(message.messageId) },
  };
}

export function createMessengerAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const base = (channel.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  const version = channel.credentials.apiVersion || DEFAULT_GRAPH_VERSION;
  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      const token = channel.credentials.pageAccessToken;
      if (!token) {
        // Same meaning as Graph's 190: nothing can be sent until the page token is set.
        return { kind: 'failed', providerCode: '190', providerMessage: 'The channel has no page access token' };
      }
      let answer: Awaited<ReturnType<typeof httpRequest>>;
      try {
        answer = await httpRequest(`${base}/${version}/me/messages?access_token=${encodeURIComponent(token)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(messengerMessageBody(message)),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      if (answer.status >= 200 && answer.status < 300) {
        const body = parseJson(answer.text);
        const id = isRecord(body) ? asId(body.message_id) : undefined;
        if (id) return { kind: 'accepted', providerMessageId: id };
        return {
          kind: 'uncertain',
          providerMessage: `HTTP ${answer.status} without a message ID`,
        };
      }
      return graphFailureOutcome(answer, messengerErrorRules);
    },
  };
}

function msToDate(value: unknown): Date {
  const ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms) : new Date();
}

function parseMessengerWebhook(rawBody: string, channel: ChannelConfig): WebhookContent {
  const content: WebhookContent = { updates: [], inbound: [] };
  const payload = parseJson(rawBody);
  if (!isRecord(payload) || payload.object !== 'page') return content;
  const ownPage = channel.credentials.pageId;
  for (const entry of asArray(payload.entry)) {
    if (!isRecord(entry)) continue;
    // One app may serve several Pages: keep only this channel's Page.
    const page = asId(entry.id);
    if (ownPage && page && page !== ownPage) continue;
    for (const event of asArray(entry.messaging)) {
      if (!isRecord(event)) continue;
      const sender = isRecord(event.sender) ? asId(event.sender.id) : undefined;
      if (isRecord(event.delivery)) {
        const at = msToDate(event.delivery.watermark ?? event.timestamp);
        const mids = asArray(event.delivery.mids);
        for (const mid of mids) {
          const providerMessageId = asId(mid);
          if (providerMessageId) content.updates.push({ providerMessageId, status: 'delivered', at });
        }
        // Meta leaves the IDs out for some clients; the watermark is always there: everything the Page
        // sent this contact up to then arrived. One that is no time in milliseconds is dropped.
        const watermark = Number(event.delivery.watermark);
        if (mids.length === 0 && sender && Number.isFinite(watermark) && watermark > 0)
          content.deliveredUpTo = [...(content.deliveredUpTo ?? []), { from: sender, at: new Date(watermark) }];
      } else if (isRecord(event.read) && sender) {
        // A watermark, not message IDs: everything the Page sent this contact up to then was read. One
        // that is no time in milliseconds is dropped: read as "now" it would mark every message read.
        const watermark = Number(event.read.watermark);
        if (Number.isFinite(watermark) && watermark > 0)
          content.readsUpTo = [...(content.readsUpTo ?? []), { from: sender, at: new Date(watermark) }];
      } else if (isRecord(event.message) && event.message.is_echo === true) {
        // The Page's own message, echoed: proof it was sent, with our metadata. Not contact activity.
        const update: DeliveryUpdate = { status: 'sent', at: msToDate(event.timestamp) };
        const mid = asId(event.message.mid);
        if (mid) update.providerMessageId = mid;
        const messageId = messageIdFromRef(event.message.metadata);
        if (messageId !== undefined) update.messageId = messageId;
        if (mid || messageId !== undefined) content.updates.push(update);
      } else if ((isRecord(event.message) || isRecord(event.postback)) && sender) {
        content.inbound.push({ from: sender, at: msToDate(event.timestamp) });
      }
    }
  }
  return content;
}

export const messengerWebhook: WebhookHandler = metaWebhookHandler(parseMessengerWebhook);

export const messengerProvider: ChannelProvider = {
  type: 'messenger',
  capabilities: channelCapabilities.messenger,
  createAdapter: createMessengerAdapter,
  webhook: { path: 'messenger', handler: messengerWebhook },
};
