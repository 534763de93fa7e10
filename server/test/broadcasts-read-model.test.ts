/**
 * The broadcast read model (migration 0007): broadcast_counts stays exactly what a GROUP BY over
 * messages says, through a broadcast's whole life in the engine, and the API's counts, failures by
 * reason and channel limits read from it are the same as they were computed before.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import type { Broadcast } from '@rebound/shared';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../src/db/schema';
import { listBroadcasts } from '../src/services/broadcasts';
import { gatedEngine, type Harness, harness, S1_TEMPLATE, until, WA, whatsappSimulator } from './engine/harness';

let h: Harness;
const phone = (n: number) => `+54911${50000000 + n}`;

beforeAll(async () => {
  h = await harness();
});

type Row = { b: number; state: string; reason: string; n: number };

/** What the API said before the read model: a GROUP BY over one broadcast's messages. */
async function liveCounts(broadcastId: number) {
  const rows = await h.server.database.db.all<{ state: string; reason: string | null; n: number }>(
    sql`SELECT state, reason, count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId} GROUP BY state, reason`,
  );
  const counts: Record<string, number> = {};
  const failedByReason: Record<string, number> = {};
  for (const r of rows) {
    counts[r.state] = (counts[r.state] ?? 0) + r.n;
    if (r.state === 'failed' && r.reason) failedByReason[r.reason] = (failedByReason[r.reason] ?? 0) + r.n;
  }
  return { counts, failedByReason };
}

/**
 * The whole table against a live GROUP BY over every message (no row off, none negative), then each
 * of the workspace's broadcasts as the detail and the list show it against the old computation.
 */
async function expectExact(step: string) {
  const { db } = h.server.database;
  const live = await db.all<Row>(sql`SELECT broadcast_id AS b, state, coalesce(reason, '') AS reason, count(*) AS n
    FROM messages GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
  const kept = await db.all<Row>(
    sql`SELECT broadcast_id AS b, state, reason, n FROM broadcast_counts WHERE n != 0 ORDER BY 1, 2, 3`,
  );
  expect(kept, step).toEqual(live);
  const ids = (await db.all<{ id: number }>(sql`SELECT id FROM broadcasts WHERE workspace_id = ${h.ws.id}`)).map(
    (r) => r.id,
  );
  const list = (await h.server.request('GET', '/api/v1/broadcasts?limit=200', { token: h.ws.tokens.agent })).body
    .data as Broadcast[];
  for (const id of ids) {
    const expected = await liveCounts(id);
    const detail = await h.get(id);
    expect({ counts: detail.counts, failedByReason: detail.failedByReason }, `${step}: broadcast ${id}`).toEqual(
      expected,
    );
    const listed = list.find((b) => b.id === id);
    expect({ counts: listed?.counts, failedByReason: listed?.failedByReason }, `${step}: listed ${id}`).toEqual(
      expected,
    );
  }
  return live;
}

const states = (rows: Row[], b: number) => new Set(rows.filter((r) => r.b === b).map((r) => r.state));

describe('broadcast_counts through a broadcast’s life', () => {
  it('stays exact: freeze, sending, sent, failures with reasons, retries, uncertain, delivery reports, re-send, cancel', async () => {
    const sim = await whatsappSimulator(h);
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WhatsApp vida',
      credentials: WA,
      baseUrl: sim.baseUrl,
      // 30 of the 40 reachable: the rest fail "daily limit reached" at claim.
      limits: { dailyQuota: 30, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
    });
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    await h.seedContacts(40, 'vida');
    // Left out at freeze: no phone, a phone that does not parse, a second contact with the first one's phone.
    const { client } = h.server.database;
    await client.execute({
      sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, custom_fields, created_at, updated_at)
            VALUES (?1, 'Sin', NULL, NULL, '{}', 0, 0), (?1, 'Mal', '12ab', 0, '{}', 0, 0), (?1, 'Doble', ?2, 1, '{}', 0, 0)`,
      args: [h.ws.id, phone(0)],
    });
    await client.execute({
      sql: `INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
            SELECT t.id, c.id FROM tags t, contacts c WHERE t.workspace_id = ?1 AND t.key = 'vida' AND c.first_name IN ('Sin', 'Mal', 'Doble') AND c.workspace_id = ?1`,
      args: [h.ws.id],
    });
    const digits = (n: number) => phone(n).slice(1);
    sim.script(digits(1), { kind: 'fail', code: '131026' });
    sim.script(digits(2), { kind: 'fail', code: '131050' });
    sim.script(digits(3), { kind: 'throttle', retryAfterSeconds: 0, times: 2 });
    sim.script(digits(4), { kind: 'serverError', times: 1 });
    sim.script(digits(5), { kind: 'hang' });
    sim.script(digits(8), { kind: 'reset', afterAccept: true });

    const segment = await h.segment('Vida', 'vida');
    const broadcast = await h.broadcast({
      name: 'Vida',
      channelId: channel.id,
      segmentId: segment.id,
      content: S1_TEMPLATE,
    });
    await expectExact('draft');
    await h.schedule(broadcast.id);

    // Sends wait at a gate, so the recipients can be seen in "sending".
    const { engine, open } = gatedEngine(h, 0, { requestTimeoutMs: 500 });
    await engine.startBroadcast(broadcast.id);
    const frozen = await expectExact('frozen');
    expect(states(frozen, broadcast.id)).toEqual(new Set(['queued', 'excluded']));
    expect(frozen.filter((r) => r.b === broadcast.id && r.state === 'excluded').map((r) => r.reason)).toEqual([
      'duplicate',
      'invalid_identifier',
      'no_identifier',
    ]);

    const ticking = engine.tick();
    await until(
      async () =>
        ((
          await h.server.database.db.all<{ n: number }>(
            sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${broadcast.id} AND state = 'sending'`,
          )
        )[0]?.n ?? 0) > 0,
      20_000,
      5,
    );
    const sending = await expectExact('sending');
    expect(states(sending, broadcast.id)).toContain('sending');
    open();
    await ticking;
    await engine.runUntilIdle();
    const sent = await expectExact('sent');
    for (const state of ['sent', 'failed', 'uncertain', 'excluded'])
      expect(states(sent, broadcast.id)).toContain(state);
    const reasons = await liveCounts(broadcast.id);
    expect(reasons.failedByReason).toMatchObject({ quota_reached: 10, not_on_channel: 1, blocked: 1 });

    // Delivery reports, posted signed as Meta posts them: a sent message fails later, another is
    // delivered, and an unconfirmed one turns out delivered.
    const report = async (n: number, status: 'delivered' | 'failed', code?: string) => {
      const [message] = await h.server.database.db.all<{ id: number; provider_message_id: string | null }>(
        sql`SELECT id, provider_message_id FROM messages WHERE broadcast_id = ${broadcast.id} AND identifier = ${phone(n)}`,
      );
      const hook = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId: message?.provider_message_id ?? `wamid.${n}`,
        recipient: digits(n),
        clientRef: String(message?.id),
        status,
        ...(code && { error: { code } }),
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(await res.json()).toEqual({ ok: true, changed: 1 });
    };
    await report(6, 'failed', '131049');
    await report(7, 'delivered');
    await report(8, 'delivered');
    const reported = await expectExact('delivery reports');
    expect(states(reported, broadcast.id)).toContain('delivered');
    expect((await liveCounts(broadcast.id)).failedByReason).toMatchObject({ recipient_limit: 1 });

    // A re-send of the failed recipients, sent now (their channel's quota is spent: they fail again).
    const resend = await h.server.request('POST', `/api/v1/broadcasts/${broadcast.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(resend.status).toBe(200);
    const resendId = resend.body.broadcastId as number;
    await expectExact('re-send scheduled');
    await h.engine().runUntilIdle();
    const resent = await expectExact('re-send sent');
    expect(resent.some((r) => r.b === resendId)).toBe(true);

    // Cancelled with its recipients still queued.
    const other = await h.broadcast({
      name: 'Otra',
      channelId: channel.id,
      segmentId: segment.id,
      content: S1_TEMPLATE,
    });
    await h.schedule(other.id);
    await h.engine().startBroadcast(other.id);
    await expectExact('second frozen');
    const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${other.id}/cancel`, {
      token: h.ws.tokens.manager,
    });
    expect(cancelled.status).toBe(200);
    const after = await expectExact('cancelled');
    expect(states(after, other.id)).toEqual(new Set(['cancelled', 'excluded']));
    expect(cancelled.body.counts).toEqual((await liveCounts(other.id)).counts);

    // Rows removed, or moved to another broadcast, by hand.
    await h.server.database.db.run(
      sql`UPDATE messages SET broadcast_id = ${other.id} WHERE id IN (SELECT id FROM messages WHERE broadcast_id = ${broadcast.id} AND state = 'sent' LIMIT 3)`,
    );
    await expectExact('moved');
    await h.server.database.db.run(
      sql`DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE broadcast_id = ${broadcast.id} LIMIT 5)`,
    );
    await expectExact('deleted');
  });

  it('an update that changes neither state nor reason changes nothing', async () => {
    const { db } = h.server.database;
    const before = await db.all<Row>(
      sql`SELECT broadcast_id AS b, state, reason, n FROM broadcast_counts ORDER BY 1, 2, 3`,
    );
    await db.run(sql`UPDATE messages SET state = state, reason = reason, updated_at = updated_at + 1`);
    const after = await db.all<Row>(
      sql`SELECT broadcast_id AS b, state, reason, n FROM broadcast_counts ORDER BY 1, 2, 3`,
    );
    expect(after).toEqual(before);
  });
});

describe('the migration', () => {
  it('counts the messages that were there before it', async () => {
    // The migrations up to 0006 on a fresh file, messages written, then 0007 applied.
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0007-'));
    try {
      const all = fileURLToPath(new URL('../drizzle', import.meta.url));
      const before = join(dir, 'before');
      mkdirSync(join(before, 'meta'), { recursive: true });
      for (const file of readdirSync(all)) if (file.endsWith('.sql')) copyFileSync(join(all, file), join(before, file));
      const journal = JSON.parse(readFileSync(join(all, 'meta', '_journal.json'), 'utf8'));
      journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < '0007');
      writeFileSync(join(before, 'meta', '_journal.json'), JSON.stringify(journal));
      const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: before });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'sandbox', 'c', 10, 0, 0)",
      );
      for (let b = 0; b < 2; b++)
        await client.execute(
          "INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at) VALUES (1, 'b', 1, '{}', 'partially_failed', 0, 0)",
        );
      await client.execute(`INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
        SELECT 1, 1 + i % 2, 1, 'x' || i, CASE i % 4 WHEN 0 THEN 'sent' WHEN 1 THEN 'failed' WHEN 2 THEN 'delivered' ELSE 'excluded' END,
          CASE i % 4 WHEN 1 THEN CASE WHEN i % 3 = 0 THEN 'blocked' ELSE 'quota_reached' END WHEN 3 THEN 'duplicate' END, 0, 0 FROM n`);
      await migrate(db, { migrationsFolder: all });
      const kept = (
        await client.execute('SELECT broadcast_id, state, reason, n FROM broadcast_counts ORDER BY 1, 2, 3')
      ).rows;
      const live = (
        await client.execute(`SELECT broadcast_id, state, coalesce(reason, '') AS reason, count(*) AS n FROM messages
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
      ).rows;
      expect(kept.map((r) => ({ ...r }))).toEqual(live.map((r) => ({ ...r })));
      expect(kept.length).toBeGreaterThan(0);
      client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /broadcasts', () => {
  it("shows each broadcast's channel limits as its detail does, in a fixed number of statements", async () => {
    const { client } = h.server.database;
    const api = (method: string, path: string, body?: unknown) =>
      h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body });
    const sim = await whatsappSimulator(h);
    const number = async (name: string, dailyQuota: number | null) =>
      (
        await h.channel({
          type: 'whatsapp',
          name,
          credentials: WA,
          baseUrl: sim.baseUrl,
          limits: { dailyQuota, messagesPerSecond: 80 },
        })
      ).id;
    const own = await number('Propio', 100);
    const a = await number('Cartera A', 1000);
    const b = await number('Cartera B', 1000);
    const unlimited = await number('Sin límite', null);
    const portfolio = await api('POST', '/portfolios', { name: 'Cartera', channelIds: [a, b] });
    expect(portfolio.status).toBe(201);
    // Recipients counted in the rolling window: some on both numbers of the portfolio (counted once), some too old.
    const now = Date.now();
    const ledger: [number, string, number][] = [
      ...Array.from({ length: 7 }, (_, i) => [own, `+5491160000${i}`, now - i * 60_000] as [number, string, number]),
      [own, '+549116000099', now - 25 * 3_600_000],
      [a, '+549117000001', now - 3_600_000],
      [a, '+549117000002', now - 7_200_000],
      [b, '+549117000002', now - 60_000],
      [b, '+549117000003', now - 120_000],
      [unlimited, '+549118000001', now - 5_000],
    ];
    for (const [channelId, identifier, at] of ledger)
      await client.execute({
        sql: 'INSERT INTO quota_ledger (channel_id, identifier, last_sent_at) VALUES (?, ?, ?)',
        args: [channelId, identifier, at],
      });
    const segment = await h.segment('Límites', 'vida');
    const channelsInTurn = [own, a, b, unlimited];
    for (let i = 0; i < 12; i++)
      await h.broadcast({
        name: `Límites ${i}`,
        channelId: channelsInTurn[i % 4],
        segmentId: segment.id,
        content: S1_TEMPLATE,
      });
    // A broadcast whose channel was deleted since keeps showing that channel's limits.
    const gone = await number('Borrado', 50);
    await h.broadcast({ name: 'Límites borrado', channelId: gone, segmentId: segment.id, content: S1_TEMPLATE });
    expect((await api('DELETE', `/channels/${gone}`)).status).toBeLessThan(300);

    const page = (await api('GET', '/broadcasts?limit=200')).body.data as Broadcast[];
    for (const listed of page) {
      const detail = (await api('GET', `/broadcasts/${listed.id}`)).body as Broadcast;
      // The lineage of re-sends is the detail's alone (a family of broadcasts each); the rest is the same.
      expect(listed.recovery).toBeNull();
      expect(listed).toEqual({ ...detail, recovery: null });
    }
    const limits = Object.fromEntries(page.map((p) => [p.channelId, p.channelLimits]));
    expect(limits[own]).toMatchObject({ dailyQuota: 100, quotaUsed: 7, quotaRemaining: 93, portfolio: null });
    expect(limits[a]).toMatchObject({ dailyQuota: portfolio.body.dailyQuota, quotaUsed: 3 });
    expect(limits[a]?.portfolio).toEqual({ id: portfolio.body.id, name: 'Cartera' });
    expect(limits[b]).toEqual(limits[a]);
    expect(limits[unlimited]).toMatchObject({ dailyQuota: null, quotaUsed: 1, quotaRemaining: null });

    // The statements a page costs do not grow with its broadcasts.
    let statements = 0;
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'execute' || property === 'batch')
          return (...args: unknown[]) => {
            statements++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const countingDb = drizzle(counting, { schema });
    const cost = async (limit: number) => {
      statements = 0;
      const result = await listBroadcasts(countingDb, h.ws.id, { limit }, 'en');
      expect(result.data.length).toBe(limit);
      return statements;
    };
    const few = await cost(4);
    const many = await cost(13);
    expect(many).toBe(few);
    expect(many).toBeLessThanOrEqual(6);
  });
});
