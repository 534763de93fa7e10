/**
 * A re-send on another channel (issue #15, part 3): the contacts WhatsApp cannot reach (not on
 * WhatsApp, 131026) get the broadcast by SMS, with the plain text and the segments it takes shown
 * before it goes; nobody else is taken, and a channel of another workspace cannot be used.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, unlimitedWhatsApp, WA, whatsappSimulator, wroteTo } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const TW = { accountSid: `AC${'b'.repeat(32)}`, authToken: 'tw-auth-token', from: '+15005550006' };
const phone = (n: number) => `54911${50_000_000 + n}`;

describe('a re-send on another channel', () => {
  it('20 contacts not on WhatsApp reach the SMS simulator, as plain text, and only they', async () => {
    const wa = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: TW.accountSid, authToken: TW.authToken });
    h.simulators.push(tw);
    const whatsapp = (await h.channel({
      type: 'whatsapp',
      name: 'WhatsApp ventas',
      credentials: WA,
      baseUrl: wa.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    const sms = (await h.channel({
      type: 'twilio_sms',
      name: 'SMS Twilio',
      credentials: TW,
      baseUrl: tw.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 100 },
    })) as { id: number };
    // 50 contacts: 20 not on WhatsApp, 5 with a provider error, 25 reached.
    const start = 700_000;
    await h.seedContacts(50, 'fallback', { start });
    for (let n = 0; n < 20; n++) wa.script(phone(start + n), { kind: 'fail', code: '131026' });
    for (let n = 20; n < 25; n++) wa.script(phone(start + n), { kind: 'fail', code: '131000' });
    const segment = await h.segment('fallback', 'fallback');
    const text = 'Hola, su pedido de Navidad ya salió: retírelo en la tienda con este mensaje.';
    const b = await h.broadcast({
      name: 'Aviso',
      channelId: whatsapp.id,
      segmentId: segment.id,
      content: { text, template: { name: 'pedido', language: 'es_AR', parameters: [] } },
    });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect((await h.get(b.id)).failedByReason).toEqual({ not_on_channel: 20, provider_error: 5 });

    const resend = (body: Record<string, unknown>, token = h.ws.tokens.agent) =>
      h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, { token, body, language: 'es' });

    // Another workspace's channel is nobody's here: 404, nothing written.
    const stranger = await h.server.workspace('Otra', 'AR');
    const theirs = await h.server.request('POST', '/api/v1/channels', {
      token: stranger.tokens.manager,
      body: { type: 'sandbox', name: 'Ajeno' },
    });
    const foreign = await resend({ channelId: theirs.body.id });
    expect(foreign.status).toBe(404);

    // Before the click: who it would reach there, what the limit lets through, what each SMS takes.
    const dry = await resend({ channelId: sms.id, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.recipients).toBe(20);
    expect(dry.body.plan).toEqual([expect.objectContaining({ count: 20, byReason: { not_on_channel: 20 } })]);
    // "ó" and "í" are not in the GSM 03.38 alphabet: the 76 characters go as UCS-2, two segments.
    expect(dry.body.channel).toEqual({
      id: sms.id,
      name: 'SMS Twilio',
      type: 'twilio_sms',
      reachable: 20,
      unreachable: 0,
      allowedNow: 20,
      sms: { encoding: 'UCS-2', segments: 2 },
    });
    expect(await h.server.database.db.all(sql`SELECT id FROM broadcasts WHERE resend_of_id = ${b.id}`)).toEqual([]);

    const done = await resend({ channelId: sms.id });
    expect(done.status).toBe(200);
    const resent = await h.get(done.body.broadcastId);
    expect(resent).toMatchObject({ channelId: sms.id, content: { text }, resendOfId: b.id });
    expect(resent.content.template).toBeUndefined();
    await h.engine().runUntilIdle();
    expect(tw.requests).toHaveLength(20);
    const to = tw.requests.map((r) => (r.body as { To: string; Body: string }).To).sort();
    expect(to).toEqual(Array.from({ length: 20 }, (_, n) => `+${phone(start + n)}`).sort());
    expect(new Set(tw.requests.map((r) => (r.body as { Body: string }).Body))).toEqual(new Set([text]));
    expect((await h.get(done.body.broadcastId)).status).toBe('completed');
    // The provider errors were not taken: they are WhatsApp's to retry.
    const later = await resend({});
    expect(later.status).toBe(200);
    expect(later.body.recipients).toBe(5);
  }, 60_000);

  it('a text to another WhatsApp number: a closed window is closed there too: only those who wrote there are reachable and re-sent', async () => {
    const a = await whatsappSimulator(h);
    const other = { ...WA, phoneNumberId: '1055559999' };
    const b = await whatsappSimulator(h, other);
    const first = await unlimitedWhatsApp(h, a, 'WhatsApp texto A');
    const second = await unlimitedWhatsApp(h, b, 'WhatsApp texto B', other);
    const start = 705_000;
    await h.seedContacts(4, 'texto', { start });
    const wrote = (channelId: number, n: number) => wroteTo(h, channelId, `+${phone(start + n)}`);
    // Three wrote to A in the last day: its text goes to them (two of those WhatsApp refuses as a number
    // it cannot take); the fourth did not: outside A's window. Only one of them ever wrote to B.
    for (const n of [0, 1, 3]) await wrote(first.id, n);
    await wrote(second.id, 1);
    for (const n of [1, 3]) a.script(phone(start + n), { kind: 'fail', code: '131021' });
    const segment = await h.segment('texto', 'texto');
    const broadcast = await h.broadcast({
      name: 'Texto',
      channelId: first.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcast.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect((await h.get(broadcast.id)).failedByReason).toEqual({ invalid_identifier: 2, outside_window: 1 });
    const dry = await h.server.request('POST', `/api/v1/broadcasts/${broadcast.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { channelId: second.id, dryRun: true },
    });
    expect(dry.status, dry.text).toBe(200);
    // The one who never wrote to B is left out, still failed (a template would reach them), and told.
    expect(dry.body.recipients).toBe(1);
    expect(dry.body.plan.map((p: { byReason: Record<string, number> }) => p.byReason)).toEqual([
      { invalid_identifier: 1 },
    ]);
    expect(dry.body.skipped).toMatchObject({ invalid_identifier: 1 });
    const warning = dry.body.warnings.find((w: { code: string }) => w.code === 'window_closed');
    expect(warning?.message).toMatch(/^1 destinatario queda fuera: su ventana de 24 h/);
    expect(dry.body.channel).toMatchObject({ reachable: 1, unreachable: 0, allowedNow: 1 });
    // Sent: B gets the one who wrote to it, nobody else.
    const res = await h.server.request('POST', `/api/v1/broadcasts/${broadcast.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { channelId: second.id },
    });
    expect(res.status, res.text).toBe(200);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect(b.requests.map((r) => r.recipient.replace(/\D/g, ''))).toEqual([phone(start + 1)]);
    expect((await h.get(res.body.broadcastId)).counts).toEqual({ sent: 1 });
  }, 60_000);
});
