/**
 * The failure summary reads counts that triggers keep beside the log. Whatever happens to messages
 * (failures at send time, exclusions at freeze, late failures by webhook, re-sends), the kept counts
 * answer exactly what a scan of the log answers.
 */
import { startWhatsAppSimulator } from '@rebound/simulators';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, S1_TEMPLATE, s1Broadcast, WA } from './engine/harness';

let h: Harness;
let s1: number;
let late: number;
let lateChannel: number;
let settle: () => Promise<Response>;

beforeAll(async () => {
  h = await harness();
  ({ broadcastId: s1 } = await s1Broadcast(h, 'WhatsApp ventas'));
  // A second channel where the provider fails two messages later, by signed callback (S10), plus
  // an invalid phone and a duplicate, left out at freeze (S3, S4).
  const sim = await startWhatsAppSimulator({ ...WA, phoneNumberId: '1055500077' });
  h.simulators.push(sim);
  const channel = await h.channel({
    type: 'whatsapp',
    name: 'WhatsApp avisos',
    credentials: { ...WA, phoneNumberId: '1055500077' },
    baseUrl: sim.baseUrl,
  });
  lateChannel = channel.id;
  sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
  await h.seedContacts(20, 'avisos', { start: 9000 });
  for (const body of [
    { firstName: 'Roto', phone: '11 5555', tags: ['avisos'] },
    { firstName: 'Doble', phone: '+5491150009000', tags: ['avisos'] },
  ])
    await h.server.request('POST', '/api/v1/contacts', { token: h.ws.tokens.manager, body });
  sim.script('5491150009001', { kind: 'failLater', code: '131049', delayMs: 50 });
  sim.script('5491150009002', { kind: 'failLater', code: '131026', delayMs: 50 });
  sim.script('5491150009003', { kind: 'fail', code: '131050' });
  // Two requests that hang: unconfirmed recipients, one of which a delivery report settles later.
  sim.script('5491150009004', { kind: 'hang' });
  sim.script('5491150009005', { kind: 'hang' });
  const segment = await h.segment('Avisos', 'avisos');
  late = (await h.broadcast({ name: 'Avisos', channelId: channel.id, segmentId: segment.id, content: S1_TEMPLATE })).id;
  await h.schedule(s1);
  await h.engine().runUntilIdle();
  // A short wait for answers only where requests hang: S1's thousand sends keep the usual one.
  await h.schedule(late);
  await h.engine({ requestTimeoutMs: 500 }).runUntilIdle();
  await sim.settle();
  const hung = (await h.messages(late)).find((m) => m.identifier === '+5491150009005');
  settle = () => {
    const hook = whatsappStatusWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: '1055500077',
      providerMessageId: 'wamid.SETTLED',
      recipient: '5491150009005',
      status: 'delivered',
      clientRef: String(hung?.id),
    });
    return fetch(`${h.server.baseUrl}/webhooks/whatsapp/${lateChannel}`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
  };
  // A re-send of S1 adds nothing to the failures; it must not disturb the counts either.
  await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, { token: h.ws.tokens.agent });
}, 60_000);

const summary = async (query: string) =>
  (await h.server.request('GET', `/api/v1/failed-messages/summary?${query}`, { token: h.ws.tokens.agent })).body;

describe('the failure summary', () => {
  it('from the kept counts equals a scan of the log, for every filter the counts answer', async () => {
    // `from` far in the past matches every failure but can only be answered by scanning the log.
    const scan = 'from=2000-01-01T00:00:00Z';
    for (const query of [
      '',
      `broadcastId=${s1}`,
      `broadcastId=${late}`,
      `broadcastId=${s1}&broadcastId=${late}`,
      `channelId=${lateChannel}`,
      'reason=quota_reached',
      'reason=blocked',
      'reason=uncertain',
      `broadcastId=${late}&reason=recipient_limit`,
    ]) {
      const counted = await summary(query);
      expect(counted, query).toEqual(await summary(query ? `${query}&${scan}` : scan));
    }
  });

  it('holds what happened: 500 over the quota, two late failures, one blocked, two left out, two unconfirmed', async () => {
    expect((await summary(`broadcastId=${s1}`)).byReason).toEqual({ quota_reached: 500 });
    const ofLate = await summary(`broadcastId=${late}`);
    expect(ofLate.byReason).toEqual({
      recipient_limit: 1,
      not_on_channel: 1,
      blocked: 1,
      invalid_identifier: 1,
      duplicate: 1,
      uncertain: 2,
    });
    expect(ofLate.unconfirmed).toBe(2);
    expect((await summary('')).total).toBe(507);
  });

  it('a delivery report that settles an unconfirmed recipient takes it out of the counts and the log', async () => {
    expect((await settle()).status).toBe(200);
    const counted = await summary(`broadcastId=${late}`);
    expect(counted.unconfirmed).toBe(1);
    expect(counted.byReason.uncertain).toBe(1);
    expect(counted).toEqual(await summary(`broadcastId=${late}&from=2000-01-01T00:00:00Z`));
    const log = await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${late}&subtype=unconfirmed`, {
      token: h.ws.tokens.agent,
    });
    expect(log.body.data.map((m: { contact: { identifier: string } }) => m.contact.identifier)).toEqual([
      '+5491150009004',
    ]);
  });
});
