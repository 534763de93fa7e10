/**
 * The provider simulators the demo sends through: real wire formats on loopback, with the demo channels'
 * fixed credentials. They listen on fresh ports at each start; the seeder points the channels at them.
 */
import {
  type ProviderSimulator,
  startMessengerSimulator,
  startTelegramSimulator,
  startTwilioSimulator,
  startWhatsAppSimulator,
} from '@rebound/simulators';

export const DEMO_CREDENTIALS = {
  whatsappVentas: {
    accessToken: 'demo-wa-ventas-token',
    phoneNumberId: '1055500001',
    appSecret: 'demo-wa-ventas-secret',
    verifyToken: 'demo-wa-verify',
  },
  whatsappSoporte: {
    accessToken: 'demo-wa-soporte-token',
    phoneNumberId: '1055500002',
    appSecret: 'demo-wa-soporte-secret',
    verifyToken: 'demo-wa-verify',
  },
  telegram: { botToken: '700000001:demo-telegram-token', webhookSecret: 'demo-telegram-hook' },
  twilio: { accountSid: `AC${'d'.repeat(32)}`, authToken: 'demo-twilio-auth', from: '+15005550006' },
  messenger: {
    pageAccessToken: 'demo-fb-page-token',
    pageId: '555000999',
    appSecret: 'demo-fb-secret',
    verifyToken: 'demo-fb-verify',
  },
} as const;

export interface DemoSimulators {
  whatsappVentas: ProviderSimulator;
  whatsappSoporte: ProviderSimulator;
  telegram: ProviderSimulator;
  twilio: ProviderSimulator;
  messenger: ProviderSimulator;
  stop(): Promise<void>;
}

export async function startDemoSimulators(): Promise<DemoSimulators> {
  const c = DEMO_CREDENTIALS;
  // A little latency, so sends look like a real provider's in the demo.
  const latencyMs = 5;
  const sims = {
    whatsappVentas: await startWhatsAppSimulator({ ...c.whatsappVentas, latencyMs }),
    whatsappSoporte: await startWhatsAppSimulator({ ...c.whatsappSoporte, latencyMs }),
    telegram: await startTelegramSimulator({ botToken: c.telegram.botToken, latencyMs }),
    twilio: await startTwilioSimulator({ accountSid: c.twilio.accountSid, authToken: c.twilio.authToken, latencyMs }),
    messenger: await startMessengerSimulator({ ...c.messenger, latencyMs }),
  };
  return {
    ...sims,
    async stop() {
      for (const sim of Object.values(sims)) await sim.stop();
    },
  };
}
