/**
 * GET /broadcasts/attention: what needs an agent (the rule of @rebound/shared's attention.ts), in one
 * workspace only, open to every role, with the counts its detail shows.
 */
import { type Broadcast, needingAttention } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { unconfirmedWindowMs } from '../src/config';
import { attentionWalks } from '../src/services/broadcast-read';
import { createBroadcast } from '../src/services/broadcasts';
import { createChannel } from '../src/services/channels';
import { createSegment } from '../src/services/segments';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
let other: TestWorkspace;

/** A broadcast in a given status, with recipients in given states (raw rows: the triggers count them). */
async function broadcast(
  workspace: TestWorkspace,
  name: string,
  status: Broadcast['status'],
  recipients: [state: string, reason: string | null, count: number][] = [],
  resendOfId: number | null = null,
  finishedAt = Date.now(),
) {
  const { db } = server.database;
  const channel = await createChannel(db, workspace.id, { type: 'sandbox', name: `Canal ${name}` });
  const segment = await createSegment(db, workspace.id, {
    name: `Todos ${name}`,
    filter: { match: 'all', groups: [] },
  });
  const row = await createBroadcast(db, workspace.id, {
    name,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola' },
    resendOfId,
  });
  await db.run(sql`UPDATE broadcasts SET status = ${status}, finished_at = ${finishedAt} WHERE id = ${row.id}`);
  for (const [state, reason, count] of recipients) {
    // An unconfirmed recipient was sending first, as the engine writes it (the count follows the change).
    await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, created_at, updated_at)
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
      SELECT ${workspace.id}, ${row.id}, ${channel.id}, '+5491170' || i,
        ${state === 'uncertain' ? 'sending' : state}, ${reason}, 0, 0 FROM n`);
    if (state === 'uncertain')
      await db.run(sql`UPDATE messages SET state = 'uncertain' WHERE broadcast_id = ${row.id} AND state = 'sending'`);
  }
  return row.id;
}

const attention = (token: string, query = '') =>
  server.request('GET', `/api/v1/broadcasts/attention${query}`, { token });

let ids: Record<string, number>;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace('Tienda');
  other = await server.workspace('Otra');
  ids = {};
  ids.partly = await broadcast(ws, 'Parcial', 'partially_failed', [
    ['sent', null, 7],
    ['delivered', null, 2],
    ['failed', 'quota_reached', 4],
    ['failed', 'blocked', 1],
    ['uncertain', 'uncertain', 2],
    ['excluded', 'duplicate', 3],
  ]);
  ids.failed = await broadcast(ws, 'Fallida', 'failed', [['failed', 'not_on_channel', 5]]);
  ids.completed = await broadcast(ws, 'Completa', 'completed', [['sent', null, 3]]);
  ids.sending = await broadcast(ws, 'Enviando', 'sending', [
    ['queued', null, 3],
    ['failed', 'blocked', 1],
  ]);
  ids.resent = await broadcast(ws, 'Reenviada', 'partially_failed', [['failed', 'quota_reached', 2]]);
  // A re-send takes its original off the list (one taken back, cancelled, puts it back: recovery.test.ts).
  ids.resend = await broadcast(ws, 'Reenvío', 'scheduled', [], ids.resent);
  ids.draft = await broadcast(ws, 'Borrador', 'draft');
  // A re-send that failed in turn needs attention itself.
  ids.failedResend = await broadcast(ws, 'Reenvío fallido', 'failed', [['failed', 'blocked', 1]], ids.completed);
  ids.elsewhere = await broadcast(other, 'De otra', 'failed', [['failed', 'blocked', 9]]);
}, 60_000);

describe('GET /broadcasts/attention', () => {
  it('answers what needs attention, newest first, with what its detail shows', async () => {
    const res = await attention(ws.tokens.agent);
    expect(res.status).toBe(200);
    expect(res.body.data.map((b: { id: number }) => b.id)).toEqual([ids.failedResend, ids.failed, ids.partly]);
    expect(res.body.hasMore).toBe(false);
    expect(res.body.data[2]).toEqual({
      id: ids.partly,
      name: 'Parcial',
      status: 'partially_failed',
      channelId: expect.any(Number),
      finishedAt: expect.any(String),
      failed: 5,
      uncertain: 2,
      failedByReason: { quota_reached: 4, blocked: 1 },
      resendOfId: null,
    });
    expect(res.body.data[0]).toMatchObject({ resendOfId: ids.completed, failed: 1, uncertain: 0 });
    for (const item of res.body.data) {
      const detail = (await server.request('GET', `/api/v1/broadcasts/${item.id}`, { token: ws.tokens.agent }))
        .body as Broadcast;
      expect(item).toMatchObject({
        name: detail.name,
        status: detail.status,
        channelId: detail.channelId,
        finishedAt: detail.finishedAt,
        failed: detail.counts.failed ?? 0,
        uncertain: detail.counts.uncertain ?? 0,
        failedByReason: detail.failedByReason,
        resendOfId: detail.resendOfId,
      });
    }
  });

  it('is the shared rule over every broadcast of the workspace', async () => {
    const all = (await server.request('GET', '/api/v1/broadcasts?limit=200', { token: ws.tokens.agent })).body
      .data as Broadcast[];
    const res = await attention(ws.tokens.agent);
    const clock = { now: Date.now(), unconfirmedWindowMs: 24 * 3_600_000 };
    expect(res.body.data.map((b: { id: number }) => b.id)).toEqual(needingAttention(all, clock).map((b) => b.id));
  });

  it("never shows another workspace's broadcasts", async () => {
    const mine = await attention(ws.tokens.owner);
    expect(mine.body.data.map((b: { id: number }) => b.id)).not.toContain(ids.elsewhere);
    const theirs = await attention(other.tokens.agent);
    expect(theirs.body.data.map((b: { id: number }) => b.id)).toEqual([ids.elsewhere]);
  });

  it('follows a re-send: the original leaves the list once one exists', async () => {
    const before = (await attention(ws.tokens.agent)).body.data.map((b: { id: number }) => b.id);
    expect(before).toContain(ids.failed);
    const resend = await broadcast(ws, 'Reenvío de Fallida', 'scheduled', [], ids.failed);
    const after = (await attention(ws.tokens.agent)).body.data.map((b: { id: number }) => b.id);
    expect(after).not.toContain(ids.failed);
    await server.database.db.run(sql`DELETE FROM broadcasts WHERE id = ${resend}`);
    expect((await attention(ws.tokens.agent)).body.data.map((b: { id: number }) => b.id)).toContain(ids.failed);
  });

  it('pages with limit and says when there is more', async () => {
    const res = await attention(ws.tokens.agent, '?limit=2');
    expect(res.status).toBe(200);
    expect(res.body.data.map((b: { id: number }) => b.id)).toEqual([ids.failedResend, ids.failed]);
    expect(res.body.hasMore).toBe(true);
    for (const bad of ['?limit=0', '?limit=101', '?limit=abc', '?limit=1.5'])
      expect((await attention(ws.tokens.agent, bad)).status, bad).toBe(422);
  });

  it('is open to every role, as the listing is, and to no one without a token', async () => {
    for (const role of ['agent', 'manager', 'owner'] as const)
      expect((await attention(ws.tokens[role])).status, role).toBe(200);
    expect((await server.request('GET', '/api/v1/broadcasts/attention')).status).toBe(401);
    expect((await attention('rb_not_a_token')).status).toBe(401);
  });
});

describe('a completed broadcast with unconfirmed recipients', () => {
  const HOUR = 3_600_000;
  let shop: TestWorkspace;
  let wait: Record<'over' | 'waiting' | 'allDelivered' | 'reported' | 'resent' | 'resend' | 'elsewhere', number>;
  const listed = async () => (await attention(shop.tokens.agent)).body.data.map((b: { id: number }) => b.id);

  beforeAll(async () => {
    shop = await server.workspace('Espera');
    const some: [string, string | null, number][] = [
      ['delivered', null, 5],
      ['uncertain', 'uncertain', 2],
    ];
    const dayAgo = Date.now() - 25 * HOUR;
    // Finished 25 h ago: the default wait for a delivery report (24 h) is over.
    const over = await broadcast(shop, 'Espera cumplida', 'completed', some, null, dayAgo);
    const waiting = await broadcast(shop, 'Esperando', 'completed', some, null, Date.now() - 23 * HOUR);
    const allDelivered = await broadcast(shop, 'Todo entregado', 'completed', [['delivered', null, 3]], null, 0);
    // Reports came in the end: its count of unconfirmed fell back to 0.
    const reported = await broadcast(shop, 'Confirmada tarde', 'completed', some, null, dayAgo);
    await server.database.db.run(sql`UPDATE messages SET state = 'delivered', reason = NULL
      WHERE broadcast_id = ${reported} AND state = 'uncertain'`);
    const resent = await broadcast(shop, 'Ya reenviada', 'completed', some, null, dayAgo);
    const resend = await broadcast(shop, 'Reenvío', 'scheduled', [], resent);
    // Another workspace's, as old: never on this one's list.
    const elsewhere = await broadcast(other, 'De otra, sin confirmar', 'completed', some, null, dayAgo);
    wait = { over, waiting, allDelivered, reported, resent, resend, elsewhere };
  }, 60_000);

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('needs attention once the wait for their reports is over, not before, and not once re-sent', async () => {
    const res = await attention(shop.tokens.agent);
    expect(res.body.data.map((b: { id: number }) => b.id)).toEqual([wait.over]);
    expect(res.body.data[0]).toMatchObject({ name: 'Espera cumplida', status: 'completed', failed: 0, uncertain: 2 });
    // The same rule the shared package gives anyone holding a list, with the server's wait.
    const all = (await server.request('GET', '/api/v1/broadcasts?limit=200', { token: shop.tokens.agent })).body
      .data as Broadcast[];
    const clock = { now: Date.now(), unconfirmedWindowMs: unconfirmedWindowMs() };
    expect(needingAttention(all, clock).map((b) => b.id)).toEqual([wait.over]);
    expect(needingAttention(all).map((b) => b.id)).toEqual([]);
    // The other workspace sees its own.
    const theirs = (await attention(other.tokens.agent)).body.data.map((b: { id: number }) => b.id);
    expect(theirs).toContain(wait.elsewhere);
    expect(theirs).not.toContain(wait.over);
  });

  it('follows the wait the server is configured with (UNCONFIRMED_AFTER_HOURS)', async () => {
    vi.stubEnv('UNCONFIRMED_AFTER_HOURS', '22');
    expect(await listed()).toEqual([wait.waiting, wait.over]);
    vi.stubEnv('UNCONFIRMED_AFTER_HOURS', '48');
    expect(await listed()).toEqual([]);
  });

  it('each broadcast says when the wait for its unconfirmed recipients ends', async () => {
    const read = async (id: number) =>
      (await server.request('GET', `/api/v1/broadcasts/${id}`, { token: shop.tokens.agent })).body as Broadcast;
    const over = await read(wait.over);
    expect(Date.parse(over.unconfirmedWaitEndsAt ?? '')).toBe(Date.parse(over.finishedAt ?? '') + 24 * HOUR);
    for (const id of [wait.allDelivered, wait.reported, wait.resend])
      expect((await read(id)).unconfirmedWaitEndsAt, String(id)).toBeNull();
    vi.stubEnv('UNCONFIRMED_AFTER_HOURS', '2');
    const waiting = await read(wait.waiting);
    expect(Date.parse(waiting.unconfirmedWaitEndsAt ?? '')).toBe(Date.parse(waiting.finishedAt ?? '') + 2 * HOUR);
  });

  it('comes back on the list when its re-send is taken back before it began, and leaves once re-sent again', async () => {
    await server.database.db.run(sql`UPDATE broadcasts SET status = 'cancelled' WHERE id = ${wait.resend}`);
    expect(await listed()).toEqual([wait.resent, wait.over]);
    await server.database.db.run(sql`UPDATE broadcasts SET status = 'scheduled' WHERE id = ${wait.resend}`);
    expect(await listed()).toEqual([wait.over]);
  });

  it('follows late reports: one that leaves a recipient unconfirmed puts it on, one that settles the last takes it off', async () => {
    const late = await broadcast(shop, 'Tardía', 'completed', [['delivered', null, 4]], null, Date.now() - 25 * HOUR);
    expect(await listed()).not.toContain(late);
    await server.database.db.run(sql`UPDATE messages SET state = 'uncertain', reason = 'uncertain'
      WHERE id = (SELECT min(id) FROM messages WHERE broadcast_id = ${late})`);
    expect(await listed()).toEqual([late, wait.over]);
    await server.database.db.run(sql`UPDATE messages SET state = 'delivered', reason = NULL
      WHERE broadcast_id = ${late} AND state = 'uncertain'`);
    expect(await listed()).toEqual([wait.over]);
  });
});

describe('a finished broadcast re-sent for other failures, with unconfirmed recipients', () => {
  const HOUR = 3_600_000;
  let team: TestWorkspace;
  const listed = async () => (await attention(team.tokens.agent)).body.data.map((b: { id: number }) => b.id);
  /** The server's list, and the shared rule over the broadcasts list, which must say the same. */
  const both = async () => {
    const all = (await server.request('GET', '/api/v1/broadcasts?limit=200', { token: team.tokens.agent })).body
      .data as Broadcast[];
    const list = await listed();
    expect(needingAttention(all, { now: Date.now() }).map((b) => b.id)).toEqual(list);
    return list;
  };
  const note = (id: number, taken: Record<string, number> | null) =>
    server.database.db.run(
      sql`UPDATE broadcasts SET resend_reasons = ${taken === null ? null : JSON.stringify(taken)} WHERE id = ${id}`,
    );

  beforeAll(async () => {
    team = await server.workspace('Reenvíos parciales');
  });

  it('is listed once their wait is over while its re-sends took fewer than all of them, a final "unknown" included', async () => {
    const recipients: [string, string | null, number][] = [
      ['delivered', null, 4],
      ['failed', 'recipient_limit', 3],
      ['uncertain', 'uncertain', 2],
      ['failed', 'uncertain', 1],
    ];
    const partly = await broadcast(team, 'Parcial', 'partially_failed', recipients, null, Date.now() - 25 * HOUR);
    const waiting = await broadcast(team, 'En espera', 'partially_failed', recipients, null, Date.now() - 2 * HOUR);
    const capped = await broadcast(team, 'Reenvío del tope', 'scheduled', [], partly);
    await note(capped, { recipient_limit: 3 });
    await note(await broadcast(team, 'Reenvío del tope 2', 'scheduled', [], waiting), { recipient_limit: 3 });
    // The capped ones are re-sent; the three unconfirmed are nobody's: back on the list after the wait.
    expect(await both()).toEqual([partly]);
    const read = async (id: number) =>
      (await server.request('GET', `/api/v1/broadcasts/${id}`, { token: team.tokens.agent })).body as Broadcast;
    expect(Date.parse((await read(partly)).unconfirmedWaitEndsAt ?? '')).toBe(
      Date.parse((await read(partly)).finishedAt ?? '') + 24 * HOUR,
    );
    // What a badge counts: the unconfirmed recipients no re-send took (all three, so far).
    expect((await read(partly)).unconfirmedLeft).toBe(3);

    // A re-send of the two with no answer leaves the one whose final report said nothing.
    const unconfirmed = await broadcast(team, 'Reenvío sin confirmar', 'scheduled', [], partly);
    await note(unconfirmed, { uncertain: 2 });
    expect(await both()).toEqual([partly]);
    expect((await read(partly)).unconfirmedLeft).toBe(1);
    // Taking all three settles it; the note follows late reports, so a report that delivers one does too.
    await note(unconfirmed, { uncertain: 3 });
    expect(await both()).toEqual([]);
    expect((await read(partly)).unconfirmedWaitEndsAt).toBeNull();
    expect((await read(partly)).unconfirmedLeft).toBe(0);
    // Taken back before it began: they are nobody's again.
    await server.database.db.run(sql`UPDATE broadcasts SET status = 'cancelled' WHERE id = ${unconfirmed}`);
    expect(await both()).toEqual([partly]);
    expect((await read(partly)).unconfirmedLeft).toBe(3);
    // A re-send written before re-sends noted what they took holds them all.
    await note(capped, null);
    expect((await read(partly)).unconfirmedLeft).toBe(0);
    await note(capped, { recipient_limit: 3 });
    // Cancelled after it began: it holds only those it sent. It took the three, and sent to one of them.
    const { db } = server.database;
    await db.run(sql`UPDATE messages SET contact_id = id WHERE broadcast_id = ${partly} AND reason = 'uncertain'`);
    await db.run(sql`UPDATE broadcasts SET status = 'cancelled', started_at = 1 WHERE id = ${unconfirmed}`);
    await db.run(sql`INSERT INTO resend_targets (broadcast_id, message_id, contact_id)
      SELECT ${unconfirmed}, id, contact_id FROM messages WHERE broadcast_id = ${partly} AND reason = 'uncertain'`);
    const sentTo = async (n: number) =>
      db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, created_at, updated_at)
        SELECT workspace_id, ${unconfirmed}, channel_id, contact_id, identifier, 'sent', 0, 0 FROM messages
        WHERE broadcast_id = ${partly} AND reason = 'uncertain' ORDER BY id LIMIT ${n}`);
    await sentTo(1);
    expect(await both()).toEqual([partly]);
    // Once it had sent to all three before it was cancelled, they are taken.
    await db.run(sql`DELETE FROM messages WHERE broadcast_id = ${unconfirmed}`);
    await sentTo(3);
    expect(await both()).toEqual([]);
    await db.run(sql`UPDATE broadcasts SET started_at = NULL WHERE id = ${unconfirmed}`);
    expect(await both()).toEqual([partly]);
    // A re-send made before re-sends noted what they took is counted as taking them all.
    await note(await broadcast(team, 'Reenvío antiguo', 'scheduled', [], partly), null);
    expect(await both()).toEqual([]);
  });
});

// Last: an EXPLAIN leaves the driver's read connection on its snapshot until it is reset, so that
// later reads would not see later writes.
describe('the attention list reads little', () => {
  it('does not read every broadcast or recipient: the plan walks its indexes', async () => {
    const { client } = server.database;
    const plan = (
      await client.execute({
        sql: `EXPLAIN QUERY PLAN SELECT b.id FROM broadcasts b WHERE b.workspace_id = ? AND b.status = ?
          AND NOT EXISTS (SELECT 1 FROM broadcasts r WHERE r.resend_of_id = b.id) ORDER BY b.id DESC LIMIT 101`,
        args: [ws.id, 'failed'],
      })
    ).rows.map((r) => String(r.detail));
    expect(plan.join('\n')).toContain('broadcasts_attention_idx');
    expect(plan.join('\n')).toContain('broadcasts_resend_of_idx');
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|SCAN (b|r)\b/);
  });

  it("finds finished broadcasts past their wait among the workspace's with unconfirmed recipients only", async () => {
    const walks = attentionWalks(ws.id, 101, { now: Date.now(), unconfirmedWindowMs: 24 * 3_600_000 });
    const plan = (await server.database.db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${walks.at(-2)}`))
      .map((r) => r.detail)
      .join('\n');
    // Down that workspace's part of the partial index, newest first: no sort, no other scan; the counts
    // and the re-sends' notes of each one found by their keys.
    expect(plan).toContain('SEARCH b USING INDEX broadcasts_unconfirmed_idx (workspace_id=?)');
    expect(plan).toContain('broadcasts_resend_of_idx');
    expect(plan).toMatch(/SEARCH c USING (INDEX|PRIMARY KEY)/);
    expect(plan).not.toMatch(/TEMP B-TREE|SCAN (b|r|c)\b/);
  });

  it("finds broadcasts with failures reported after their latest re-send among the workspace's with such failures only", async () => {
    const walks = attentionWalks(ws.id, 101, { now: Date.now(), unconfirmedWindowMs: 24 * 3_600_000 });
    const plan = (await server.database.db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN ${walks.at(-1)}`))
      .map((r) => r.detail)
      .join('\n');
    expect(plan).toContain('SEARCH b USING INDEX broadcasts_late_failed_idx (workspace_id=?)');
    expect(plan).not.toMatch(/TEMP B-TREE|SCAN b\b/);
  });
});
