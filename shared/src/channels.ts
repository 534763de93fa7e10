/**
 * The channel table: what each channel type can do and the limits a new channel starts with.
 * Figures come from the providers' own documentation (see ../shared/channels.md in the team notes);
 * every channel can override its limits, because tiers and throughput differ per account.
 */
import type { FailureReason } from './failure-reasons';
import type { Localized } from './i18n';
import { windowFixes } from './preflight';
import type { BroadcastContent } from './schemas/broadcasts';

export const CHANNEL_TYPES = [
  'whatsapp',
  'messenger',
  'telegram',
  'twilio_sms',
  'vonage_sms',
  'messagebird_sms',
  'instagram',
  'webchat',
  'wechat',
  'email',
  'sandbox',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** How a recipient is addressed on a channel. */
export type IdentifierKind = 'phone' | 'psid' | 'telegram_chat_id' | 'igsid' | 'visitor_id' | 'openid' | 'email';

export interface ChannelLimits {
  /** Unique recipients per rolling 24 h; null means unlimited. */
  dailyQuota: number | null;
  /** Messages per second the channel accepts from us. */
  messagesPerSecond: number;
  /** Minimum seconds between two messages to the same recipient; null when the provider sets none. */
  pairRatePerRecipientSeconds: number | null;
}

/** What a channel with a customer-service window lets through once it is closed. */
export interface OutsideWindow {
  /** The content that carries it: `content.template` (a template) or `content.messengerTag` (a tag). */
  carrier: 'template' | 'tag';
  /** Said when recipients are outside the window and the content has no carrier. */
  fix: Localized;
}

export interface ChannelCapability {
  label: Localized;
  canBroadcast: boolean;
  /** Why a channel cannot broadcast, shown when a broadcast is refused up front. */
  noBroadcastReason?: Localized;
  identifier: IdentifierKind;
  /** Hours after the contact's last message during which free-form messages are allowed; null if no window. */
  customerServiceWindowHours: number | null;
  /**
   * What may still go to a contact whose window is closed (see outsideWindowCarrier in policy.ts): an
   * approved template (WhatsApp) or a message tag (Messenger), with the pre-flight's advice when the
   * content has none; null when nothing may (or the channel has no window).
   */
  outsideWindow: OutsideWindow | null;
  /**
   * What the provider bills a message by (prices.ts): a delivered template (WhatsApp), or each SMS
   * segment sent (SMS providers, which also take plain text only); absent when nothing is billed per message.
   */
  billedBy?: 'template' | 'segment';
  defaultLimits: ChannelLimits;
  /**
   * The most messages per second a channel of this type may be set to (see MAX_PROVIDER_MESSAGES_PER_SECOND);
   * a higher figure is refused with 422, never stored.
   */
  maxMessagesPerSecond: number;
  /**
   * The longest text the provider takes in one message, in characters (Twilio 1,600: 21617 above it;
   * Messenger 2,000; WhatsApp and Telegram 4,096): longer, every recipient would fail for it.
   */
  maxTextLength: number;
  /** Credential keys a channel of this type needs before it can send. */
  credentialKeys: readonly string[];
  /**
   * What the provider's delivery reports say beyond "sent": the steps of the delivery funnel a
   * broadcast on this channel can show (Telegram reports nothing; SMS reports delivery, never reading).
   */
  reports: readonly ('delivered' | 'read')[];
}

/**
 * The least messages per second any channel or broadcast may be set to (one message every 100 s); below it
 * the wait between two messages outgrows any real send and, near zero, the engine's timers.
 */
export const MIN_MESSAGES_PER_SECOND = 0.01;

/**
 * The ceiling for a real provider: ten times the highest throughput any of them publishes (WhatsApp Cloud
 * API's upgraded 1,000 msg/s; Messenger and Instagram 300, Bird 200, Telegram 30, Vonage 30, a Twilio short
 * code 100), so negotiated accounts and the local simulators fit while 1e300 cannot get in.
 */
const MAX_PROVIDER_MESSAGES_PER_SECOND = 10_000;

const noBroadcast: Localized = {
  es: 'Este canal no admite transmisiones: solo se puede responder a conversaciones abiertas por el contacto.',
  en: 'This channel does not support broadcasts: you can only reply to conversations the contact started.',
  pt: 'Este canal não permite transmissões: só é possível responder a conversas iniciadas pelo contato.',
};

export const channelCapabilities: Record<ChannelType, ChannelCapability> = {
  whatsapp: {
    label: { es: 'WhatsApp', en: 'WhatsApp', pt: 'WhatsApp' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: 24,
    outsideWindow: { carrier: 'template', fix: windowFixes.whatsapp },
    billedBy: 'template',
    // The reference page's "standard tier" is 1,000 unique recipients a day; Meta's current tiers are
    // 250 / 2,000 / 10,000 / 100,000 / unlimited. Throughput is 80 msg/s by default; pair rate about 1 per 6 s.
    defaultLimits: { dailyQuota: 1000, messagesPerSecond: 80, pairRatePerRecipientSeconds: 6 },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: ['accessToken', 'phoneNumberId', 'appSecret', 'verifyToken'],
    reports: ['delivered', 'read'],
  },
  messenger: {
    label: { es: 'Facebook Messenger', en: 'Facebook Messenger', pt: 'Facebook Messenger' },
    canBroadcast: true,
    identifier: 'psid',
    customerServiceWindowHours: 24,
    outsideWindow: { carrier: 'tag', fix: windowFixes.messenger },
    // Send API: 300 calls/s per Page for text.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 300, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 2000,
    credentialKeys: ['pageAccessToken', 'pageId', 'appSecret', 'verifyToken'],
    reports: ['delivered', 'read'],
  },
  telegram: {
    label: { es: 'Telegram', en: 'Telegram', pt: 'Telegram' },
    canBroadcast: true,
    identifier: 'telegram_chat_id',
    customerServiceWindowHours: null,
    outsideWindow: null,
    // About 30 msg/s overall and no more than 1 msg/s to one chat.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 30, pairRatePerRecipientSeconds: 1 },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: ['botToken', 'webhookSecret'],
    reports: [],
  },
  twilio_sms: {
    label: { es: 'SMS (Twilio)', en: 'SMS (Twilio)', pt: 'SMS (Twilio)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    outsideWindow: null,
    billedBy: 'segment',
    // A US/CA long code sends 1 segment/s; short codes and other senders more. Set per channel.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 1, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 1600,
    credentialKeys: ['accountSid', 'authToken', 'from'],
    reports: ['delivered'],
  },
  vonage_sms: {
    label: { es: 'SMS (Vonage)', en: 'SMS (Vonage)', pt: 'SMS (Vonage)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    outsideWindow: null,
    billedBy: 'segment',
    // 30 API requests/s per API key by default.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 30, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: ['apiKey', 'apiSecret', 'from', 'signatureSecret'],
    reports: ['delivered'],
  },
  messagebird_sms: {
    label: { es: 'SMS (MessageBird / Bird)', en: 'SMS (MessageBird / Bird)', pt: 'SMS (MessageBird / Bird)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    outsideWindow: null,
    billedBy: 'segment',
    // Bird campaigns send SMS at 200 msg/s by default.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 200, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: ['accessKey', 'originator', 'signingKey'],
    reports: ['delivered'],
  },
  instagram: {
    label: { es: 'Instagram', en: 'Instagram', pt: 'Instagram' },
    canBroadcast: false,
    noBroadcastReason: noBroadcast,
    identifier: 'igsid',
    customerServiceWindowHours: 24,
    outsideWindow: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 300, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: [],
    reports: ['read'],
  },
  webchat: {
    label: { es: 'Chat del sitio web', en: 'Website chat', pt: 'Chat do site' },
    canBroadcast: false,
    noBroadcastReason: {
      es: 'El chat del sitio web no admite transmisiones: el visitante solo recibe mensajes mientras tiene el chat abierto.',
      en: 'Website chat does not support broadcasts: a visitor only receives messages while the chat is open.',
      pt: 'O chat do site não permite transmissões: o visitante só recebe mensagens enquanto está com o chat aberto.',
    },
    identifier: 'visitor_id',
    customerServiceWindowHours: null,
    outsideWindow: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 50, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: [],
    reports: [],
  },
  wechat: {
    label: { es: 'WeChat', en: 'WeChat', pt: 'WeChat' },
    canBroadcast: false,
    noBroadcastReason: noBroadcast,
    identifier: 'openid',
    customerServiceWindowHours: 48,
    outsideWindow: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 50, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: [],
    reports: [],
  },
  email: {
    label: { es: 'Correo electrónico (Gmail u otro)', en: 'E-mail (Gmail or other)', pt: 'E-mail (Gmail ou outro)' },
    canBroadcast: false,
    noBroadcastReason: {
      es: 'Los canales de correo electrónico no admiten transmisiones: use su herramienta de correo masivo.',
      en: 'E-mail channels do not support broadcasts: use your bulk e-mail tool.',
      pt: 'Os canais de e-mail não permitem transmissões: use sua ferramenta de e-mail em massa.',
    },
    identifier: 'email',
    customerServiceWindowHours: null,
    outsideWindow: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 10, pairRatePerRecipientSeconds: null },
    maxMessagesPerSecond: MAX_PROVIDER_MESSAGES_PER_SECOND,
    maxTextLength: 4096,
    credentialKeys: [],
    reports: [],
  },
  sandbox: {
    label: { es: 'Sandbox (pruebas)', en: 'Sandbox (testing)', pt: 'Sandbox (testes)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    outsideWindow: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 1_000_000, pairRatePerRecipientSeconds: null },
    // Nothing leaves the process: the benchmark's engine runs are bounded by the database, not the provider.
    maxMessagesPerSecond: 1_000_000,
    maxTextLength: 4096,
    credentialKeys: [],
    reports: ['delivered'],
  },
};

/** The highest ceiling of any type: the bound for a rate given without its channel's type (a broadcast's). */
export const MAX_MESSAGES_PER_SECOND = Math.max(
  ...Object.values(channelCapabilities).map((capability) => capability.maxMessagesPerSecond),
);

/** Channels whose recipients are addressed by the contact's phone number. */
export function isPhoneChannel(type: ChannelType): boolean {
  return channelCapabilities[type].identifier === 'phone';
}

/** WhatsApp's messaging-limit tiers (unique recipients per rolling 24 h); null is "unlimited". */
export const WHATSAPP_TIERS = [250, 1000, 2000, 10_000, 100_000, null] as const;

/** The SMS channel types: billed by segment (see sms.ts), plain text only. */
export function isSmsChannel(type: ChannelType): boolean {
  // The extension asks with types the server sent: one this build does not know is not SMS (no throw).
  return channelCapabilities[type]?.billedBy === 'segment';
}

/**
 * The reasons where this channel cannot reach the contact but another may: not on WhatsApp (131026),
 * a chat or PSID the channel does not know (Telegram "chat not found"), a closed 24 h window, an SMS
 * carrier that refused without a cause (Vonage's bare "rejected"). What a
 * re-send on another channel takes by default, at once. A block or an opt-out is not among them: the
 * contact said no to the business, and another channel does not change that.
 */
export const ANOTHER_CHANNEL_REASONS = [
  'not_on_channel',
  'marketing_held',
  'invalid_identifier',
  'outside_window',
  'carrier_rejected',
] as const satisfies readonly FailureReason[];

/**
 * What of this content may go outside the window, by the channel's `outsideWindow`: the template where a
 * template may (WhatsApp), the tagged message where a tag may (Messenger); null: nothing.
 */
export function outsideWindowCarrier(type: ChannelType, content: BroadcastContent): 'template' | 'tag' | null {
  const carrier = channelCapabilities[type].outsideWindow?.carrier;
  if (carrier === 'template' && content.template) return 'template';
  // HUMAN_AGENT only widens the window (windowHours): past its 7 days no tag carries the message.
  if (carrier === 'tag' && content.messengerTag && content.messengerTag !== 'HUMAN_AGENT') return 'tag';
  return null;
}

/**
 * What a re-send on a channel of type `to` takes by default of failures on a channel of type `from`
 * (undefined: one disconnected since): ANOTHER_CHANNEL_REASONS, less what follows the person to every
 * WhatsApp number: no WhatsApp account (131026), and Meta holding back their marketing (130472). With
 * the `content` it sends: less the closed window where `to` has a window of its own and the content
 * carries nothing past it (a Messenger page's text to WhatsApp: closed there too, unless they wrote).
 */
export function anotherChannelReasons(
  from: ChannelType | undefined,
  to: ChannelType,
  content?: BroadcastContent,
): FailureReason[] {
  const closedThere =
    content !== undefined &&
    channelCapabilities[to].customerServiceWindowHours !== null &&
    outsideWindowCarrier(to, content) === null;
  return ANOTHER_CHANNEL_REASONS.filter(
    (reason) =>
      !(reason === 'outside_window' && closedThere) &&
      !(to === 'whatsapp' && (reason === 'marketing_held' || (reason === 'not_on_channel' && from === 'whatsapp'))),
  );
}

/**
 * How a text stands against its channel's longest message (maxTextLength), counted as the providers
 * count it: in UTF-16 units, so an emoji takes two (Twilio's 21617 comes sooner with emoji); undefined
 * when it fits.
 */
export function textTooLong(type: ChannelType, text: string): { length: number; max: number } | undefined {
  const max = channelCapabilities[type].maxTextLength;
  const length = text.length;
  return length > max ? { length, max } : undefined;
}
