/**
 * Migration 0023 on a database written before it: a channel whose fallback was deleted (before a
 * deletion cleared the fallbacks naming it) falls back to nothing; live fallbacks are kept.
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

describe('migration 0023', () => {
  it('clears fallbacks that name a deleted channel and keeps the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0023-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0023') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      const channel = (name: string, deletedAt: number | null, fallback: number | null) =>
        client.execute({
          sql: "INSERT INTO channels (workspace_id, type, name, messages_per_second, fallback_channel_id, deleted_at, created_at, updated_at) VALUES (1, 'sandbox', ?, 10, ?, ?, 0, 0)",
          args: [name, fallback, deletedAt],
        });
      await channel('gone', 5, null); // 1
      await channel('live', null, null); // 2
      await channel('to gone', null, 1); // 3
      await channel('to live', null, 2); // 4
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const rows = await client.execute('SELECT id, fallback_channel_id AS f FROM channels ORDER BY id');
      expect(rows.rows.map((r) => [r.id, r.f])).toEqual([
        [1, null],
        [2, null],
        [3, null],
        [4, 2],
      ]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
