/**
 * WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages with a Bearer token, answers
 * `{ messaging_product, contacts: [{ input, wa_id }], messages: [{ id: "wamid…" }] }` or a Graph error.
 * Delivery comes later through the `whatsapp_business_account` webhook (statuses[]), signed with
 * X-Hub-Signature-256. Rebound's message ID travels as biz_opaque_callback_data, which Meta echoes in
 * every status webhook, so a webhook can settle a message even when the send itself timed out.
 */
import { channelCapabilities, whatsappCodes } from '@rebound/shared';
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
  joinDistinct,
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
  InboundActivity,
  OutboundMessage,
  SendOutcome,
  WebhookContent,
  WebhookHandler,
} from './types';

/**
 * From the code table's retry classes: throttling (130429 throughput, 131056 pair rate, 4 app call limit,
 * 80007 WABA rate limit) and transient faults (131000, 131016, 1, 2) are sent again.
 */
export const whatsappErrorRules: GraphErrorRules = graphErrorRules(whatsappCodes, (error) => String(error.code));

/** The Cloud API takes the number without "+" or separators; E.164 input only loses its "+". */
function waNumber(to: string): string {
  return /^\+\d+$/.test(to) ? to.slice(1) : to.replace(/\D/g, '');
}

/** The request body the Cloud API takes for one message (built once per recipient, so written out flat). */
export function whatsappMessageBody(message: OutboundMessage): Record<string, unknown> {
  const to = waNumber(message.to);
  const ref = String(message.messageId);
  const template = message.content.template;
  if (message.useTemplate && template) {
    const language = { code: template.language };
    return {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      template:
        template.parameters.length > 0
          ? {
              name: template.name,
              language,
              components: [{ type: 'body', parameters: template.parameters.map((text) => ({ type: 'text', text })) }],
            }
          : { name: template.name, language },
      biz_opaque_callback_data: ref,
    };
  }
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'text',
    text: { preview_url: false, body: message.content.text },
    biz_opaque_callback_data: ref,
  };
}

/** The part of a body that is the same for every recipient of a broadcast, as JSON, per content. */
const sharedPart = new WeakMap<OutboundMessage['content'], { template?: string; text?: string }>();

/**
 * `whatsappMessageBody` as the JSON text sent, field for field: the template (or the text) is written
 * once per broadcast's content, which is the same for every recipient (no per-recipient fields), and
 * each recipient adds only its number and reference.
 */
export function whatsappMessageJson(message: OutboundMessage): string {
  let shared = sharedPart.get(message.content);
  if (!shared) {
    shared = {};
    sharedPart.set(message.content, shared);
  }
  // The same choice whatsappMessageBody makes: the template when asked for and there is one.
  const kind = message.useTemplate && message.content.template ? 'template' : 'text';
  shared[kind] ??= JSON.stringify(whatsappMessageBody(message)[kind]);
  return `{"messaging_product":"whatsapp","recipient_type":"individual","to":${JSON.stringify(waNumber(message.to))},"type":"${kind}","${kind}":${shared[kind]},"biz_opaque_callback_data":${JSON.stringify(String(message.messageId))}}`;
}

export function createWhatsAppAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const allowlist = options.providerUrlAllowlist ?? providerUrlAllowlistFromEnv();
  const base = (channel.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  const version = channel.credentials.apiVersion || DEFAULT_GRAPH_VERSION;
  const { accessToken, phoneNumberId } = channel.credentials;
  // An adapter lives as long as its channel row is unchanged: the URL and headers are the same for every message.
  const url = `${base}/${version}/${encodeURIComponent(phoneNumberId ?? '')}/messages`;
  const headers = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  return {
    async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
      if (!accessToken || !phoneNumberId) {
        // Same meaning as Graph's 190: the channel cannot authenticate until its credentials are fixed.
        return {
          kind: 'failed',
          providerCode: '190',
          providerMessage: 'The channel has no access token or phone number ID',
        };
      }
      let answer: Awaited<ReturnType<typeof httpRequest>>;
      try {
        answer = await httpRequest(url, {
          method: 'POST',
          headers,
          body: whatsappMessageJson(message),
          signal,
          timeoutMs: message.timeoutMs,
          allowlist,
        });
      } catch (error) {
        return networkOutcome(error);
      }
      if (answer.status >= 200 && answer.status < 300) {
        const body = parseJson(answer.text);
        const first = isRecord(body) ? asArray(body.messages)[0] : undefined;
        const id = isRecord(first) ? asId(first.id) : undefined;
        if (id) return { kind: 'accepted', providerMessageId: id };
        return {
          kind: 'uncertain',
          providerMessage: `HTTP ${answer.status} without a message ID`,
        };
      }
      return graphFailureOutcome(answer, whatsappErrorRules);
    },
  };
}

const STATUSES = new Set(['sent', 'delivered', 'read', 'failed']);

function secondsToDate(value: unknown): Date {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
}

/** A status error as "title/message: details". */
function statusErrorText(error: Record<string, unknown>): string {
  const data = isRecord(error.error_data) ? error.error_data : undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return joinDistinct([text(error.title), text(error.message), text(data?.details)]);
}

/**
 * The user_preferences webhook: the contact stopped ("stop") or resumed ("resume") marketing messages
 * from this business in WhatsApp's "Offers and announcements" setting. A stop is an opt-out of marketing
 * only (marketing templates would fail with 131050; utility ones still go); a resume lifts that.
 */
function readUserPreferences(value: Record<string, unknown>, content: WebhookContent): void {
  for (const preference of asArray(value.user_preferences)) {
    if (!isRecord(preference) || preference.category !== 'marketing_messages') continue;
    const waId = asId(preference.wa_id)?.replace(/\D/g, '');
    if (!waId) continue;
    const signal = { from: `+${waId}`, at: secondsToDate(preference.timestamp) };
    if (preference.value === 'stop') {
      content.optOuts = [
        ...(content.optOuts ?? []),
        { ...signal, source: 'webhook', detail: 'user_preferences: stop', marketingOnly: true },
      ];
    } else if (preference.value === 'resume') {
      content.optIns = [
        ...(content.optIns ?? []),
        { ...signal, detail: 'user_preferences: resume', marketingOnly: true },
      ];
    }
  }
}

/** A template's new status, or the number's quality event, as Meta words it (PAUSED, FLAGGED…). */
function readAccountSignal(
  field: 'message_template_status_update' | 'phone_number_quality_update',
  value: Record<string, unknown>,
  at: Date,
  content: WebhookContent,
  channel: ChannelConfig,
  account: string | undefined,
) {
  const event =
    typeof value.event === 'string'
      ? value.event
          .replace(/[^A-Za-z_]/g, '')
          .toUpperCase()
          .slice(0, 40)
      : '';
  if (!event) return;
  if (field === 'phone_number_quality_update') {
    // Names the number by its display form only. With one Meta app for several numbers, a channel that
    // knows its own takes only its own number's events: the optional displayPhoneNumber credential, or
    // else the one its message webhooks named (learned); until then any number's event counts (safe side).
    const own = digitsOf(channel.credentials.displayPhoneNumber) || digitsOf(channel.displayNumber);
    if (own && digitsOf(value.display_phone_number) !== own) return;
    content.numberQuality = [...(content.numberQuality ?? []), { event, at }];
    return;
  }
  // A template belongs to a business account. A channel that knows its own (the optional businessAccountId
  // credential, or the one its message webhooks named: learned) takes only its account's templates; until
  // then any template event posted to it counts (safe side: a paused template's sends would fail).
  const ownAccount = businessAccountOf(channel);
  if (ownAccount && account !== ownAccount) return;
  const name =
    typeof value.message_template_name === 'string'
      ? value.message_template_name
          .replace(/\p{Cc}/gu, '')
          .trim()
          .slice(0, 512)
      : '';
  const language =
    typeof value.message_template_language === 'string'
      ? value.message_template_language.replace(/[^A-Za-z_-]/g, '').slice(0, 20)
      : '';
  if (name)
    content.templateStatus = [...(content.templateStatus ?? []), { name, ...(language && { language }), event, at }];
}

const digitsOf = (value: unknown) => (typeof value === 'string' ? value.replace(/\D/g, '') : '');

/** A WhatsApp channel's business account ID: typed (businessAccountId) or learned from its webhooks. */
export function businessAccountOf(channel: ChannelConfig): string | undefined {
  return digitsOf(channel.credentials.businessAccountId) || channel.businessAccount || undefined;
}

function parseWhatsAppWebhook(rawBody: string, channel: ChannelConfig): WebhookContent {
  const content: WebhookContent = { updates: [], inbound: [] };
  const payload = parseJson(rawBody);
  if (!isRecord(payload) || payload.object !== 'whatsapp_business_account') return content;
  const ownNumber = channel.credentials.phoneNumberId;
  for (const entry of asArray(payload.entry)) {
    if (!isRecord(entry)) continue;
    for (const change of asArray(entry.changes)) {
      if (!isRecord(change)) continue;
      const field = change.field ?? 'messages';
      const value = change.value;
      if (!isRecord(value)) continue;
      // The business account's own signals (no phone_number_id): what the quality guard acts on.
      if (field === 'message_template_status_update' || field === 'phone_number_quality_update') {
        readAccountSignal(field, value, secondsToDate(entry.time), content, channel, digitsOf(asId(entry.id)));
        continue;
      }
      if (field !== 'messages' && field !== 'user_preferences') continue;
      // One Meta app posts every number's events to the same place: keep only this channel's number.
      const number = isRecord(value.metadata) ? asId(value.metadata.phone_number_id) : undefined;
      if (ownNumber && number && number !== ownNumber) continue;
      // Meta names this number's display form beside its ID: what its quality events will name it by.
      const display =
        number && number === ownNumber && isRecord(value.metadata) ? digitsOf(value.metadata.display_phone_number) : '';
      if (display && display.length <= 20) content.displayNumber = display;
      // And its business account's ID (the entry's): what its template status events will name.
      const account = number && number === ownNumber ? digitsOf(asId(entry.id)) : '';
      if (account && account.length <= 30) content.businessAccount = account;
      if (field === 'user_preferences') {
        readUserPreferences(value, content);
        continue;
      }

      for (const status of asArray(value.statuses)) {
        if (!isRecord(status) || typeof status.status !== 'string' || !STATUSES.has(status.status)) continue;
        const update: DeliveryUpdate = {
          status: status.status as DeliveryUpdate['status'],
          at: secondsToDate(status.timestamp),
        };
        const wamid = asId(status.id);
        if (wamid) update.providerMessageId = wamid;
        const messageId = messageIdFromRef(status.biz_opaque_callback_data);
        if (messageId !== undefined) update.messageId = messageId;
        const error = asArray(status.errors)[0];
        if (isRecord(error)) {
          if (error.code !== undefined) update.providerCode = String(error.code);
          const text = statusErrorText(error);
          if (text) update.providerMessage = text;
        }
        if (update.providerMessageId || update.messageId !== undefined) content.updates.push(update);
      }

      for (const message of asArray(value.messages)) {
        if (!isRecord(message)) continue;
        const from = asId(message.from)?.replace(/\D/g, '');
        if (!from) continue;
        const activity: InboundActivity = { from: `+${from}`, at: secondsToDate(message.timestamp) };
        content.inbound.push(activity);
      }
    }
  }
  return content;
}

export const whatsappWebhook: WebhookHandler = metaWebhookHandler(parseWhatsAppWebhook);

export const whatsappProvider: ChannelProvider = {
  type: 'whatsapp',
  capabilities: channelCapabilities.whatsapp,
  createAdapter: createWhatsAppAdapter,
  webhook: { path: 'whatsapp', handler: whatsappWebhook },
};
