/**
 * Opt-outs end to end: the provider simulators post signed webhooks (an inbound BAJA over Twilio, a
 * WhatsApp user_preferences stop, a Telegram block) or report opt-out codes after a real broadcast
 * (131050, 21610); the contact's page shows each; only a manager removes one, with a note.
 */
import type { ProviderSimulator } from '@rebound/simulators';
import { startTelegramSimulator, startTwilioSimulator, startWhatsAppSimulator } from '@rebound/simulators';
import { telegramChatMemberUpdate, telegramUpdate } from '@rebound/simulators/telegram';
import { twilioInboundWebhook } from '@rebound/simulators/twilio';
import { whatsappInboundWebhook, whatsappUserPreferencesWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordOptOut } from '../src/services/opt-outs';
import { type Harness, harness, S1_TEMPLATE, WA } from './engine/harness';
import type { TestWorkspace } from './helpers';

const TWILIO = { accountSid: `AC${'3c'.repeat(16)}`, authToken: 'twilio-token-opt-outs', from: '+15005550006' };
const TELEGRAM = { botToken: '7000000002:AAH-opt-outs-token_0123456789', webhookSecret: 'tg-secret-opt-outs' };
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

let h: Harness;
let other: TestWorkspace;
let wa: ProviderSimulator;
let twilio: ProviderSimulator;
let telegram: ProviderSimulator;
const ids = { whatsapp: 0, twilio: 0, telegram: 0, otherChannel: 0 };

/** Creates a contact with the agent's token; returns its ID. */
async function contact(body: Record<string, unknown>): Promise<number> {
  const res = await h.server.request('POST', '/api/v1/contacts', { token: h.ws.tokens.agent, body });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
async function optOuts(contactId: number): Promise<any[]> {
  const res = await h.server.request('GET', `/api/v1/contacts/${contactId}`, { token: h.ws.tokens.agent });
  expect(res.status).toBe(200);
  return res.body.optOuts;
}

beforeAll(async () => {
  h = await harness();
  other = await h.server.workspace('Otra tienda');
  const base = h.server.baseUrl;

  wa = await startWhatsAppSimulator({
    accessToken: WA.accessToken,
    phoneNumberId: WA.phoneNumberId,
    appSecret: WA.appSecret,
  });
  twilio = await startTwilioSimulator({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
  telegram = await startTelegramSimulator(TELEGRAM);
  h.simulators.push(wa, twilio, telegram);

  const limits = { messagesPerSecond: 100 };
  ids.whatsapp = (
    await h.channel({ type: 'whatsapp', name: 'WhatsApp', credentials: WA, baseUrl: wa.baseUrl, limits })
  ).id;
  ids.twilio = (
    await h.channel({ type: 'twilio_sms', name: 'SMS', credentials: TWILIO, baseUrl: twilio.baseUrl, limits })
  ).id;
  ids.telegram = (
    await h.channel({ type: 'telegram', name: 'Telegram', credentials: TELEGRAM, baseUrl: telegram.baseUrl, limits })
  ).id;
  wa.webhookUrl = `${base}/webhooks/whatsapp/${ids.whatsapp}`;
  twilio.inboundUrl = `${base}/webhooks/twilio/${ids.twilio}/inbound`;
  telegram.webhookUrl = `${base}/webhooks/telegram/${ids.telegram}`;

  const created = await h.server.request('POST', '/api/v1/channels', {
    token: other.tokens.owner,
    body: { type: 'twilio_sms', name: 'SMS de otra', credentials: TWILIO },
  });
  ids.otherChannel = created.body.id;
});

describe('provider signals mark the contact opted out on that channel', () => {
  it('an inbound signed "BAJA" over Twilio: empty TwiML back, and the contact page shows the opt-out', async () => {
    const ana = await contact({ firstName: 'Ana', phone: '+5491155551001' });
    expect(await optOuts(ana)).toEqual([]);

    const answer = await twilio.emit({ kind: 'message', from: '+5491155551001', text: 'BAJA' });
    expect(answer).toEqual({ status: 200, body: EMPTY_TWIML });

    expect(await optOuts(ana)).toEqual([
      {
        channelId: ids.twilio,
        channelName: 'SMS',
        channelType: 'twilio_sms',
        identifier: '+5491155551001',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        source: 'inbound_word',
        detail: 'BAJA',
        // A STOP stops everything on the channel, not marketing only.
        marketingOnly: false,
      },
    ]);
    // Only that channel: WhatsApp and Telegram still reach her.
    expect((await optOuts(ana)).map((o: { channelId: number }) => o.channelId)).toEqual([ids.twilio]);
  });

  it("a BAJA written to the workspace's other number, posted to this number's URL, opts out on that number", async () => {
    // One Twilio account, two numbers, one inbound webhook for both (as an account-wide setting does).
    const second = await h.channel({
      type: 'twilio_sms',
      name: 'SMS 2',
      credentials: { ...TWILIO, from: '+15005550007' },
      baseUrl: twilio.baseUrl,
    });
    const flor = await contact({ firstName: 'Flor', phone: '+5491155551009' });
    const url = `${h.server.baseUrl}/webhooks/twilio/${ids.twilio}/inbound`;
    const post = (to: string, body: string) => {
      const signed = twilioInboundWebhook({ authToken: TWILIO.authToken, url, from: '+5491155551009', to, body });
      return fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
    };
    expect((await post('+1 500 555 0007', 'BAJA')).status).toBe(200);
    expect(await optOuts(flor)).toMatchObject([{ channelId: second.id, channelName: 'SMS 2', detail: 'BAJA' }]);
    // Her START to that number lifts it there (a moment later: Twilio times inbound SMS by their arrival);
    // a number none of the channels has stays with this one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await post('+15005550007', 'START')).status).toBe(200);
    expect(await optOuts(flor)).toEqual([]);
    expect((await post('+15009999999', 'STOP')).status).toBe(200);
    expect(await optOuts(flor)).toMatchObject([{ channelId: ids.twilio }]);
  });

  it('an ordinary inbound SMS is not an opt-out; START lifts a STOP', async () => {
    const beto = await contact({ firstName: 'Beto', phone: '+5491155551002' });
    await twilio.emit({ kind: 'message', from: '+5491155551002', text: 'Hola, ¿tienen talle M?' });
    expect(await optOuts(beto)).toEqual([]);

    await twilio.emit({ kind: 'optOut', from: '+5491155551002' });
    expect(await optOuts(beto)).toMatchObject([{ source: 'inbound_word', detail: 'STOP' }]);
    // Twilio timestamps its inbound messages with the arrival: a START a moment later lifts it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await twilio.emit({ kind: 'optIn', from: '+5491155551002' });
    expect(await optOuts(beto)).toEqual([]);
  });

  it('a signed START or STOP replayed later changes nothing: each Twilio message is applied once', async () => {
    const gabi = await contact({ firstName: 'Gabi', phone: '+5491155551010' });
    const url = `${h.server.baseUrl}/webhooks/twilio/${ids.twilio}/inbound`;
    const signed = (body: string) =>
      twilioInboundWebhook({ authToken: TWILIO.authToken, url, from: '+5491155551010', to: TWILIO.from, body });
    const post = (request: { headers: Record<string, string>; body: string }) =>
      fetch(url, { method: 'POST', headers: request.headers, body: request.body });
    const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
    // Someone kept a copy of her START from months ago; she has written STOP since.
    const oldStart = signed('START');
    expect((await post(oldStart)).status).toBe(200);
    await tick();
    const stop = signed('STOP');
    expect((await post(stop)).status).toBe(200);
    expect(await optOuts(gabi)).toMatchObject([{ channelId: ids.twilio, detail: 'STOP' }]);
    // The copy, signed by Twilio and timed by its arrival like every inbound SMS, is still a 200 (Twilio
    // retries anything else) but lifts nothing.
    await tick();
    expect((await post(oldStart)).status).toBe(200);
    expect(await optOuts(gabi)).toMatchObject([{ channelId: ids.twilio, detail: 'STOP' }]);
    // Her own new START does; then the STOP's copy opts her out no more.
    await tick();
    expect((await post(signed('START'))).status).toBe(200);
    expect(await optOuts(gabi)).toEqual([]);
    await tick();
    expect((await post(stop)).status).toBe(200);
    expect(await optOuts(gabi)).toEqual([]);
  });

  it('a WhatsApp user_preferences "stop" does; a later "resume" lifts it, an older one does not', async () => {
    const carla = await contact({ firstName: 'Carla', phone: '+5491155551003' });
    const hook = `${h.server.baseUrl}/webhooks/whatsapp/${ids.whatsapp}`;
    const post = (value: 'stop' | 'resume', at: Date) => {
      const signed = whatsappUserPreferencesWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        from: '5491155551003',
        value,
        at,
      });
      return fetch(hook, { method: 'POST', headers: signed.headers, body: signed.body });
    };
    const stopAt = new Date('2026-11-20T15:00:00Z');
    expect((await post('stop', stopAt)).status).toBe(200);
    expect(await optOuts(carla)).toEqual([
      expect.objectContaining({
        channelId: ids.whatsapp,
        channelType: 'whatsapp',
        identifier: '+5491155551003',
        at: stopAt.toISOString(),
        source: 'webhook',
        detail: 'user_preferences: stop',
      }),
    ]);
    // A replayed resume from before the stop changes nothing.
    await post('resume', new Date('2026-11-19T15:00:00Z'));
    expect(await optOuts(carla)).toHaveLength(1);
    await post('resume', new Date('2026-11-21T15:00:00Z'));
    expect(await optOuts(carla)).toEqual([]);
    // A stop from before her resume, processed after it (Meta retried it), or a 131050 report of a send
    // made before it: she took the messages back since, so neither opts her out again.
    expect((await post('stop', new Date('2026-11-20T18:00:00Z'))).status).toBe(200);
    await recordOptOut(h.server.database.db, {
      channelId: ids.whatsapp,
      identifier: '+5491155551003',
      at: new Date('2026-11-21T09:00:00Z'),
      source: 'provider_code',
      detail: '131050',
    });
    expect(await optOuts(carla)).toEqual([]);

    // The simulator sends the same webhook when a contact opts out.
    await wa.emit({ kind: 'optOut', from: '+5491155551003' });
    expect(await optOuts(carla)).toMatchObject([{ source: 'webhook', detail: 'user_preferences: stop' }]);
  });

  it("a Mexican contact's stop and message in WhatsApp's 521 form, and a Brazilian one's without the ninth digit, are filed under the contact's number", async () => {
    // WhatsApp writes a Mexican mobile with the old 1 (wa_id 5215512345678); the contact was saved without it.
    const elena = await contact({ firstName: 'Elena', phone: '+52 1 55 1234 5678' });
    const hook = `${h.server.baseUrl}/webhooks/whatsapp/${ids.whatsapp}`;
    const message = whatsappInboundWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      from: '5215512345678',
    });
    expect((await fetch(hook, { method: 'POST', headers: message.headers, body: message.body })).status).toBe(200);
    const windows = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM conversation_windows WHERE channel_id = ${ids.whatsapp} AND identifier LIKE '+52%'`,
    );
    expect(windows).toEqual([{ identifier: '+525512345678' }]);

    const stop = whatsappUserPreferencesWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      from: '5215512345678',
      value: 'stop',
    });
    expect((await fetch(hook, { method: 'POST', headers: stop.headers, body: stop.body })).status).toBe(200);
    expect(await optOuts(elena)).toMatchObject([{ identifier: '+525512345678', source: 'webhook' }]);

    // A Brazilian account registered before the ninth digit: WhatsApp's ID lacks it, the contact has it.
    await contact({ firstName: 'Bia', phone: '+55 41 98832-7966' });
    const brazil = whatsappInboundWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      from: '554188327966',
    });
    expect((await fetch(hook, { method: 'POST', headers: brazil.headers, body: brazil.body })).status).toBe(200);
    const opened = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM conversation_windows WHERE channel_id = ${ids.whatsapp} AND identifier LIKE '+55%'`,
    );
    expect(opened).toEqual([{ identifier: '+5541988327966' }]);
  });

  it('a resume never lifts what a person recorded (import, manual)', async () => {
    const dario = await contact({ firstName: 'Darío', phone: '+5491155551004' });
    await recordOptOut(h.server.database.db, {
      workspaceId: h.ws.id,
      channelId: ids.whatsapp,
      identifier: '+5491155551004',
      at: new Date('2026-11-01T00:00:00Z'),
      source: 'import',
      detail: 'lista de bajas.csv',
    });
    await wa.emit({ kind: 'optIn', from: '+5491155551004' });
    expect(await optOuts(dario)).toMatchObject([{ source: 'import', detail: 'lista de bajas.csv' }]);
  });

  it('recordOptOut keeps the first time and its source; refuses a channel of another workspace', async () => {
    const db = h.server.database.db;
    const base = { workspaceId: h.ws.id, channelId: ids.telegram, identifier: '555000' } as const;
    expect(await recordOptOut(db, { ...base, at: 2_000, source: 'webhook', detail: 'my_chat_member: kicked' })).toBe(
      true,
    );
    expect(await recordOptOut(db, { ...base, at: 3_000, source: 'provider_code', detail: '403' })).toBe(false);
    expect(await recordOptOut(db, { ...base, at: 1_000, source: 'provider_code', detail: '403' })).toBe(true);
    const [row] = await db.all<{ at: number; source: string; detail: string }>(
      sql`SELECT at, source, detail FROM opt_outs WHERE channel_id = ${ids.telegram} AND identifier = '555000'`,
    );
    expect(row).toEqual({ at: 1_000, source: 'provider_code', detail: '403' });
    expect(
      await recordOptOut(db, { ...base, workspaceId: other.id, identifier: '555001', at: 1, source: 'manual' }),
    ).toBe(false);
  });

  it('a WhatsApp 131050 status and a Twilio 21610 status after a real broadcast do', async () => {
    await h.seedContacts(2, 'opt-out codes', { start: 9_100, firstName: 'Código' });
    const [first, second] = await h.server.database.db.all<{ id: number; phone: string }>(
      sql`SELECT id, phone FROM contacts WHERE first_name LIKE 'Código %' ORDER BY id`,
    );
    if (!first || !second) throw new Error('seeded contacts missing');
    wa.script(first.phone, { kind: 'failLater', code: '131050', delayMs: 20 });
    wa.script(second.phone, { kind: 'deliverLater', delayMs: 20 });
    twilio.script(first.phone, { kind: 'deliverLater', delayMs: 20 });
    twilio.script(second.phone, { kind: 'failLater', code: '21610', delayMs: 20 });

    const segment = await h.segment('Códigos', 'opt-out codes');
    for (const [channelId, content] of [
      [ids.whatsapp, S1_TEMPLATE],
      [ids.twilio, { text: 'Hola' }],
    ] as const) {
      const b = await h.broadcast({ name: `Códigos ${channelId}`, channelId, segmentId: segment.id, content });
      await h.schedule(b.id);
    }
    await h.engine().runUntilIdle();
    await wa.settle();
    await twilio.settle();
    expect([...wa.callbacks, ...twilio.callbacks].filter((c) => c.status !== 200)).toEqual([]);

    expect(await optOuts(first.id)).toEqual([
      expect.objectContaining({ channelId: ids.whatsapp, source: 'provider_code', detail: '131050' }),
    ]);
    expect(await optOuts(second.id)).toEqual([
      expect.objectContaining({ channelId: ids.twilio, source: 'provider_code', detail: '21610' }),
    ]);

    // She writes START; a copy of the 21610 callback, signed by Twilio (timed, like all of them, by its
    // arrival), posted again afterwards opts her out no more.
    const failed = twilio.callbacks.find((c) => c.request?.body?.includes('ErrorCode=21610'))?.request;
    if (!failed?.body) throw new Error('no 21610 callback was posted');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const start = twilioInboundWebhook({
      authToken: TWILIO.authToken,
      url: `${h.server.baseUrl}/webhooks/twilio/${ids.twilio}/inbound`,
      from: second.phone,
      to: TWILIO.from,
      body: 'START',
    });
    const inbound = `${h.server.baseUrl}/webhooks/twilio/${ids.twilio}/inbound`;
    expect((await fetch(inbound, { method: 'POST', headers: start.headers, body: start.body })).status).toBe(200);
    expect(await optOuts(second.id)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const replay = await fetch(failed.url, { method: 'POST', headers: failed.headers, body: failed.body });
    expect(replay.status).toBe(200);
    expect(await optOuts(second.id)).toEqual([]);
  });

  it('a stop of WhatsApp marketing keeps promotions from the contact, not the utility template of their order; a block of the channel keeps both', async () => {
    const dora = await contact({ firstName: 'Dora', phone: '+5491155551011', tags: ['pedido enviado'] });
    const signed = whatsappUserPreferencesWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      from: '5491155551011',
      value: 'stop',
      at: new Date(),
    });
    const hook = `${h.server.baseUrl}/webhooks/whatsapp/${ids.whatsapp}`;
    expect((await fetch(hook, { method: 'POST', headers: signed.headers, body: signed.body })).status).toBe(200);
    expect(await optOuts(dora)).toMatchObject([{ detail: 'user_preferences: stop', marketingOnly: true }]);

    const segment = await h.segment('Pedido enviado', 'pedido enviado');
    const utility = {
      ...S1_TEMPLATE,
      template: { ...S1_TEMPLATE.template, name: 'pedido_enviado', category: 'utility' },
    };
    const sendTo = async (name: string, content: typeof S1_TEMPLATE | typeof utility) => {
      const b = await h.broadcast({ name, channelId: ids.whatsapp, segmentId: segment.id, content });
      const pre = await h.server.request('GET', `/api/v1/broadcasts/${b.id}/preflight`, { token: h.ws.tokens.agent });
      await h.schedule(b.id);
      await h.engine().runUntilIdle();
      const [message] = await h.messages(b.id);
      return { optedOut: pre.body.optedOut, state: message?.state, reason: message?.reason };
    };
    // Promotion (a template of no category is marketing): she asked for none.
    expect(await sendTo('Promo de la semana', S1_TEMPLATE)).toMatchObject({ optedOut: 1, reason: 'opted_out' });
    // Her order's update, a utility template: Meta delivers it, and so does Rebound.
    expect(await sendTo('Su pedido salió', utility)).toEqual({ optedOut: 0, state: 'sent', reason: null });

    // She blocks the business: nothing more, utility or not; a later marketing "resume" does not lift a block.
    await recordOptOut(h.server.database.db, {
      channelId: ids.whatsapp,
      identifier: '+5491155551011',
      at: new Date(),
      source: 'manual',
      detail: 'bloqueó el número',
    });
    expect(await optOuts(dora)).toMatchObject([{ marketingOnly: false }]);
    expect(await sendTo('Su pedido llegó', utility)).toMatchObject({ optedOut: 1, reason: 'opted_out' });
  });

  it('a Telegram block (my_chat_member "kicked") does; unblocking lifts it', async () => {
    const eva = await contact({ firstName: 'Eva', identifiers: [{ channelId: ids.telegram, identifier: '777001' }] });
    expect((await telegram.emit({ kind: 'optOut', from: '777001' })).status).toBe(200);
    expect(await optOuts(eva)).toEqual([
      expect.objectContaining({
        channelId: ids.telegram,
        channelType: 'telegram',
        identifier: '777001',
        source: 'webhook',
        detail: 'my_chat_member: kicked',
      }),
    ]);
    await telegram.emit({ kind: 'optIn', from: '777001', at: new Date(Date.now() + 2_000) });
    expect(await optOuts(eva)).toEqual([]);
  });

  it('a bad signature is refused (401) and changes nothing', async () => {
    const fede = await contact({
      firstName: 'Fede',
      phone: '+5491155551006',
      identifiers: [{ channelId: ids.telegram, identifier: '777002' }],
    });
    const base = h.server.baseUrl;
    const inboundUrl = `${base}/webhooks/twilio/${ids.twilio}/inbound`;
    const forgedSms = twilioInboundWebhook({
      authToken: 'not-the-token',
      url: inboundUrl,
      from: '+5491155551006',
      to: TWILIO.from,
      body: 'BAJA',
    });
    const forgedWa = whatsappUserPreferencesWebhook({
      appSecret: 'not-the-secret',
      phoneNumberId: WA.phoneNumberId,
      from: '5491155551006',
      value: 'stop',
    });
    const forgedTg = telegramUpdate({
      secret: 'wrong',
      update: telegramChatMemberUpdate({ chatId: 777002, status: 'kicked' }),
    });
    const attempts: [string, { headers: Record<string, string>; body: string }][] = [
      [inboundUrl, forgedSms],
      [`${base}/webhooks/twilio/${ids.twilio}`, forgedSms],
      [`${base}/webhooks/whatsapp/${ids.whatsapp}`, forgedWa],
      [`${base}/webhooks/telegram/${ids.telegram}`, forgedTg],
    ];
    for (const [url, signed] of attempts) {
      const res = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
      expect(res.status, url).toBe(401);
    }
    // A genuine signature on a changed body is as bad as none.
    const genuine = twilioInboundWebhook({
      authToken: TWILIO.authToken,
      url: inboundUrl,
      from: '+5491155551006',
      to: TWILIO.from,
      body: 'Hola',
    });
    const changed = await fetch(inboundUrl, {
      method: 'POST',
      headers: genuine.headers,
      body: genuine.body.replace('Body=Hola', 'Body=BAJA'),
    });
    expect(changed.status).toBe(401);
    expect(await optOuts(fede)).toEqual([]);
  });
});

describe('removing an opt-out', () => {
  let gabi: number;
  const path = () => `/api/v1/contacts/${gabi}/opt-outs/${ids.twilio}`;

  beforeAll(async () => {
    gabi = await contact({ firstName: 'Gabi', lastName: 'Ruiz', phone: '+5491155551007' });
    await twilio.emit({ kind: 'message', from: '+5491155551007', text: 'Baja' });
    expect(await optOuts(gabi)).toHaveLength(1);
  });

  it('an agent gets 403', async () => {
    const res = await h.server.request('DELETE', path(), {
      token: h.ws.tokens.agent,
      body: { note: 'Lo pidió por teléfono' },
      language: 'es',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(res.body.error.message).toMatch(/Su rol \(agente\)/);
    expect(await optOuts(gabi)).toHaveLength(1);
  });

  it('a manager without a note gets 422 in the request language', async () => {
    for (const body of [{}, { note: '   ' }]) {
      const es = await h.server.request('DELETE', path(), { token: h.ws.tokens.manager, body, language: 'es' });
      expect(es.status).toBe(422);
      expect(es.body.error.code).toBe('validation_failed');
      expect(es.body.error.message).toMatch(/Los datos enviados no son válidos/);
      expect(es.body.error.details).toEqual([expect.objectContaining({ path: 'body.note' })]);
    }
    // No body at all is the same missing note.
    const bare = await h.server.request('DELETE', path(), { token: h.ws.tokens.manager, language: 'es' });
    expect([bare.status, bare.body.error.details]).toEqual([422, [expect.objectContaining({ path: 'body.note' })]]);
    const en = await h.server.request('DELETE', path(), { token: h.ws.tokens.manager, body: {}, language: 'en' });
    expect(en.body.error.message).toMatch(/The data sent is not valid/);
    expect(await optOuts(gabi)).toHaveLength(1);
  });

  it("another workspace's contact or channel answers 404 exactly like one that does not exist", async () => {
    const fromOther = await h.server.request('DELETE', path(), {
      token: other.tokens.owner,
      body: { note: 'x' },
      language: 'en',
    });
    const missing = await h.server.request('DELETE', `/api/v1/contacts/99999999/opt-outs/${ids.twilio}`, {
      token: other.tokens.owner,
      body: { note: 'x' },
      language: 'en',
    });
    expect(fromOther.status).toBe(404);
    // The same answer, only naming the ref asked for.
    expect(fromOther.body.error).toEqual({ ...missing.body.error, details: { ref: String(gabi) } });
    expect((await h.server.request('GET', `/api/v1/contacts/${gabi}`, { token: other.tokens.owner })).status).toBe(404);

    const otherChannel = await h.server.request('DELETE', `/api/v1/contacts/${gabi}/opt-outs/${ids.otherChannel}`, {
      token: h.ws.tokens.manager,
      body: { note: 'x' },
      language: 'en',
    });
    const noChannel = await h.server.request('DELETE', `/api/v1/contacts/${gabi}/opt-outs/99999999`, {
      token: h.ws.tokens.manager,
      body: { note: 'x' },
      language: 'en',
    });
    expect(otherChannel.status).toBe(404);
    expect(otherChannel.body).toEqual(noChannel.body);
    expect(otherChannel.body.error.message).toBe('Channel was not found.');
    expect(await optOuts(gabi)).toHaveLength(1);
  });

  it('a manager removes it with a note, kept in an audit event; a second time there is nothing to remove', async () => {
    const note = 'La clienta pidió por teléfono volver a recibir promociones (ticket 4411).';
    const res = await h.server.request('DELETE', path(), {
      token: h.ws.tokens.manager,
      body: { note },
      language: 'es',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: gabi, firstName: 'Gabi', optOuts: [] });
    expect(await optOuts(gabi)).toEqual([]);
    // A late report of a send made before the manager's word (21610) does not put it back.
    await recordOptOut(h.server.database.db, {
      channelId: ids.twilio,
      identifier: '+5491155551007',
      at: Date.now() - 60_000,
      source: 'provider_code',
      detail: '21610',
    });
    expect(await optOuts(gabi)).toEqual([]);

    const events = await h.server.database.db.all<{ type: string; data: string; workspace_id: number }>(
      sql`SELECT type, data, workspace_id FROM events WHERE type = 'contact.opt_out_removed'`,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.workspace_id).toBe(h.ws.id);
    expect(JSON.parse(events[0]?.data ?? '{}')).toMatchObject({
      name: 'Gabi Ruiz',
      contactId: gabi,
      channelId: ids.twilio,
      channelName: 'SMS',
      identifier: '+5491155551007',
      note,
      by: { role: 'manager' },
      optOut: { source: 'inbound_word', detail: 'BAJA' },
    });
    // The workspace's event stream says it in words, as a declared event type.
    const page = await h.server.request('GET', '/api/v1/events?wait=0&limit=500', {
      token: h.ws.tokens.agent,
      language: 'es',
    });
    const removed = page.body.data.find((e: { type: string }) => e.type === 'contact.opt_out_removed');
    expect(removed?.message).toBe(`Gabi Ruiz: se quitó la baja en SMS; volverá a recibir transmisiones («${note}»)`);

    const again = await h.server.request('DELETE', path(), {
      token: h.ws.tokens.owner,
      body: { note },
      language: 'es',
    });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('opt_out_not_found');
    expect(again.body.error.message).toMatch(/no tiene una baja registrada en el canal/);
  });
});
