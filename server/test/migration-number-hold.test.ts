/**
 * Migration 0029 on a database written before it: a number a broadcast was paused for (Meta's flag, the
 * guard's channel window) is held on its channel, with that pause; a pause of one broadcast's own
 * audience, or of a template, holds nothing.
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

describe('migration 0029', () => {
  it('holds the numbers paused for their own sake, and only those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0029-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0029') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      const pauses = [
        { kind: 'number_quality', event: 'FLAGGED', scope: 'channel', at: 5 },
        { kind: 'quality', scope: 'channel', at: 6, outcomes: 200, harmful: 30 },
        { kind: 'quality', scope: 'broadcast', at: 7, outcomes: 200, harmful: 30 },
        { kind: 'template', scope: 'broadcast', at: 8, template: 'promo', event: 'PAUSED' },
      ];
      for (const [i, pause] of pauses.entries()) {
        await client.execute({
          sql: "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'sandbox', ?, 10, 0, 0)",
          args: [`c${i}`],
        });
        await client.execute({
          sql: `INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, pause, created_at, updated_at)
            VALUES (1, ?, ?, '{"text":"Hola"}', 'paused', ?, 0, 0)`,
          args: [`b${i}`, i + 1, JSON.stringify(pause)],
        });
      }
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const rows = await client.execute('SELECT id, hold FROM channels ORDER BY id');
      expect(rows.rows.map((r) => [r.id, r.hold === null ? null : JSON.parse(String(r.hold))])).toEqual([
        [1, pauses[0]],
        [2, pauses[1]],
        [3, null],
        [4, null],
      ]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
