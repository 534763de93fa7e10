/**
 * Migration 0038 on a database written before failures kept their reason: a failed recipient without
 * one is `provider_error`, as the failure summary read it (and the one-click re-send, which chooses by
 * reason, now takes it too); an unconfirmed one is `uncertain`. The kept counts follow.
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

describe('migration 0038', () => {
  it('gives a failed recipient without a reason the one every reader gave it, and the counts follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0038-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0038') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'sandbox', 's', 10, 0, 0)",
      );
      await client.execute(`INSERT INTO broadcasts (id, workspace_id, name, channel_id, content, status, created_at, updated_at)
        VALUES (1, 1, 'Black Friday', 1, '{"text":"Hola"}', 'partially_failed', 0, 0)`);
      const messages: [string, string | null][] = [
        ['failed', null],
        ['failed', null],
        ['failed', 'blocked'],
        ['uncertain', null],
        ['sent', null],
        ['excluded', 'duplicate'],
      ];
      for (const [i, [state, reason]] of messages.entries())
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, reason, failed_at, created_at, updated_at)
            VALUES (1, 1, 1, ?, ?, ?, 5, 0, 0)`,
          args: [`+${i}`, state, reason],
        });
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const rows = async (query: string) => (await client.execute(query)).rows.map((r) => Object.values(r));
      expect(await rows('SELECT state, reason, count(*) FROM messages GROUP BY 1, 2 ORDER BY 1, 2')).toEqual([
        ['excluded', 'duplicate', 1],
        ['failed', 'blocked', 1],
        ['failed', 'provider_error', 2],
        ['sent', null, 1],
        ['uncertain', 'uncertain', 1],
      ]);
      // What the failure log's summary and a broadcast's detail read: nothing left under no reason.
      expect(await rows('SELECT reason, n FROM failure_counts WHERE n != 0 ORDER BY reason')).toEqual([
        ['blocked', 1],
        ['duplicate', 1],
        ['provider_error', 2],
        ['uncertain', 1],
      ]);
      expect(
        await rows(
          "SELECT state, reason, n FROM broadcast_counts WHERE n != 0 AND state IN ('failed', 'uncertain') ORDER BY 1, 2",
        ),
      ).toEqual([
        ['failed', 'blocked', 1],
        ['failed', 'provider_error', 2],
        ['uncertain', 'uncertain', 1],
      ]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
