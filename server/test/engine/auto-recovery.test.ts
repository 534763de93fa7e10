/**
 * Automatic recovery (issue #15, part 2), on a simulated clock: Rebound schedules the re-sends itself at
 * the recovery policy's useful times, at most `autoRecovery` rounds, never for a reason a re-send cannot
 * help, never to a contact the marketing cap refused three times in a row, never while the guard holds
 * the channel; the broadcast shows its lineage.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { holdNumber } from '../../src/engine/guard';
import { type Harness, harness, unlimitedWhatsApp, until, WA, whatsappSimulator } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const HOUR = 3_600_000;
const phone = (n: number) => `54911${50_000_000 + n}`;
const TEMPLATE = { text: 'Hola', template: { name: 'promo', language: 'es_AR', parameters: [] } };

/** The template to the contacts tagged `tag` (a segment of that name), with `autoRecovery` rounds. */
async function recovering(name: string, channelId: number, tag: string, autoRecovery = 1) {
  const segment = await h.segment(tag, tag);
  return h.broadcast({ name, channelId, segmentId: segment.id, content: TEMPLATE, autoRecovery });
}

describe('automatic recovery', () => {
  it('runs two rounds of re-sends at the right times, stops at the caps, and shows the lineage', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await unlimitedWhatsApp(h, sim, 'WA automático');
    // Ten contacts (phones 600000…600009): 0-2 take it; 3-5 get a provider error every time; 6-7 hit
    // the marketing cap (131049) once; 8 is not on WhatsApp; 9 hit the cap twice already this week.
    const start = 600_000;
    await h.seedContacts(10, 'auto', { start });
    for (const n of [3, 4, 5]) sim.script(phone(start + n), { kind: 'fail', code: '131000' });
    for (const n of [6, 7, 9]) sim.script(phone(start + n), { kind: 'fail', code: '131049' });
    sim.script(phone(start + 8), { kind: 'fail', code: '131026' });
    // The simulated clock runs with the real one (the API schedules in real time) plus a jump.
    const t0 = Date.now();
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });

    // Contact 9's two earlier refusals, in two earlier broadcasts (no automatic recovery there).
    await h.server.database.db.run(
      sql`INSERT INTO tags (workspace_id, name, key, created_at) VALUES (${h.ws.id}, 'capped', 'capped', 0)`,
    );
    await h.server.database.db.run(sql`INSERT INTO contact_tags (tag_id, contact_id)
      SELECT (SELECT id FROM tags WHERE key = 'capped' AND workspace_id = ${h.ws.id}), id FROM contacts WHERE phone = ${`+${phone(start + 9)}`}`);
    const cappedSegment = await h.segment('capped', 'capped');
    for (const name of ['Antes 1', 'Antes 2']) {
      const earlier = await h.broadcast({
        name,
        channelId: channel.id,
        segmentId: cappedSegment.id,
        content: TEMPLATE,
      });
      await h.schedule(earlier.id);
      await engine.runUntilIdle();
      expect((await h.get(earlier.id)).failedByReason).toEqual({ recipient_limit: 1 });
    }

    const b = await recovering('Navidad', channel.id, 'auto', 2);
    await h.schedule(b.id);
    await engine.runUntilIdle();

    // Round 1 went at once for the provider errors and failed again; round 2 too; then it stopped.
    const sends = (n: number) => sim.requests.filter((r) => r.recipient === phone(start + n)).length;
    expect([3, 4, 5].map(sends)).toEqual([3, 3, 3]);
    // Never re-sent: not on WhatsApp (a re-send cannot help), and the contact capped three times in a row.
    expect(sends(8)).toBe(1);
    expect(sends(9)).toBe(3);
    // The marketing cap waits 24 h from the failure: not yet.
    expect([6, 7].map(sends)).toEqual([1, 1]);
    const waiting = await h.get(b.id);
    expect(waiting.recovery.attempts).toHaveLength(2);
    expect(waiting.recovery.attempts[0]).toMatchObject({ attempt: 1, recovered: 0, failed: 3, pending: 2 });
    const later = await h.get(waiting.recovery.attempts[0].broadcastIds[1]);
    expect(Date.parse(later.scheduledAt) - t0).toBeGreaterThanOrEqual(24 * HOUR);
    expect(Date.parse(later.scheduledAt) - t0).toBeLessThan(24 * HOUR + 5 * 60_000);

    // A day later the cap has lifted for them: the scheduled part goes and reaches both.
    sim.script(phone(start + 6), { kind: 'accept' });
    sim.script(phone(start + 7), { kind: 'accept' });
    offset = 24 * HOUR + 2 * 60_000;
    await engine.runUntilIdle();
    expect([6, 7].map(sends)).toEqual([2, 2]);

    // Nothing more, even days later: two rounds was the cap.
    offset = 5 * 24 * HOUR;
    await engine.runUntilIdle();
    expect([3, 4, 5].map(sends)).toEqual([3, 3, 3]);
    expect(sends(9)).toBe(3);
    const lineage = (await h.get(b.id)).recovery;
    expect(lineage).toEqual({
      firstSend: { reached: 3, failed: 7, unconfirmed: 0 },
      attempts: [
        { attempt: 1, broadcastIds: expect.any(Array), recovered: 2, failed: 3, pending: 0, unconfirmed: 0 },
        { attempt: 2, broadcastIds: expect.any(Array), recovered: 0, failed: 3, pending: 0, unconfirmed: 0 },
      ],
      left: { total: 5, byReason: { provider_error: 3, not_on_channel: 1, recipient_limit: 1 } },
      automatic: { attempts: 2, nextAt: null },
    });
  }, 120_000);

  it('a re-send an agent took back is never put back by a later automatic round; a new failure still is', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await unlimitedWhatsApp(h, sim, 'WA retirado');
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    const start = 652_000;
    await h.seedContacts(3, 'retirado', { start });
    sim.script(phone(start), { kind: 'failLater', code: '131049', delayMs: 30 });
    sim.script(phone(start + 1), { kind: 'failLater', code: '131049', delayMs: 30 });
    const b = await recovering('Retirado', channel.id, 'retirado', 2);
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    await sim.settle();
    offset = 16 * 60_000;
    await engine.runUntilIdle();
    const [first] = (await h.get(b.id)).recovery.attempts;
    expect(first).toMatchObject({ attempt: 1, pending: 2 });

    // The promotion is over: an agent takes the re-send back.
    const back = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend/cancel`, {
      token: h.ws.tokens.agent,
    });
    expect(back.status).toBe(200);
    // Then WhatsApp reports the third contact capped too (131049, after the broadcast finished).
    const [third] = await h.server.database.db.all<{ id: number; provider_message_id: string }>(
      sql`SELECT id, provider_message_id FROM messages WHERE broadcast_id = ${b.id} AND state = 'sent'`,
    );
    const hook = whatsappStatusWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      providerMessageId: third?.provider_message_id ?? '',
      recipient: phone(start + 2),
      status: 'failed',
      error: { code: '131049' },
      clientRef: String(third?.id),
    });
    const res = await fetch(sim.webhookUrl, { method: 'POST', headers: hook.headers, body: hook.body });
    expect(res.status).toBe(200);
    offset = 32 * 60_000;
    await engine.runUntilIdle();

    // The next automatic round takes the new failure only: the two taken back are the agent's to send.
    const attempts = (await h.get(b.id)).recovery.attempts;
    // (The one taken back is no attempt of the lineage any more: this is its only one.)
    expect(attempts).toHaveLength(1);
    const [second] = attempts;
    expect(second).toMatchObject({ pending: 1 });
    expect(second.broadcastIds).not.toContain(first.broadcastIds[0]);
    const targets = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT m.identifier FROM resend_targets t JOIN messages m ON m.id = t.message_id
        WHERE t.broadcast_id IN (SELECT value FROM json_each(${JSON.stringify(second.broadcastIds)}))`,
    );
    expect(targets.map((t) => t.identifier)).toEqual([`+${phone(start + 2)}`]);
  }, 60_000);

  it('a wave whose recipients the quota refuses again while later waves wait is looked at again after them, not dropped', async () => {
    const sim = await whatsappSimulator(h);
    const channel = (await h.channel({
      type: 'whatsapp',
      name: 'WA olas',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: 2, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    const start = 654_000;
    await h.seedContacts(5, 'olas', { start });
    const b = await recovering('Olas', channel.id, 'olas', 2);
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    // Two went; three the limit refused, planned in two daily waves (2, then 1).
    const [round] = (await h.get(b.id)).recovery.attempts;
    expect(round.broadcastIds).toHaveLength(2);
    const [wave1, wave2] = await Promise.all(round.broadcastIds.map((id: number) => h.get(id)));
    expect([wave1.targetCount, wave2.targetCount]).toEqual([2, 1]);

    // The first wave's day: another broadcast of the number took the limit first (two messages just now).
    offset = Date.parse(wave1.scheduledAt) - Date.now() + 60_000;
    const busy = Date.now() + offset;
    await h.server.database.db.run(sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at, last_any_at)
      VALUES (${channel.id}, '+5491159990001', ${busy}, ${busy}), (${channel.id}, '+5491159990002', ${busy}, ${busy})`);
    await engine.runUntilIdle();
    const refused = await h.get(wave1.id);
    expect(refused.failedByReason).toEqual({ quota_reached: 2 });
    // The second wave still waits: these two wait for it, and are looked at again a day after it.
    const again = (await h.get(wave1.id)).recovery.automatic.nextAt;
    expect(again).toBe(new Date(Date.parse(wave2.scheduledAt) + 24 * HOUR).toISOString());
    // Then, with a round left, they are planned.
    offset = Date.parse(again) - Date.now() + 60_000;
    await engine.runUntilIdle();
    const [next] = (await h.get(wave1.id)).recovery.attempts;
    expect(next.recovered + next.failed + next.pending).toBe(2);
  }, 60_000);

  it('what is past the last wave comes back a day after it, unless a person took the re-send back', async () => {
    const sim = await whatsappSimulator(h);
    const channel = (await h.channel({
      type: 'whatsapp',
      name: 'WA semana',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: 1, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    await h.seedContacts(10, 'semana', { start: 656_000 });
    const b = await recovering('Semana', channel.id, 'semana', 1);
    const engine = h.engine({ maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    // One went; nine the limit refused: seven daily waves of one, two past the last, looked at again after it.
    const planned = await h.get(b.id);
    const waves = planned.recovery.attempts[0].broadcastIds as number[];
    expect(waves).toHaveLength(7);
    const last = await h.get(waves[6] as number);
    expect(planned.recovery.automatic.nextAt).toBe(new Date(Date.parse(last.scheduledAt) + 24 * HOUR).toISOString());
    // The agent takes the re-send back: nothing comes back by itself.
    const back = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend/cancel`, {
      token: h.ws.tokens.agent,
    });
    expect(back.status, back.text).toBe(200);
    expect((await h.get(b.id)).recovery.automatic.nextAt).toBeNull();
  }, 60_000);

  it("takes the contacts WhatsApp cannot reach to the channel's fallback (SMS), the rest stay on WhatsApp", async () => {
    const sim = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: `AC${'d'.repeat(32)}`, authToken: 'tw' });
    h.simulators.push(tw);
    const sms = (await h.channel({
      type: 'twilio_sms',
      name: 'SMS respaldo',
      credentials: { accountSid: `AC${'d'.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
      baseUrl: tw.baseUrl,
    })) as { id: number };
    const channel = await unlimitedWhatsApp(h, sim, 'WA con respaldo');
    const patch = (body: unknown) =>
      h.server.request('PATCH', `/api/v1/channels/${channel.id}`, { token: h.ws.tokens.manager, body, language: 'es' });
    // Itself, or a channel of another workspace, is refused with what to fix.
    const itself = await patch({ fallbackChannelId: channel.id });
    expect(itself.status).toBe(422);
    expect(itself.body.error.message).toContain('otro canal de este espacio de trabajo');
    const stranger = await h.server.workspace('Ajena', 'AR');
    const theirs = await h.server.request('POST', '/api/v1/channels', {
      token: stranger.tokens.manager,
      body: { type: 'sandbox', name: 'De otros' },
    });
    expect((await patch({ fallbackChannelId: theirs.body.id })).status).toBe(422);
    expect((await patch({ fallbackChannelId: sms.id })).body.fallbackChannelId).toBe(sms.id);

    const start = 630_000;
    await h.seedContacts(5, 'respaldo', { start });
    for (const n of [0, 1, 2]) sim.script(phone(start + n), { kind: 'fail', code: '131026' });
    sim.script(phone(start + 3), { kind: 'fail', code: '131000' });
    const b = await recovering('Con respaldo', channel.id, 'respaldo');
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { To: string }).To).sort()).toEqual(
      [0, 1, 2].map((n) => `+${phone(start + n)}`),
    );
    expect(new Set(tw.requests.map((r) => (r.body as { Body: string }).Body))).toEqual(new Set([TEMPLATE.text]));
    expect(sim.requests.filter((r) => r.recipient === phone(start + 3))).toHaveLength(2);
    const lineage = (await h.get(b.id)).recovery;
    expect(lineage.attempts[0]).toMatchObject({ attempt: 1, recovered: 3, failed: 1 });
    expect(lineage.left).toEqual({ total: 1, byReason: { provider_error: 1 } });
  }, 60_000);

  it('a failure a delivery report brings after the broadcast finished is recovered too, once the reports are gathered', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await unlimitedWhatsApp(h, sim, 'WA tardío');
    // Its status webhooks come to this server, signed with the app secret.
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    const start = 650_000;
    await h.seedContacts(3, 'tardio', { start });
    // Accepted at the send; WhatsApp's webhook reports the marketing cap (131049) for two afterwards.
    sim.script(phone(start), { kind: 'failLater', code: '131049', delayMs: 30 });
    sim.script(phone(start + 1), { kind: 'failLater', code: '131049', delayMs: 60 });
    const b = await recovering('Tardío', channel.id, 'tardio');
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    await sim.settle();
    const failed = await h.get(b.id);
    expect(failed.status).toBe('partially_failed');
    expect(failed.failedByReason).toEqual({ recipient_limit: 2 });
    // Gathering the reports: nothing planned yet.
    await engine.runUntilIdle();
    expect((await h.get(b.id)).recovery.attempts).toEqual([]);

    // Once gathered, one re-send of both, a day after their reports (the cap's advice), not now.
    offset = 16 * 60_000;
    await engine.runUntilIdle();
    const planned = (await h.get(b.id)).recovery;
    expect(planned.attempts).toHaveLength(1);
    expect(planned.attempts[0]).toMatchObject({ attempt: 1, pending: 2 });
    const [resendId] = planned.attempts[0].broadcastIds;
    const resend = await h.get(resendId);
    expect(Date.parse(resend.scheduledAt) - Date.now()).toBeGreaterThan(23 * HOUR);
    expect(Date.parse(resend.scheduledAt) - Date.now()).toBeLessThan(24 * HOUR + 5 * 60_000);
    const [due] = await h.server.database.db.all<{ at: number | null }>(
      sql`SELECT recovery_due_at AS at FROM broadcasts WHERE id = ${b.id}`,
    );
    expect(due?.at).toBeNull();

    // A day later the cap has lifted: both get it.
    sim.script(phone(start), { kind: 'accept' });
    sim.script(phone(start + 1), { kind: 'accept' });
    offset = 24 * HOUR + 20 * 60_000;
    await engine.runUntilIdle();
    expect([0, 1, 2].map((n) => sim.requests.filter((r) => r.recipient === phone(start + n)).length)).toEqual([
      2, 2, 1,
    ]);
  }, 60_000);

  it("a contact a report says is not on WhatsApp, after the broadcast finished, goes to the channel's fallback (SMS)", async () => {
    const sim = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: `AC${'e'.repeat(32)}`, authToken: 'tw' });
    h.simulators.push(tw);
    const sms = (await h.channel({
      type: 'twilio_sms',
      name: 'SMS respaldo tardío',
      credentials: { accountSid: `AC${'e'.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
      baseUrl: tw.baseUrl,
    })) as { id: number };
    const channel = await unlimitedWhatsApp(h, sim, 'WA 131026 tardío');
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { fallbackChannelId: sms.id },
    });
    const start = 655_000;
    await h.seedContacts(2, 'tardio sms', { start });
    // Accepted at the send; Meta's webhook then says the number has no WhatsApp (131026).
    sim.script(phone(start), { kind: 'failLater', code: '131026', delayMs: 30 });
    const b = await recovering('Tardío a SMS', channel.id, 'tardio sms');
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    await sim.settle();
    expect((await h.get(b.id)).failedByReason).toEqual({ not_on_channel: 1 });
    offset = 16 * 60_000;
    await engine.runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { To: string }).To)).toEqual([`+${phone(start)}`]);
    expect(sim.requests.filter((r) => r.recipient === phone(start))).toHaveLength(1);
  }, 60_000);

  it('a fallback whose number is held waits for it, and takes the contacts once a manager lifts the hold', async () => {
    const sim = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: `AC${'f'.repeat(32)}`, authToken: 'tw' });
    h.simulators.push(tw);
    const sms = (await h.channel({
      type: 'twilio_sms',
      name: 'SMS respaldo retenido',
      credentials: { accountSid: `AC${'f'.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
      baseUrl: tw.baseUrl,
    })) as { id: number };
    const channel = await unlimitedWhatsApp(h, sim, 'WA respaldo retenido');
    await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { fallbackChannelId: sms.id },
    });
    // The SMS number is held (its own guard tripped on another campaign).
    const hold = { kind: 'quality', scope: 'channel', at: Date.now(), outcomes: 200, harmful: 30 } as const;
    await holdNumber(h.server.database.db, sms.id, hold, Date.now());
    const start = 657_000;
    await h.seedContacts(1, 'respaldo retenido', { start });
    sim.script(phone(start), { kind: 'fail', code: '131026' });
    const b = await recovering('Respaldo retenido', channel.id, 'respaldo retenido');
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    expect(tw.requests).toHaveLength(0);
    const [due] = await h.server.database.db.all<{ at: number | null }>(
      sql`SELECT recovery_due_at AS at FROM broadcasts WHERE id = ${b.id}`,
    );
    expect((due?.at ?? 0) - Date.now()).toBeGreaterThan(50 * 60_000);
    const lifted = await h.server.request('POST', `/api/v1/channels/${sms.id}/resume`, { token: h.ws.tokens.manager });
    expect(lifted.status).toBe(200);
    offset = 2 * HOUR;
    await engine.runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { To: string }).To)).toEqual([`+${phone(start)}`]);
  }, 60_000);

  it('a fallback channel deleted: the channel falls back to nothing, and recovery still re-sends on its own', async () => {
    const sim = await whatsappSimulator(h);
    const spare = (await h.channel({ type: 'sandbox', name: 'Respaldo que se borra' })) as { id: number };
    const channel = await unlimitedWhatsApp(h, sim, 'WA sin respaldo');
    const manager = { token: h.ws.tokens.manager, language: 'es' as const };
    const patched = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      ...manager,
      body: { fallbackChannelId: spare.id },
    });
    expect(patched.body.fallbackChannelId).toBe(spare.id);
    expect((await h.server.request('DELETE', `/api/v1/channels/${spare.id}`, manager)).status).toBe(200);
    // What the manager sees: no fallback, rather than a channel that is gone.
    const read = await h.server.request('GET', `/api/v1/channels/${channel.id}`, manager);
    expect(read.body.fallbackChannelId).toBeNull();

    const start = 640_000;
    await h.seedContacts(2, 'sin respaldo', { start });
    sim.script(phone(start), { kind: 'fail', code: '131026' });
    sim.script(phone(start + 1), { kind: 'fail', code: '131000' });
    const b = await recovering('Respaldo borrado', channel.id, 'sin respaldo');
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    // The provider error is re-sent on WhatsApp (and fails again); planning is done, not retried forever.
    expect(sim.requests.filter((r) => r.recipient === phone(start + 1))).toHaveLength(2);
    const [due] = await h.server.database.db.all<{ at: number | null }>(
      sql`SELECT recovery_due_at AS at FROM broadcasts WHERE id = ${b.id}`,
    );
    expect(due?.at).toBeNull();
  }, 60_000);

  it('waits while the number is held (Meta flagged it), until a manager resumes the channel', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await unlimitedWhatsApp(h, sim, 'WA en pausa');
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    const start = 610_000;
    await h.seedContacts(2, 'held', { start });
    // Accepted, then reported failed (131000, a provider error a re-send can help) after the broadcast ended.
    sim.script(phone(start), { kind: 'failLater', code: '131000', delayMs: 100 });
    const segment = await h.segment('held', 'held');
    const b = await h.broadcast({ name: 'Retenida', channelId: channel.id, segmentId: segment.id, content: TEMPLATE });
    await h.server.request('PATCH', `/api/v1/broadcasts/${b.id}`, {
      token: h.ws.tokens.manager,
      body: { autoRecovery: 1 },
    });
    let offset = 0;
    const engine = h.engine({ clock: () => Date.now() + offset, maxAttempts: 1 });
    await h.schedule(b.id);
    await engine.runUntilIdle();
    expect(sim.requests).toHaveLength(2);
    // Meta flags the number while nothing is live on it: held all the same.
    await sim.signal({ kind: 'numberQuality', event: 'FLAGGED' });
    await until(async () => (await h.messages(b.id)).some((m) => m.state === 'failed'), 5_000);
    // Its round comes due: it waits for the number.
    offset = HOUR;
    await engine.runUntilIdle();
    const held = await h.get(b.id);
    expect(held.recovery.attempts).toEqual([]);
    expect(Date.parse(held.recovery.automatic.nextAt) - (Date.now() + offset)).toBeGreaterThan(50 * 60_000);
    expect(sim.requests).toHaveLength(2);
    // An agent cannot lift it; a manager resumes the channel (nothing of it was paused): the next look re-sends.
    const byAgent = await h.server.request('POST', `/api/v1/channels/${channel.id}/resume`, {
      token: h.ws.tokens.agent,
    });
    expect(byAgent.status).toBe(403);
    const resumed = await h.server.request('POST', `/api/v1/channels/${channel.id}/resume`, {
      token: h.ws.tokens.manager,
    });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body.hold).toBeNull();
    offset = 3 * HOUR;
    await engine.runUntilIdle();
    expect(sim.requests.filter((r) => r.recipient === phone(start))).toHaveLength(2);
  }, 60_000);

  it('a workspace default that new broadcasts take, set by a manager only', async () => {
    const byAgent = await h.server.request('PATCH', '/api/v1/me/workspace', {
      token: h.ws.tokens.agent,
      body: { autoRecovery: 2 },
    });
    expect(byAgent.status).toBe(403);
    const absurd = await h.server.request('PATCH', '/api/v1/me/workspace', {
      token: h.ws.tokens.manager,
      body: { autoRecovery: 1000 },
      language: 'es',
    });
    expect(absurd.status).toBe(422);
    const set = await h.server.request('PATCH', '/api/v1/me/workspace', {
      token: h.ws.tokens.manager,
      body: { autoRecovery: 2 },
    });
    expect(set.body.workspace.autoRecovery).toBe(2);
    const channel = (await h.channel({ type: 'sandbox', name: 'Sandbox auto' })) as { id: number };
    await h.seedContacts(1, 'defaults', { start: 620_000 });
    const segment = await h.segment('defaults', 'defaults');
    const inherits = await h.broadcast({
      name: 'Hereda',
      channelId: channel.id,
      segmentId: segment.id,
      content: TEMPLATE,
    });
    const none = await h.broadcast({
      name: 'Sin',
      channelId: channel.id,
      segmentId: segment.id,
      content: TEMPLATE,
      autoRecovery: 0,
    });
    expect((await h.get(inherits.id)).autoRecovery).toBe(2);
    expect((await h.get(none.id)).autoRecovery).toBe(0);
    await h.server.request('PATCH', '/api/v1/me/workspace', { token: h.ws.tokens.manager, body: { autoRecovery: 0 } });
  });
});
