/**
 * A failure a delivery report brings after the broadcast finished, where automatic recovery already had a
 * round waiting (a quota backlog's, days ahead) or a person takes a re-send back meanwhile: its round
 * comes once the reports are gathered, not days later, and is not taken away by the take-back. A report
 * that fails others of the number's messages (sharedFate) recovers their broadcasts as well.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { holdNumber } from '../../src/engine/guard';
import { LATE_GATHER_MS } from '../../src/engine/recovery';
import { type Harness, harness, unlimitedWhatsApp, WA, whatsappSimulator, wroteTo } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const phone = (n: number) => `54911${50_000_000 + n}`;
const TEMPLATE = { text: 'Hola', template: { name: 'promo', language: 'es_AR', parameters: [] } };

/** A WhatsApp channel on its own simulator whose webhooks come here, falling back to a Twilio SMS line. */
async function whatsappWithFallback(name: string, dailyQuota: number | null, sid: string) {
  const sim = await whatsappSimulator(h);
  const tw = await startTwilioSimulator({ accountSid: `AC${sid.repeat(32)}`, authToken: 'tw' });
  h.simulators.push(tw);
  const sms = (await h.channel({
    type: 'twilio_sms',
    name: `${name} SMS`,
    credentials: { accountSid: `AC${sid.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
    baseUrl: tw.baseUrl,
  })) as { id: number };
  const channel = (await h.channel({
    type: 'whatsapp',
    name,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
  })) as { id: number };
  sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
  const patched = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
    token: h.ws.tokens.manager,
    body: { fallbackChannelId: sms.id },
  });
  expect(patched.status, patched.text).toBe(200);
  return { sim, tw, channel };
}

/** WhatsApp's signed report that the message sent to `n` failed with `code`, posted to this server. */
async function reportFailed(sim: { webhookUrl: string | undefined }, broadcastId: number, n: number, code: string) {
  const [sent] = await h.server.database.db.all<{ id: number; provider_message_id: string }>(
    sql`SELECT id, provider_message_id FROM messages WHERE broadcast_id = ${broadcastId} AND identifier = ${`+${phone(n)}`}`,
  );
  const hook = whatsappStatusWebhook({
    appSecret: WA.appSecret,
    phoneNumberId: WA.phoneNumberId,
    providerMessageId: sent?.provider_message_id ?? '',
    recipient: phone(n),
    status: 'failed',
    error: { code },
    clientRef: String(sent?.id),
  });
  const res = await fetch(sim.webhookUrl ?? '', { method: 'POST', headers: hook.headers, body: hook.body });
  expect(res.status).toBe(200);
}

const nextAt = async (id: number) => (await h.get(id)).recovery.automatic.nextAt as string | null;

describe('a late failure beside a round already waiting', () => {
  it("is recovered once the reports are gathered, not after the backlog's days, and a re-send taken back while its round waits for a held number does not take it away", async () => {
    const { sim, tw, channel } = await whatsappWithFallback('WA semana tardía', 1, 'f');
    const start = 690_000;
    await h.seedContacts(10, 'semana tardia', { start });
    const segment = await h.segment('semana tardia', 'semana tardia');
    const b = await h.broadcast({
      name: 'Semana tardía',
      channelId: channel.id,
      segmentId: segment.id,
      content: TEMPLATE,
      autoRecovery: 1,
    });
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    // One went; nine wait in seven daily waves and past them: the backlog's round is a week ahead.
    const waiting = await nextAt(b.id);
    expect(Date.parse(waiting ?? '') - Date.now()).toBeGreaterThan(6 * 24 * 3_600_000);
    const [sent] = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM messages WHERE broadcast_id = ${b.id} AND state IN ('sent', 'delivered')`,
    );
    const n = Number((sent?.identifier ?? '').slice(6)) - 50_000_000;

    // Meta then says the one sent has no WhatsApp: its round is due once the reports are gathered.
    const reported = Date.now();
    await reportFailed(sim, b.id, n, '131026');
    const due = Date.parse((await nextAt(b.id)) ?? '');
    expect(due).toBeGreaterThanOrEqual(reported + LATE_GATHER_MS - 1_000);
    expect(due).toBeLessThanOrEqual(Date.now() + LATE_GATHER_MS + 1_000);

    // The number is held when that round comes (Meta flagged it): the round waits an hour for it.
    const hold = { kind: 'quality', scope: 'channel', at: Date.now(), outcomes: 200, harmful: 30 } as const;
    await holdNumber(h.server.database.db, channel.id, hold, Date.now());
    offset = LATE_GATHER_MS + 60_000;
    await engine.runUntilIdle();
    const held = Date.parse((await nextAt(b.id)) ?? '');
    expect(held).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(tw.requests).toHaveLength(0);

    // An agent takes the quota re-send back meanwhile: the backlog's round goes, the late failure's stays.
    const back = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend/cancel`, {
      token: h.ws.tokens.agent,
    });
    expect(back.status, back.text).toBe(200);
    expect(Date.parse((await nextAt(b.id)) ?? '')).toBe(held);

    // A manager lifts the hold; at the round, the channel's fallback takes the contact WhatsApp cannot reach.
    const lifted = await h.server.request('POST', `/api/v1/channels/${channel.id}/resume`, {
      token: h.ws.tokens.manager,
    });
    expect(lifted.status, lifted.text).toBe(200);
    offset = LATE_GATHER_MS + 2 * 3_600_000;
    await engine.runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { To: string }).To)).toEqual([`+${phone(n)}`]);
  }, 60_000);

  it("a report that fails the number's later unconfirmed message in another broadcast recovers that broadcast too", async () => {
    const { sim, tw, channel } = await whatsappWithFallback('WA suerte compartida', null, 'a');
    const start = 695_000;
    await h.seedContacts(2, 'compartida', { start });
    const segment = await h.segment('compartida', 'compartida');
    const send = async (name: string) => {
      const b = await h.broadcast({
        name,
        channelId: channel.id,
        segmentId: segment.id,
        content: TEMPLATE,
        autoRecovery: 1,
      });
      await h.schedule(b.id);
      await h.engine({ maxAttempts: 1 }).runUntilIdle();
      return b;
    };
    const first = await send('Primera');
    const second = await send('Segunda');
    // The second's message to that number is unconfirmed (no report); Meta then says the first's number has
    // no WhatsApp: the second's fails with it, and both broadcasts' rounds take the contact to SMS.
    await h.server.database.db.run(
      sql`UPDATE messages SET state = 'uncertain', reason = 'uncertain' WHERE broadcast_id = ${second.id} AND identifier = ${`+${phone(start)}`}`,
    );
    await reportFailed(sim, first.id, start, '131026');
    expect((await h.get(second.id)).failedByReason).toEqual({ not_on_channel: 1 });
    expect(await nextAt(second.id)).not.toBeNull();
    await h.engine({ clock: () => Date.now() + LATE_GATHER_MS + 60_000, maxAttempts: 1 }).runUntilIdle();
    // Each broadcast's round takes its own failed message there (the second's once, not left behind).
    expect(tw.requests.map((r) => (r.body as { To: string }).To)).toEqual([`+${phone(start)}`, `+${phone(start)}`]);
  }, 60_000);

  it('a channel disconnected while its number was held: the contact a late report says it cannot reach goes to its fallback', async () => {
    const { sim, tw, channel } = await whatsappWithFallback('WA retenido y desconectado', null, 'b');
    const start = 697_000;
    await h.seedContacts(1, 'desconectado', { start });
    const segment = await h.segment('desconectado', 'desconectado');
    const b = await h.broadcast({
      name: 'Desconectado',
      channelId: channel.id,
      segmentId: segment.id,
      content: TEMPLATE,
      autoRecovery: 1,
    });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    // Meta flags the number; a manager then disconnects it (nobody can lift its hold any more).
    const hold = { kind: 'quality', scope: 'channel', at: Date.now(), outcomes: 200, harmful: 30 } as const;
    await holdNumber(h.server.database.db, channel.id, hold, Date.now());
    const manager = { token: h.ws.tokens.manager };
    expect((await h.server.request('DELETE', `/api/v1/channels/${channel.id}`, manager)).status).toBe(200);
    await reportFailed(sim, b.id, start, '131026');
    await h.engine({ clock: () => Date.now() + LATE_GATHER_MS + 60_000, maxAttempts: 1 }).runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { To: string }).To)).toEqual([`+${phone(start)}`]);
  }, 60_000);

  it('a closed window reported late on a template broadcast is not put before the agent as a one-click re-send that would answer "nothing to re-send"', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await unlimitedWhatsApp(h, sim, 'WA ventana tardía');
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    const start = 698_000;
    await h.seedContacts(1, 'ventana tardia', { start });
    // Rebound thinks the contact wrote a minute ago: the text goes, not the template.
    await wroteTo(h, channel.id, `+${phone(start)}`);
    const segment = await h.segment('ventana tardia', 'ventana tardia');
    const b = await h.broadcast({
      name: 'Ventana tardía',
      channelId: channel.id,
      segmentId: segment.id,
      content: TEMPLATE,
    });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    await reportFailed(sim, b.id, start, '131047');
    const done = await h.get(b.id);
    expect(done.failedByReason).toEqual({ outside_window: 1 });
    // The one click with the same content would not take it (the engine would send the text again)...
    const click = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { dryRun: true },
    });
    expect(click.body.error?.code).toBe('resend_nothing');
    // ...so the broadcast is not put back before the agent as needing that click.
    expect(done.lateFailedAt).toBeNull();
  }, 60_000);

  it('a closed window reported late, whose fallback is another WhatsApp number and whose broadcast is a text: no round is armed for it there', async () => {
    const a = await whatsappSimulator(h);
    const other = { ...WA, phoneNumberId: '1055558888' };
    const b = await whatsappSimulator(h, other);
    const first = await unlimitedWhatsApp(h, a, 'WA texto con respaldo');
    const second = await unlimitedWhatsApp(h, b, 'WA respaldo texto', other);
    a.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${first.id}`;
    await h.server.request('PATCH', `/api/v1/channels/${first.id}`, {
      token: h.ws.tokens.manager,
      body: { fallbackChannelId: second.id },
    });
    const start = 699_000;
    await h.seedContacts(1, 'texto respaldo', { start });
    await wroteTo(h, first.id, `+${phone(start)}`);
    const segment = await h.segment('texto respaldo', 'texto respaldo');
    const broadcast = await h.broadcast({
      name: 'Texto con respaldo',
      channelId: first.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
      autoRecovery: 1,
    });
    await h.schedule(broadcast.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    await reportFailed(a, broadcast.id, start, '131047');
    expect((await h.get(broadcast.id)).failedByReason).toEqual({ outside_window: 1 });
    // A text to the other number finds that window closed too: nothing for a round to do there.
    expect(await nextAt(broadcast.id)).toBeNull();
  }, 60_000);
});
