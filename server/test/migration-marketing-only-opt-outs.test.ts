/**
 * Migration 0033 on a database written before it: opt-outs that WhatsApp's marketing stop wrote (the
 * user_preferences webhook, a 131050) become marketing only; a STOP, a block or a person's stay whole.
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

describe('migration 0033', () => {
  it("marks WhatsApp's marketing stops as marketing only, and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0033-'));
    const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
    try {
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: migrationsBefore(dir, '0033') });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      for (const type of ['whatsapp', 'twilio_sms'])
        await client.execute({
          sql: `INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at)
            VALUES (1, ?, ?, 10, 0, 0)`,
          args: [type, type],
        });
      const rows: [number, string, string, string | null][] = [
        [1, '+1', 'webhook', 'user_preferences: stop'],
        [1, '+2', 'provider_code', '131050'],
        [1, '+3', 'manual', 'bloqueó el número'],
        [1, '+4', 'provider_code', '131026'],
        [2, '+5', 'inbound_word', 'STOP'],
      ];
      for (const [channel, identifier, source, detail] of rows)
        await client.execute({
          sql: 'INSERT INTO opt_outs (channel_id, identifier, at, source, detail) VALUES (?, ?, 0, ?, ?)',
          args: [channel, identifier, source, detail],
        });
      await migrate(db, { migrationsFolder: ALL_MIGRATIONS });
      const after = await client.execute('SELECT identifier, marketing_only FROM opt_outs ORDER BY identifier');
      expect(after.rows.map((r) => [r.identifier, r.marketing_only])).toEqual([
        ['+1', 1],
        ['+2', 1],
        ['+3', 0],
        ['+4', 0],
        ['+5', 0],
      ]);
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
