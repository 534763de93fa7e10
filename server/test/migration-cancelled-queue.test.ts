/**
 * Migration 0037 on a database written before it: recipients left queued in a cancelled broadcast are
 * cancelled (nobody sends them), and the finished broadcast a re-send stopped mid-send left them for comes
 * back before the agent; one still sending, or a re-send cancelled before it began, is left as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { describe, expect, it } from 'vitest';
import * as schema from '../src/db/schema';
import { ALL_MIGRATIONS, migrationsBefore } from './migrations-before';

describe('migration 0037', () => {
  it("cancels a cancelled broadcast's queue and brings back the broadcast a stopped re-send left them for", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0037-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0037') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'sandbox', 's', 10, 0, 0)",
      );
      // 1: finished, re-sent by 2 (stopped mid-send, two left queued); 3: finished, re-sent by 4 (taken back
      // before it began, nothing queued); 5: still sending, with its queue.
      const broadcasts: [number, string, number | null, number | null][] = [
        [1, 'partially_failed', null, 10],
        [2, 'cancelled', 1, 20],
        [3, 'partially_failed', null, 10],
        [4, 'cancelled', 3, null],
        [5, 'sending', null, 30],
      ];
      for (const [id, status, resendOf, startedAt] of broadcasts)
        await client.execute({
          sql: `INSERT INTO broadcasts (id, workspace_id, name, channel_id, content, status, resend_of_id, started_at, created_at, updated_at)
            VALUES (?, 1, ?, 1, '{"text":"Hola"}', ?, ?, ?, 0, 0)`,
          args: [id, `b${id}`, status, resendOf, startedAt],
        });
      const messages: [number, string][] = [
        [2, 'sent'],
        [2, 'queued'],
        [2, 'queued'],
        [4, 'cancelled'],
        [5, 'queued'],
      ];
      for (const [i, [broadcast, state]] of messages.entries())
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, created_at, updated_at)
            VALUES (1, ?, 1, ?, ?, 0, 0)`,
          args: [broadcast, `+${i}`, state],
        });
      const before = Date.now();
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const states = await client.execute(
        'SELECT broadcast_id AS b, state, count(*) AS n FROM messages GROUP BY 1, 2 ORDER BY 1, 2',
      );
      expect(states.rows.map((r) => [r.b, r.state, r.n])).toEqual([
        [2, 'cancelled', 2],
        [2, 'sent', 1],
        [4, 'cancelled', 1],
        [5, 'queued', 1],
      ]);
      const late = await client.execute('SELECT id, late_failed_at AS late FROM broadcasts ORDER BY id');
      const flagged = late.rows.filter((r) => r.late !== null);
      expect(flagged.map((r) => r.id)).toEqual([1]);
      expect(Number(flagged[0]?.late)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
