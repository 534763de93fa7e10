/**
 * The quality guard (issue #15, part 1): a broadcast that makes contacts block or report the number
 * pauses, with the numbers, before it does more harm; Meta's own signals (a template paused or disabled,
 * the number flagged) pause the broadcasts they concern; a manager resumes, and nobody is sent twice.
 */
import { whatsappAccountWebhook, whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyWebhook } from '../../src/engine/delivery';
import { webhookChannel } from '../../src/services/channels';
import { type Harness, harness, WA, whatsappSimulator } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});

async function whatsappChannel(name: string, rate: number, guard?: Record<string, unknown>) {
  const sim = await whatsappSimulator(h);
  const channel = (await h.channel({
    type: 'whatsapp',
    name,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: null, messagesPerSecond: rate, pairRatePerRecipientSeconds: null },
    ...(guard && { guard }),
  })) as { id: number };
  sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
  return { sim, channel };
}

let contactsSeeded = 0;
async function broadcastTo(channelId: number, tag: string, count: number, template = 'promo', language = 'es_AR') {
  await h.seedContacts(count, tag, { start: 100_000 + contactsSeeded });
  contactsSeeded += count;
  const segment = await h.segment(tag, tag);
  return h.broadcast({
    name: tag,
    channelId,
    segmentId: segment.id,
    content: { text: 'Hola', template: { name: template, language, parameters: [] } },
  });
}

const request = (method: string, path: string, token: string, language: 'es' | 'en' | 'pt' = 'es') =>
  h.server.request(method, path, { token, language });

async function counts(broadcastId: number) {
  const rows = await h.server.database.db.all<{ state: string; n: number }>(
    sql`SELECT state, count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId} GROUP BY state`,
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>;
}

async function eventsOf(broadcastId: number, type: string) {
  return h.server.database.db.all<{ data: string }>(
    sql`SELECT data FROM events WHERE broadcast_id = ${broadcastId} AND type = ${type} ORDER BY id`,
  );
}

describe('the quality guard', () => {
  it('pauses a 10,000-recipient broadcast whose block rate jumps to 10 % at message 1,000 before 1,300 have gone out; a manager resumes it and nobody gets it twice', async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp ventas', 500);
    const broadcast = await broadcastTo(channel.id, 'spike', 10_000);
    // From the 1,001st send on, one in ten contacts has blocked the number (131050) or it is spam-limited.
    sim.setSpike({ after: 1000, share: 0.1, code: '131048' });
    await h.schedule(broadcast.id);
    await h.engine({ concurrency: 64 }).runUntilIdle({ timeoutMs: 120_000 });

    const paused = await h.get(broadcast.id, 'es');
    expect(paused.status).toBe('paused');
    // The 20th block is the 1,200th send (one in ten from the 1,001st): the guard cannot judge sooner, and
    // a pause that lands before any further send leaves the count at exactly 1,200.
    expect(sim.requests.length).toBeGreaterThanOrEqual(1200);
    expect(sim.requests.length).toBeLessThan(1300);
    expect(paused.pause).toMatchObject({ kind: 'quality', scope: 'broadcast', outcomes: 200 });
    expect(paused.pause.harmful).toBeGreaterThanOrEqual(20);
    expect(paused.pause.message).toBe(
      `Pausamos «spike»: el ${Math.round((paused.pause.harmful * 100) / 200)} % de los contactos bloqueó o reportó el número en los últimos 200 envíos`,
    );
    // Nothing half-sent: every recipient the provider never saw is still queued, none stuck "sending".
    const before = await counts(broadcast.id);
    expect(before.sending ?? 0).toBe(0);
    expect(before.queued).toBe(10_000 - sim.requests.length);
    const pausedEvents = await eventsOf(broadcast.id, 'broadcast.paused');
    expect(pausedEvents).toHaveLength(1);
    expect(JSON.parse(pausedEvents[0]?.data ?? '{}')).toMatchObject({
      previous: 'sending',
      pause: { kind: 'quality' },
    });
    // The event stream says it in the agent's words too.
    const stream = await request('GET', '/api/v1/events?wait=0', h.ws.tokens.agent);
    const said = (stream.body as { data: { type: string; message: string }[] }).data.find(
      (e) => e.type === 'broadcast.paused',
    );
    expect(said?.message).toBe(paused.pause.message);

    // An agent may not resume; a manager may.
    const byAgent = await request('POST', `/api/v1/broadcasts/${broadcast.id}/resume`, h.ws.tokens.agent);
    expect(byAgent.status).toBe(403);
    sim.setSpike(undefined);
    await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { limits: { messagesPerSecond: 5000 } },
    });
    const resumed = await request('POST', `/api/v1/broadcasts/${broadcast.id}/resume`, h.ws.tokens.manager);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'sending', pause: null });
    await h.engine({ concurrency: 64 }).runUntilIdle({ timeoutMs: 120_000 });

    // listmonk #2313: a resume that starts from the top sends some people three copies. Here: one each.
    const perRecipient = new Map<string, number>();
    for (const r of sim.requests) perRecipient.set(r.recipient, (perRecipient.get(r.recipient) ?? 0) + 1);
    expect(perRecipient.size).toBe(10_000);
    expect(Math.max(...perRecipient.values())).toBe(1);
    const after = await counts(broadcast.id);
    expect(after.queued ?? 0).toBe(0);
    expect(after.failed).toBe(before.failed);
    expect((await h.get(broadcast.id)).status).toBe('partially_failed');
    expect(await eventsOf(broadcast.id, 'broadcast.resumed')).toHaveLength(1);
  }, 180_000);

  it('leaves a broadcast alone when blocks stay under the threshold, and never pauses a channel whose guard is off', async () => {
    const calm = await whatsappChannel('WhatsApp tranquilo', 5000);
    const quiet = await broadcastTo(calm.channel.id, 'calm', 1000);
    // 2 % blocked: 4 of every 200, under 3 % and under 20 events.
    calm.sim.setSpike({ after: 0, share: 0.02, code: '131050' });
    await h.schedule(quiet.id);

    const off = await whatsappChannel('WhatsApp sin guardia', 5000, { enabled: false });
    const unguarded = await broadcastTo(off.channel.id, 'unguarded', 1000);
    off.sim.setSpike({ after: 0, share: 0.5, code: '131048' });
    await h.schedule(unguarded.id);
    await h.engine().runUntilIdle({ timeoutMs: 120_000 });

    expect((await h.get(quiet.id)).status).toBe('partially_failed');
    expect(calm.sim.requests).toHaveLength(1000);
    expect((await h.get(unguarded.id)).status).toBe('partially_failed');
    expect(off.sim.requests).toHaveLength(1000);
  }, 120_000);

  it('counts blocks reported by webhook after the send, and the settings are the channel’s', async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp webhook', 20, { window: 50, minEvents: 3, minPercent: 5 });
    const broadcast = await broadcastTo(channel.id, 'late blocks', 200);
    await h.schedule(broadcast.id);
    const engine = h.engine();
    engine.start();
    await untilSent(sim, 20);
    // Three contacts report the number after receiving it: Meta's status webhook, failed with 131050.
    for (const [i, sent] of sim.requests.slice(0, 3).entries()) {
      const ref = (sent.body as { biz_opaque_callback_data?: string }).biz_opaque_callback_data;
      const signed = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId: `wamid.late${i}`,
        ...(ref !== undefined && { clientRef: ref }),
        recipient: sent.recipient,
        status: 'failed',
        error: { code: '131050' },
      });
      const res = await fetch(sim.webhookUrl ?? '', { method: 'POST', headers: signed.headers, body: signed.body });
      expect(res.status).toBe(200);
    }
    await untilStatus(broadcast.id, 'paused');
    await engine.stop();
    const paused = await h.get(broadcast.id, 'en');
    expect(paused.pause).toMatchObject({ kind: 'quality', harmful: 3 });
    expect(paused.pause.message).toMatch(
      /^We paused “late blocks”: \d+% of contacts blocked or reported the number in the last \d+ sends$/,
    );
    expect(sim.requests.length).toBeLessThan(200);
  }, 60_000);

  it('a template Meta paused pauses every broadcast of the number that sends it, scheduled ones too, and only those', async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp plantillas', 20);
    const promo = await broadcastTo(channel.id, 'promo now', 200, 'promo_navidad');
    const other = await broadcastTo(channel.id, 'other template', 200, 'recordatorio');
    const later = await broadcastTo(channel.id, 'promo later', 10, 'promo_navidad');
    // The same name in English is another template to Meta: Meta paused the es_AR one.
    const english = await broadcastTo(channel.id, 'promo english', 10, 'promo_navidad', 'en_US');
    await h.schedule(promo.id);
    await h.schedule(other.id);
    await h.schedule(later.id, new Date(Date.now() + 3_600_000).toISOString());
    await h.schedule(english.id, new Date(Date.now() + 3_600_000).toISOString());
    const engine = h.engine();
    engine.start();
    await untilSent(sim, 10);
    const answer = await sim.signal({ kind: 'templateStatus', template: 'promo_navidad', event: 'PAUSED' });
    expect(answer.status).toBe(200);
    await untilStatus(promo.id, 'paused');
    const paused = await h.get(promo.id, 'es');
    expect(paused.pause).toMatchObject({ kind: 'template', template: 'promo_navidad', event: 'PAUSED' });
    expect(paused.pause.message).toBe(
      'Pausamos «promo now»: Meta pausó la plantilla «promo_navidad» por baja calidad; espere a que Meta la reactive o elija otra plantilla',
    );
    expect((await h.get(later.id)).status).toBe('paused');
    expect((await h.get(english.id)).status).toBe('scheduled');
    // Started, it resumes with the recipients it froze: a pre-flight of its segment now would promise others.
    const preflight = await request('GET', `/api/v1/broadcasts/${promo.id}/preflight`, h.ws.tokens.manager);
    expect(preflight.status).toBe(409);
    expect(preflight.body.error).toMatchObject({ code: 'preflight_started' });
    expect(preflight.body.error.message).toMatch(/^La transmisión ya empezó \(«en pausa»\)/);
    // Not started yet (scheduled, then paused before its time): its pre-flight still says what it would do.
    expect((await request('GET', `/api/v1/broadcasts/${later.id}/preflight`, h.ws.tokens.manager)).status).toBe(200);
    expect((await h.get(other.id)).status).toBe('sending');
    // The paused one sends nothing more while the other goes on.
    const promoSends = () => sim.requests.filter((r) => JSON.stringify(r.body).includes('promo_navidad')).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = promoSends();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(promoSends()).toBe(settled);
    await engine.stop();

    // A resume puts a broadcast back where it was: the one that never started is scheduled again.
    const resumed = await request('POST', `/api/v1/broadcasts/${later.id}/resume`, h.ws.tokens.owner);
    expect(resumed.body).toMatchObject({ status: 'scheduled', pause: null });
    // A broadcast that is not paused cannot be resumed; another workspace's cannot be seen.
    const notPaused = await request('POST', `/api/v1/broadcasts/${other.id}/resume`, h.ws.tokens.manager);
    expect(notPaused.status).toBe(409);
    expect(notPaused.body.error).toMatchObject({ code: 'broadcast_not_paused' });
    expect(notPaused.body.error.message).toContain('Solo una transmisión pausada se puede reanudar');
    const stranger = await h.server.workspace('Otra tienda', 'MX');
    const foreign = await request('POST', `/api/v1/broadcasts/${promo.id}/resume`, stranger.tokens.manager);
    expect(foreign.status).toBe(404);
    // A paused broadcast can be cancelled instead: its queued recipients are cancelled.
    const cancelled = await request('POST', `/api/v1/broadcasts/${promo.id}/cancel`, h.ws.tokens.manager);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect((await counts(promo.id)).queued ?? 0).toBe(0);
  }, 60_000);

  it('a send Meta refuses for its template (132015 paused, 132016 disabled) pauses the broadcasts sending it at once, as the event would, rather than fail every recipient', async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp plantilla rechazada', 20);
    const promo = await broadcastTo(channel.id, 'refused now', 200, 'promo_rechazada');
    const later = await broadcastTo(channel.id, 'refused later', 10, 'promo_rechazada');
    const other = await broadcastTo(channel.id, 'refused other', 10, 'recordatorio_ok');
    await h.schedule(later.id, new Date(Date.now() + 3_600_000).toISOString());
    await h.schedule(other.id, new Date(Date.now() + 3_600_000).toISOString());
    sim.setDefault({ kind: 'fail', code: '132015' });
    try {
      await h.schedule(promo.id);
      const engine = h.engine();
      engine.start();
      await untilStatus(promo.id, 'paused');
      await engine.stop();
    } finally {
      sim.setDefault({ kind: 'accept' });
    }
    const paused = await h.get(promo.id, 'es');
    expect(paused.pause).toMatchObject({ kind: 'template', template: 'promo_rechazada', event: 'PAUSED' });
    // A few in flight when Meta refused the first: not the 200.
    expect(paused.failedByReason.template_problem).toBeGreaterThan(0);
    expect(paused.failedByReason.template_problem).toBeLessThan(60);
    expect((await counts(promo.id)).queued).toBeGreaterThan(140);
    expect((await h.get(later.id)).status).toBe('paused');
    expect((await h.get(other.id)).status).toBe('scheduled');

    // The same refusal in a status report (a 132016 after the send was accepted) pauses as well.
    const { sim: sim2, channel: second } = await whatsappChannel('WhatsApp plantilla desactivada', 20);
    const reported = await broadcastTo(second.id, 'disabled by report', 200, 'promo_desactivada');
    sim2.setDefault({ kind: 'failLater', code: '132016', delayMs: 5 });
    try {
      await h.schedule(reported.id);
      const engine = h.engine();
      engine.start();
      await untilStatus(reported.id, 'paused');
      await engine.stop();
      await sim2.settle();
    } finally {
      sim2.setDefault({ kind: 'accept' });
    }
    expect((await h.get(reported.id)).pause).toMatchObject({ kind: 'template', event: 'DISABLED' });
    expect((await counts(reported.id)).queued).toBeGreaterThan(100);
  }, 60_000);

  it('the number flagged by Meta pauses what the number is sending and what it will send; an upgrade pauses nothing', async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp calidad', 20);
    const broadcast = await broadcastTo(channel.id, 'flagged', 200);
    // Planned for tomorrow (a re-send waiting for the marketing cap, say): it would start on the flagged number.
    const tomorrow = await broadcastTo(channel.id, 'flagged tomorrow', 10);
    await h.schedule(tomorrow.id, new Date(Date.now() + 24 * 3_600_000).toISOString());
    await h.schedule(broadcast.id);
    const engine = h.engine();
    engine.start();
    await untilSent(sim, 5);
    await sim.signal({ kind: 'numberQuality', event: 'UPGRADE', currentLimit: 'TIER_10K' });
    expect((await h.get(broadcast.id)).status).toBe('sending');
    expect((await h.get(tomorrow.id)).status).toBe('scheduled');
    await sim.signal({ kind: 'numberQuality', event: 'FLAGGED' });
    await untilStatus(broadcast.id, 'paused');
    await engine.stop();
    expect((await h.get(tomorrow.id, 'es')).pause).toMatchObject({ kind: 'number_quality', event: 'FLAGGED' });
    // Resumed once weighed, it is scheduled for its time again.
    const resumed = await request('POST', `/api/v1/broadcasts/${tomorrow.id}/resume`, h.ws.tokens.manager);
    expect(resumed.body).toMatchObject({ status: 'scheduled', pause: null });
    expect(
      (await request('GET', `/api/v1/broadcasts/${broadcast.id}`, h.ws.tokens.agent, 'pt')).body.pause,
    ).toMatchObject({
      kind: 'number_quality',
      scope: 'channel',
      event: 'FLAGGED',
      message:
        'Pausamos “flagged”: a Meta sinalizou a qualidade do número (FLAGGED); verifique no WhatsApp Manager antes de retomar',
    });
  }, 60_000);

  it("a channel learns its display number from Meta's webhooks for its number: another number's FLAGGED then pauses nothing, its own does; a new number forgets it", async () => {
    const { sim, channel } = await whatsappChannel('WhatsApp aprende', 20);
    const tomorrow = await broadcastTo(channel.id, 'learned number', 3);
    const at = new Date(Date.now() + 24 * 3_600_000).toISOString();
    await h.schedule(tomorrow.id, at);
    const post = async (signed: { headers: Record<string, string>; body: string }) => {
      const res = await fetch(sim.webhookUrl ?? '', { method: 'POST', headers: signed.headers, body: signed.body });
      expect(res.status).toBe(200);
    };
    const flagged = (displayPhoneNumber: string) =>
      post(
        whatsappAccountWebhook(
          { appSecret: WA.appSecret, displayPhoneNumber },
          { kind: 'numberQuality', event: 'FLAGGED' },
        ),
      );
    const status = (phoneNumberId: string, displayPhoneNumber: string) =>
      post(
        whatsappStatusWebhook({
          appSecret: WA.appSecret,
          phoneNumberId,
          displayPhoneNumber,
          providerMessageId: 'wamid.learn',
          recipient: '5491155550001',
          status: 'delivered',
        }),
      );
    // Another number of the same Meta app writes to this URL: its display number is not learned.
    await status('1099990000', '15550009999');
    // This number's own delivery report names its display number beside its ID.
    await status(WA.phoneNumberId, '15550783881');
    const [known] = await h.server.database.db.all<{ business_account: string | null }>(
      sql`SELECT business_account FROM channels WHERE id = ${channel.id}`,
    );
    expect(known?.business_account).toBe('102290129340398');
    await flagged('15550009999');
    expect((await h.get(tomorrow.id)).status).toBe('scheduled');
    await flagged('+1 555-078-3881');
    expect((await h.get(tomorrow.id, 'es')).pause).toMatchObject({ kind: 'number_quality', event: 'FLAGGED' });
    expect((await request('POST', `/api/v1/broadcasts/${tomorrow.id}/resume`, h.ws.tokens.manager)).body).toMatchObject(
      { status: 'scheduled' },
    );
    // The channel moves to another number: what it learned was the old number's, so any number's event counts again.
    const moved = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { credentials: { phoneNumberId: '1077770000' } },
    });
    expect(moved.status).toBe(200);
    await flagged('15550009999');
    expect((await h.get(tomorrow.id)).status).toBe('paused');
    // A webhook of the old number, read before the move and applied after it, teaches the channel nothing.
    const stale = { ...(await webhookChannel(h.server.database.db, 'whatsapp', String(channel.id))) };
    stale.credentials = { ...stale.credentials, phoneNumberId: WA.phoneNumberId };
    await applyWebhook(h.server.database.db, stale, {
      updates: [],
      inbound: [],
      displayNumber: '15550783881',
      businessAccount: '102290129340398',
    });
    const [learned] = await h.server.database.db.all<{
      display_number: string | null;
      business_account: string | null;
    }>(sql`SELECT display_number, business_account FROM channels WHERE id = ${channel.id}`);
    expect(learned).toEqual({ display_number: null, business_account: null });
  }, 30_000);

  it('a guard that could never pause is refused with what to fix; the channel shows its guard', async () => {
    const { channel } = await whatsappChannel('WhatsApp ajustes', 20);
    const shown = await request('GET', `/api/v1/channels/${channel.id}`, h.ws.tokens.agent);
    expect(shown.body.guard).toEqual({ enabled: true, window: 200, minPercent: 3, minEvents: 20 });
    const impossible = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      language: 'es',
      body: { guard: { minEvents: 500 } },
    });
    expect(impossible.status).toBe(422);
    expect(JSON.stringify(impossible.body)).toContain('guard.minEvents');
    const byAgent = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.agent,
      body: { guard: { enabled: false } },
    });
    expect(byAgent.status).toBe(403);
    const changed = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { guard: { minPercent: 5 } },
    });
    expect(changed.body.guard).toEqual({ enabled: true, window: 200, minPercent: 5, minEvents: 20 });
  });
});

async function untilSent(sim: { requests: unknown[] }, n: number) {
  const deadline = Date.now() + 30_000;
  while (sim.requests.length < n) {
    if (Date.now() > deadline) throw new Error(`only ${sim.requests.length} of ${n} sends`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilStatus(id: number, status: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = (await h.get(id)).status;
    if (now === status) return;
    if (Date.now() > deadline) throw new Error(`broadcast ${id} is ${now}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
