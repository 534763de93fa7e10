/**
 * The native read path (db/fast-read.ts) answers as the client would: the same rows, keyed by the
 * same column names, nothing added; a query that finds nothing gives undefined.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/db/client';
import { readRow, readRows } from '../src/db/fast-read';
import { authenticate, createToken } from '../src/services/tokens';
import { createWorkspace } from '../src/services/workspaces';

const dir = mkdtempSync(join(tmpdir(), 'rebound-fast-read-'));
let handle: DatabaseHandle;

beforeAll(async () => {
  handle = await openDatabase({ url: `file:${join(dir, 'rebound.db')}` });
});
afterAll(() => {
  handle.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fast reads on a local file', () => {
  it('readRow gives the first row as the client does, keyed by column name and nothing else', async () => {
    const { workspace } = await createWorkspace(handle.db, { name: 'Ventas Córdoba' });
    const query = sql`SELECT id AS workspaceId, name, default_country AS country, NULL AS absent
      FROM workspaces WHERE id = ${workspace.id}`;
    const row = await readRow<Record<string, unknown>>(handle.db, query);
    expect(row).toEqual({ workspaceId: workspace.id, name: 'Ventas Córdoba', country: 'AR', absent: null });
    expect(Object.keys(row ?? {})).toEqual(['workspaceId', 'name', 'country', 'absent']);
    expect(row).toEqual((await handle.db.all(query))[0]);
    expect(await readRows(handle.db, query)).toEqual([row]);
    // The same statement again (kept prepared) sees a later write.
    await handle.db.run(sql`UPDATE workspaces SET name = 'Ventas Rosario' WHERE id = ${workspace.id}`);
    expect((await readRow<{ name: string }>(handle.db, query))?.name).toBe('Ventas Rosario');
  });

  it('readRow gives undefined when no row matches', async () => {
    expect(await readRow(handle.db, sql`SELECT id FROM workspaces WHERE id = ${-1}`)).toBeUndefined();
  });

  it('a read that failed leaves nothing behind: the next one runs with its own values', async () => {
    // json('{') fails while the row is read (malformed JSON), after the values were bound.
    const query = (value: string) =>
      sql`SELECT ${value} AS v, CASE WHEN ${value} = 'boom' THEN json('{') END AS e FROM workspaces LIMIT 1`;
    await expect(readRow(handle.db, query('boom'))).rejects.toThrow(/JSON/i);
    expect(await readRow(handle.db, query('ok'))).toEqual({ v: 'ok', e: null });
  });

  it("a request's token resolves to its workspace and role, a revoked one to nothing", async () => {
    const { workspace } = await createWorkspace(handle.db, { name: 'Soporte' });
    const { token, id } = await createToken(handle.db, workspace.id, 'panel', 'agent');
    const auth = await authenticate(handle.db, token);
    expect(auth).toEqual({
      tokenId: id,
      tokenName: 'panel',
      role: 'agent',
      workspaceId: workspace.id,
      workspaceName: 'Soporte',
      workspaceLanguage: expect.any(String),
      defaultCountry: 'AR',
    });
    await handle.db.run(sql`UPDATE api_tokens SET revoked_at = ${Date.now()} WHERE id = ${id}`);
    expect(await authenticate(handle.db, token)).toBeUndefined();
  });
});
