/**
 * The recovery policy through the API, as an agent meets it: a mixed-reason broadcast gets a split
 * schedule, "now" is refused where the advice says wait, a re-send reaches exactly the failed rows
 * (never the tag's or a segment's other contacts), the pre-flight and the engine agree on a quota
 * without a 24 h window, and a broadcast that fails as a whole says why.
 */

import { EVENT_TYPES, type EventType, eventDataSchemas } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { holdNumber } from '../../src/engine/guard';
import { cancelResend } from '../../src/services/resend';
import { harness, S1_TEMPLATE, WA, whatsappSimulator, wroteTo } from './harness';

const h = await harness();
const HOUR = 3_600_000;

/** A broadcast of `content` to the contacts tagged `tag`, created (not scheduled). */
async function broadcastTo(name: string, channelId: number, tag: string, content: Record<string, unknown>) {
  const segment = await h.segment(name, tag);
  return h.broadcast({ name, channelId, segmentId: segment.id, content });
}

/** Schedules a broadcast now and runs the engine until nothing is due. */
async function sendNow(id: number, options: { maxAttempts?: number } = {}) {
  await h.schedule(id);
  await h.engine(options).runUntilIdle();
}

/** A re-send time `hours` from now, as the API takes it. */
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString();

/**
 * Two broadcasts of 5 on one sandbox number with a limit of 3 a day, sent now: the first reaches 3 and
 * fails 2 for the limit, the second fails all 5 (contacts `<tag> uno` from `start`, `<tag> dos` after).
 */
async function twoBacklogs(channelName: string, tag: string, start: number) {
  const channel = await h.channel({ type: 'sandbox', name: channelName, limits: { dailyQuota: 3 } });
  await h.seedContacts(5, `${tag} uno`, { start });
  await h.seedContacts(5, `${tag} dos`, { start: start + 100 });
  const one = await broadcastTo(`${tag} uno`, channel.id, `${tag} uno`, { text: 'Hola' });
  await sendNow(one.id);
  const two = await broadcastTo(`${tag} dos`, channel.id, `${tag} dos`, { text: 'Hola' });
  await sendNow(two.id);
  return { channel, one, two };
}

async function resend(id: number, body: unknown, language: 'es' | 'en' = 'es', token = h.ws.tokens.agent) {
  return h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, { token, body, language });
}

describe('a mixed-reason broadcast', () => {
  let broadcastId = 0;
  let channelId = 0;
  let earlier = 0;

  it('sends, and fails for four reasons with four different useful times', async () => {
    const sim = await whatsappSimulator(h);
    // A quota of 12, 4 of it used 20 h ago by other people: of 12 contacts 8 go and 4 fail with the
    // quota (room again in about 4 h); of the 8 sent, the simulator fails 2 with 131049 (marketing
    // limit per person), 1 with 131000 (provider error), 1 with 131026 (not on WhatsApp).
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WA mixed',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: 12, messagesPerSecond: 5000 },
    });
    channelId = channel.id;
    earlier = Date.now() - 20 * HOUR;
    for (let i = 0; i < 4; i++)
      await h.server.database.db.run(
        sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at) VALUES (${channelId}, ${`+5215500000${i}`}, ${earlier})`,
      );
    await h.seedContacts(12, 'mixed');
    sim.script('5491150000000', { kind: 'fail', code: '131049' });
    sim.script('5491150000001', { kind: 'fail', code: '131049' });
    sim.script('5491150000002', { kind: 'fail', code: '131000' });
    sim.script('5491150000003', { kind: 'fail', code: '131026' });
    const b = await broadcastTo('Mixta', channelId, 'mixed', S1_TEMPLATE);
    broadcastId = b.id;
    await sendNow(b.id, { maxAttempts: 1 });
    expect((await h.get(b.id)).failedByReason).toEqual({
      quota_reached: 4,
      recipient_limit: 2,
      provider_error: 1,
      not_on_channel: 1,
    });
  });

  it('"now" is refused for reasons whose advice says wait, with the reason and the time it would help', async () => {
    const res = await resend(broadcastId, { when: 'now' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('resend_too_early');
    expect(res.body.error.message).toContain('El contacto ya recibió muchos mensajes de marketing');
    const reasons = res.body.error.details.map((d: { reason: string }) => d.reason).sort();
    expect(reasons).toEqual(['quota_reached', 'recipient_limit']);
    // Nothing was written.
    const count = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${broadcastId}`,
    );
    expect(count[0]?.n).toBe(0);
  });

  it("the time it names is said in the reader's time zone when the request gives one, for an agent in another country", async () => {
    const at = (zone?: string) =>
      resend(broadcastId, { when: 'now', ...(zone && { timeZone: zone }) }).then((res) => {
        expect(res.body.error.code).toBe('resend_too_early');
        return /(\d\d):(\d\d)/.exec(res.body.error.message)?.slice(1).map(Number) as [number, number];
      });
    // The message names the latest of the reasons' useful times.
    const until = Math.max(
      ...(await resend(broadcastId, { when: 'now' })).body.error.details.map((d: { usefulFrom: string }) =>
        Date.parse(d.usefulFrom),
      ),
    );
    // The workspace is in Argentina (-03); an agent in Bogotá (-05) reads the same moment two hours earlier.
    const clock = (zone: string) =>
      new Intl.DateTimeFormat('es-AR', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .format(until)
        .split(':')
        .map(Number);
    expect(await at()).toEqual(clock('America/Argentina/Buenos_Aires'));
    expect(await at('America/Bogota')).toEqual(clock('America/Bogota'));
    const bad = await resend(broadcastId, { when: 'now', timeZone: 'Marte/Olympus' });
    expect(bad.status).toBe(422);
  });

  it('an "at" in the past, more than a year ahead, or "at" without a time, is refused with 422', async () => {
    const past = await resend(broadcastId, { when: inHours(-1) }, 'en');
    expect(past.status).toBe(422);
    expect(past.body.error.code).toBe('resend_at_past');
    const missing = await resend(broadcastId, { when: 'at' }, 'en');
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('resend_at_required');
    // A year typed wrong: refused with what to check, not a re-send that waits decades.
    const far = await resend(broadcastId, { when: inHours(20 * 365 * 24) }, 'en');
    expect(far.status).toBe(422);
    expect(far.body.error).toMatchObject({
      code: 'broadcast_schedule_far',
      message:
        'The send time is more than 366 days ahead. Check the year: a broadcast can be scheduled at most a year ahead.',
    });
  });

  it('the one-click default splits the re-send by useful time: provider error now, quota at capacity, 131049 in 24 h', async () => {
    const before = Date.now();
    const res = await resend(broadcastId, {});
    expect(res.status).toBe(200);
    const plan = res.body.plan as {
      broadcastId: number;
      at: string;
      count: number;
      byReason: Record<string, number>;
    }[];
    expect(plan.map((p) => p.byReason)).toEqual([{ provider_error: 1 }, { quota_reached: 4 }, { recipient_limit: 2 }]);
    const [now, capacity, later] = plan.map((p) => Date.parse(p.at)) as [number, number, number];
    expect(Math.abs(now - before)).toBeLessThan(60_000);
    // The quota frees when the 4 counted 20 h ago leave the rolling window; 131049: 24 h after the failure.
    expect(Math.abs(capacity - (earlier + 24 * HOUR))).toBeLessThan(2 * 60_000);
    expect(later).toBeGreaterThanOrEqual(before + 24 * HOUR - 60_000);
    expect(res.body.skipped).toEqual({ not_on_channel: 1 });
    expect(res.body.recipients).toBe(7);
    // 24 h ahead is "mañana" unless the minute it rounds up to is midnight the day after (a run in
    // the zone's last minute of the day reads "el jue 3 de dic 00:00").
    expect(res.body.summary).toMatch(
      /^1 ahora, 4 (hoy|mañana) \d\d:\d\d, 2 (mañana \d\d:\d\d|el \S+ \d+ de \S+ 00:00)$/,
    );
    // Linked re-sends, each scheduled for its own time with exactly its recipients.
    for (const part of plan) {
      const b = await h.get(part.broadcastId);
      expect(b).toMatchObject({ status: 'scheduled', resendOfId: broadcastId, targetCount: part.count });
      expect(Date.parse(b.scheduledAt)).toBe(Date.parse(part.at));
    }
    // Asking again changes nothing.
    const again = await resend(broadcastId, {});
    expect(again.body).toMatchObject({ reused: true, broadcastId: plan[0]?.broadcastId });
    const count = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${broadcastId}`,
    );
    expect(count[0]?.n).toBe(3);
  });

  it('the re-send due now sends to exactly its one recipient', async () => {
    const first = (await resend(broadcastId, {})).body.plan[0];
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    const done = await h.get(first.broadcastId);
    // Its one recipient (the simulator still fails that number with 131000), and nobody else.
    expect(done.counts).toEqual({ failed: 1 });
    expect(done.status).toBe('failed');
  });
});

describe('exact targets', () => {
  it("a tag that 300 other contacts carry, or a manager segment's name, never widens the re-send", async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox exact', limits: { dailyQuota: 3 } });
    await h.seedContacts(5, 'pocos', { start: 300_000 });
    await h.seedContacts(300, 'clientes vip', { start: 310_000 });
    const managerSegment = await h.segment('Todos los VIP', 'clientes vip');
    const b = await broadcastTo('Pocos', channel.id, 'pocos', { text: 'Hola' });

    // The pre-flight and the engine agree: 3 fit, 2 do not (a quota counts every new recipient without a window).
    const pre = (
      await h.server.request('GET', `/api/v1/broadcasts/${b.id}/preflight`, {
        token: h.ws.tokens.agent,
        language: 'en',
      })
    ).body;
    expect(pre.quota).toMatchObject({ limit: 3, needed: 5, fits: false, overflow: 2 });
    expect(pre.willSend).toBe(3);
    await sendNow(b.id);
    expect((await h.get(b.id)).counts).toEqual({ delivered: 3, failed: 2 });

    // The agent names the VIP tag: a unique tag is used and the re-send reaches exactly the 2.
    const byTag = await resend(b.id, { tag: 'clientes vip', when: 'at', at: inHours(30) });
    expect(byTag.status).toBe(200);
    expect(byTag.body.tag).not.toBe('clientes vip');
    expect(byTag.body.warnings.map((w: { code: string }) => w.code)).toContain('tag_changed');
    expect(byTag.body.recipients).toBe(2);
    const resent = await h.get(byTag.body.broadcastId);
    expect(resent.targetCount).toBe(2);
    // The manual path (segment "tag has any of <tag>") reaches the same two people.
    const preview = (
      await h.server.request('GET', `/api/v1/segments/${byTag.body.segmentId}/preview`, { token: h.ws.tokens.agent })
    ).body;
    expect(preview.count).toBe(2);
    await h.engine({ clock: () => Date.now() + 31 * HOUR }).runUntilIdle();
    expect((await h.get(byTag.body.broadcastId)).counts).toEqual({ delivered: 2 });
    // The manager's segment is untouched.
    expect(
      (await h.server.request('GET', `/api/v1/segments/${managerSegment.id}/preview`, { token: h.ws.tokens.agent }))
        .body.count,
    ).toBe(300);
  });

  it("a tag equal to an existing segment's name does not reuse that segment", async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox seg', limits: { dailyQuota: 1 } });
    await h.seedContacts(3, 'trio', { start: 400_000 });
    const b = await broadcastTo('Trío', channel.id, 'trio', { text: 'Hola' });
    await sendNow(b.id);
    const res = await resend(b.id, { tag: 'Todos los VIP', when: 'at', at: inHours(30) });
    expect(res.status).toBe(200);
    expect(res.body.tag).not.toBe('Todos los VIP');
    expect((await h.get(res.body.broadcastId)).targetCount).toBe(2);
  });
});

describe('tags at their limits', () => {
  it('a 100-character tag taken by another re-send gets a variant that fits, and the segments still list', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox largo', limits: { dailyQuota: 1 } });
    await h.seedContacts(2, 'largo uno', { start: 730_000 });
    await h.seedContacts(2, 'largo dos', { start: 730_100 });
    const long = `${'Recuperación de clientes '.repeat(4)}`.slice(0, 100);
    const one = await broadcastTo('Largo uno', channel.id, 'largo uno', { text: 'Hola' });
    await sendNow(one.id);
    expect((await resend(one.id, { tag: long, when: 'at', at: inHours(30) })).status).toBe(200);
    const two = await broadcastTo('Largo dos', channel.id, 'largo dos', { text: 'Hola' });
    await sendNow(two.id);
    // A day after the first's (the limit's one place a day is the first's at 30 h).
    const second = await resend(two.id, { tag: long, when: 'at', at: inHours(56) });
    expect(second.status).toBe(200);
    expect(second.body.tag).toMatch(new RegExp(`\\(#${two.id}\\)$`));
    expect(second.body.tag.length).toBeLessThanOrEqual(100);
    const list = await h.server.request('GET', '/api/v1/segments', { token: h.ws.tokens.agent });
    expect(list.status).toBe(200);
    const segment = await h.server.request('GET', `/api/v1/segments/${second.body.segmentId}`, {
      token: h.ws.tokens.agent,
    });
    expect(segment.status).toBe(200);
  });

  it('a tag whose every variant others carry is refused with what to do, not a 500', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox ocupado', limits: { dailyQuota: 1 } });
    await h.seedContacts(2, 'ocupado', { start: 730_200 });
    const b = await broadcastTo('Ocupado', channel.id, 'ocupado', { text: 'Hola' });
    await sendNow(b.id);
    // Someone else (not failed here) carries the tag and all 49 of its variants.
    await h.seedContacts(1, 'ajeno', { start: 730_300 });
    const [other] = await h.server.database.db.all<{ id: number }>(
      sql`SELECT ct.contact_id AS id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.key = 'ajeno'`,
    );
    const variants = ['x', `x (#${b.id})`, ...Array.from({ length: 48 }, (_, i) => `x (#${b.id}-${i + 2})`)];
    const tagged = await h.server.request('POST', `/api/v1/contacts/${other?.id}/tags`, {
      token: h.ws.tokens.agent,
      body: { tags: variants },
    });
    expect(tagged.status).toBe(200);
    const res = await resend(b.id, { tag: 'x', dryRun: true });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('resend_tag_taken');
    expect(res.body.error.message).toContain('elija otro nombre de etiqueta');
  });
});

describe('a number paused for its own sake', () => {
  it('takes no re-send until a manager resumes it; another channel may take them meanwhile', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox marcado', limits: { dailyQuota: 1 } });
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox otro' });
    await h.seedContacts(3, 'marcado', { start: 760_000 });
    const done = await broadcastTo('Marcado', channel.id, 'marcado', { text: 'Hola' });
    await sendNow(done.id);
    // Meta flagged the number: it is held.
    const flagged = { kind: 'number_quality', event: 'FLAGGED', at: Date.now(), scope: 'channel' } as const;
    await holdNumber(h.server.database.db, channel.id, flagged, Date.now());
    for (const token of [h.ws.tokens.agent, h.ws.tokens.manager]) {
      const refused = await resend(done.id, { dryRun: true }, 'es', token);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('resend_number_paused');
      expect(refused.body.error.message).toMatch(/^El número de esta transmisión está en pausa/);
    }
    // Tagging them to follow up by hand sends nothing: still allowed.
    const tagged = await resend(done.id, { tagOnly: true, tag: 'marcado revisar' }, 'es', h.ws.tokens.agent);
    expect(tagged.status, tagged.text).toBe(200);
    // On another number the pause does not hold (these quota failures are its own number's, so nothing
    // there to re-send: that is the answer, not the pause).
    const elsewhere = await resend(done.id, { channelId: other.id, dryRun: true }, 'es', h.ws.tokens.manager);
    expect(elsewhere.body.error?.code).toBe('resend_nothing');
  });
});

describe('a re-send planned before its number was paused', () => {
  it('does not start on it at its time: it waits paused the same way, for a manager', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox antes', limits: { dailyQuota: 1 } });
    await h.seedContacts(3, 'antes', { start: 780_000 });
    const done = await broadcastTo('Antes', channel.id, 'antes', { text: 'Hola' });
    await sendNow(done.id);
    const planned = await resend(done.id, { when: 'at', at: inHours(30) });
    expect(planned.status, planned.text).toBe(200);
    const part = planned.body.broadcastId as number;
    // Then Meta flagged the number while the re-send's start was being written (seen by nothing that
    // paused the number): the channel is held, the re-send still scheduled.
    const pause = { kind: 'number_quality', event: 'FLAGGED', at: Date.now(), scope: 'channel' };
    await h.server.database.db.run(sql`UPDATE channels SET hold = ${JSON.stringify(pause)} WHERE id = ${channel.id}`);
    await h.engine({ clock: () => Date.now() + 31 * HOUR }).runUntilIdle();
    const waiting = await h.get(part);
    expect(waiting.status).toBe('paused');
    expect(waiting.pause).toMatchObject({ kind: 'number_quality', event: 'FLAGGED' });
    expect(await h.messages(part)).toEqual([]);
  });
});

describe("an agent's cancel of a re-send", () => {
  it("leaves a part the engine started meanwhile sending: stopping it is a manager's cancel", async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox carrera', limits: { dailyQuota: 1 } });
    await h.seedContacts(2, 'carrera', { start: 730_400 });
    const b = await broadcastTo('Carrera', channel.id, 'carrera', { text: 'Hola' });
    await sendNow(b.id);
    const planned = await resend(b.id, { when: 'at', at: inHours(30) });
    expect(planned.status).toBe(200);
    const part = planned.body.broadcastId as number;
    // The cancel read the part as scheduled; the engine starts it before the cancel's transaction.
    const db = h.server.database.db;
    let started = false;
    const racing = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          if (!started) {
            started = true;
            await target.run(
              sql`UPDATE broadcasts SET status = 'sending', started_at = ${Date.now()} WHERE id = ${part}`,
            );
          }
          return (target.transaction as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as typeof db;
    await expect(cancelResend(racing, h.ws.id, b.id)).rejects.toMatchObject({ code: 'resend_nothing_to_cancel' });
    expect((await h.get(part)).status).toBe('sending');
  });
});

describe('"Cancelar este reenvío" with two re-sends of one broadcast', () => {
  it('takes back the parts the agent names, never another re-send of the broadcast; a part of another broadcast is none', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WA dos reenvíos',
      credentials: WA,
      baseUrl: sim.baseUrl,
    });
    await h.seedContacts(4, 'dos reenvios', { start: 741_000 });
    // Two fail with 131049 (marketing limit per person), one with 131000 (provider error), one arrives.
    sim.script('5491150741000', { kind: 'fail', code: '131049' });
    sim.script('5491150741001', { kind: 'fail', code: '131049' });
    sim.script('5491150741002', { kind: 'fail', code: '131000' });
    const b = await broadcastTo('Dos reenvíos', channel.id, 'dos reenvios', S1_TEMPLATE);
    await sendNow(b.id, { maxAttempts: 1 });
    expect((await h.get(b.id)).failedByReason).toEqual({ recipient_limit: 2, provider_error: 1 });
    // The agent re-sends the provider error tomorrow; a manager, the marketing limit when it helps.
    const mine = await resend(b.id, { reasons: ['provider_error'], when: 'at', at: inHours(30) });
    expect(mine.status, mine.text).toBe(200);
    const theirs = await resend(b.id, { reasons: ['recipient_limit'] }, 'es', h.ws.tokens.manager);
    expect(theirs.status, theirs.text).toBe(200);
    const myParts = (mine.body.plan as { broadcastId: number }[]).map((p) => p.broadcastId);
    const theirParts = (theirs.body.plan as { broadcastId: number }[]).map((p) => p.broadcastId);
    expect(myParts).toHaveLength(1);
    expect(theirParts.length).toBeGreaterThan(0);
    const cancel = (id: number, body?: unknown) =>
      h.server.request('POST', `/api/v1/broadcasts/${id}/resend/cancel`, { token: h.ws.tokens.agent, body });

    // A re-send of another broadcast named under this one is not this broadcast's to cancel.
    const other = await broadcastTo('Otra', channel.id, 'dos reenvios', { text: 'Hola' });
    expect((await cancel(other.id, { resendIds: myParts })).body.error.code).toBe('resend_nothing_to_cancel');
    expect((await cancel(b.id, { resendIds: [other.id] })).body.error.code).toBe('resend_nothing_to_cancel');
    expect((await cancel(b.id, { resendIds: [] })).status).toBe(422);
    expect((await h.get(myParts[0] as number)).status).toBe('scheduled');

    // "Cancelar este reenvío" under the agent's own re-send: that one goes, the manager's stays scheduled.
    const back = await cancel(b.id, { resendIds: myParts });
    expect(back.status, back.text).toBe(200);
    expect(back.body.cancelled).toEqual(myParts);
    expect((await h.get(myParts[0] as number)).status).toBe('cancelled');
    for (const id of theirParts) expect((await h.get(id)).status).toBe('scheduled');
    // Without a list (the API's own call), every one not started goes.
    const all = await cancel(b.id);
    expect(all.body.cancelled).toEqual(theirParts);
  });
});

describe('two clicks at once', () => {
  it('schedule one re-send: the other click changes nothing', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox twice', limits: { dailyQuota: 2 } });
    await h.seedContacts(6, 'doble', { start: 600_000 });
    const b = await broadcastTo('Doble', channel.id, 'doble', { text: 'Hola' });
    await sendNow(b.id);
    const answers = await Promise.all([resend(b.id, {}), resend(b.id, {})]);
    const statuses = answers.map((a) => a.status).sort();
    // Either the second saw the first's plan (200, reused) or lost the race (409); never two re-sends.
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]);
    const resends = await h.server.database.db.all<{ n: number; targets: number }>(
      sql`SELECT count(*) AS n, (SELECT count(*) FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
        WHERE r.resend_of_id = ${b.id}) AS targets FROM broadcasts WHERE resend_of_id = ${b.id}`,
    );
    // One plan (the quota of 2 splits the 4 into two daily waves), each failed recipient targeted once.
    const plan = answers.find((a) => a.status === 200)?.body.plan as unknown[];
    expect(resends[0]).toEqual({ n: plan.length, targets: 4 });
    expect(plan).toHaveLength(2);
  });
});

describe('a quota backlog far past the daily limit', () => {
  it('plans a week of daily waves, leaves the rest failed and says so; a second click waits for the waves', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox backlog', limits: { dailyQuota: 1 } });
    await h.seedContacts(10, 'atraso', { start: 700_000 });
    const b = await broadcastTo('Atraso', channel.id, 'atraso', { text: 'Hola' });
    await sendNow(b.id);
    expect((await h.get(b.id)).counts).toEqual({ delivered: 1, failed: 9 });

    // Tagging alone sends nothing: it tags all nine, whatever the waves.
    const tagOnly = await resend(b.id, { tagOnly: true, tag: 'atraso revisar' }, 'en');
    expect(tagOnly.status, tagOnly.text).toBe(200);
    expect(tagOnly.body).toMatchObject({ tagged: 9, skipped: {} });

    const first = await resend(b.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    // Seven waves of one, from when the limit frees: not nine waves, the last in nine days.
    expect(first.body.plan).toHaveLength(7);
    expect(first.body.recipients).toBe(7);
    expect(first.body.skipped).toEqual({ quota_reached: 2 });
    const capped = first.body.warnings.find((w: { code: string }) => w.code === 'quota_waves_capped');
    expect(capped?.message).toBe(
      "2 of 9 recipients do not fit in 7 days of the daily limit (1 a day): they are not scheduled and stay among the failed. Re-send them once these waves are done, or when the number's limit rises.",
    );
    const targets = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id WHERE r.resend_of_id = ${b.id}`,
    );
    expect(targets[0]?.n).toBe(7);

    // The two left wait for the waves: asking again plans nothing on top of them (it would meet the limit).
    const again = await resend(b.id, {}, 'en');
    expect(again.status, again.text).toBe(200);
    expect(again.body.reused).toBe(true);
    expect(again.body.recipients).toBe(7);
    expect(again.body.warnings.map((w: { code: string }) => w.code)).toContain('quota_waves_ahead');
    const resends = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${b.id}`,
    );
    expect(resends[0]?.n).toBe(7);
  });

  it("another broadcast's backlog on the same limit goes after the first one's waves, not into the same room", async () => {
    const { one, two } = await twoBacklogs('Sandbox dos atrasos', 'atraso', 740_000);
    expect((await h.get(one.id)).counts).toEqual({ delivered: 3, failed: 2 });
    expect((await h.get(two.id)).counts).toEqual({ failed: 5 });

    const first = await resend(one.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    const firstAt = Date.parse(first.body.plan.at(-1).at);
    const second = await resend(two.id, {}, 'en');
    expect(second.status, second.text).toBe(200);
    // 2 of the 3 a day go to the first re-send's wave: the second's waves start a day after it.
    const waves = second.body.plan as { at: string; count: number }[];
    expect(Date.parse(waves[0]?.at ?? '')).toBeGreaterThanOrEqual(firstAt + 24 * HOUR);
    expect(waves.map((w) => w.count)).toEqual([3, 2]);
  });

  it("another broadcast's re-send of another reason takes places in the limit too", async () => {
    const { one, two } = await twoBacklogs('Sandbox otro motivo', 'motivo', 770_000);
    const first = await resend(one.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    // Its two targets as if they had failed for another reason (a window that closed, say): a template
    // outside the window still takes a place in the limit when it goes.
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET resend_reasons = '{"window_closed":2}' WHERE resend_of_id = ${one.id}`,
    );
    const firstAt = Date.parse(first.body.plan.at(-1).at);
    const second = await resend(two.id, {}, 'en');
    expect(second.status, second.text).toBe(200);
    expect(Date.parse(second.body.plan[0]?.at ?? '')).toBeGreaterThanOrEqual(firstAt + 24 * HOUR);
  });

  it("another broadcast's re-send already due on the same limit counts too: the backlog goes after it", async () => {
    const { channel, one, two } = await twoBacklogs('Sandbox atraso debido', 'debido', 750_000);
    // A day later: the limit has room again, and the first re-send goes at once.
    await h.server.database.db.run(
      sql`UPDATE quota_ledger SET last_sent_at = last_sent_at - ${25 * HOUR} WHERE channel_id = ${channel.id}`,
    );
    const first = await resend(one.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    expect(first.body.plan).toHaveLength(1);
    expect(Date.parse(first.body.plan[0].at)).toBeLessThanOrEqual(Date.now());
    // Its 2 take 2 of the 3 today: 3 more would meet the limit, so the second's first wave is tomorrow.
    const second = await resend(two.id, {}, 'en');
    expect(second.status, second.text).toBe(200);
    const waves = second.body.plan as { at: string; count: number }[];
    expect(Date.parse(waves[0]?.at ?? '')).toBeGreaterThan(Date.now() + 23 * HOUR);
  });

  it("a re-send at a chosen time counts another broadcast's re-send on the same limit too: too early while they would not fit together", async () => {
    const { one, two } = await twoBacklogs('Sandbox a la hora', 'hora', 780_000);
    const first = await resend(one.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    const firstAt = Date.parse(first.body.plan.at(-1).at);
    // The second's 3 a minute after the first's 2 go, when the limit (3 a day) frees: 5 would meet it, and
    // the 2 last would fail for the limit again.
    const beside = await resend(two.id, { when: new Date(firstAt + 60_000).toISOString() }, 'en');
    expect(beside.status, beside.text).toBe(409);
    expect(beside.body.error.code).toBe('resend_too_early');
    expect(beside.body.error.details.map((d: { reason: string }) => d.reason)).toEqual(['quota_reached']);
    const usefulFrom = Date.parse(beside.body.error.details[0].usefulFrom);
    expect(usefulFrom).toBeGreaterThanOrEqual(firstAt + 24 * HOUR);
    // From the time it names, it fits: planned as asked.
    const after = await resend(two.id, { when: new Date(usefulFrom + 60_000).toISOString() }, 'en');
    expect(after.status, after.text).toBe(200);
    expect(after.body.plan).toHaveLength(1);
  });

  it('a chosen time takes no account of a re-send due two days later: that one takes none of its day', async () => {
    const { channel, one, two } = await twoBacklogs('Sandbox lejos', 'lejos', 800_000);
    // A day later: the limit has room again.
    await h.server.database.db.run(
      sql`UPDATE quota_ledger SET last_sent_at = last_sent_at - ${25 * HOUR} WHERE channel_id = ${channel.id}`,
    );
    const far = await resend(one.id, { when: inHours(48) }, 'en');
    expect(far.status, far.text).toBe(200);
    // The second's 3 now fill today's limit and are out of it 24 h later, before the first's 2 go.
    const now = await resend(two.id, { when: 'now', reasons: ['quota_reached'] }, 'en');
    expect(now.status, now.text).toBe(200);
    expect(now.body.recipients).toBe(5);
  });

  it("a wave's own re-send waits for the waves still ahead too: they hold the same limit", async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox waves', limits: { dailyQuota: 1 } });
    await h.seedContacts(4, 'oleadas', { start: 710_000 });
    await h.seedContacts(1, 'otro dia', { start: 720_000 });
    const b = await broadcastTo('Oleadas', channel.id, 'oleadas', { text: 'Hola' });
    await sendNow(b.id);
    const plan = (await resend(b.id, {}, 'en')).body.plan as { broadcastId: number; at: string }[];
    expect(plan).toHaveLength(3);
    // Tomorrow another broadcast takes the day's one place just before the first wave is due (so only it
    // runs then, whatever order an engine picks due broadcasts in): the wave fails too.
    const firstWaveAt = Date.parse(plan[0]?.at ?? '');
    const other = await broadcastTo('Otro', channel.id, 'otro dia', { text: 'Hola' });
    await h.schedule(other.id);
    await h.engine({ clock: () => firstWaveAt - 1 }).runUntilIdle();
    expect((await h.get(other.id)).counts).toEqual({ delivered: 1 });
    await h.engine({ clock: () => firstWaveAt + HOUR }).runUntilIdle();
    const wave = plan[0]?.broadcastId as number;
    expect((await h.get(wave)).counts).toEqual({ failed: 1 });
    // Re-sending that wave's failure now would only meet the limit the next two waves hold.
    const again = await resend(wave, {}, 'en');
    expect(again.status, again.text).toBe(422);
    expect(again.body.error.details.warnings.map((w: { code: string }) => w.code)).toEqual(['quota_waves_ahead']);
    const more = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${wave}`,
    );
    expect(more[0]?.n).toBe(0);
  });
});

describe('a re-send that fails at its start', () => {
  it('sent nothing and holds nobody: once the contact can be reached again, a new re-send takes them', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox sin numero', limits: { dailyQuota: 1 } });
    await h.seedContacts(2, 'sin numero', { start: 790_000 });
    const b = await broadcastTo('Sin número', channel.id, 'sin numero', { text: 'Hola' });
    await sendNow(b.id);
    const [failed] = await h.server.database.db.all<{ contact: number }>(
      sql`SELECT contact_id AS contact FROM messages WHERE broadcast_id = ${b.id} AND state = 'failed'`,
    );
    const contact = failed?.contact;
    const first = await resend(b.id, {}, 'en');
    expect(first.status, first.text).toBe(200);
    const wave = first.body.plan[0] as { broadcastId: number; at: string };
    // Before it goes, the contact's number is removed: at its time nobody is left to reach, and it fails.
    const patch = (phone: string | null) =>
      h.server.request('PATCH', `/api/v1/contacts/${contact}`, { token: h.ws.tokens.manager, body: { phone } });
    const phone = (await h.server.request('GET', `/api/v1/contacts/${contact}`, { token: h.ws.tokens.manager })).body
      .phone;
    expect((await patch(null)).status).toBe(200);
    await h.engine({ clock: () => Date.parse(wave.at) + HOUR }).runUntilIdle();
    const part = await h.get(wave.broadcastId, 'en');
    expect(part.status).toBe('failed');
    expect(part.error.code).toBe('broadcast_no_reachable_recipients');
    // Its own rows are not a second way to the same people: re-sent from the original only.
    const ofPart = await resend(wave.broadcastId, { reasons: ['no_identifier'] }, 'es');
    expect(ofPart.status, ofPart.text).toBe(409);
    expect(ofPart.body.error).toMatchObject({
      code: 'resend_of_unsent_resend',
      message:
        'Este reenvío no llegó a enviarse, así que no retiene a nadie: reenvíe desde la transmisión original, que vuelve a ofrecer a esos destinatarios.',
    });
    // The number is back: the failed part held them for good ("reused", nothing planned); now it is free.
    expect((await patch(phone)).status).toBe(200);
    const again = await resend(b.id, {}, 'en');
    expect(again.status, again.text).toBe(200);
    expect(again.body.reused).toBe(false);
    expect(again.body.recipients).toBe(1);
    // The broadcast is not "re-sent" meanwhile: its badge and the attention list see it failed again.
    const list = await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${b.id}`, { token: h.ws.tokens.agent });
    expect(list.body.data.map((r: { id: number }) => r.id)).toContain(again.body.broadcastId);
  });
});

describe('a broadcast that fails as a whole', () => {
  it("says why in the help page's style when every recipient was outside the 24 h window", async () => {
    const sim = await whatsappSimulator(h);
    const channel = await h.channel({ type: 'whatsapp', name: 'WA text', credentials: WA, baseUrl: sim.baseUrl });
    await h.seedContacts(2, 'ventana', { start: 500_000 });
    const b = await broadcastTo('Texto', channel.id, 'ventana', { text: 'Hola' });
    await sendNow(b.id);
    const failed = await h.get(b.id, 'es');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'broadcast_all_failed', reason: 'outside_window' });
    expect(failed.error.message).toBe(
      'Falló la transmisión: ningún contacto está dentro de la ventana de 24 horas; WhatsApp solo acepta una plantilla aprobada fuera de la ventana de 24 h; agregue una plantilla o fallarán.',
    );
    // Rebound's own reason is not a provider code, and no English text of ours is stored.
    const rows = await h.messages(b.id);
    expect(rows.map((r: Record<string, unknown>) => [r.reason, r.provider_code])).toEqual([
      ['outside_window', null],
      ['outside_window', null],
    ]);
  });
});

describe('a re-send with other content (issue #15)', () => {
  it('a template reaches the contacts the text could not; content a new broadcast could not have is refused, an agent may not write other content, and nothing is written', async () => {
    const sim = await whatsappSimulator(h);
    const channel = await h.channel({ type: 'whatsapp', name: 'WA otra', credentials: WA, baseUrl: sim.baseUrl });
    await h.seedContacts(2, 'otra plantilla', { start: 510_000 });
    const b = await broadcastTo('Solo texto', channel.id, 'otra plantilla', { text: 'Hola' });
    await sendNow(b.id);
    expect((await h.get(b.id)).failedByReason).toEqual({ outside_window: 2 });

    const bad = await resend(b.id, { content: { text: '', template: { name: 'x'.repeat(600), language: 'es' } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body.content.template.name',
      'body.content.text',
    ]);
    const none = await h.server.database.db.all(sql`SELECT id FROM broadcasts WHERE resend_of_id = ${b.id}`);
    expect(none).toEqual([]);

    const utility = {
      text: 'Su pedido está listo',
      template: { name: 'pedido_listo', language: 'es_AR', parameters: [] },
    };
    // Other words are a new message to everyone it failed for: an agent may not write one.
    const byAgent = await resend(b.id, { content: utility });
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error.code).toBe('forbidden');
    expect(byAgent.body.error.message).toContain('el rol gerente o superior');
    expect(await h.server.database.db.all(sql`SELECT id FROM broadcasts WHERE resend_of_id = ${b.id}`)).toEqual([]);
    const res = await resend(b.id, { content: utility }, 'es', h.ws.tokens.manager);
    expect(res.status).toBe(200);
    // With a template the closed window no longer stops them: both go now, in one re-send.
    expect(res.body.plan).toHaveLength(1);
    expect(res.body.plan[0]).toMatchObject({ count: 2, byReason: { outside_window: 2 } });
    const resent = await h.get(res.body.broadcastId);
    expect(resent.content).toEqual(utility);
    sim.requests.length = 0;
    await h.engine().runUntilIdle();
    expect(sim.requests.map((r) => (r.body as { template?: { name: string } }).template?.name)).toEqual([
      'pedido_listo',
      'pedido_listo',
    ]);
    expect((await h.get(res.body.broadcastId)).status).toBe('completed');
  });
});

describe('unconfirmed recipients', () => {
  /**
   * Three contacts: two whose request the simulator read and never answered (the connection dropped:
   * it may have reached WhatsApp), one refused with a provider error. Each step gets its own broadcast.
   */
  let sim: Awaited<ReturnType<typeof whatsappSimulator>>;
  let channelId = 0;
  let start = 9000;
  /** The two unconfirmed numbers of the latest broadcast. */
  let last: string[] = [];
  async function sendWithTwoUnconfirmed(name: string, content: Record<string, unknown> = S1_TEMPLATE) {
    sim ??= await whatsappSimulator(h);
    if (!channelId)
      channelId = (
        await h.channel({
          type: 'whatsapp',
          name: 'WA unconfirmed',
          credentials: WA,
          baseUrl: sim.baseUrl,
          limits: { dailyQuota: null, messagesPerSecond: 5000 },
        })
      ).id;
    const first = start;
    const phone = (i: number) => `54911${50_000_000 + first + i}`;
    sim.script(phone(0), { kind: 'reset' });
    sim.script(phone(1), { kind: 'reset' });
    sim.script(phone(2), { kind: 'fail', code: '131000' });
    await h.seedContacts(3, name, { start });
    start += 3;
    // A text goes only to those who wrote in the last 24 h: all three did, a minute ago.
    if (!('template' in content)) for (let i = 0; i < 3; i++) await wroteTo(h, channelId, `+${phone(i)}`);
    const b = await broadcastTo(name, channelId, name, content);
    await sendNow(b.id, { maxAttempts: 1 });
    expect((await h.get(b.id)).counts).toEqual({ uncertain: 2, failed: 1 });
    last = [phone(0), phone(1)];
    return b.id;
  }
  const byReason = (plan: { byReason: Record<string, number> }[]) =>
    plan.reduce<Record<string, number>>((all, p) => {
      for (const [reason, n] of Object.entries(p.byReason)) all[reason] = (all[reason] ?? 0) + n;
      return all;
    }, {});

  it('the one-click default leaves them out and says how many', async () => {
    const id = await sendWithTwoUnconfirmed('unconf default');
    const res = await resend(id, {}, 'en');
    expect(res.status).toBe(200);
    expect(res.body.recipients).toBe(1);
    expect(byReason(res.body.plan)).toEqual({ provider_error: 1 });
    expect(res.body.skipped).toEqual({ uncertain: 2 });
  });

  it('asked for before the delivery-report window has passed: still left out, with the time they may go', async () => {
    const id = await sendWithTwoUnconfirmed('unconf early');
    const res = await resend(id, { includeUnconfirmed: true }, 'en');
    expect(res.status).toBe(200);
    expect(res.body.recipients).toBe(1);
    expect(byReason(res.body.plan)).toEqual({ provider_error: 1 });
    const warning = res.body.warnings.find((w: { code: string }) => w.code === 'unconfirmed_too_soon');
    expect(warning?.message).toContain('2 unconfirmed recipients can be re-sent from');
  });

  it('asked for after the window: included, with a warning that some may get it twice, and sent', async () => {
    const id = await sendWithTwoUnconfirmed('unconf late');
    // A day and an hour pass with no delivery report for the two.
    await h.server.database.db.run(
      sql`UPDATE messages SET failed_at = failed_at - ${25 * HOUR} WHERE broadcast_id = ${id} AND state = 'uncertain'`,
    );
    const res = await resend(id, { includeUnconfirmed: true }, 'es');
    expect(res.status).toBe(200);
    expect(res.body.recipients).toBe(3);
    expect(byReason(res.body.plan)).toEqual({ provider_error: 1, uncertain: 2 });
    const warning = res.body.warnings.find((w: { code: string }) => w.code === 'unconfirmed_duplicates');
    expect(warning?.message).toMatch(/^2 /);
    // They really go out again: the provider sees the two numbers once more.
    sim.reset();
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    const asked = sim.requests.map((r) => r.recipient.replace(/\D/g, ''));
    for (const phone of last) expect(asked.filter((r) => r === phone)).toHaveLength(1);
  });

  it("a text's re-send leaves out those whose 24 h window has closed since, says so, and sends the others", async () => {
    const id = await sendWithTwoUnconfirmed('unconf text', { text: 'Su pedido está listo' });
    const wroteAgain = last[1] as string;
    const db = h.server.database.db;
    // A day and an hour pass: no delivery report for the two; of the three, only one wrote again (an hour ago).
    await db.run(sql`UPDATE messages SET failed_at = failed_at - ${25 * HOUR} WHERE broadcast_id = ${id}`);
    await db.run(sql`UPDATE conversation_windows SET last_inbound_at = last_inbound_at - ${25 * HOUR}
      WHERE channel_id = ${channelId} AND identifier IN (SELECT identifier FROM messages WHERE broadcast_id = ${id})`);
    await db.run(sql`UPDATE conversation_windows SET last_inbound_at = ${Date.now() - HOUR}
      WHERE channel_id = ${channelId} AND identifier = ${`+${wroteAgain}`}`);
    const preview = await resend(id, { includeUnconfirmed: true, dryRun: true }, 'es');
    expect(preview.status).toBe(200);
    expect(preview.body.recipients).toBe(1);
    expect(byReason(preview.body.plan)).toEqual({ uncertain: 1 });
    expect(preview.body.skipped).toEqual({ uncertain: 1, provider_error: 1 });
    const warning = preview.body.warnings.find((w: { code: string }) => w.code === 'window_closed');
    expect(warning?.message).toMatch(
      /^2 destinatarios quedan fuera: su ventana de 24 h .* reenvíe con una plantilla aprobada\.$/,
    );
    // Only the one it takes may get the message twice.
    const twice = preview.body.warnings.find((w: { code: string }) => w.code === 'unconfirmed_duplicates');
    expect(twice?.message).toMatch(/^1 destinatario sin confirmar se reenvía/);
    // At one time for everyone ("now"), the same one goes and the same two are left out, and counted.
    const atOnce = await resend(id, { includeUnconfirmed: true, when: 'now', dryRun: true }, 'es');
    expect(atOnce.status).toBe(200);
    expect(atOnce.body.recipients).toBe(1);
    expect(atOnce.body.skipped).toEqual({ uncertain: 1, provider_error: 1 });
    const res = await resend(id, { includeUnconfirmed: true }, 'es');
    expect(res.status).toBe(200);
    sim.reset();
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    expect(sim.requests.map((r) => r.recipient.replace(/\D/g, ''))).toEqual([wroteAgain]);
    expect((await h.get(res.body.broadcastId)).counts).toEqual({ sent: 1 });
    // The two left out stay failed, free for a template's re-send, which takes them.
    // (Other content is a manager's to write.)
    const body = { reasons: ['uncertain', 'provider_error'], content: S1_TEMPLATE, dryRun: true };
    const template = await resend(id, body, 'es', h.ws.tokens.manager);
    expect(template.status).toBe(200);
    expect(template.body.recipients).toBe(2);
  });

  it('a text none of whose recipients wrote since: nothing to re-send, and why', async () => {
    const id = await sendWithTwoUnconfirmed('unconf none', { text: 'Hola' });
    const db = h.server.database.db;
    await db.run(sql`UPDATE messages SET failed_at = failed_at - ${25 * HOUR} WHERE broadcast_id = ${id}`);
    await db.run(sql`UPDATE conversation_windows SET last_inbound_at = last_inbound_at - ${25 * HOUR}
      WHERE channel_id = ${channelId} AND identifier IN (SELECT identifier FROM messages WHERE broadcast_id = ${id})`);
    const res = await resend(id, { includeUnconfirmed: true }, 'en');
    expect(res.status).toBe(422);
    // The message says why, as the popup shows it (not only its details, which an agent never sees).
    expect(res.body.error.message).toMatch(
      /^No failed message that a re-send can help matches the chosen reasons\. 3 recipients are left out: their 24 h window will have closed/,
    );
    expect(res.body.error.details.skipped).toEqual({ uncertain: 2, provider_error: 1 });
    expect(await db.all(sql`SELECT id FROM broadcasts WHERE resend_of_id = ${id}`)).toEqual([]);
  });
});

describe('the events all this wrote', () => {
  it("each carries its type's payload, as the shared schemas describe it (what the extension reads)", async () => {
    const rows = await h.server.database.db.all<{ type: string; data: string }>(
      sql`SELECT type, data FROM events ORDER BY id`,
    );
    const seen = new Set<string>();
    for (const row of rows) {
      expect(EVENT_TYPES).toContain(row.type);
      const schema = eventDataSchemas[row.type as EventType];
      const parsed = schema.safeParse(JSON.parse(row.data));
      expect(parsed.error, `${row.type}: ${row.data}`).toBeUndefined();
      seen.add(row.type);
    }
    // The runs above wrote every kind a broadcast and a re-send go through.
    for (const type of ['broadcast.scheduled', 'broadcast.started', 'messages.failed', 'broadcast.partially_failed']) {
      expect(seen).toContain(type);
    }
    expect([...seen].filter((t) => t.startsWith('resend.')).sort()).toEqual(['resend.finished', 'resend.scheduled']);
    expect(seen).toContain('broadcast.failed');
  });
});
