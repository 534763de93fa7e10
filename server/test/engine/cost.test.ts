/**
 * Cost (issue #15, part 5): the pre-flight and a re-send estimate what a broadcast costs, by recipient
 * country and template category, from the channel's prices (its own over the defaults); a broadcast
 * shows what it cost so far, and a failed WhatsApp message costs nothing. Every figure is checked
 * against the same arithmetic done by hand.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import { whatsappInboundWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, WA, whatsappSimulator } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const api = (method: string, path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body, language: 'es' });

async function contacts(tag: string, phones: string[]) {
  for (const [i, phone] of phones.entries()) {
    const res = await api('POST', '/contacts', { firstName: `${tag} ${i}`, phone, tags: [tag] });
    if (res.status !== 201) throw new Error(res.text);
  }
}

// 10 in Argentina, 5 in Brazil, 2 in Mexico (valid mobiles of each plan).
const AR = Array.from({ length: 10 }, (_, i) => `+54911${50_001_000 + i}`);
const BR = Array.from({ length: 5 }, (_, i) => `+55119${String(87_654_300 + i)}`);
const MX = Array.from({ length: 2 }, (_, i) => `+52155${String(12_345_670 + i)}`);

describe('cost', () => {
  it('the pre-flight estimates by country and category as by hand; the channel’s own prices win; a failed WhatsApp message costs nothing', async () => {
    const sim = await whatsappSimulator(h);
    const channel = (await h.channel({
      type: 'whatsapp',
      name: 'WA costos',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    await contacts('costos', [...AR, ...BR, ...MX]);
    const segment = await h.segment('costos', 'costos');
    const template = { name: 'promo', language: 'es_AR', parameters: [] };
    const b = await h.broadcast({
      name: 'Costos',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', template },
    });

    const pre = (await api('GET', `/broadcasts/${b.id}/preflight`)).body;
    expect(pre.willSend).toBe(17);
    // Marketing (the default category), Meta's July 2025 card: 10 × 0.0618 + 5 × 0.0625 + 2 × 0.0305.
    expect(pre.cost).toEqual({
      currency: 'USD',
      total: 0.9915,
      basis: 'template:marketing',
      unpriced: {},
      byCountry: [
        { country: 'AR', messages: 10, unitPrice: 0.0618, cost: 0.618 },
        { country: 'BR', messages: 5, unitPrice: 0.0625, cost: 0.3125 },
        { country: 'MX', messages: 2, unitPrice: 0.0305, cost: 0.061 },
      ],
    });

    // A utility template costs what utility costs: 10 × 0.0289 + 5 × 0.0068 + 2 × 0.0085.
    await api('PATCH', `/broadcasts/${b.id}`, {
      content: { text: 'Hola', template: { ...template, category: 'utility' } },
    });
    expect((await api('GET', `/broadcasts/${b.id}/preflight`)).body.cost.total).toBe(0.34);

    // The workspace's own price for Argentina replaces the default for Argentina only: 10 × 0.02 + 0.034 + 0.017.
    const patched = await api('PATCH', `/channels/${channel.id}`, {
      prices: { whatsapp: { AR: { marketing: 0.05, utility: 0.02, authentication: 0.02 } } },
    });
    expect(patched.body.prices.whatsapp.AR).toEqual({ marketing: 0.05, utility: 0.02, authentication: 0.02 });
    expect(patched.body.prices.whatsapp.BR).toEqual({ marketing: 0.0625, utility: 0.0068, authentication: 0.0068 });
    expect((await api('GET', `/broadcasts/${b.id}/preflight`)).body.cost.total).toBe(0.251);
    // Nonsense is refused with the field to fix.
    const bad = await api('PATCH', `/channels/${channel.id}`, {
      prices: { whatsapp: { Argentina: { marketing: -1 } } },
    });
    expect(bad.status).toBe(422);

    // Sent: two Brazilians fail (131026) and cost nothing; two Argentinians wrote first, so they get the
    // text as a free reply inside their open window; the other 13 get the template, delivered and billed.
    for (const phone of AR.slice(0, 2)) {
      const hook = whatsappInboundWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        from: phone.slice(1),
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(200);
    }
    sim.setDefault({ kind: 'deliverLater', delayMs: 0 });
    sim.script(BR[0] as string, { kind: 'fail', code: '131026' });
    sim.script(BR[1] as string, { kind: 'fail', code: '131026' });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    const deadline = Date.now() + 10_000;
    let detail = await h.get(b.id);
    while (detail.funnel.delivered < 15 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      detail = await h.get(b.id);
    }
    expect(detail.funnel).toMatchObject({ delivered: 15, failed: 2 });
    const free = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${b.id} AND state = 'delivered' AND use_template = 0`,
    );
    expect(free).toEqual([{ n: 2 }]);
    // 13 billed at the mix of the start (10 AR, 5 BR, 2 MX of 17): 13 × (10 × 0.02 + 5 × 0.0068 + 2 × 0.0085) / 17.
    expect(detail.cost).toEqual({
      currency: 'USD',
      billed: 13,
      soFar: Math.round(((13 * (10 * 0.02 + 5 * 0.0068 + 2 * 0.0085)) / 17) * 10_000) / 10_000,
      approximate: true,
      unpricedCountries: [],
    });
  }, 60_000);

  it('prices in another currency are never mixed with the USD defaults: unset countries are unpriced, not relabelled', async () => {
    const channel = (await h.channel({ type: 'whatsapp', name: 'WA pesos', credentials: WA })) as { id: number };
    await contacts('pesos', [...AR.map((p) => p.replace('5000', '5001')), ...BR.map((p) => p.replace('8765', '8766'))]);
    const segment = await h.segment('pesos', 'pesos');
    const b = await h.broadcast({
      name: 'Pesos',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', template: { name: 'promo', language: 'es_AR', parameters: [] } },
    });
    const ars = await api('PATCH', `/channels/${channel.id}`, {
      prices: { currency: 'ARS', whatsapp: { AR: { marketing: 62, utility: 29, authentication: 29 } } },
    });
    expect(ars.body.prices).toEqual({
      currency: 'ARS',
      whatsapp: { AR: { marketing: 62, utility: 29, authentication: 29 } },
      smsPerSegment: {},
    });
    // 10 Argentinians at 62 ARS; the 5 Brazilians have no ARS price: said, not priced at 0.0625 "ARS".
    const cost = (await api('GET', `/broadcasts/${b.id}/preflight`)).body.cost;
    expect(cost).toMatchObject({ currency: 'ARS', total: 620, unpriced: { BR: 5 } });
    // Back to USD: the defaults again, and Argentina's 62 is not read as 62 dollars.
    const usd = await api('PATCH', `/channels/${channel.id}`, { prices: { currency: 'USD' } });
    expect(usd.body.prices.whatsapp.AR).toEqual({ marketing: 0.0618, utility: 0.0289, authentication: 0.0289 });
  });

  it('an SMS re-send is estimated per segment at the workspace’s price, and says which countries have none', async () => {
    const sim = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: `AC${'c'.repeat(32)}`, authToken: 'tw' });
    h.simulators.push(tw);
    const whatsapp = (await h.channel({
      type: 'whatsapp',
      name: 'WA sms',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    const sms = (await h.channel({
      type: 'twilio_sms',
      name: 'SMS costos',
      credentials: { accountSid: `AC${'c'.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
      baseUrl: tw.baseUrl,
      prices: { smsPerSegment: { AR: 0.0521 } },
    })) as { id: number };
    const ar = Array.from({ length: 4 }, (_, i) => `+54911${50_002_000 + i}`);
    const br = BR.map((p) => p.replace('+55119', '+55219'));
    await contacts('sms', [...ar.slice(0, 4), ...br.slice(0, 1)]);
    for (const phone of [...ar.slice(0, 4), ...br.slice(0, 1)]) sim.script(phone, { kind: 'fail', code: '131026' });
    const segment = await h.segment('sms', 'sms');
    // 161 GSM-7 characters: two segments.
    const text = `Hola ${'a'.repeat(156)}`;
    const b = await h.broadcast({
      name: 'SMS',
      channelId: whatsapp.id,
      segmentId: segment.id,
      content: { text, template: { name: 'promo', language: 'es_AR', parameters: [] } },
    });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    const dry = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { channelId: sms.id, dryRun: true },
    });
    expect(dry.body.channel.sms).toEqual({ encoding: 'GSM-7', segments: 2 });
    // 4 × 2 segments × 0.0521; Brazil has no SMS price: left out of the total, and said.
    expect(dry.body.cost).toEqual({
      currency: 'USD',
      total: 0.4168,
      basis: 'sms:2 segments GSM-7',
      unpriced: { BR: 1 },
      byCountry: [{ country: 'AR', messages: 4, unitPrice: 0.1042, cost: 0.4168 }],
    });
  }, 60_000);
});
