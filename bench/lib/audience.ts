/** The benchmarks' audience, apart from the engine's benchmarks so that a process measuring memory loads nothing else. */
import type { DatabaseHandle } from '@rebound/server/db';
import { createSegment } from '@rebound/server/services/segments';
import { createWorkspace } from '@rebound/server/services/workspaces';

/** A workspace with `count` contacts tagged "bench" and a segment of them. */
export async function seedAudience(database: Pick<DatabaseHandle, 'db' | 'client'>, count: number) {
  const { db, client } = database;
  const { workspace } = await createWorkspace(db, { name: 'Bench' });
  await client.execute({
    sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, custom_fields, created_at, updated_at)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT ?, 'Contact ' || i, '+54911' || (30000000 + i), 1, '{}', 0, 0 FROM n`,
    args: [count, workspace.id],
  });
  const segment = await createSegment(db, workspace.id, { name: 'everyone', filter: { match: 'all', groups: [] } });
  return { workspace, segment };
}
