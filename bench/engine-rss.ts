/**
 * Child processes of benchMemory(). `seed <url>`: a workspace of 1,000,000 contacts, a sandbox channel
 * and a broadcast to all of them, written to the database at <url>. `send <url> <workspace> <broadcast>`:
 * in a process of its own, started as `npm run engine` starts one (with the engine's heap limit,
 * server/src/engine/heap.mjs), the broadcast scheduled (audience frozen) and sent to the
 * end; then this process's peak RSS. Seeding is the benchmark's work, not the engine's: done in the
 * same process, it left the process about 70 MB bigger before the engine began (150 MB at start, 218
 * once seeded), counted as the engine's, and the peak read 227 to 308 MB from run to run.
 */
import { openDatabase } from '@rebound/server/db';
import { BroadcastEngine } from '@rebound/server/engine';
import { createBroadcast, scheduleBroadcast } from '@rebound/server/services/broadcasts';
import { createChannel } from '@rebound/server/services/channels';
import { seedAudience } from './lib/audience';
import { peakRssMb } from './lib/peak-rss';

const COUNT = 1_000_000;
const [mode, url, ...ids] = process.argv.slice(2);
if (!url) throw new Error('usage: engine-rss.ts seed <url> | send <url> <workspaceId> <broadcastId>');
const database = await openDatabase({ url });
const { db } = database;

if (mode === 'seed') {
  const { workspace, segment } = await seedAudience(database, COUNT);
  const channel = await createChannel(db, workspace.id, { type: 'sandbox', name: 'sandbox' });
  const broadcast = await createBroadcast(db, workspace.id, {
    name: 'rss',
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola' },
  });
  database.close();
  console.log(JSON.stringify({ workspaceId: workspace.id, broadcastId: broadcast.id }));
} else if (mode === 'send') {
  const [workspaceId, broadcastId] = ids.map(Number) as [number, number];
  const engine = new BroadcastEngine({ db, pollIntervalMs: 5, concurrency: 256 });
  const start = performance.now();
  await scheduleBroadcast(db, { workspaceId, defaultCountry: 'AR' }, broadcastId, undefined);
  await engine.runUntilIdle({ timeoutMs: 900_000 });
  const seconds = (performance.now() - start) / 1000;
  const sent = await database.client.execute({
    sql: "SELECT count(*) AS n FROM messages WHERE broadcast_id = ? AND state IN ('sent', 'delivered')",
    args: [broadcastId],
  });
  database.close();
  const count = Number(sent.rows[0]?.n);
  if (count !== COUNT) throw new Error(`only ${count} of ${COUNT} recipients reached a final sent state`);
  console.log(JSON.stringify({ rssMb: peakRssMb(), seconds }));
} else throw new Error(`unknown mode ${mode}`);
