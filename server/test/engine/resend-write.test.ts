/**
 * A re-send written a few rows per transaction (resend-writer.ts) is still all or nothing: the same
 * plan as in one go; a failure part-way leaves no re-send, tag, segment or tagged contact behind (the
 * contacts that already had the tag keep it); a process that died part-way is undone by the next; the
 * half-written re-send is never listed, opened or started meanwhile; two clicks get one plan.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { resendFailed } from '../../src/services/resend';
import { settleInterruptedPlans } from '../../src/services/resend-writer';
import { type Harness, harness } from './harness';

let h: Harness;
const ROWS = 4;
/** 40 contacts, a quota of 10: 30 fail with the quota, re-sent in three daily waves. */
const AUDIENCE = 40;
const FAILED = 30;

beforeAll(async () => {
  h = await harness();
});

let start = 100_000;
/** A broadcast of AUDIENCE new contacts, sent: FAILED of them failed with the quota. */
async function sentWithFailures(name: string): Promise<number> {
  const tag = `partes ${start}`;
  await h.seedContacts(AUDIENCE, tag, { start });
  start += AUDIENCE;
  // A channel each: the quota is the channel's over 24 h.
  const channelId = (await h.channel({ type: 'sandbox', name, limits: { dailyQuota: 10 } })).id;
  const segment = await h.segment(`Segmento ${name}`, tag);
  const broadcast = await h.broadcast({ name, channelId, segmentId: segment.id, content: { text: 'Hola' } });
  await h.schedule(broadcast.id);
  await h.engine().runUntilIdle();
  expect((await h.get(broadcast.id)).failedByReason).toEqual({ quota_reached: FAILED });
  return broadcast.id;
}

const ws = () => ({ workspaceId: h.ws.id, defaultCountry: 'AR' });
const resend = (db: Database, id: number, body: Record<string, unknown> = {}) =>
  resendFailed(db, ws(), id, { tag: `reenvío ${id}`, ...body }, Date.now(), { writeRows: ROWS });

/** What a re-send of `id` left in the database. */
async function leftBehind(id: number) {
  const db = h.server.database.db;
  const one = async (query: ReturnType<typeof sql>) => Number((await db.all<{ n: number }>(query))[0]?.n ?? 0);
  const tag = `reenvío ${id}`.toLowerCase();
  return {
    resends: await one(sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${id}`),
    targets: await one(sql`SELECT count(*) AS n FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
      WHERE r.resend_of_id = ${id}`),
    tags: await one(sql`SELECT count(*) AS n FROM tags WHERE key = ${tag}`),
    tagged: await one(
      sql`SELECT count(*) AS n FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.key = ${tag}`,
    ),
    segments: await one(sql`SELECT count(*) AS n FROM segments WHERE name_key = ${tag}`),
    plans: await one(sql`SELECT count(*) AS n FROM resend_plans WHERE original_id = ${id}`),
    notes: await one(sql`SELECT count(*) AS n FROM resend_plan_tagged`),
  };
}

/**
 * The database as a process sees it that fails its `nth` transaction (`once`), or dies there: that
 * transaction and every statement after it fail. `during` runs just before the failure.
 */
function failing(nth: number, mode: 'once' | 'dies', during?: () => Promise<void>): Database {
  let count = 0;
  let dead = false;
  const real = h.server.database.db;
  return new Proxy(real, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !['transaction', 'run', 'all', 'get'].includes(String(property))) return value;
      return async (...args: unknown[]) => {
        if (dead) throw new Error('process killed');
        if (property === 'transaction' && ++count === nth) {
          await during?.();
          if (mode === 'dies') dead = true;
          throw new Error(mode === 'dies' ? 'process killed' : 'disk I/O error');
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Database;
}

describe('a re-send written a few rows per transaction', () => {
  it('is the same plan: every failed recipient once, tagged, in three scheduled waves, nothing left over', async () => {
    const id = await sentWithFailures('Olas');
    const result = await resend(h.server.database.db, id);
    expect(result.plan.map((p) => p.count)).toEqual([10, 10, 10]);
    expect(result.tagged).toBe(FAILED);
    expect(result.newlyTagged).toBe(FAILED);
    const parts = await h.server.database.db.all<{ status: string; target_count: number; n: number }>(
      sql`SELECT r.status, r.target_count, (SELECT count(*) FROM resend_targets t WHERE t.broadcast_id = r.id) AS n
        FROM broadcasts r WHERE r.resend_of_id = ${id} ORDER BY r.scheduled_at`,
    );
    expect(parts).toEqual([
      { status: 'scheduled', target_count: 10, n: 10 },
      { status: 'scheduled', target_count: 10, n: 10 },
      { status: 'scheduled', target_count: 10, n: 10 },
    ]);
    // Written 4 targets at a time, each wave still notes the 10 it took by reason; the lineage reads it.
    const { recovery } = await h.get(id);
    expect(recovery?.attempts[0]).toMatchObject({ pending: FAILED });
    expect(recovery?.left).toEqual({ total: 0, byReason: {} });
    const distinct = await h.server.database.db.all<{ n: number }>(
      sql`SELECT count(DISTINCT t.message_id) AS n FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
        WHERE r.resend_of_id = ${id}`,
    );
    expect(distinct[0]?.n).toBe(FAILED);
    expect(await leftBehind(id)).toMatchObject({ plans: 0, notes: 0, segments: 1, tags: 1, tagged: FAILED });
    // Each wave announced once, as the extension's notifications read it.
    const events = await h.server.database.db.all<{ type: string; n: number }>(
      sql`SELECT type, count(*) AS n FROM events WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE resend_of_id = ${id})
        GROUP BY type ORDER BY type`,
    );
    expect(events).toEqual([
      { type: 'broadcast.scheduled', n: 3 },
      { type: 'resend.scheduled', n: 3 },
    ]);
  });

  it('a failure part-way leaves nothing behind, and the half-written re-send was nobody’s to see or start', async () => {
    const id = await sentWithFailures('Falla a medias');
    const db = h.server.database.db;
    // Four of the failed contacts carry the tag already (an earlier "tag only" by hand): they keep it.
    const tag = `reenvío ${id}`;
    await db.run(
      sql`INSERT INTO tags (workspace_id, name, key, created_at) VALUES (${h.ws.id}, ${tag}, ${tag.toLowerCase()}, 0)`,
    );
    await db.run(sql`INSERT INTO contact_tags (tag_id, contact_id)
      SELECT (SELECT id FROM tags WHERE key = ${tag.toLowerCase()}), contact_id FROM messages
      WHERE broadcast_id = ${id} AND state = 'failed' ORDER BY contact_id LIMIT 4`);
    const seen: Record<string, unknown> = {};
    // Transaction 1 writes the hidden re-sends, 2-9 tag the 30 (4 per transaction), 10 and on the targets.
    const broken = failing(11, 'once', async () => {
      const hidden = await db.all<{ id: number; status: string }>(
        sql`SELECT id, status FROM broadcasts WHERE resend_of_id = ${id}`,
      );
      seen.hidden = hidden.map((r) => r.status);
      const token = h.ws.tokens.agent;
      seen.listed = (await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${id}`, { token })).body.data.length;
      seen.opened = (await h.server.request('GET', `/api/v1/broadcasts/${hidden[0]?.id}`, { token })).status;
      seen.scheduledByHand = (
        await h.server.request('POST', `/api/v1/broadcasts/${hidden[0]?.id}/schedule`, {
          token: h.ws.tokens.manager,
          body: {},
        })
      ).status;
      await h.engine().runUntilIdle();
      seen.started = (
        await db.all<{ n: number }>(sql`SELECT count(*) AS n FROM messages
        WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE resend_of_id = ${id})`)
      )[0]?.n;
    });
    await expect(resend(broken, id, { tag })).rejects.toThrow('disk I/O error');
    expect(seen).toEqual({
      hidden: ['draft', 'draft', 'draft'],
      listed: 0,
      opened: 404,
      scheduledByHand: 404,
      started: 0,
    });
    // Undone: no re-send, no target, no segment; the tag keeps its four earlier carriers only.
    expect(await leftBehind(id)).toEqual({
      resends: 0,
      targets: 0,
      tags: 1,
      tagged: 4,
      segments: 0,
      plans: 0,
      notes: 0,
    });
    // The agent clicks again: the whole re-send.
    const again = await resend(db, id, { tag });
    expect(again.plan.map((p) => p.count)).toEqual([10, 10, 10]);
    expect(await leftBehind(id)).toMatchObject({ resends: 3, targets: FAILED, tagged: FAILED, plans: 0, notes: 0 });
  });

  it('a process that died part-way: its plan waits while another process may still be writing it, then is undone', async () => {
    const id = await sentWithFailures('Proceso muerto');
    const db = h.server.database.db;
    await expect(resend(failing(12, 'dies'), id)).rejects.toThrow('process killed');
    const half = await leftBehind(id);
    expect(half).toMatchObject({ resends: 3, tags: 1, tagged: FAILED, segments: 1, plans: 1 });
    expect(half.targets).toBeGreaterThan(0);
    expect(half.targets).toBeLessThan(FAILED);
    // Still this process's own and just beaten: left alone (another click's read can see a plan claimed
    // here before the claim's answer marks it as being written); quiet for 5 s, it is an orphan.
    expect(await settleInterruptedPlans(db)).toBe(0);
    expect((await leftBehind(id)).plans).toBe(1);
    // As if another machine's process owned it and beat just now: left alone.
    await db.run(sql`UPDATE resend_plans SET owner = 'otra-maquina:4242:beef', heartbeat_at = ${Date.now()}
      WHERE original_id = ${id}`);
    expect(await settleInterruptedPlans(db)).toBe(0);
    expect((await leftBehind(id)).plans).toBe(1);
    // No beat for over a minute: undone.
    await db.run(sql`UPDATE resend_plans SET heartbeat_at = ${Date.now() - 61_000} WHERE original_id = ${id}`);
    expect(await settleInterruptedPlans(db)).toBe(1);
    expect(await leftBehind(id)).toEqual({
      resends: 0,
      targets: 0,
      tags: 0,
      tagged: 0,
      segments: 0,
      plans: 0,
      notes: 0,
    });
    const again = await resend(db, id);
    expect(again.recipients).toBe(FAILED);
  });

  it("this process's own plan that nobody here writes any more is undone once quiet for 5 s", async () => {
    const id = await sentWithFailures('Huérfano propio');
    const db = h.server.database.db;
    await expect(resend(failing(12, 'dies'), id)).rejects.toThrow('process killed');
    expect((await leftBehind(id)).plans).toBe(1);
    await db.run(sql`UPDATE resend_plans SET heartbeat_at = ${Date.now() - 6_000} WHERE original_id = ${id}`);
    expect(await settleInterruptedPlans(db)).toBe(1);
    expect(await leftBehind(id)).toMatchObject({ resends: 0, targets: 0, plans: 0, notes: 0 });
  });

  it('two clicks at once: the second waits for the first and answers its plan', async () => {
    const id = await sentWithFailures('Doble clic');
    const db = h.server.database.db;
    const [a, b] = await Promise.all([resend(db, id), resend(db, id)]);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(b.broadcastId).toBe(a.broadcastId);
    expect(b.plan.map((p) => p.broadcastId)).toEqual(a.plan.map((p) => p.broadcastId));
    expect(await leftBehind(id)).toMatchObject({ resends: 3, targets: FAILED, plans: 0 });
  });

  it('a refused re-send (too early) writes nothing and lets its claim go', async () => {
    const id = await sentWithFailures('Demasiado pronto');
    await expect(resend(h.server.database.db, id, { when: 'now' })).rejects.toMatchObject({
      status: 409,
      code: 'resend_too_early',
    });
    expect(await leftBehind(id)).toEqual({
      resends: 0,
      targets: 0,
      tags: 0,
      tagged: 0,
      segments: 0,
      plans: 0,
      notes: 0,
    });
  });
});
