/**
 * Migration 0035 on a database written before it: Vonage failures whose receipt had only its status word
 * (rejected, failed, deleted) move from provider_error ("re-send now") to carrier_rejected, and the
 * broadcast's failure counts follow; a receipt with a cause, or another channel's failure, stays.
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

describe('migration 0035', () => {
  it('files stored Vonage refusals without a cause under carrier_rejected, and the counts follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0035-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0035') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      for (const type of ['vonage_sms', 'messagebird_sms'])
        await client.execute({
          sql: 'INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, ?, ?, 10, 0, 0)',
          args: [type, type],
        });
      await client.execute(`INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at)
        VALUES (1, 'b', 1, '{"text":"Hola"}', 'partially_failed', 0, 0)`);
      // Every recipient refused, one of them after its re-send was written: "temporary provider error, re-send
      // now" as its main reason, and back before the agent.
      await client.execute(`INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, error_code, error_reason,
          late_failed_at, created_at, updated_at)
        VALUES (1, 'all refused', 1, '{"text":"Hola"}', 'failed', 'broadcast_all_failed', 'provider_error', 5, 0, 0)`);
      for (const identifier of ['+8', '+9'])
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, provider_code, created_at, updated_at)
            VALUES (1, 2, 1, ?, 'failed', 'provider_error', 'dlr:rejected', 0, 0)`,
          args: [identifier],
        });
      const rows: [string, number, string, string | null][] = [
        ['+1', 1, 'provider_error', 'dlr:rejected'],
        ['+2', 1, 'provider_error', 'dlr:REJECTD'],
        ['+3', 1, 'provider_error', 'dlr:failed'],
        ['+4', 1, 'provider_error', 'dlr:deleted'],
        ['+5', 1, 'provider_error', 'dlr:99'],
        ['+6', 1, 'spam_filtered', 'dlr:6'],
        ['+7', 2, 'provider_error', 'dlr:failed'],
      ];
      for (const [identifier, channel, reason, code] of rows)
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, provider_code, created_at, updated_at)
            VALUES (1, 1, ?, ?, 'failed', ?, ?, 0, 0)`,
          args: [channel, identifier, reason, code],
        });
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const after = await client.execute('SELECT identifier, reason FROM messages ORDER BY identifier');
      expect(
        after.rows.filter((r) => Number(String(r.identifier).slice(1)) < 8).map((r) => [r.identifier, r.reason]),
      ).toEqual([
        ['+1', 'carrier_rejected'],
        ['+2', 'carrier_rejected'],
        ['+3', 'carrier_rejected'],
        ['+4', 'carrier_rejected'],
        ['+5', 'provider_error'],
        ['+6', 'spam_filtered'],
        ['+7', 'provider_error'],
      ]);
      const counts = await client.execute(
        'SELECT reason, sum(n) AS n FROM failure_counts WHERE broadcast_id = 1 AND n > 0 GROUP BY reason ORDER BY reason',
      );
      expect(counts.rows.map((r) => [r.reason, r.n])).toEqual([
        ['carrier_rejected', 4],
        ['provider_error', 2],
        ['spam_filtered', 1],
      ]);
      const refused = await client.execute('SELECT error_reason, late_failed_at FROM broadcasts WHERE id = 2');
      expect(refused.rows.map((r) => [r.error_reason, r.late_failed_at])).toEqual([['carrier_rejected', null]]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
