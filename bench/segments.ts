/**
 * segment.count_1m_ms: preview (count and a 10-contact sample) of segments over 1,000,000 contacts
 * with three tags each, through the same service the API calls.
 */
import { createSegment, previewSegment } from '@rebound/server/services/segments';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { tempDatabase } from './lib/db';
import { type BenchResult, median } from './lib/report';

const CONTACTS = 1_000_000;
const TAGS = 30;

export async function benchSegments(): Promise<BenchResult[]> {
  const database = await tempDatabase('segments');
  try {
    const { db, client } = database;
    const { workspace } = await createWorkspace(db, { name: 'Bench' });
    const ws = { workspaceId: workspace.id, defaultCountry: 'AR' };
    const seedStart = performance.now();
    // Seeding is not what is measured, so it uses set-based SQL: contact i gets tags i, i+7 and i+13 (mod 30).
    await client.execute({
      sql: `INSERT INTO tags (workspace_id, name, key, created_at)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
            SELECT ?, 'tag ' || i, 'tag ' || i, 0 FROM n`,
      args: [TAGS, workspace.id],
    });
    await client.execute({
      sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            SELECT ?, 'Contact ' || i, '+54911' || (40000000 + i), 1,
                   CASE WHEN i % 4 = 0 THEN 'c' || i || '@example.com' END,
                   CASE WHEN i % 10 = 0 THEN '{"plan":"pro"}' ELSE '{}' END, 0, 0
            FROM n`,
      args: [CONTACTS, workspace.id],
    });
    const firstTag = Number((await client.execute('SELECT min(id) AS id FROM tags')).rows[0]?.id);
    for (const offset of [0, 7, 13]) {
      await client.execute({
        sql: `INSERT INTO contact_tags (tag_id, contact_id)
              SELECT ? + ((id + ?) % ?), id FROM contacts WHERE workspace_id = ?`,
        args: [firstTag, offset, TAGS, workspace.id],
      });
    }
    await client.execute('ANALYZE');
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const filters = {
      'has any of one tag': {
        match: 'all',
        groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['tag 3'] }] }],
      },
      'has all of two tags': {
        match: 'all',
        groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAllOf', tags: ['tag 3', 'tag 10'] }] }],
      },
      'tag and e-mail exists or pro plan': {
        match: 'all',
        groups: [
          { match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['tag 3', 'tag 4'] }] },
          {
            match: 'any',
            conditions: [
              { type: 'field', field: 'email', operator: 'exists' },
              { type: 'field', field: 'custom.plan', operator: 'is', value: 'pro' },
            ],
          },
        ],
      },
    } as const;
    const results: BenchResult[] = [];
    for (const [label, filter] of Object.entries(filters)) {
      const segment = await createSegment(db, workspace.id, { name: label, filter: structuredClone(filter) as never });
      await previewSegment(db, ws, segment.id, 10); // warm the page cache
      const times: number[] = [];
      let count = 0;
      for (let run = 0; run < 5; run++) {
        const start = performance.now();
        count = (await previewSegment(db, ws, segment.id, 10)).count;
        times.push(performance.now() - start);
      }
      const main = label === 'has any of one tag';
      results.push({
        id: main ? 'segment.count_1m_ms' : `segment.count_1m_ms.${label.replace(/\W+/g, '_')}`,
        value: median(times),
        unit: 'ms',
        better: 'lower',
        ...(main && { target: 1000 }),
        note: `preview "${label}" over 1,000,000 contacts × 3 tags: ${count.toLocaleString('en-US')} match; median of 5 (seeded in ${seedSeconds.toFixed(0)} s)`,
      });
    }
    return results;
  } finally {
    database.dispose();
  }
}
