/** A valid Argentine mobile in E.164, distinct per n (the seeded contacts use 5000-0000 and up). */
const phone = (n: number) => `+54911${41000000 + n}`;
const digits = (n: number) => phone(n).slice(1);

/** Scenarios against the provider simulators: S1, S6, S7, S10, the 24 h window, and webhook safety. */
import {
  startMessengerSimulator,
  startTelegramSimulator,
  startTwilioSimulator,
  startWhatsAppSimulator,
  whatsappInboundWebhook,
} from '@rebound/simulators';
import { telegramChatMemberUpdate, telegramUpdate } from '@rebound/simulators/telegram';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, WA } from './harness';

let h: Harness;
const TEMPLATE = {
  text: '¡Black Friday! 30% de descuento',
  template: { name: 'black_friday', language: 'es_AR', parameters: ['30%'] },
};
const TG = { botToken: '123456:tg-secret-token', webhookSecret: 'tg-hook-secret' };
const TW = { accountSid: `AC${'a'.repeat(32)}`, authToken: 'tw-auth-token', from: '+15005550006' };
const FB = {
  pageAccessToken: 'fb-page-token',
  pageId: '555000111',
  appSecret: 'fb-app-secret',
  verifyToken: 'fb-verify',
};

async function whatsappChannel(limits: Record<string, unknown>) {
  const sim = await startWhatsAppSimulator({
    accessToken: WA.accessToken,
    phoneNumberId: WA.phoneNumberId,
    appSecret: WA.appSecret,
  });
  h.simulators.push(sim);
  sim.webhookUrl = undefined;
  const channel = await h.channel({
    type: 'whatsapp',
    name: `WhatsApp ${h.simulators.length}`,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits,
  });
  sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
  return { sim, channel };
}

async function contact(body: Record<string, unknown>) {
  const res = await h.server.request('POST', '/api/v1/contacts', { token: h.ws.tokens.agent, body });
  if (res.status !== 201) throw new Error(res.text);
  return res.body as { id: number };
}

/** Contact n writes to the WhatsApp channel (a signed inbound message): its 24 h window opens. */
async function wroteOnWhatsApp(channelId: number, n: number) {
  const inbound = whatsappInboundWebhook({ appSecret: WA.appSecret, phoneNumberId: WA.phoneNumberId, from: digits(n) });
  const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channelId}`, {
    method: 'POST',
    headers: inbound.headers,
    body: inbound.body,
  });
  expect(res.status).toBe(200);
}

let sends = 0;
async function send(
  channelId: number,
  tag: string,
  content: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const segment = await h.segment(`${tag} segment ${++sends}`, tag);
  const broadcast = await h.broadcast({ name: tag, channelId, segmentId: segment.id, content, ...extra });
  return broadcast;
}

beforeAll(async () => {
  h = await harness();
});

describe('S1: the WhatsApp daily limit', () => {
  it('warns before sending, sends 1,000, fails 500 with the quota reason and when capacity frees', async () => {
    const { sim, channel } = await whatsappChannel({ dailyQuota: 1000, messagesPerSecond: 5000 });
    await h.seedContacts(1500, 'black friday');
    const broadcast = await send(channel.id, 'black friday', TEMPLATE);

    const pre = (
      await h.server.request('GET', `/api/v1/broadcasts/${broadcast.id}/preflight`, {
        token: h.ws.tokens.manager,
        language: 'es',
      })
    ).body;
    expect(pre.quota).toMatchObject({
      limit: 1000,
      used: 0,
      remaining: 1000,
      needed: 1500,
      fits: false,
      overflow: 500,
    });
    expect(pre.willSend).toBe(1000);
    const warning = pre.warnings.find((w: { code: string }) => w.code === 'quota_overflow');
    expect(warning.message).toMatch(/^500 de 1\.500 no entran en el límite diario/);
    // When the rest fits (once today's sends age out), in the workspace's time zone (Argentina here) as the
    // re-send's plan says it, not UTC. Read a moment after the pre-flight: the minute may have turned since.
    const argentina = (at: number) =>
      new Intl.DateTimeFormat('es-AR', {
        timeZone: 'America/Argentina/Buenos_Aires',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(at);
    const said = /programe el resto para mañana (\d\d:\d\d)\.$/.exec(warning.message)?.[1];
    expect([argentina(Date.now() + 24 * 3_600_000), argentina(Date.now() + 24 * 3_600_000 - 60_000)]).toContain(said);

    const before = Date.now();
    await h.schedule(broadcast.id);
    await h.engine({ concurrency: 64 }).runUntilIdle();
    const done = await h.get(broadcast.id, 'es');
    expect(done.status).toBe('partially_failed');
    expect(done.counts).toEqual({ sent: 1000, failed: 500 });
    expect(done.failedByReason).toEqual({ quota_reached: 500 });
    expect(sim.requests.length).toBe(1000);
    expect(new Set(sim.requests.map((r) => r.recipient)).size).toBe(1000);
    // The real request: a template, the recipient's digits, Rebound's message ID as the callback reference.
    expect(sim.requests[0]?.body).toMatchObject({
      messaging_product: 'whatsapp',
      type: 'template',
      template: { name: 'black_friday' },
    });

    const failed = (await h.messages(broadcast.id)).filter((m) => m.state === 'failed');
    const day = 24 * 3_600_000;
    for (const m of failed) {
      expect(m.reason).toBe('quota_reached');
      expect(m.retry_after_at).toBeGreaterThanOrEqual(before + day);
      expect(m.retry_after_at).toBeLessThan(Date.now() + day + 1000);
    }
    const usage = (await h.server.request('GET', `/api/v1/channels/${channel.id}`, { token: h.ws.tokens.agent })).body
      .usage;
    expect(usage).toMatchObject({ quotaUsed: 1000, quotaRemaining: 0 });
    expect(Date.parse(usage.capacityFreesAt)).toBeGreaterThanOrEqual(before + day);
    const reasons = (
      await h.server.request('GET', '/api/v1/failure-reasons', { token: h.ws.tokens.agent, language: 'en' })
    ).body.data;
    expect(reasons.find((r: { code: string }) => r.code === 'quota_reached')).toMatchObject({ resend: 'later' });
    const events = await h.server.database.db.all<{ type: string }>(
      sql`SELECT type FROM events WHERE broadcast_id = ${broadcast.id} ORDER BY id`,
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['broadcast.started', 'messages.failed', 'broadcast.partially_failed']),
    );
  });

  it('a recipient already messaged in the window does not count twice', async () => {
    const { sim, channel } = await whatsappChannel({
      dailyQuota: 3,
      messagesPerSecond: 5000,
      pairRatePerRecipientSeconds: null,
    });
    for (const i of [1, 2]) await contact({ firstName: `Q${i}`, phone: phone(100 + i), tags: ['twice a'] });
    for (const i of [1, 2, 3]) await contact({ firstName: `R${i}`, phone: phone(100 + i), tags: ['twice b'] });
    const first = await send(channel.id, 'twice a', TEMPLATE);
    await h.schedule(first.id);
    await h.engine().runUntilIdle();
    const second = await send(channel.id, 'twice b', TEMPLATE);
    await h.schedule(second.id);
    await h.engine().runUntilIdle();
    // 3 unique recipients in the window: the two repeated ones were free, the third fits.
    expect((await h.get(second.id)).counts).toEqual({ sent: 3 });
    expect(sim.requests.length).toBe(5);
  });
});

describe('the 24 h window', () => {
  it('WhatsApp free text goes only to contacts who wrote in the last 24 h; the rest fail "outside the window"', async () => {
    const { sim, channel } = await whatsappChannel({ messagesPerSecond: 5000 });
    await contact({ firstName: 'Wrote', phone: phone(201), tags: ['window'] });
    await contact({ firstName: 'Silent', phone: phone(202), tags: ['window'] });
    await wroteOnWhatsApp(channel.id, 201);
    const broadcast = await send(channel.id, 'window', { text: 'Hola, ¿seguimos?' });
    const pre = (
      await h.server.request('GET', `/api/v1/broadcasts/${broadcast.id}/preflight`, { token: h.ws.tokens.manager })
    ).body;
    expect(pre.outsideWindow).toBe(1);
    expect(pre.warnings.map((w: { code: string }) => w.code)).toContain('outside_window');
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const msgs = await h.messages(broadcast.id);
    expect(msgs.map((m) => [m.identifier, m.state, m.reason])).toEqual([
      [phone(201), 'sent', null],
      [phone(202), 'failed', 'outside_window'],
    ]);
    expect(sim.requests.map((r) => (r.body as { type: string }).type)).toEqual(['text']);
  });
  it('text inside the window and the template outside it, answered together: each recipient keeps its own ID and what it got', async () => {
    // No rate limit: the batch is sent at once and both answers are written in one go.
    const { sim, channel } = await whatsappChannel({ messagesPerSecond: 10_000 });
    await contact({ firstName: 'Wrote', phone: phone(211), tags: ['both'] });
    await contact({ firstName: 'Silent', phone: phone(212), tags: ['both'] });
    await contact({ firstName: 'Quiet', phone: phone(213), tags: ['both'] });
    await wroteOnWhatsApp(channel.id, 211);
    // The provider's later reports name its own message IDs: they reach the right recipients only if
    // each recipient was written with the ID it was given.
    sim.script(digits(211), { kind: 'failLater', code: '131026', delayMs: 50 });
    sim.script(digits(212), { kind: 'failLater', code: '131049', delayMs: 50 });
    sim.script(digits(213), { kind: 'deliverLater', delayMs: 50 });
    const broadcast = await send(channel.id, 'both', TEMPLATE);
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    await sim.settle();
    expect(sim.requests.map((r) => [r.recipient, (r.body as { type: string }).type]).sort()).toEqual([
      [digits(211), 'text'],
      [digits(212), 'template'],
      [digits(213), 'template'],
    ]);
    const msgs = await h.messages(broadcast.id);
    expect(msgs.map((m) => [m.identifier, m.state, m.reason])).toEqual([
      [phone(211), 'failed', 'not_on_channel'],
      [phone(212), 'failed', 'recipient_limit'],
      [phone(213), 'delivered', null],
    ]);
    // The failed log shows what each one was sent: the text to the one who wrote, the template to the other.
    const log = await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${broadcast.id}`, {
      token: h.ws.tokens.agent,
    });
    expect(log.status).toBe(200);
    const shown = Object.fromEntries(
      (log.body.data as { contact: { identifier: string }; contentType: string; template: unknown }[]).map((m) => [
        m.contact.identifier,
        [m.contentType, m.template],
      ]),
    );
    expect(shown).toEqual({
      [phone(211)]: ['text', null],
      [phone(212)]: ['template', TEMPLATE.template],
    });
  });
});

describe('S6: the contact blocked the business, on every provider', () => {
  it('Telegram 403, Messenger 551, Twilio 21610, WhatsApp 131050 → "blocked", left out of a default re-send', async () => {
    const tg = await startTelegramSimulator({ botToken: TG.botToken });
    const tw = await startTwilioSimulator({ accountSid: TW.accountSid, authToken: TW.authToken });
    const fb = await startMessengerSimulator({
      pageAccessToken: FB.pageAccessToken,
      pageId: FB.pageId,
      appSecret: FB.appSecret,
    });
    h.simulators.push(tg, tw, fb);
    const { sim: wa, channel: waChannel } = await whatsappChannel({ messagesPerSecond: 5000 });
    const tgChannel = await h.channel({ type: 'telegram', name: 'TG', credentials: TG, baseUrl: tg.baseUrl });
    const twChannel = await h.channel({ type: 'twilio_sms', name: 'SMS', credentials: TW, baseUrl: tw.baseUrl });
    const fbChannel = await h.channel({ type: 'messenger', name: 'FB', credentials: FB, baseUrl: fb.baseUrl });
    await contact({
      firstName: 'Blocker',
      phone: phone(301),
      tags: ['s6'],
      identifiers: [
        { channelId: tgChannel.id, identifier: '111' },
        { channelId: fbChannel.id, identifier: 'psid-111' },
      ],
    });
    await contact({
      firstName: 'Friend',
      phone: phone(302),
      tags: ['s6'],
      identifiers: [
        { channelId: tgChannel.id, identifier: '222' },
        { channelId: fbChannel.id, identifier: 'psid-222' },
      ],
    });
    tg.script('111', { kind: 'fail', code: '403', message: 'Forbidden: bot was blocked by the user' });
    fb.script('psid-111', { kind: 'fail', code: '551' });
    tw.script(phone(301), { kind: 'fail', code: '21610' });
    wa.script(digits(301), { kind: 'fail', code: '131050' });
    const segment = await h.segment('S6', 's6');
    const ids: number[] = [];
    for (const [channelId, content] of [
      [tgChannel.id, { text: 'Hola' }],
      [fbChannel.id, { text: 'Hola', messengerTag: 'ACCOUNT_UPDATE' }],
      [twChannel.id, { text: 'Hola' }],
      [waChannel.id, TEMPLATE],
    ] as const) {
      const b = await h.broadcast({ name: `S6 ${channelId}`, channelId, segmentId: segment.id, content });
      await h.schedule(b.id);
      ids.push(b.id);
    }
    await h.engine().runUntilIdle();
    for (const id of ids) {
      const b = await h.get(id);
      expect(b.status, `broadcast ${id}`).toBe('partially_failed');
      expect(b.failedByReason, `broadcast ${id}`).toEqual({ blocked: 1 });
    }
    const reasons = (
      await h.server.request('GET', '/api/v1/failure-reasons', { token: h.ws.tokens.agent, language: 'es' })
    ).body.data;
    expect(reasons.find((r: { code: string }) => r.code === 'blocked').resend).toBe('never');
    const codes = await h.server.database.db.all<{ provider_code: string }>(
      sql`SELECT provider_code FROM messages WHERE broadcast_id IN ${ids} AND state = 'failed' ORDER BY broadcast_id`,
    );
    expect(codes.map((c) => c.provider_code)).toEqual(['403', '551', '21610', '131050']);
  });

  it('a Telegram "kicked" update records the opt-out: the next broadcast leaves it out as opted out without sending', async () => {
    const tg = await startTelegramSimulator({ botToken: TG.botToken });
    h.simulators.push(tg);
    const channel = await h.channel({ type: 'telegram', name: 'TG 2', credentials: TG, baseUrl: tg.baseUrl });
    await contact({
      firstName: 'Leaver',
      tags: ['kicked'],
      identifiers: [{ channelId: channel.id, identifier: '333' }],
    });
    const update = telegramUpdate({
      secret: TG.webhookSecret,
      update: telegramChatMemberUpdate({ chatId: 333, status: 'kicked' }),
    });
    const forged = await fetch(`${h.server.baseUrl}/webhooks/telegram/${channel.id}`, {
      method: 'POST',
      headers: { ...update.headers, 'x-telegram-bot-api-secret-token': 'wrong' },
      body: update.body,
    });
    expect(forged.status).toBe(401);
    const ok = await fetch(`${h.server.baseUrl}/webhooks/telegram/${channel.id}`, {
      method: 'POST',
      headers: update.headers,
      body: update.body,
    });
    expect(ok.status).toBe(200);
    const b = await send(channel.id, 'kicked', { text: 'Hola' });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    // Left out at freeze with the opt-out as its reason: nothing is sent and it is not a failure to re-send.
    expect((await h.get(b.id)).counts).toEqual({ excluded: 1 });
    const log = (
      await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${b.id}`, { token: h.ws.tokens.agent })
    ).body;
    expect(log.data.map((m: { reason: { code: string } }) => m.reason.code)).toEqual(['opted_out']);
    expect(tg.requests.length).toBe(0);
  });
});

describe('S7: send rate and provider throttling', () => {
  it('warns when the asked rate is above the channel, and never sends faster than the channel allows', async () => {
    const { sim, channel } = await whatsappChannel({ messagesPerSecond: 20, pairRatePerRecipientSeconds: null });
    for (let i = 0; i < 45; i++) await contact({ firstName: `Rate ${i}`, phone: phone(400 + i), tags: ['rate'] });
    const b = await send(channel.id, 'rate', TEMPLATE, { sendRate: 100 });
    const pre = (
      await h.server.request('GET', `/api/v1/broadcasts/${b.id}/preflight`, {
        token: h.ws.tokens.manager,
        language: 'en',
      })
    ).body;
    expect(pre.rate).toMatchObject({ channel: 20, requested: 100, effective: 20 });
    expect(pre.warnings.find((w: { code: string }) => w.code === 'rate_above_channel').message).toBe(
      'The requested rate (100/s) is above what the channel allows (20/s): it will send at 20/s.',
    );
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    expect((await h.get(b.id)).counts).toEqual({ sent: 45 });
    const times = sim.requests.map((r) => r.at).sort((x, y) => x - y);
    // GCRA spacing: any 21 consecutive requests span at least a second (a little timer slack allowed).
    for (let i = 0; i + 20 < times.length; i++)
      expect((times[i + 20] as number) - (times[i] as number)).toBeGreaterThanOrEqual(980);
  });

  it('throttling (WhatsApp 130429, Twilio 20429, Telegram 429 retry_after) is retried, not logged as a failure', async () => {
    const { sim: wa, channel: waChannel } = await whatsappChannel({
      messagesPerSecond: 5000,
      pairRatePerRecipientSeconds: null,
    });
    const tw = await startTwilioSimulator({ accountSid: TW.accountSid, authToken: TW.authToken });
    const tg = await startTelegramSimulator({ botToken: TG.botToken });
    h.simulators.push(tw, tg);
    const twChannel = await h.channel({
      type: 'twilio_sms',
      name: 'SMS throttle',
      credentials: TW,
      baseUrl: tw.baseUrl,
      limits: { messagesPerSecond: 100 },
    });
    const tgChannel = await h.channel({ type: 'telegram', name: 'TG throttle', credentials: TG, baseUrl: tg.baseUrl });
    await contact({
      firstName: 'Busy',
      phone: phone(501),
      tags: ['throttle'],
      identifiers: [{ channelId: tgChannel.id, identifier: '444' }],
    });
    wa.script(digits(501), { kind: 'throttle', retryAfterSeconds: 1, times: 2 });
    tw.script(phone(501), { kind: 'throttle', retryAfterSeconds: 1, times: 1 });
    tg.script('444', { kind: 'throttle', retryAfterSeconds: 1, times: 1 });
    const ids = [];
    for (const [channelId, content] of [
      [waChannel.id, TEMPLATE],
      [twChannel.id, { text: 'Hola' }],
      [tgChannel.id, { text: 'Hola' }],
    ] as const) {
      const b = await send(channelId, 'throttle', content);
      await h.schedule(b.id);
      ids.push(b.id);
    }
    await h.engine().runUntilIdle();
    for (const id of ids) expect((await h.get(id)).counts, `broadcast ${id}`).toEqual({ sent: 1 });
    expect(wa.countFor(digits(501))).toBe(3);
    expect(tw.countFor(phone(501))).toBe(2);
    expect(tg.countFor('444')).toBe(2);
    const retried = await h.server.database.db.all<{ attempts: number }>(
      sql`SELECT attempts FROM messages WHERE broadcast_id IN ${ids} ORDER BY broadcast_id`,
    );
    expect(retried.map((r) => r.attempts)).toEqual([3, 2, 2]);
  });

  it('gives up after the last attempt and fails with the last reason', async () => {
    const { sim, channel } = await whatsappChannel({ messagesPerSecond: 5000, pairRatePerRecipientSeconds: null });
    await contact({ firstName: 'Down', phone: phone(601), tags: ['always 500'] });
    sim.script(digits(601), { kind: 'serverError' });
    const b = await send(channel.id, 'always 500', TEMPLATE);
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 3 }).runUntilIdle();
    expect((await h.get(b.id)).failedByReason).toEqual({ provider_error: 1 });
    expect(sim.countFor(digits(601))).toBe(3);
  });

  it('a request that may have reached the provider is never resent: it stays "uncertain"', async () => {
    const { sim, channel } = await whatsappChannel({ messagesPerSecond: 5000, pairRatePerRecipientSeconds: null });
    await contact({ firstName: 'Hang', phone: phone(701), tags: ['hang'] });
    sim.script(digits(701), { kind: 'hang' });
    const b = await send(channel.id, 'hang', TEMPLATE);
    await h.schedule(b.id);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const done = await h.get(b.id);
    expect(done.counts).toEqual({ uncertain: 1 });
    expect(done.status).toBe('completed');
    await h.engine().runUntilIdle();
    expect(sim.countFor(digits(701))).toBe(1);
    // The provider's status webhook settles it (found by the biz_opaque_callback_data Rebound sent).
    const [msg] = await h.messages(b.id);
    const hook = whatsappStatusWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      providerMessageId: 'wamid.LATE',
      recipient: digits(701),
      status: 'delivered',
      clientRef: String(msg?.id),
    });
    await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
    expect((await h.get(b.id)).counts).toEqual({ delivered: 1 });
  });
});

describe('S10: accepted, then failed by webhook', () => {
  it('WhatsApp 131049 and 131026, Twilio 30003 and 30007: the log, the counts and the events follow', async () => {
    const { sim: wa, channel: waChannel } = await whatsappChannel({
      messagesPerSecond: 5000,
      pairRatePerRecipientSeconds: null,
    });
    const tw = await startTwilioSimulator({ accountSid: TW.accountSid, authToken: TW.authToken });
    h.simulators.push(tw);
    const twChannel = await h.channel({
      type: 'twilio_sms',
      name: 'SMS late',
      credentials: TW,
      baseUrl: tw.baseUrl,
      limits: { messagesPerSecond: 100 },
    });
    for (let i = 1; i <= 3; i++) await contact({ firstName: `Late ${i}`, phone: phone(800 + i), tags: ['late'] });
    wa.script(digits(801), { kind: 'failLater', code: '131049', delayMs: 50 });
    wa.script(digits(802), { kind: 'failLater', code: '131026', delayMs: 50 });
    wa.script(digits(803), { kind: 'deliverLater', delayMs: 50 });
    tw.script(phone(801), { kind: 'failLater', code: '30003', delayMs: 50 });
    tw.script(phone(802), { kind: 'failLater', code: '30007', delayMs: 50 });
    tw.script(phone(803), { kind: 'deliverLater', delayMs: 50 });
    const waB = await send(waChannel.id, 'late', TEMPLATE);
    const twB = await send(twChannel.id, 'late', { text: 'Hola' });
    await h.schedule(waB.id);
    await h.schedule(twB.id);
    await h.engine().runUntilIdle();
    await wa.settle();
    await tw.settle();
    expect(wa.callbacks.every((c) => c.status === 200)).toBe(true);
    expect(tw.callbacks.every((c) => c.status === 200)).toBe(true);
    const waDone = await h.get(waB.id);
    expect(waDone.status).toBe('partially_failed');
    expect(waDone.counts).toEqual({ failed: 2, delivered: 1 });
    expect(waDone.failedByReason).toEqual({ recipient_limit: 1, not_on_channel: 1 });
    const twDone = await h.get(twB.id);
    expect(twDone.counts).toEqual({ failed: 2, delivered: 1 });
    expect(twDone.failedByReason).toEqual({ unreachable: 1, spam_filtered: 1 });
    const events = await h.server.database.db.all<{ type: string; data: string }>(
      sql`SELECT type, data FROM events WHERE broadcast_id = ${waB.id} ORDER BY id`,
    );
    expect(events.filter((e) => e.type === 'messages.failed' && JSON.parse(e.data).late).length).toBe(2);
    expect(events.map((e) => e.type)).toContain('broadcast.partially_failed');
  });
});

describe('webhook safety', () => {
  it('forged, replayed and out-of-order callbacks never move a message backwards', async () => {
    const { channel } = await whatsappChannel({ messagesPerSecond: 5000, pairRatePerRecipientSeconds: null });
    await contact({ firstName: 'Order', phone: phone(901), tags: ['order'] });
    const b = await send(channel.id, 'order', TEMPLATE);
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    const [msg] = await h.messages(b.id);
    const url = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    const post = (hook: { headers: Record<string, string>; body: string }) =>
      fetch(url, { method: 'POST', headers: hook.headers, body: hook.body });
    const base = {
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      providerMessageId: 'wamid.X',
      recipient: digits(901),
      clientRef: String(msg?.id),
    };

    const failed = whatsappStatusWebhook({ ...base, status: 'failed', error: { code: '131026' } });
    const forged = whatsappStatusWebhook({
      ...base,
      appSecret: 'not-the-secret',
      status: 'failed',
      error: { code: '131026' },
    });
    expect((await post(forged)).status).toBe(401);
    expect((await post({ headers: { 'content-type': 'application/json' }, body: failed.body })).status).toBe(401);
    expect((await post({ headers: failed.headers, body: failed.body.replace('131026', '131049') })).status).toBe(401);
    expect((await h.messages(b.id))[0]?.state).toBe('sent');

    const first = await post(failed);
    expect(await first.json()).toEqual({ ok: true, changed: 1 });
    const replay = await post(failed);
    expect(await replay.json()).toEqual({ ok: true, changed: 0 });
    const lateSent = await post(whatsappStatusWebhook({ ...base, status: 'sent' }));
    expect(await lateSent.json()).toEqual({ ok: true, changed: 0 });
    await post(whatsappStatusWebhook({ ...base, status: 'delivered' }));
    expect((await h.messages(b.id))[0]).toMatchObject({
      state: 'failed',
      reason: 'not_on_channel',
      provider_code: '131026',
    });
    const events = await h.server.database.db.all<{ type: string }>(
      sql`SELECT type FROM events WHERE broadcast_id = ${b.id} AND type = 'messages.failed'`,
    );
    expect(events.length).toBe(1);
  });

  it("answers Meta's verification handshake only with the right verify token", async () => {
    const { channel } = await whatsappChannel({});
    const url = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}?hub.mode=subscribe&hub.challenge=1158201444`;
    const ok = await fetch(`${url}&hub.verify_token=${WA.verifyToken}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect((await fetch(`${url}&hub.verify_token=wrong`)).status).toBe(401);
  });

  it("a callback for another provider's channel, or no channel, is not found", async () => {
    const { channel } = await whatsappChannel({});
    expect(
      (await fetch(`${h.server.baseUrl}/webhooks/twilio/${channel.id}`, { method: 'POST', body: 'x=1' })).status,
    ).toBe(404);
    expect((await fetch(`${h.server.baseUrl}/webhooks/whatsapp/999999`, { method: 'POST', body: '{}' })).status).toBe(
      404,
    );
  });
});
