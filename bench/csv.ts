/** export.*, import.*: CSV out of 1,000,000 failed messages, and a 100,000-row import with a tag. */
import { fileURLToPath } from 'node:url';
import { runContactImport } from '@rebound/server/csv/import';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { seedFailures } from './failures';
import { runChild } from './lib/child';
import { tempDatabase } from './lib/db';
import type { BenchResult } from './lib/report';

export async function benchExport(): Promise<BenchResult[]> {
  const database = await tempDatabase('export');
  try {
    const { workspace } = await seedFailures(database, 1_000_000);
    // Exported by a process of its own, so its peak RSS is the export's, not the seeding's.
    const script = fileURLToPath(new URL('./csv-export-child.ts', import.meta.url));
    const result = await runChild<{ seconds: number; rssMb: number; rows: number; mb: number }>(script, [], {
      BENCH_DB: database.url,
      BENCH_WORKSPACE: String(workspace.id),
    });
    if (result.rows !== 1_000_001) throw new Error(`exported ${result.rows} lines`);
    return [
      {
        id: 'export.1m_s',
        value: result.seconds,
        unit: 's',
        better: 'lower',
        target: 15,
        note: `1,000,000 failed messages to CSV (${result.mb.toFixed(0)} MB), streamed`,
      },
      {
        id: 'export.1m_rss_mb',
        value: result.rssMb,
        unit: 'MB',
        better: 'lower',
        target: 250,
        note: 'peak RSS of the exporting process',
      },
    ];
  } finally {
    database.dispose();
  }
}

export async function benchImport(): Promise<BenchResult[]> {
  const ROWS = 100_000;
  const database = await tempDatabase('import');
  try {
    const { workspace } = await createWorkspace(database.db, { name: 'Bench', defaultCountry: 'AR' });
    const lines = ['First Name,Last Name,Phone,Email,plan'];
    for (let i = 0; i < ROWS; i++) lines.push(`Cliente ${i},Pérez,+54911${40000000 + i},cliente${i}@example.com,pro`);
    const bytes = new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
    const start = performance.now();
    const record = await runContactImport(
      database.db,
      { workspaceId: workspace.id, defaultCountry: 'AR' },
      {
        fileName: 'contacts.csv',
        bytes,
        options: { mode: 'upsert', identifier: 'phone', tags: ['importado'], dryRun: false, allOrNothing: true },
        language: 'es',
      },
    );
    const seconds = (performance.now() - start) / 1000;
    if (record.created !== ROWS) throw new Error(`import created ${record.created} of ${ROWS}: ${record.errorMessage}`);
    return [
      {
        id: 'import.100k_s',
        value: seconds,
        unit: 's',
        better: 'lower',
        target: 10,
        note: `100,000-row CSV (${(bytes.length / 1e6).toFixed(1)} MB), upsert by phone, one tag, all or nothing`,
      },
    ];
  } finally {
    database.dispose();
  }
}
