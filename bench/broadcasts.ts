/**
 * broadcast.*: reading broadcasts through the services the API calls, with one broadcast of
 * 1,000,000 recipients: its detail, a page of 100 broadcasts that holds it, and what needs attention.
 */

import {
  broadcastsNeedingAttention,
  createBroadcast,
  getBroadcast,
  listBroadcasts,
} from '@rebound/server/services/broadcasts';
import { createChannel } from '@rebound/server/services/channels';
import { createSegment } from '@rebound/server/services/segments';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { sql } from 'drizzle-orm';
import { tempDatabase } from './lib/db';
import { type BenchResult, median, percentile } from './lib/report';

const RECIPIENTS = 1_000_000;
const BROADCASTS = 100;
/** Recipients of each of the other 99 broadcasts. */
const SMALL = 500;
/** Recipients in a WhatsApp channel's rolling 24 h window (its quota figures are read for every page). */
const LEDGER = 10_000;

type Db = Awaited<ReturnType<typeof tempDatabase>>;

/**
 * 100 finished broadcasts over three channels (a sandbox, a limited WhatsApp number with 10,000
 * recipients counted in its window, a second one), the newest of them with 1,000,000 recipients in
 * the states a partly failed send leaves; every other broadcast 500. Rows written with raw SQL: the
 * read model's triggers count them as the engine's writes would be counted.
 */
async function seed(database: Db) {
  const { db, client } = database;
  const { workspace } = await createWorkspace(db, { name: 'Bench' });
  const channels = [
    await createChannel(db, workspace.id, { type: 'sandbox', name: 'Sandbox' }),
    await createChannel(db, workspace.id, { type: 'whatsapp', name: 'WhatsApp', limits: { dailyQuota: 100_000 } }),
    await createChannel(db, workspace.id, { type: 'whatsapp', name: 'WhatsApp 2', limits: { dailyQuota: 1000 } }),
  ];
  const segment = await createSegment(db, workspace.id, { name: 'everyone', filter: { match: 'all', groups: [] } });
  const ids: number[] = [];
  for (let i = 0; i < BROADCASTS; i++) {
    const b = await createBroadcast(db, workspace.id, {
      name: `Campaña ${i}`,
      channelId: (channels[i % channels.length] as { id: number }).id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    ids.push(b.id);
  }
  // The newest original: in the first page, whatever the re-sends below add.
  const big = ids.at(-1) as number;
  const now = Date.now();
  // Every third broadcast partly failed (a few re-sent): what the attention figure walks over.
  await db.run(sql`UPDATE broadcasts SET status = CASE WHEN id % 3 = 0 THEN 'partially_failed' ELSE 'completed' END,
    started_at = ${now - 3_600_000}, finished_at = ${now - 60_000} WHERE workspace_id = ${workspace.id}`);
  await db.run(sql`UPDATE broadcasts SET status = 'partially_failed' WHERE id = ${big}`);
  // Messages of the big one: 85 % sent, 8 % delivered, 5 % failed for five reasons, 1 % uncertain, 1 % excluded.
  await client.execute({
    sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, attempts, next_attempt_at,
            sent_at, failed_at, created_at, updated_at)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT ?, ?, ?, '+54911' || (20000000 + i),
            CASE WHEN i % 100 < 85 THEN 'sent' WHEN i % 100 < 93 THEN 'delivered' WHEN i % 100 < 98 THEN 'failed'
                 WHEN i % 100 = 98 THEN 'uncertain' ELSE 'excluded' END,
            CASE WHEN i % 100 BETWEEN 93 AND 97 THEN json_extract('["quota_reached","blocked","unreachable","not_on_channel","provider_error"]', '$[' || (i % 100 - 93) || ']')
                 WHEN i % 100 = 98 THEN 'uncertain' WHEN i % 100 = 99 THEN 'duplicate' END,
            1, 0, ?, CASE WHEN i % 100 >= 93 THEN ? END, ?, ?
          FROM n`,
    args: [RECIPIENTS, workspace.id, big, channels[0]?.id ?? 0, now, now, now, now],
  });
  // The others, 500 each, in one statement.
  await client.execute({
    sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, attempts, next_attempt_at,
            created_at, updated_at)
          WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT b.workspace_id, b.id, b.channel_id, '+54911' || (30000000 + i),
            CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'sent' END, CASE WHEN i % 10 = 0 THEN 'quota_reached' END, 1, 0, ?, ?
          FROM broadcasts b, n WHERE b.workspace_id = ? AND b.id != ?`,
    args: [SMALL - 1, now, now, workspace.id, big],
  });
  // A few re-sends of partly failed ones, so "not re-sent yet" has something to leave out.
  for (const original of ids.filter((id) => id % 3 === 0).slice(-5)) {
    const resend = await createBroadcast(db, workspace.id, {
      name: `Reenvío ${original}`,
      channelId: (channels[0] as { id: number }).id,
      segmentId: segment.id,
      content: { text: 'Hola' },
      resendOfId: original,
    });
    await db.run(sql`UPDATE broadcasts SET status = 'completed' WHERE id = ${resend.id}`);
  }
  // The limited number's rolling window: 10,000 recipients counted over the last 24 h.
  await client.execute({
    sql: `INSERT INTO quota_ledger (channel_id, identifier, last_sent_at)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT ?, '+54911' || (40000000 + i), ? - i * 8000 FROM n`,
    args: [LEDGER, channels[1]?.id ?? 0, now],
  });
  await client.execute('ANALYZE');
  return { workspace, big, ids };
}

/**
 * Runs `read` `rounds` times after warm-up rounds (the JIT's); the wall times in ms, and the process's
 * CPU time for each, which a busy machine's other processes do not stretch.
 */
async function timed(rounds: number, read: () => Promise<unknown>, warmUp = 20): Promise<number[] & { cpu: number[] }> {
  for (let i = 0; i < warmUp; i++) await read();
  const times = Object.assign([] as number[], { cpu: [] as number[] });
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    await read();
    times.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    times.cpu.push((used.user + used.system) / 1000);
  }
  return times;
}

export async function benchBroadcastReads(): Promise<BenchResult[]> {
  const database = await tempDatabase('broadcasts');
  try {
    const { db } = database;
    const { workspace, big } = await seed(database);
    const detail = await getBroadcast(db, workspace.id, big, 'es');
    const total = Object.values(detail.counts).reduce((a, b) => a + (b ?? 0), 0);
    if (total !== RECIPIENTS) throw new Error(`the detail counts ${total} recipients`);

    // What each read cost before the read model: every recipient grouped, once per broadcast read.
    const groupBy = await timed(
      3,
      () =>
        db.all(
          sql`SELECT state, reason, count(*) AS n FROM messages WHERE broadcast_id = ${big} GROUP BY state, reason`,
        ),
      1,
    );

    // Let the collector finish with what the seeding left before timing reads of a few ms.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const detailTimes = await timed(1000, () => getBroadcast(db, workspace.id, big, 'es'));
    const listTimes = await timed(50, async () => {
      const page = await listBroadcasts(db, workspace.id, { limit: 100 }, 'es');
      if (!page.data.some((b) => b.id === big)) throw new Error('the page misses the big broadcast');
    });
    const attentionTimes = await timed(500, () => broadcastsNeedingAttention(db, workspace.id, 100));
    return [
      {
        id: 'broadcast.detail_1m_p95_ms',
        value: percentile(detailTimes, 95),
        unit: 'ms',
        better: 'lower',
        target: 5,
        note: `detail of a 1,000,000-recipient broadcast through the service (counts, failures by reason, channel limits), 1,000 reads; median ${median(detailTimes).toFixed(2)} ms; CPU time p95 ${percentile(detailTimes.cpu, 95).toFixed(2)} ms; the GROUP BY over its recipients it replaces took ${median(groupBy).toFixed(0)} ms a read`,
      },
      {
        id: 'broadcast.list_100_ms',
        value: median(listTimes),
        unit: 'ms',
        better: 'lower',
        target: 50,
        note: `page of 100 broadcasts (3 channels, one with 10,000 recipients in its 24 h window), one of them 1,000,000 recipients; median of 50, p95 ${percentile(listTimes, 95).toFixed(1)} ms, max ${Math.max(...listTimes).toFixed(1)} ms; CPU time median ${median(listTimes.cpu).toFixed(1)} ms`,
      },
      {
        id: 'broadcast.attention_ms',
        value: median(attentionTimes),
        unit: 'ms',
        better: 'lower',
        target: 10,
        note: `what needs attention over 105 broadcasts and 1,049,500 recipients (GET /broadcasts/attention's service); median of 500, p95 ${percentile(attentionTimes, 95).toFixed(2)} ms`,
      },
    ];
  } finally {
    database.dispose();
  }
}
