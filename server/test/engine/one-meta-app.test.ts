/**
 * One Meta app for several WhatsApp numbers: Meta posts every number's events to the app's one callback
 * URL (here channel A's). Each number of the workspace takes its own from it, as if posted to its own
 * URL: a delivery, a reply that opens the 24 h window, a stop. Another workspace's channel with the same
 * app is not reached.
 */
import { startWhatsAppSimulator } from '@rebound/simulators';
import {
  whatsappAccountWebhook,
  whatsappInboundWebhook,
  whatsappStatusWebhook,
  whatsappUserPreferencesWebhook,
} from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { harness, WA } from './harness';

const h = await harness();
const SECOND = { ...WA, phoneNumberId: '1055559999' };

async function post(channelId: number, hook: { headers: Record<string, string>; body: string }) {
  const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channelId}`, {
    method: 'POST',
    headers: hook.headers,
    body: hook.body,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { changed: number }).changed;
}

describe("a second number's events posted to the app's one callback URL", () => {
  it('reach that number: its delivery, its window, its stop; not the number posted to', async () => {
    const simB = await startWhatsAppSimulator({
      accessToken: SECOND.accessToken,
      phoneNumberId: SECOND.phoneNumberId,
      appSecret: SECOND.appSecret,
    });
    h.simulators.push(simB);
    const a = await h.channel({ type: 'whatsapp', name: 'WA uno', credentials: WA, baseUrl: simB.baseUrl });
    const b = await h.channel({ type: 'whatsapp', name: 'WA dos', credentials: SECOND, baseUrl: simB.baseUrl });
    await h.seedContacts(1, 'dos numeros', { start: 890_000 });
    const segment = await h.segment('Dos números', 'dos numeros');
    const broadcast = await h.broadcast({
      name: 'Por el segundo',
      channelId: b.id,
      segmentId: segment.id,
      content: { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } },
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const [sent] = await h.server.database.db.all<{ id: number; provider_message_id: string; state: string }>(
      sql`SELECT id, provider_message_id, state FROM messages WHERE broadcast_id = ${broadcast.id}`,
    );
    expect(sent?.state).toBe('sent');
    const recipient = '5491150890000';

    // Posted to A's URL, named for B's number by Meta's metadata.
    const delivered = whatsappStatusWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: SECOND.phoneNumberId,
      providerMessageId: sent?.provider_message_id ?? '',
      recipient,
      status: 'delivered',
      clientRef: String(sent?.id),
    });
    expect(await post(a.id, delivered)).toBe(1);
    expect((await h.messages(broadcast.id))[0]?.state).toBe('delivered');

    await post(
      a.id,
      whatsappInboundWebhook({ appSecret: WA.appSecret, phoneNumberId: SECOND.phoneNumberId, from: recipient }),
    );
    await post(
      a.id,
      whatsappUserPreferencesWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: SECOND.phoneNumberId,
        from: recipient,
        value: 'stop',
      }),
    );
    const windows = await h.server.database.db.all<{ channel_id: number }>(
      sql`SELECT channel_id FROM conversation_windows WHERE identifier = ${`+${recipient}`}`,
    );
    expect(windows).toEqual([{ channel_id: b.id }]);
    const stops = await h.server.database.db.all<{ channel_id: number }>(
      sql`SELECT channel_id FROM opt_outs WHERE identifier = ${`+${recipient}`}`,
    );
    expect(stops).toEqual([{ channel_id: b.id }]);
  });

  it("never reaches another workspace's channel of the same app", async () => {
    const other = await h.server.workspace('Otra tienda', 'AR');
    const res = await h.server.request('POST', '/api/v1/channels', {
      token: other.tokens.manager,
      body: { type: 'whatsapp', name: 'WA ajeno', credentials: { ...WA, phoneNumberId: '1055557777' } },
    });
    expect(res.status).toBe(201);
    const mine = await h.channel({ type: 'whatsapp', name: 'WA propio', credentials: WA });
    const from = '5491150890099';
    await post(mine.id, whatsappInboundWebhook({ appSecret: WA.appSecret, phoneNumberId: '1055557777', from }));
    const windows = await h.server.database.db.all<{ channel_id: number }>(
      sql`SELECT channel_id FROM conversation_windows WHERE identifier = ${`+${from}`}`,
    );
    expect(windows).toEqual([]);
  });
});

describe("a template's status event posted to the app's one callback URL", () => {
  it('pauses the broadcasts of the business account it names: on the number posted to or another, never a third account', async () => {
    const ACCOUNT_A = '102290129340398';
    const ACCOUNT_B = '201234567890123';
    const a = await h.channel({ type: 'whatsapp', name: 'WA cuenta A', credentials: WA });
    const b = await h.channel({
      type: 'whatsapp',
      name: 'WA cuenta B',
      credentials: { ...WA, phoneNumberId: '1055556666' },
    });
    // Each learns its business account from a message webhook for its own number (Meta's entry.id).
    const from = '5491150890077';
    await post(a.id, whatsappInboundWebhook({ appSecret: WA.appSecret, phoneNumberId: WA.phoneNumberId, from }));
    await post(
      a.id,
      whatsappInboundWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: '1055556666',
        businessAccountId: ACCOUNT_B,
        from,
      }),
    );
    await h.seedContacts(1, 'plantillas', { start: 890_100 });
    const segment = await h.segment('Plantillas', 'plantillas');
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = async (channelId: number) => {
      const broadcast = await h.broadcast({
        name: `Promo ${channelId}`,
        channelId,
        segmentId: segment.id,
        content: { text: 'Hola', template: { name: 'promo_cuentas', language: 'es_AR', parameters: [] } },
      });
      await h.schedule(broadcast.id, at);
      return broadcast.id;
    };
    const onA = await scheduled(a.id);
    const onB = await scheduled(b.id);
    const status = async (id: number) => (await h.get(id)).status;
    const paused = (account: string) =>
      whatsappAccountWebhook(
        { appSecret: WA.appSecret, businessAccountId: account },
        { kind: 'templateStatus', template: 'promo_cuentas', language: 'es_AR', event: 'PAUSED' },
      );

    // A third account's template of the same name: nobody's.
    await post(a.id, paused('309999999999999'));
    expect([await status(onA), await status(onB)]).toEqual(['scheduled', 'scheduled']);
    // B's account, posted to A's URL: B's broadcast waits, A's does not.
    await post(a.id, paused(ACCOUNT_B));
    expect([await status(onA), await status(onB)]).toEqual(['scheduled', 'paused']);
    await post(a.id, paused(ACCOUNT_A));
    expect(await status(onA)).toBe('paused');
  });
});
