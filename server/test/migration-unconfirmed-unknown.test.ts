/**
 * Migration 0022 on a database written before it: a broadcast's unconfirmed recipients counted again
 * with those whose final receipt said "unknown", when the latest became unconfirmed, and the trigger
 * keeping both from then on.
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

describe('migration 0022', () => {
  it('counts final "unknown" receipts as unconfirmed, for broadcasts already written and for later reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0022-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const all = ALL_MIGRATIONS;
      const before = migrationsBefore(dir, '0022');
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: before });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'vonage_sms', 'c', 10, 0, 0)",
      );
      await client.execute(
        "INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at) VALUES (1, 'old', 1, '{}', 'completed', 0, 0)",
      );
      // Three sent; two receipts say "unknown", one says nothing yet (no answer: uncertain).
      for (const n of [1, 2, 3])
        await client.execute({
          sql: "INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, created_at, updated_at) VALUES (1, 1, 1, ?, 'sent', 0, 0)",
          args: [`+54911700${n}`],
        });
      await client.execute(
        "UPDATE messages SET state = 'failed', reason = 'uncertain', failed_at = id * 1000 WHERE id IN (1, 2)",
      );
      await client.execute(
        "UPDATE messages SET state = 'uncertain', reason = 'uncertain', failed_at = 3000 WHERE id = 3",
      );
      // Judged before: partly failed or failed only because receipts said "unknown", and one with a real failure.
      const judged = [
        ['only unknown', 'partially_failed', null, ['delivered', 'failed:uncertain']],
        ['all unknown', 'failed', 'broadcast_all_failed', ['failed:uncertain', 'failed:uncertain']],
        ['one blocked', 'partially_failed', null, ['failed:uncertain', 'failed:blocked']],
      ] as const;
      for (const [name, status, errorCode, rows] of judged) {
        const made = await client.execute({
          sql: "INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, error_code, error_reason, created_at, updated_at) VALUES (1, ?, 1, '{}', ?, ?, ?, 0, 0) RETURNING id",
          args: [name, status, errorCode, errorCode ? 'uncertain' : null],
        });
        for (const row of rows) {
          const [state, reason = null] = row.split(':');
          await client.execute({
            sql: "INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, created_at, updated_at) VALUES (1, ?, 1, '+5491170', 'sent', 0, 0) RETURNING id",
            args: [made.rows[0]?.id as number],
          });
          await client.execute({
            sql: 'UPDATE messages SET state = ?, reason = ? WHERE id = (SELECT max(id) FROM messages)',
            args: [state as string, reason],
          });
        }
      }
      const statuses = async () =>
        (
          await client.execute("SELECT name, status, error_code FROM broadcasts WHERE name != 'old' ORDER BY id")
        ).rows.map((r) => [r.name, r.status, r.error_code]);
      const unconfirmed = async () =>
        (await client.execute('SELECT unconfirmed FROM broadcasts WHERE id = 1')).rows[0]?.unconfirmed;
      const since = async () =>
        (await client.execute('SELECT unconfirmed_at FROM broadcasts WHERE id = 1')).rows[0]?.unconfirmed_at;
      // Before 0022, only the one without an answer.
      expect(await unconfirmed()).toBe(1);

      await migrate(db, { migrationsFolder: all });
      expect(await unconfirmed()).toBe(3);
      // Their verdicts as the engine gives them now: a final "unknown" is no failure.
      expect(await statuses()).toEqual([
        ['only unknown', 'completed', null],
        ['all unknown', 'completed', null],
        ['one blocked', 'partially_failed', null],
      ]);
      // When the latest of them became unconfirmed: the attention list's wait runs from it.
      expect(await since()).toBe(3000);
      // From then on the trigger counts both: a late "delivered" settles one "unknown"...
      await client.execute("UPDATE messages SET state = 'delivered', reason = NULL WHERE id = 1");
      expect(await unconfirmed()).toBe(2);
      expect(await since()).toBe(3000);
      // ...a final "unknown" for the one without an answer keeps it unconfirmed...
      await client.execute("UPDATE messages SET state = 'failed', failed_at = 5000 WHERE id = 3");
      expect(await unconfirmed()).toBe(2);
      // ...from when that receipt came: a re-send waits from then too.
      expect(await since()).toBe(5000);
      // ...and a report that the number does not exist settles it as failed, not unconfirmed.
      await client.execute("UPDATE messages SET reason = 'not_on_channel', failed_at = 9000 WHERE id = 2");
      expect(await unconfirmed()).toBe(1);
      expect(await since()).toBe(5000);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
