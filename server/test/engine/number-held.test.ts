/**
 * A number held for its own sake (the quality guard's channel window, or Meta's flag) takes nothing new
 * until a manager lifts the hold: a new broadcast is refused with what to do (the pre-flight says so
 * first), one moved onto the number too; one already due waits paused with it; the hold lives on the
 * channel, so an agent's cancel of what it paused does not lift it, and a flag that came while nothing
 * was live holds too. A pause of one broadcast's own audience holds nothing else.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { holdNumber, pauseBroadcasts } from '../../src/engine/guard';
import { startBroadcast } from '../../src/engine/start';
import { harness } from './harness';

const h = await harness();
const HOUR = 3_600_000;
const FLAGGED = { kind: 'number_quality', event: 'FLAGGED', scope: 'channel' } as const;
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString();

const manager = (method: 'POST' | 'PATCH' | 'GET', path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body, language: 'es' });
const agent = (method: 'POST' | 'GET', path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.agent, body, language: 'es' });

/** A sandbox number and a segment of 3 contacts, and a broadcast to them scheduled for later. */
async function numberWithPlan(name: string, tag: string, start: number) {
  const channel = await h.channel({ type: 'sandbox', name });
  await h.seedContacts(3, tag, { start });
  const segment = await h.segment(`${name} seg`, tag);
  const planned = await h.broadcast({
    name: `${name} plan`,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola' },
  });
  await h.schedule(planned.id, inHours(5));
  return { channel, segment, planned };
}

/** Meta flags the number now: what is live on it pauses, and the number is held. */
const flag = (channelId: number) =>
  holdNumber(h.server.database.db, channelId, { ...FLAGGED, at: Date.now() }, Date.now());

describe('a new broadcast on a held number', () => {
  it('is refused with what to do, and the pre-flight says so before; another channel takes it', async () => {
    const { channel, segment, planned } = await numberWithPlan('Sandbox marcado nuevo', 'marcado nuevo', 790_000);
    expect(await flag(channel.id)).toEqual([planned.id]);
    const fresh = await h.broadcast({
      name: 'Nueva',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const check = await manager('GET', `/broadcasts/${fresh.id}/preflight`);
    expect(check.status, check.text).toBe(200);
    expect(check.body.warnings.map((w: { code: string }) => w.code)).toContain('number_paused');
    for (const body of [{}, { at: inHours(1) }]) {
      const refused = await manager('POST', `/broadcasts/${fresh.id}/schedule`, body);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('broadcast_number_paused');
      expect(refused.body.error.message).toMatch(/^El número de este canal está en pausa/);
    }
    expect((await h.get(fresh.id)).status).toBe('draft');
    // The channel says it is held, and why.
    expect((await manager('GET', `/channels/${channel.id}`)).body.hold).toMatchObject({
      kind: 'number_quality',
      event: 'FLAGGED',
    });
    // On another number it goes.
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox sano' });
    expect((await manager('PATCH', `/broadcasts/${fresh.id}`, { channelId: other.id })).status).toBe(200);
    expect((await manager('POST', `/broadcasts/${fresh.id}/schedule`, {})).status).toBe(200);
    await h.engine().runUntilIdle();
    expect((await h.get(fresh.id)).status).toBe('completed');
  });

  it('is refused when a scheduled broadcast is moved onto the number; one already scheduled elsewhere may still move', async () => {
    const { channel, segment } = await numberWithPlan('Sandbox marcado destino', 'marcado destino', 790_100);
    await flag(channel.id);
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox origen' });
    const later = await h.broadcast({
      name: 'Más tarde',
      channelId: other.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    expect((await manager('POST', `/broadcasts/${later.id}/schedule`, { at: inHours(1) })).status).toBe(200);
    const moved = await manager('PATCH', `/broadcasts/${later.id}`, { channelId: channel.id });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('broadcast_number_paused');
    expect((await h.get(later.id)).channelId).toBe(other.id);
  });
});

describe('a broadcast already scheduled on a held number', () => {
  it('may still be moved to another time; at its time it waits paused with the number', async () => {
    const { channel, segment } = await numberWithPlan('Sandbox marcado movida', 'marcado movida', 790_150);
    const resumed = await h.broadcast({
      name: 'Movida',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    // Scheduled while the hold tripped: seen by nothing that paused the number.
    await h.server.database.db.run(
      sql`UPDATE channels SET hold = ${JSON.stringify({ ...FLAGGED, at: Date.now() })} WHERE id = ${channel.id}`,
    );
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET status = 'scheduled', scheduled_at = ${Date.now() + HOUR} WHERE id = ${resumed.id}`,
    );
    const moved = await manager('POST', `/broadcasts/${resumed.id}/schedule`, { at: inHours(2) });
    expect(moved.status, moved.text).toBe(200);
    await h.engine({ clock: () => Date.now() + 3 * HOUR }).runUntilIdle();
    const waiting = await h.get(resumed.id);
    expect(waiting.status).toBe('paused');
    expect(waiting.pause).toMatchObject({ kind: 'number_quality', event: 'FLAGGED' });
    expect(await h.messages(resumed.id)).toEqual([]);
    // The manager weighed the number: resumed, it goes, and the number takes new broadcasts again.
    expect((await manager('POST', `/broadcasts/${resumed.id}/resume`)).status).toBe(200);
    await h.engine({ clock: () => Date.now() + 3 * HOUR }).runUntilIdle();
    expect((await h.get(resumed.id)).counts).toEqual({ delivered: 3 });
    expect((await manager('GET', `/channels/${channel.id}`)).body.hold).toBeNull();
  });

  it('whose start was freezing its audience when the hold came finishes the start paused, and sends nothing', async () => {
    const { channel, planned } = await numberWithPlan('Sandbox marcado congelando', 'marcado congelando', 790_170);
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET scheduled_at = ${Date.now() - 1000} WHERE id = ${planned.id}`,
    );
    const db = h.server.database.db;
    let chunks = 0;
    const start = { db, workerId: 'w1', leaseMs: 60_000, freezeRows: 1, clock: Date.now, stopping: () => chunks++ > 0 };
    // One recipient frozen, then the process stops: the start is under way.
    await startBroadcast(start, planned.id);
    expect(await flag(channel.id)).toEqual([]);
    await startBroadcast({ ...start, stopping: () => false }, planned.id);
    const after = await h.get(planned.id);
    expect(after.status).toBe('paused');
    expect(after.pause).toMatchObject({ kind: 'number_quality' });
    await h.engine().runUntilIdle();
    expect((await h.messages(planned.id)).map((m) => m.state)).toEqual(['queued', 'queued', 'queued']);
    // Resumed by a manager, it goes on where it was.
    expect((await manager('POST', `/broadcasts/${planned.id}/resume`)).body.status).toBe('sending');
    await h.engine().runUntilIdle();
    expect((await h.get(planned.id)).counts).toEqual({ delivered: 3 });
  });
});

describe('the hold lives on the channel', () => {
  it("an agent's cancel of the re-send it paused does not lift it; a manager's resume of the channel does", async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox marcado cancelado', limits: { dailyQuota: 1 } });
    await h.seedContacts(3, 'marcado cancelado', { start: 790_200 });
    const segment = await h.segment('Marcado cancelado', 'marcado cancelado');
    const done = await h.broadcast({
      name: 'Hecha',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(done.id);
    await h.engine().runUntilIdle();
    const planned = await agent('POST', `/broadcasts/${done.id}/resend`, { when: 'at', at: inHours(30) });
    expect(planned.status, planned.text).toBe(200);
    expect(await flag(channel.id)).toEqual([planned.body.broadcastId]);
    expect((await agent('POST', `/broadcasts/${done.id}/resend/cancel`)).status).toBe(200);
    const refused = await agent('POST', `/broadcasts/${done.id}/resend`, { when: 'at', at: inHours(30) });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('resend_number_paused');
    expect((await agent('POST', `/channels/${channel.id}/resume`)).status).toBe(403);
    expect((await manager('POST', `/channels/${channel.id}/resume`)).body.hold).toBeNull();
    expect((await agent('POST', `/broadcasts/${done.id}/resend`, { when: 'at', at: inHours(30) })).status).toBe(200);
  });

  it('resuming a broadcast lifts only the hold it was paused for, not a later one it never saw', async () => {
    const { channel, planned } = await numberWithPlan('Sandbox dos retenciones', 'dos retenciones', 790_400);
    await flag(channel.id);
    // The manager lifts Meta's hold on the number; the broadcast it paused stays paused, for its own resume.
    expect((await manager('POST', `/channels/${channel.id}/resume`)).body.hold).toBeNull();
    // Later the guard holds the number again, for its own reasons.
    const guard = { kind: 'quality', scope: 'channel', at: Date.now() + 1, outcomes: 200, harmful: 30 } as const;
    await holdNumber(h.server.database.db, channel.id, guard, Date.now());
    expect((await manager('POST', `/broadcasts/${planned.id}/resume`)).status).toBe(200);
    expect((await manager('GET', `/channels/${channel.id}`)).body.hold).toMatchObject({
      kind: 'quality',
      scope: 'channel',
    });
  });

  it('a pause of one broadcast for its own audience holds nothing else on the number', async () => {
    const { channel, segment, planned } = await numberWithPlan('Sandbox una sola', 'una sola', 790_300);
    await pauseBroadcasts(
      h.server.database.db,
      [planned.id],
      { kind: 'quality', scope: 'broadcast', at: Date.now(), outcomes: 200, harmful: 30 },
      Date.now(),
    );
    const fresh = await h.broadcast({
      name: 'Otra campaña',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    expect((await manager('POST', `/broadcasts/${fresh.id}/schedule`, {})).status).toBe(200);
    await h.engine().runUntilIdle();
    expect((await h.get(fresh.id)).status).toBe('completed');
    expect((await h.get(planned.id)).status).toBe('paused');
  });
});
