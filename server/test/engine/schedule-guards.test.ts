/**
 * Scheduling never sends anyone a broadcast twice: a paused broadcast goes on with a resume, not with
 * a second schedule (which froze its whole audience again); a broadcast whose start is under way keeps
 * the time, channel and segment its freeze is using; an edit refused leaves nothing half-saved.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBroadcast } from '../../src/engine/start';
import { gatedEngine, type Harness, harness, whatsappBroadcast, whatsappSimulator } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});

let seeded = 0;
async function broadcastOn(channelId: number, tag: string, count: number) {
  await h.seedContacts(count, tag, { start: 300_000 + seeded });
  seeded += count;
  const segment = await h.segment(tag, tag);
  const broadcast = await h.broadcast({
    name: tag,
    channelId,
    segmentId: segment.id,
    content: { text: 'Hola', template: { name: 'promo', language: 'es_AR', parameters: [] } },
  });
  return { broadcast, segment };
}

const request = (method: string, path: string, body?: unknown) =>
  h.server.request(method, path, { token: h.ws.tokens.manager, language: 'es', ...(body !== undefined && { body }) });

async function rows(broadcastId: number) {
  const [row] = await h.server.database.db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId}`,
  );
  return Number(row?.n);
}

describe('scheduling a broadcast', () => {
  it('a broadcast paused mid-send cannot be scheduled again (that sent everyone a second copy); resumed, each contact gets it once', async () => {
    const sim = await whatsappSimulator(h);
    const broadcast = await whatsappBroadcast(h, sim, { tag: 'pausada', count: 20, rate: 50, start: 400_000 });
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${broadcast.channelId}`;
    await h.schedule(broadcast.id);
    const { engine, open } = gatedEngine(h, 5);
    engine.start();
    const deadline = Date.now() + 10_000;
    while (sim.requests.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await sim.signal({ kind: 'numberQuality', event: 'FLAGGED' });
    while ((await h.get(broadcast.id)).status !== 'paused' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    open();
    expect((await h.get(broadcast.id)).status).toBe('paused');

    for (const body of [{}, { at: new Date(Date.now() + 3_600_000).toISOString() }]) {
      const again = await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, body);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('broadcast_paused_resume');
      expect(again.body.error.message).toBe(
        'La transmisión está pausada. Reanúdela para que siga donde quedó: programarla otra vez la enviaría de nuevo a quienes ya la recibieron.',
      );
    }
    expect(await rows(broadcast.id)).toBe(20);
    expect((await h.get(broadcast.id)).status).toBe('paused');

    expect((await request('POST', `/api/v1/broadcasts/${broadcast.id}/resume`)).body).toMatchObject({
      status: 'sending',
    });
    while ((await h.get(broadcast.id)).status === 'sending' && Date.now() < deadline + 20_000)
      await new Promise((r) => setTimeout(r, 20));
    await engine.stop();
    expect((await h.get(broadcast.id)).status).toBe('completed');
    const recipients = sim.requests.map((r) => JSON.stringify((r.body as { to?: string }).to));
    expect(recipients).toHaveLength(20);
    expect(new Set(recipients).size).toBe(20);
  }, 60_000);

  it('a broadcast paused before it started may move to another time, and stays paused until a manager resumes it', async () => {
    const sim = await whatsappSimulator(h);
    const broadcast = await whatsappBroadcast(h, sim, { tag: 'mover', count: 4, rate: 50, start: 400_100 });
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${broadcast.channelId}`;
    await h.schedule(broadcast.id, new Date(Date.now() + 3_600_000).toISOString());
    await sim.signal({ kind: 'numberQuality', event: 'FLAGGED' });
    expect((await h.get(broadcast.id)).status).toBe('paused');
    const nextWeek = new Date(Date.now() + 7 * 24 * 3_600_000).toISOString();
    const moved = await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, { at: nextWeek });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ status: 'paused', scheduledAt: nextWeek, targetCount: 4 });
    expect(moved.body.pause).toMatchObject({ kind: 'number_quality' });
    // Nobody reading the events is told it is "programada": it still waits for a manager.
    const scheduledEvents = await h.server.database.db.all(
      sql`SELECT id FROM events WHERE broadcast_id = ${broadcast.id} AND type = 'broadcast.scheduled'`,
    );
    expect(scheduledEvents).toHaveLength(1);
    expect(await rows(broadcast.id)).toBe(0);
    expect((await request('POST', `/api/v1/broadcasts/${broadcast.id}/resume`)).body).toMatchObject({
      status: 'scheduled',
      scheduledAt: nextWeek,
    });
  });

  it('a time more than a year ahead (a year typed wrong) is refused with what to check; a year ahead is fine', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox lejos' });
    const { broadcast } = await broadcastOn(channel.id, 'lejos', 2);
    const typo = new Date(Date.now() + 36 * 365 * 86_400_000).toISOString();
    const far = await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, { at: typo });
    expect(far.status).toBe(422);
    expect(far.body.error).toMatchObject({
      code: 'broadcast_schedule_far',
      message:
        'La fecha de envío está a más de 366 días. Revise el año: una transmisión se programa como máximo con un año de anticipación.',
    });
    expect((await h.get(broadcast.id)).status).toBe('draft');
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString();
    expect((await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, { at: nextYear })).status).toBe(200);
  });

  it('once the engine has begun its start, its time, channel and segment stay; cancel still works', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox inicio' });
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox otro' });
    const { broadcast, segment } = await broadcastOn(channel.id, 'inicio', 30);
    const { segment: otherSegment } = await broadcastOn(channel.id, 'otro segmento', 5);
    await h.schedule(broadcast.id);
    // An engine process that stops after the first chunk of its freeze: its start lease stays.
    let chunks = 0;
    await startBroadcast(
      {
        db: h.server.database.db,
        workerId: 'stopped-engine',
        leaseMs: 60_000,
        freezeRows: 10,
        clock: Date.now,
        stopping: () => chunks++ > 0,
      },
      broadcast.id,
    );
    expect(await rows(broadcast.id)).toBeGreaterThan(0);
    const later = new Date(Date.now() + 7 * 24 * 3_600_000).toISOString();
    const refused = [
      await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, { at: later }),
      await request('PATCH', `/api/v1/broadcasts/${broadcast.id}`, { channelId: other.id }),
      await request('PATCH', `/api/v1/broadcasts/${broadcast.id}`, { segmentId: otherSegment.id }),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('broadcast_starting');
      expect(answer.body.error.message).toContain('Todavía puede cancelarla');
    }
    const kept = await h.get(broadcast.id);
    expect(kept).toMatchObject({ status: 'scheduled', channelId: channel.id, segmentId: segment.id });
    expect(new Date(kept.scheduledAt).getTime()).toBeLessThan(Date.now());
    const cancelled = await request('POST', `/api/v1/broadcasts/${broadcast.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
  });

  it('a broadcast moved to a later time after the engine found it due is not started', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox después' });
    const { broadcast } = await broadcastOn(channel.id, 'despues', 5);
    await h.schedule(broadcast.id);
    // Found due (the engine's list), then moved to next week by a manager before its start transaction.
    const nextWeek = new Date(Date.now() + 7 * 24 * 3_600_000).toISOString();
    expect((await request('POST', `/api/v1/broadcasts/${broadcast.id}/schedule`, { at: nextWeek })).status).toBe(200);
    await startBroadcast(
      {
        db: h.server.database.db,
        workerId: 'late-engine',
        leaseMs: 60_000,
        freezeRows: 100,
        clock: Date.now,
        stopping: () => false,
      },
      broadcast.id,
    );
    expect(await rows(broadcast.id)).toBe(0);
    expect(await h.get(broadcast.id)).toMatchObject({ status: 'scheduled', scheduledAt: nextWeek });
  });

  it('a segment change to a broadcast the engine has not reached yet is saved and re-targeted, not refused half-saved', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox edición' });
    const { broadcast } = await broadcastOn(channel.id, 'edicion', 4);
    const { segment: bigger } = await broadcastOn(channel.id, 'edicion grande', 9);
    await h.schedule(broadcast.id, new Date(Date.now() + 3_600_000).toISOString());
    // Due a minute and more ago while the engine is busy elsewhere: the edit re-targets it from now.
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET scheduled_at = ${Date.now() - 120_000} WHERE id = ${broadcast.id}`,
    );
    const changed = await request('PATCH', `/api/v1/broadcasts/${broadcast.id}`, { segmentId: bigger.id });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ segmentId: bigger.id, targetCount: 9, status: 'scheduled' });
    expect(await h.get(broadcast.id)).toMatchObject({ segmentId: bigger.id, targetCount: 9 });
  });
});
