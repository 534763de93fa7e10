/**
 * Migration 0030 on a database written before it: a broadcast's templates delivered (what its cost so far
 * bills on WhatsApp) are counted from its messages, not its free replies nor its failed templates; then
 * kept by the triggers as messages move.
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

describe('migration 0030', () => {
  it('counts the templates delivered before it, then follows each move', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0030-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0030') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'whatsapp', 'wa', 10, 0, 0)",
      );
      for (const name of ['b1', 'b2'])
        await client.execute({
          sql: `INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at)
            VALUES (1, ?, 1, '{"text":"Hola"}', 'completed', 0, 0)`,
          args: [name],
        });
      // b1: 3 templates delivered, 2 free replies delivered, 1 template failed, 1 template only sent.
      const rows: [number, string, number][] = [
        [1, 'delivered', 1],
        [1, 'delivered', 1],
        [1, 'delivered', 1],
        [1, 'delivered', 0],
        [1, 'delivered', 0],
        [1, 'failed', 1],
        [1, 'sent', 1],
        [2, 'delivered', 1],
      ];
      for (const [broadcast, state, template] of rows)
        await client.execute({
          sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, use_template, created_at, updated_at)
            VALUES (1, ?, 1, '+5491150000000', ?, ?, 0, 0)`,
          args: [broadcast, state, template],
        });
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const counts = async () =>
        (await client.execute('SELECT templates_delivered AS n FROM broadcasts ORDER BY id')).rows.map((r) => r.n);
      expect(await counts()).toEqual([3, 1]);

      // The sent template is delivered; a delivered one fails late; a free reply stays free.
      await client.execute("UPDATE messages SET state = 'delivered' WHERE id = 7");
      await client.execute("UPDATE messages SET state = 'failed' WHERE id = 1");
      await client.execute("UPDATE messages SET state = 'delivered', updated_at = 1 WHERE id = 4");
      expect(await counts()).toEqual([3, 1]);
      await client.execute('DELETE FROM messages WHERE id = 8');
      await client.execute(
        "INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, use_template, created_at, updated_at) VALUES (1, 1, 1, '+5491150000001', 'delivered', 1, 0, 0)",
      );
      expect(await counts()).toEqual([4, 0]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
