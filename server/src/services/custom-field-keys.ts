/**
 * The workspace's cap on distinct custom-field keys, so exports and segment filters stay bounded. Every
 * write that may add a key asks here first: the contact writer (CSV import, benchmark), the API's create
 * and update, and the import's first pass for a file's columns.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { ApiError } from '../lib/errors';

let customFieldKeyCap = 200;
/** The app sets the cap at start-up from CUSTOM_FIELD_KEYS_MAX (lib/create-app.ts). */
export function setCustomFieldKeyCap(max: number): void {
  customFieldKeyCap = max;
}
export const getCustomFieldKeyCap = () => customFieldKeyCap;

/**
 * Keys each workspace held at the last scan, per database: a write that only uses those adds no new key,
 * so it skips the scan of every contact's fields. Every scan replaces the set, so the cap is exact within
 * one process; another API process's writes are seen at this process's next scan.
 */
const knownKeys = new WeakMap<Database, Map<number, Set<string>>>();

/**
 * Refuses (422) a write that would take the workspace past the cap of distinct custom-field keys, so
 * exports and segment filters stay bounded. Call it inside the write's transaction with the database
 * (not the transaction): writes of one process are serialized, and its read sees every committed key.
 */
export async function assertCustomKeysWithinCap(
  db: Database,
  workspaceId: number,
  keys: Iterable<string>,
  max = customFieldKeyCap,
): Promise<void> {
  const wanted = new Set(keys);
  if (wanted.size === 0) return;
  const byWorkspace = knownKeys.get(db) ?? new Map<number, Set<string>>();
  const cached = byWorkspace.get(workspaceId);
  if (cached && [...wanted].every((key) => cached.has(key))) return;
  const rows = await db.all<{ key: string }>(sql`SELECT DISTINCT j.key AS key
    FROM contacts c, json_each(c.custom_fields) j
    WHERE c.workspace_id = ${workspaceId} AND json_valid(c.custom_fields)`);
  const existing = new Set(rows.map((row) => row.key));
  if (existing.size <= max * 2) {
    byWorkspace.set(workspaceId, existing);
    knownKeys.set(db, byWorkspace);
  }
  const added = [...wanted].filter((key) => !existing.has(key)).sort();
  if (added.length > 0 && existing.size + added.length > max) {
    const shown = added.slice(0, 10).join(', ') + (added.length > 10 ? ', …' : '');
    throw new ApiError(422, 'custom_field_keys_limit', { count: existing.size, max, keys: shown }, [
      { path: 'customFields', message: `new keys: ${added.join(', ')}` },
    ]);
  }
}
