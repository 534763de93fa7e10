/**
 * Migration 0034 on a database written before it: WhatsApp failures with 130472 (Meta's experiment) move
 * from not_on_channel to marketing_held, and the broadcast's failure counts follow; other failures stay.
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

describe('migration 0034', () => {
  it('files stored 130472 failures under marketing_held, and the counts follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0034-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0034') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'whatsapp', 'wa', 10, 0, 0)",
      );
      await client.execute(`INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at)
        VALUES (1, 'b', 1, '{"text":"Hola"}', 'partially_failed', 0, 0)`);
      const rows: [string, string, string | null][] = [
        ['+1', 'not_on_channel', '130472'],
        ['+2', 'not_on_channel', '131026'],
        ['+3', 'not_on_channel', null],
      ];
      for (const [identifier, reason, code] of rows)
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, provider_code, created_at, updated_at)
            VALUES (1, 1, 1, ?, 'failed', ?, ?, 0, 0)`,
          args: [identifier, reason, code],
        });
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const after = await client.execute('SELECT identifier, reason FROM messages ORDER BY identifier');
      expect(after.rows.map((r) => [r.identifier, r.reason])).toEqual([
        ['+1', 'marketing_held'],
        ['+2', 'not_on_channel'],
        ['+3', 'not_on_channel'],
      ]);
      const counts = await client.execute(
        'SELECT reason, n FROM failure_counts WHERE broadcast_id = 1 AND n > 0 ORDER BY reason',
      );
      expect(counts.rows.map((r) => [r.reason, r.n])).toEqual([
        ['marketing_held', 1],
        ['not_on_channel', 2],
      ]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
