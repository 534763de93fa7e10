import { randomUUID } from 'node:crypto';
import { channelCapabilities } from '@rebound/shared';
import type { ChannelAdapter, ChannelProvider, SendOutcome } from './types';

/**
 * The sandbox channel: no provider, every message delivered at once. It is what benchmarks measure
 * the engine with, and what a new workspace can try Rebound on without credentials.
 */
export function createSandboxAdapter(): ChannelAdapter {
  // Unique across processes without a random call per message.
  const prefix = randomUUID().slice(0, 8);
  let next = 0;
  return {
    async send(): Promise<SendOutcome> {
      next++;
      return { kind: 'accepted', providerMessageId: `sandbox-${prefix}-${next}`, delivered: true };
    },
  };
}

/** No callbacks: the sandbox settles every message in its answer. */
export const sandboxProvider: ChannelProvider = {
  type: 'sandbox',
  capabilities: channelCapabilities.sandbox,
  createAdapter: () => createSandboxAdapter(),
};
