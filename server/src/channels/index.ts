/**
 * The provider registry: one entry per channel type, each written in its provider's file beside this
 * one (capabilities, adapter factory, webhook path and handler). A new provider is that file and a line
 * below; its code table in shared/src/failure-codes/ (each code's reason and retry class, which the
 * adapter reads) and a line in providerFailureCodes; its type and capabilities in shared/src/channels.ts;
 * and its simulator. The maps the engine and the routes read are made from the registry.
 */
import { type ChannelType, channelCapabilities } from '@rebound/shared';
import { messagebirdProvider } from './messagebird';
import { messengerProvider } from './messenger';
import { sandboxProvider } from './sandbox';
import { telegramProvider } from './telegram';
import { twilioProvider } from './twilio';
import type {
  AdapterFactory,
  AdapterOptions,
  ChannelAdapter,
  ChannelConfig,
  ChannelProvider,
  WebhookHandler,
} from './types';
import { vonageProvider } from './vonage';
import { whatsappProvider } from './whatsapp';

export type { AdapterFactory, ChannelProvider } from './types';
export { businessAccountOf } from './whatsapp';

/** A type Rebound knows but sends nothing on (it cannot broadcast): its capabilities only. */
function withoutProvider(type: ChannelType): ChannelProvider {
  return { type, capabilities: channelCapabilities[type] };
}

export const providers: Readonly<Record<ChannelType, ChannelProvider>> = Object.freeze({
  whatsapp: whatsappProvider,
  messenger: messengerProvider,
  telegram: telegramProvider,
  twilio_sms: twilioProvider,
  vonage_sms: vonageProvider,
  messagebird_sms: messagebirdProvider,
  instagram: withoutProvider('instagram'),
  webchat: withoutProvider('webchat'),
  wechat: withoutProvider('wechat'),
  email: withoutProvider('email'),
  sandbox: sandboxProvider,
});

const registered = Object.values(providers);

export const adapterFactories: Readonly<Partial<Record<ChannelType, AdapterFactory>>> = Object.freeze(
  Object.fromEntries(registered.flatMap((p) => (p.createAdapter ? [[p.type, p.createAdapter]] : []))),
);

/** The provider's segment in /webhooks/{provider}/{channelId}, per channel type that has callbacks. */
export const WEBHOOK_PATHS: Readonly<Partial<Record<ChannelType, string>>> = Object.freeze(
  Object.fromEntries(registered.flatMap((p) => (p.webhook ? [[p.type, p.webhook.path]] : []))),
);

/** Keyed by the provider's segment in /webhooks/{provider}/{channelId}. */
export const webhookHandlers: Readonly<Partial<Record<string, WebhookHandler>>> = Object.freeze(
  Object.fromEntries(registered.flatMap((p) => (p.webhook ? [[p.webhook.path, p.webhook.handler]] : []))),
);

export function createAdapter(channel: ChannelConfig, options: AdapterOptions = {}): ChannelAdapter {
  const factory = adapterFactories[channel.type];
  if (!factory) throw new Error(`No adapter for channel type ${channel.type}`);
  return factory(channel, options);
}
