/**
 * The one small interface every channel adapter implements. An adapter knows one provider's wire
 * format (paths, bodies, auth, error payloads); the engine knows nothing of providers.
 */
import type { BroadcastContent, ChannelCapability, ChannelType, OptOutSource } from '@rebound/shared';

export interface OutboundMessage {
  /** Rebound's message ID; sent as the provider's client reference where it has one, so webhooks can find it. */
  messageId: number;
  /** The recipient on this channel: E.164 phone, Messenger PSID, Telegram chat ID. */
  to: string;
  content: BroadcastContent;
  /** Send the WhatsApp template rather than free text (the 24 h window is closed). */
  useTemplate: boolean;
  /** Where the provider should post delivery callbacks for this message, when it takes one per message. */
  statusCallbackUrl?: string;
  /** How long to wait for the provider's answer before the outcome is uncertain (default 15 s). */
  timeoutMs?: number;
}

export type SendOutcome =
  /** The provider took the message; `delivered` when it confirms delivery in the answer itself (sandbox). */
  | { kind: 'accepted'; providerMessageId: string; delivered?: boolean }
  /** The provider refused it for good; the code goes through the failure catalog. */
  | { kind: 'failed'; providerCode: string; providerMessage: string }
  /**
   * Not processed, safe to send again: throttling (429 and the providers' own throttle codes), 5xx
   * answers, a connection that was never made.
   */
  | { kind: 'retry'; providerCode: string; providerMessage: string; retryAfterMs?: number }
  /** The request may have reached the provider (timeout, connection lost mid-way): never resent automatically. */
  | { kind: 'uncertain'; providerMessage: string };

/** How an adapter is built, besides its channel. */
export interface AdapterOptions {
  /**
   * Internal hosts (`host` or `host:port`) the channel's base URL may lead to: provider simulators, an
   * operator's own proxy. Defaults to PROVIDER_URL_ALLOWLIST (lib/provider-url.ts).
   */
  providerUrlAllowlist?: readonly string[];
}

export interface ChannelAdapter {
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome>;
}

/** What a delivery callback says about one message. */
export interface DeliveryUpdate {
  /** The provider's message ID, or Rebound's message ID when the provider echoes the client reference. */
  providerMessageId?: string;
  messageId?: number;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  providerCode?: string;
  providerMessage?: string;
  at: Date;
}

/** An inbound message from a contact: it opens the 24 h customer-service window. */
export interface InboundActivity {
  /** The contact's identifier on the channel (phone in E.164 without or with +, PSID, chat ID). */
  from: string;
  at: Date;
  /**
   * The business number the contact wrote to, when the provider says (an SMS's To): one account's
   * numbers may post to one inbound URL, and a STOP to another number is that number's.
   */
  to?: string;
  /**
   * The provider's ID of the message that said it, for a signal timed by its arrival (Twilio's
   * MessageSid): an opt-out or opt-in that names one is applied once, so a signed callback captured and
   * replayed later changes nothing. Signals that carry the provider's time need none: an older one is stale.
   */
  eventId?: string;
}

/** A contact who opted out or blocked the business, and what said so. */
export interface OptOutSignal extends InboundActivity {
  /** "webhook" when the provider reported it; "inbound_word" when the contact wrote STOP, BAJA… */
  source: Extract<OptOutSource, 'webhook' | 'inbound_word'>;
  /** The word or the provider's own words for it: "BAJA", "user_preferences: stop", "my_chat_member: kicked". */
  detail: string;
  /** Marketing only (WhatsApp's "Offers and announcements" turned off): utility templates still go. */
  marketingOnly?: boolean;
}

/** A contact who told the channel it accepts messages again (WhatsApp "resume", Twilio START, Telegram unblock). */
export interface OptInSignal extends InboundActivity {
  detail: string;
  /** Marketing taken back only (WhatsApp's "resume"): a block or a STOP stays. */
  marketingOnly?: boolean;
}

/** Everything one callback tells Rebound. */
export interface WebhookContent {
  updates: DeliveryUpdate[];
  inbound: InboundActivity[];
  /** Contacts who blocked the business or opted out (Telegram my_chat_member "kicked", SMS "STOP"). */
  optOuts?: OptOutSignal[];
  /** Contacts who opted back in; lifts the channel's own earlier opt-out (never a manual one). */
  optIns?: OptInSignal[];
  /**
   * Read receipts by watermark (Messenger): every message sent to `from` up to `at` was read. A
   * receipt per message ID comes as an update with status 'read' instead (WhatsApp).
   */
  readsUpTo?: { from: string; at: Date }[];
  /**
   * Delivery receipts by watermark (Messenger, for a client that sends no message IDs): every message
   * sent to `from` up to `at` arrived.
   */
  deliveredUpTo?: { from: string; at: Date }[];
  /** WhatsApp message_template_status_update: Meta paused, disabled or reinstated a template. */
  /** `language`: Meta's code for the template's language (es_AR); a template is one name in each language. */
  templateStatus?: { name: string; language?: string; event: string; at: Date }[];
  /** WhatsApp phone_number_quality_update: the number was flagged, downgraded, unflagged or upgraded. */
  numberQuality?: { event: string; at: Date }[];
  /** WhatsApp: this channel's display number (digits) as a message webhook for its phone_number_id names it. */
  displayNumber?: string;
  /** WhatsApp: this channel's business account ID (entry.id) as a message webhook for its number names it. */
  businessAccount?: string;
}

export interface WebhookRequest {
  method: string;
  /** The full URL the provider called (Twilio signs it). */
  url: string;
  headers: Headers;
  rawBody: string;
}

export interface ChannelConfig {
  id: number;
  type: ChannelType;
  credentials: Record<string, string>;
  baseUrl: string | null;
  /** WhatsApp: its display number's digits, learned from Meta's webhooks (see WebhookContent.displayNumber). */
  displayNumber?: string | null;
  /** WhatsApp: its business account ID, learned from Meta's webhooks (see WebhookContent.businessAccount). */
  businessAccount?: string | null;
}

export interface WebhookHandler {
  /** True when the request carries the provider's valid signature for this channel's secret. */
  verify(request: WebhookRequest, channel: ChannelConfig): boolean;
  parse(request: WebhookRequest, channel: ChannelConfig): WebhookContent;
  /** Providers that verify the endpoint with a GET first (Meta): the answer to give, or null to refuse. */
  handshake?(url: URL, channel: ChannelConfig): string | null;
}

export type AdapterFactory = (channel: ChannelConfig, options?: AdapterOptions) => ChannelAdapter;

/**
 * One channel type as the server knows it: an entry of the registry in ./index.ts, written in the
 * provider's own file (`whatsappProvider` in whatsapp.ts). The failure codes, with the retry class of
 * each, are shared's (shared/src/failure-codes/<provider>.ts); the adapter reads its retries from them.
 */
export interface ChannelProvider {
  type: ChannelType;
  /** The type's line of shared's channel table (`channelCapabilities[type]`). */
  capabilities: ChannelCapability;
  /** Builds the adapter a broadcast sends through; absent on types that cannot broadcast. */
  createAdapter?: AdapterFactory;
  /** Where its callbacks arrive (/webhooks/{path}/{channelId}) and what reads them; absent without callbacks. */
  webhook?: { path: string; handler: WebhookHandler };
}
