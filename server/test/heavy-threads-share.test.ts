/**
 * On a machine with several heavy threads, one workspace's scans never take them all: a workspace runs
 * on all the threads but one at once, so another workspace's read is answered in its own time, not
 * after the first workspace's scans. Here a manager's segment crafted to cost seconds a preview
 * ("contains" 199 "a" and an "e" against notes of 2,000 "a", on contacts written straight into the
 * table, so without the folded copies that make such a preview fast), asked twice, against another
 * workspace's contact lookup, on two heavy threads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client';
import { HeavyWork } from '../src/lib/heavy';
import { createSegment } from '../src/services/segments';
import { createWorkspace } from '../src/services/workspaces';

const dir = mkdtempSync(join(tmpdir(), 'rebound-heavy-share-'));
const url = `file:${join(dir, 'test.db')}`;
const database = await openDatabase({ url });
const { db } = database;
const heavy = new HeavyWork({ databaseUrl: url, threads: 2 });
afterAll(async () => {
  await heavy.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

async function workspace(name: string, contacts: number, note: string) {
  const { workspace } = await createWorkspace(db, { name, defaultCountry: 'AR' }, ['manager']);
  await db.run(sql`INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, custom_fields, created_at, updated_at)
    SELECT ${workspace.id}, 'Cliente ' || value, '+54911' || (40000000 + value), 1, json_object('nota', ${note}), 0, 0
    FROM generate_series(1, ${contacts})`);
  return { workspaceId: workspace.id, defaultCountry: 'AR' };
}

describe('heavy threads shared between workspaces', () => {
  it("another workspace's lookup is answered while one workspace's crafted previews run, not after them", async () => {
    const crafter = await workspace('Crafter', 30, 'a'.repeat(2000));
    const other = await workspace('Other', 10, 'pro');
    const segment = await createSegment(db, crafter.workspaceId, {
      name: 'crafted',
      filter: {
        match: 'all',
        groups: [
          {
            match: 'all',
            conditions: [{ type: 'field', field: 'custom.nota', operator: 'contains', value: `${'a'.repeat(199)}e` }],
          },
        ],
      },
    });
    const lookup = () => heavy.run(db, other.workspaceId, 'contacts.duplicates', { ws: other });
    // Both threads started (a thread's first task loads its modules).
    await Promise.all([heavy.run(db, crafter.workspaceId, 'contacts.duplicates', { ws: crafter }), lookup()]);

    const answered: string[] = [];
    const preview = (name: string) => {
      const began = performance.now();
      return heavy
        .run(db, crafter.workspaceId, 'segments.preview', { ws: crafter, id: segment.id, sample: 5 })
        .then((result) => {
          answered.push(name);
          return { result, ms: performance.now() - began };
        });
    };
    const previews = [preview('preview 1'), preview('preview 2')];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lookupBegan = performance.now();
    await lookup().then(() => answered.push('lookup'));
    const lookupMs = performance.now() - lookupBegan;
    const [first, second] = await Promise.all(previews);
    // The previews cost what they cost, one after the other, and find nobody.
    expect(first?.result.count).toBe(0);
    expect(second?.result.count).toBe(0);
    expect(answered).toEqual(['lookup', 'preview 1', 'preview 2']);
    // The lookup did not wait for a preview: it took a small part of one.
    expect(lookupMs).toBeLessThan((first?.ms ?? 0) / 4);
  }, 60_000);
});
