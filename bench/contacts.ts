/**
 * contacts.upsert_per_s: the contact writer the CSV import and the API write through (server
 * services/contact-writer.ts), 100,000 new contacts then the same 100,000 again, matched by phone and
 * tagged, beside a raw libSQL multi-row insert of the same rows in the same database.
 */
import {
  type ContactInput,
  forgetNormalizedPhones,
  type UpsertResult,
  upsertContacts,
} from '@rebound/server/services/contact-writer';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { tempDatabase } from './lib/db';
import type { BenchResult } from './lib/report';

const ROWS = 100_000;
const ROUNDS = 3;

interface Round {
  /** Contacts written per second over both passes. */
  rate: number;
  insert: number;
  update: number;
  raw: number;
}

/** One round in a fresh database: the two passes through the writer, then the raw insert. */
async function round(rows: ContactInput[]): Promise<Round> {
  const database = await tempDatabase('contacts');
  try {
    const { db, client } = database;
    const { workspace } = await createWorkspace(db, { name: 'Bench', defaultCountry: 'AR' });
    const ws = { workspaceId: workspace.id, defaultCountry: 'AR' };
    const upsert = async (batch: ContactInput[], tag: string): Promise<[UpsertResult, number]> => {
      // Each pass normalizes its phones cold: the second pass's numbers are not the first's cache hits.
      forgetNormalizedPhones();
      const start = performance.now();
      const result = await upsertContacts(db, ws, batch, { by: 'phone', mode: 'upsert', tags: [tag] });
      return [result, (performance.now() - start) / 1000];
    };
    const [created, insertSeconds] = await upsert(rows, 'bench');
    const [updated, updateSeconds] = await upsert(
      rows.map((row) => ({ ...row, lastName: 'Updated' })),
      'bench 2',
    );
    if (created.created !== ROWS || updated.updated !== ROWS || created.rejected.length || updated.rejected.length) {
      throw new Error('the upsert did not write every row');
    }

    // Baseline: the same rows, already normalized, inserted raw in 500-row statements in one transaction.
    const rawStart = performance.now();
    const tx = await client.transaction('write');
    for (let i = 0; i < ROWS; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await tx.execute({
        sql: `INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, email, custom_fields, created_at, updated_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, 1, ?, '{}', 0, 0)").join(', ')}`,
        args: chunk.flatMap((r, j) => [
          workspace.id,
          r.firstName ?? null,
          'Raw',
          `+54911${50000000 + i + j}`,
          r.email ?? null,
        ]),
      });
    }
    await tx.commit();
    const rawSeconds = (performance.now() - rawStart) / 1000;
    return {
      rate: (2 * ROWS) / (insertSeconds + updateSeconds),
      insert: ROWS / insertSeconds,
      update: ROWS / updateSeconds,
      raw: ROWS / rawSeconds,
    };
  } finally {
    database.dispose();
  }
}

export async function benchContacts(): Promise<BenchResult[]> {
  // Written as people write them: local numbers with a space and a dash, read in the workspace's country.
  const rows: ContactInput[] = Array.from({ length: ROWS }, (_, i) => ({
    firstName: `Cliente ${i}`,
    lastName: 'Bench',
    phone: `11 ${String(4000_0000 + i).replace(/(\d{4})(\d{4})/, '$1-$2')}`,
    email: `cliente${i}@example.com`,
  }));
  // The ratio of a round holds on a machine whose speed drifts; the absolute rates do not.
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(rows));
  const ratio = (r: Round) => r.rate / r.raw;
  const middle = [...rounds].sort((a, b) => ratio(a) - ratio(b))[Math.floor(ROUNDS / 2)] as Round;
  const list = (values: number[], digits = 0) =>
    values.map((v) => v.toLocaleString('en-US', { maximumFractionDigits: digits })).join(', ');
  return [
    {
      id: 'contacts.upsert_per_s',
      value: middle.rate,
      unit: 'contacts/s',
      better: 'higher',
      note: `the import's contact writer: 100,000 new then the same 100,000 again (last name changed), matched by phone written locally (libphonenumber, cold each pass), tagged, one transaction each; new ${list([middle.insert])}/s, existing ${list([middle.update])}/s; the median round of ${ROUNDS} (rates ${list(rounds.map((r) => r.rate))})`,
    },
    {
      id: 'contacts.raw_insert_rows_per_s',
      value: middle.raw,
      unit: 'rows/s',
      better: 'higher',
      note: `baseline: raw libSQL 500-row INSERTs of the same 100,000 contacts, one transaction, after the upserts in the same database (rates ${list(rounds.map((r) => r.raw))})`,
    },
    {
      id: 'contacts.upsert_ratio_to_raw',
      value: ratio(middle),
      unit: 'x',
      better: 'higher',
      target: 0.3,
      note: `the import's own upsert rate / raw insert rate, median of ${ROUNDS} rounds (${list(rounds.map(ratio), 3)})`,
    },
  ];
}
