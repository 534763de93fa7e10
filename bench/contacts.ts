/**
 * contacts.upsert_per_s: bulk upsert of 100,000 contacts matched by phone (all new, then all existing),
 * beside a raw libSQL multi-row insert of the same rows in the same run.
 */
import { bulkUpsertContacts } from '@rebound/server/services/bulk-contacts';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { tempDatabase } from './lib/db';
import type { BenchResult } from './lib/report';

const ROWS = 100_000;

export async function benchContacts(): Promise<BenchResult[]> {
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    firstName: `Cliente ${i}`,
    lastName: 'Bench',
    phone: `11 ${String(4000_0000 + i).replace(/(\d{4})(\d{4})/, '$1-$2')}`,
    email: `cliente${i}@example.com`,
  }));

  const database = await tempDatabase('contacts');
  try {
    const { db, client } = database;
    const { workspace } = await createWorkspace(db, { name: 'Bench' });
    const ws = { workspaceId: workspace.id, defaultCountry: 'AR' };

    const insertStart = performance.now();
    const created = await bulkUpsertContacts(db, ws, rows, { by: 'phone', mode: 'upsert', tags: ['bench'] });
    const insertSeconds = (performance.now() - insertStart) / 1000;
    const updateStart = performance.now();
    const updated = await bulkUpsertContacts(
      db,
      ws,
      rows.map((r) => ({ ...r, lastName: 'Updated' })),
      { by: 'phone', mode: 'upsert', tags: ['bench 2'] },
    );
    const updateSeconds = (performance.now() - updateStart) / 1000;
    if (created.created !== ROWS || updated.updated !== ROWS) throw new Error('bulk upsert did not touch every row');

    // Baseline: the same rows, already normalized, inserted raw in 500-row statements in one transaction.
    const rawStart = performance.now();
    const tx = await client.transaction('write');
    for (let i = 0; i < ROWS; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await tx.execute({
        sql: `INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, email, custom_fields, created_at, updated_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, 1, ?, '{}', 0, 0)").join(', ')}`,
        args: chunk.flatMap((r, j) => [workspace.id, r.firstName, 'Raw', `+54911${50000000 + i + j}`, r.email]),
      });
    }
    await tx.commit();
    const rawSeconds = (performance.now() - rawStart) / 1000;

    const rate = (2 * ROWS) / (insertSeconds + updateSeconds);
    return [
      {
        id: 'contacts.upsert_per_s',
        value: rate,
        unit: 'contacts/s',
        better: 'higher',
        note: `100,000 new then 100,000 existing, matched by phone (normalized with libphonenumber), tagged; insert ${Math.round(ROWS / insertSeconds).toLocaleString('en-US')}/s, update ${Math.round(ROWS / updateSeconds).toLocaleString('en-US')}/s`,
      },
      {
        id: 'contacts.raw_insert_rows_per_s',
        value: ROWS / rawSeconds,
        unit: 'rows/s',
        better: 'higher',
        note: 'baseline: raw libSQL 500-row INSERTs of the same 100,000 contacts, one transaction, same run',
      },
      {
        id: 'contacts.upsert_ratio_to_raw',
        value: rate / (ROWS / rawSeconds),
        unit: 'x',
        better: 'higher',
        note: 'upsert rate divided by the raw insert rate',
      },
    ];
  } finally {
    database.dispose();
  }
}
