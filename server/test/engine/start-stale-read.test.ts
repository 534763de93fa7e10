/**
 * A broadcast started by an engine whose reads lag its writes, as an engine on a libSQL replica's do:
 * its freeze is written on the primary, and a read outside a transaction may still show the replica's
 * older copy. In CI an engine on a replica read the freeze's figures before its own freeze had reached
 * it, failed a 6,000-recipient broadcast as empty and cancelled everyone. Here the lagging replica is a
 * copy of the database file taken before the start: every read outside a transaction goes to it.
 */
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointNow, type Database, openDatabase } from '../../src/db/client';
import { startBroadcast } from '../../src/engine/start';
import { type Harness, harness } from './harness';

let h: Harness;
const stale: { close: () => void }[] = [];

beforeAll(async () => {
  h = await harness();
});
afterAll(() => {
  for (const handle of stale) handle.close();
});

/** The primary for transactions, the stale copy for every read outside one. */
function lagging(primary: Database, replica: Database): Database {
  return new Proxy(primary, {
    get(target, property, receiver) {
      if (property === 'transaction') return Reflect.get(target, property, receiver).bind(target);
      const value = Reflect.get(replica, property, replica);
      return typeof value === 'function' ? value.bind(replica) : value;
    },
  });
}

describe('starting a broadcast on a lagging replica', () => {
  it('decides on the counts in its own write transaction: a full broadcast sends, with its true figures', async () => {
    await h.seedContacts(300, 'lag');
    const segment = await h.segment('lag', 'lag');
    const channel = (await h.channel({
      type: 'sandbox',
      name: 'Sandbox lag',
      limits: { dailyQuota: null, messagesPerSecond: 100, pairRatePerRecipientSeconds: null },
    })) as { id: number };
    const broadcast = await h.broadcast({
      name: 'lag',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcast.id);

    // The replica's copy, as it stood before anything was frozen.
    const primary = h.server.database;
    await checkpointNow(primary.client);
    const file = fileURLToPath(h.server.databaseUrl.replace(/^file:/, 'file://'));
    copyFileSync(file, `${file}.replica`);
    const replica = await openDatabase({ url: `file:${file}.replica` });
    stale.push(replica);
    expect(await replica.db.all(sql`SELECT 1 FROM messages WHERE broadcast_id = ${broadcast.id}`)).toHaveLength(0);

    await startBroadcast(
      {
        db: lagging(primary.db, replica.db),
        workerId: 'on-the-replica',
        leaseMs: 60_000,
        freezeRows: 100,
        clock: Date.now,
        stopping: () => false,
      },
      broadcast.id,
    );

    const row = await primary.db.get<{ status: string; error_code: string | null; reconciliation: string }>(
      sql`SELECT status, error_code, reconciliation FROM broadcasts WHERE id = ${broadcast.id}`,
    );
    expect(row?.status).toBe('sending');
    expect(row?.error_code).toBeNull();
    expect(JSON.parse(row?.reconciliation ?? '{}')).toMatchObject({ target: 300, completed: 300 });
    const states = await primary.db.all<{ state: string; n: number }>(
      sql`SELECT state, count(*) AS n FROM messages WHERE broadcast_id = ${broadcast.id} GROUP BY state`,
    );
    expect(states).toEqual([{ state: 'queued', n: 300 }]);
  });
});
