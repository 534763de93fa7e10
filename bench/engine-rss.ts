/** Child process of benchMemory(): one 1,000,000-recipient sandbox broadcast, then its peak RSS. */
import { BroadcastEngine } from '@rebound/server/engine';
import { createBroadcast, scheduleBroadcast } from '@rebound/server/services/broadcasts';
import { createChannel } from '@rebound/server/services/channels';
import { seedAudience } from './engine';
import { tempDatabase } from './lib/db';
import { peakRssMb } from './lib/peak-rss';

const COUNT = 1_000_000;
const database = await tempDatabase('rss');
const { db } = database;
const { workspace, segment } = await seedAudience(database, COUNT);
const channel = await createChannel(db, workspace.id, { type: 'sandbox', name: 'sandbox' });
const broadcast = await createBroadcast(db, workspace.id, {
  name: 'rss',
  channelId: channel.id,
  segmentId: segment.id,
  content: { text: 'Hola' },
});
const engine = new BroadcastEngine({ db, pollIntervalMs: 5, concurrency: 256 });
const start = performance.now();
await scheduleBroadcast(db, { workspaceId: workspace.id, defaultCountry: 'AR' }, broadcast.id, undefined);
await engine.runUntilIdle({ timeoutMs: 900_000 });
const seconds = (performance.now() - start) / 1000;
database.dispose();
console.log(JSON.stringify({ rssMb: peakRssMb(), seconds }));
