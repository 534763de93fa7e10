/**
 * Picks the adapter and webhook handler for a channel. One file per provider beside this one.
 */
import type { ChannelType } from '@rebound/shared';
import { createMessageBirdAdapter, messagebirdWebhook } from './messagebird';
import { createMessengerAdapter, messengerWebhook } from './messenger';
import { createSandboxAdapter } from './sandbox';
import { createTelegramAdapter, telegramWebhook } from './telegram';
import { createTwilioAdapter, twilioWebhook } from './twilio';
import type { AdapterOptions, ChannelAdapter, ChannelConfig, WebhookHandler } from './types';
import { createVonageAdapter, vonageWebhook } from './vonage';
import { createWhatsAppAdapter, whatsappWebhook } from './whatsapp';

export type AdapterFactory = (channel: ChannelConfig, options?: AdapterOptions) => ChannelAdapter;

export const adapterFactories: Partial<Record<ChannelType, AdapterFactory>> = {
  sandbox: () => createSandboxAdapter(),
  whatsapp: createWhatsAppAdapter,
  messenger: createMessengerAdapter,
  telegram: createTelegramAdapter,
  twilio_sms: createTwilioAdapter,
  vonage_sms: createVonageAdapter,
  messagebird_sms: createMessageBirdAdapter,
};

/** The provider's segment in /webhooks/{provider}/{channelId}, per channel type that has callbacks. */
export const WEBHOOK_PATHS: Partial<Record<ChannelType, string>> = {
  whatsapp: 'whatsapp',
  messenger: 'messenger',
  telegram: 'telegram',
  twilio_sms: 'twilio',
  vonage_sms: 'vonage',
  messagebird_sms: 'messagebird',
};

/** Keyed by the provider's segment in /webhooks/{provider}/{channelId}. */
export const webhookHandlers: Partial<Record<string, WebhookHandler>> = {
  whatsapp: whatsappWebhook,
  messenger: messengerWebhook,
  telegram: telegramWebhook,
  twilio: twilioWebhook,
  vonage: vonageWebhook,
  messagebird: messagebirdWebhook,
};

export function createAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const factory = adapterFactories[channel.type];
  if (!factory) throw new Error(`No adapter for channel type ${channel.type}`);
  return factory(channel, options);
}
