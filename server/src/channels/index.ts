/**
 * Picks the adapter and webhook handler for a channel type. One file per provider beside this one.
 */
import type { ChannelType } from '@rebound/shared';
import { createSandboxAdapter } from './sandbox';
import type { ChannelAdapter, ChannelConfig, WebhookHandler } from './types';

export type AdapterFactory = (channel: ChannelConfig) => ChannelAdapter;

// Filled in as each provider's adapter lands (whatsapp.ts, messenger.ts, telegram.ts, twilio.ts, vonage.ts, messagebird.ts).
export const adapterFactories: Partial<Record<ChannelType, AdapterFactory>> = {
  sandbox: () => createSandboxAdapter(),
};

export const webhookHandlers: Partial<Record<string, WebhookHandler>> = {};

export function createAdapter(channel: ChannelConfig): ChannelAdapter {
  const factory = adapterFactories[channel.type];
  if (!factory) throw new Error(`No adapter for channel type ${channel.type}`);
  return factory(channel);
}
