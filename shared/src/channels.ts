/**
 * The channel table: what each channel type can do and the limits a new channel starts with.
 * Figures come from the providers' own documentation (see ../shared/channels.md in the team notes);
 * every channel can override its limits, because tiers and throughput differ per account.
 */
import type { Localized } from './i18n';

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

export interface ChannelCapability {
  label: Localized;
  canBroadcast: boolean;
  /** Why a channel cannot broadcast, shown when a broadcast is refused up front. */
  noBroadcastReason?: Localized;
  identifier: IdentifierKind;
  /** Hours after the contact's last message during which free-form messages are allowed; null if no window. */
  customerServiceWindowHours: number | null;
  defaultLimits: ChannelLimits;
  /** Credential keys a channel of this type needs before it can send. */
  credentialKeys: readonly string[];
}

const noBroadcast: Localized = {
  es: 'Este canal no admite transmisiones: solo se puede responder a conversaciones abiertas por el contacto.',
  en: 'This channel does not support broadcasts: you can only reply to conversations the contact started.',
};

export const channelCapabilities: Record<ChannelType, ChannelCapability> = {
  whatsapp: {
    label: { es: 'WhatsApp', en: 'WhatsApp' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: 24,
    // The reference page's "standard tier" is 1,000 unique recipients a day; Meta's current tiers are
    // 250 / 2,000 / 10,000 / 100,000 / unlimited. Throughput is 80 msg/s by default; pair rate about 1 per 6 s.
    defaultLimits: { dailyQuota: 1000, messagesPerSecond: 80, pairRatePerRecipientSeconds: 6 },
    credentialKeys: ['accessToken', 'phoneNumberId', 'appSecret', 'verifyToken'],
  },
  messenger: {
    label: { es: 'Facebook Messenger', en: 'Facebook Messenger' },
    canBroadcast: true,
    identifier: 'psid',
    customerServiceWindowHours: 24,
    // Send API: 300 calls/s per Page for text.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 300, pairRatePerRecipientSeconds: null },
    credentialKeys: ['pageAccessToken', 'pageId', 'appSecret', 'verifyToken'],
  },
  telegram: {
    label: { es: 'Telegram', en: 'Telegram' },
    canBroadcast: true,
    identifier: 'telegram_chat_id',
    customerServiceWindowHours: null,
    // About 30 msg/s overall and no more than 1 msg/s to one chat.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 30, pairRatePerRecipientSeconds: 1 },
    credentialKeys: ['botToken', 'webhookSecret'],
  },
  twilio_sms: {
    label: { es: 'SMS (Twilio)', en: 'SMS (Twilio)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    // A US/CA long code sends 1 segment/s; short codes and other senders more. Set per channel.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 1, pairRatePerRecipientSeconds: null },
    credentialKeys: ['accountSid', 'authToken', 'from'],
  },
  vonage_sms: {
    label: { es: 'SMS (Vonage)', en: 'SMS (Vonage)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    // 30 API requests/s per API key by default.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 30, pairRatePerRecipientSeconds: null },
    credentialKeys: ['apiKey', 'apiSecret', 'from', 'signatureSecret'],
  },
  messagebird_sms: {
    label: { es: 'SMS (MessageBird / Bird)', en: 'SMS (MessageBird / Bird)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    // Bird campaigns send SMS at 200 msg/s by default.
    defaultLimits: { dailyQuota: null, messagesPerSecond: 200, pairRatePerRecipientSeconds: null },
    credentialKeys: ['accessKey', 'originator', 'signingKey'],
  },
  instagram: {
    label: { es: 'Instagram', en: 'Instagram' },
    canBroadcast: false,
    noBroadcastReason: noBroadcast,
    identifier: 'igsid',
    customerServiceWindowHours: 24,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 300, pairRatePerRecipientSeconds: null },
    credentialKeys: [],
  },
  webchat: {
    label: { es: 'Chat del sitio web', en: 'Website chat' },
    canBroadcast: false,
    noBroadcastReason: {
      es: 'El chat del sitio web no admite transmisiones: el visitante solo recibe mensajes mientras tiene el chat abierto.',
      en: 'Website chat does not support broadcasts: a visitor only receives messages while the chat is open.',
    },
    identifier: 'visitor_id',
    customerServiceWindowHours: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 50, pairRatePerRecipientSeconds: null },
    credentialKeys: [],
  },
  wechat: {
    label: { es: 'WeChat', en: 'WeChat' },
    canBroadcast: false,
    noBroadcastReason: noBroadcast,
    identifier: 'openid',
    customerServiceWindowHours: 48,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 50, pairRatePerRecipientSeconds: null },
    credentialKeys: [],
  },
  email: {
    label: { es: 'Correo electrónico (Gmail u otro)', en: 'E-mail (Gmail or other)' },
    canBroadcast: false,
    noBroadcastReason: {
      es: 'Los canales de correo electrónico no admiten transmisiones: use su herramienta de correo masivo.',
      en: 'E-mail channels do not support broadcasts: use your bulk e-mail tool.',
    },
    identifier: 'email',
    customerServiceWindowHours: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 10, pairRatePerRecipientSeconds: null },
    credentialKeys: [],
  },
  sandbox: {
    label: { es: 'Sandbox (pruebas)', en: 'Sandbox (testing)' },
    canBroadcast: true,
    identifier: 'phone',
    customerServiceWindowHours: null,
    defaultLimits: { dailyQuota: null, messagesPerSecond: 1_000_000, pairRatePerRecipientSeconds: null },
    credentialKeys: [],
  },
};

/** Channels whose recipients are addressed by the contact's phone number. */
export function isPhoneChannel(type: ChannelType): boolean {
  return channelCapabilities[type].identifier === 'phone';
}

/** WhatsApp's messaging-limit tiers (unique recipients per rolling 24 h); null is "unlimited". */
export const WHATSAPP_TIERS = [250, 1000, 2000, 10_000, 100_000, null] as const;
