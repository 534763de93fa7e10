/**
 * The workspace's cap on distinct custom-field keys, so exports and segment filters stay bounded. Every
 * write that may add a key asks here first: the contact writer (CSV import, benchmark), the API's create
 * and update, and the import's first pass for a file's columns.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { ApiError, fieldIssue } from '../lib/errors';

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

/** A key as a person reads it: "Plan" and "plan" name one field. */
const folded = (key: string) => key.normalize('NFC').toLocaleLowerCase('und');

/**
 * How a write must spell its keys: a key the workspace already has in another case ("plan" where its
 * contacts hold "Plan", a CRM's export with other headers) takes the workspace's spelling, and two new
 * keys of one write that differ only in case take the first's. Only keys that change are in the map.
 */
export type KeySpelling = Map<string, string>;

/** `fields` with its keys spelled as the workspace spells them (later values win on a clash). */
export function respell<T>(fields: Record<string, T>, spelling: KeySpelling): Record<string, T> {
  if (spelling.size === 0) return fields;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [spelling.get(key) ?? key, value]));
}

/** How the workspace spells `keys` (KeySpelling), for a reader of them: nothing is counted or refused. */
export const workspaceSpelling = (db: Database, workspaceId: number, keys: Iterable<string>): Promise<KeySpelling> =>
  assertCustomKeysWithinCap(db, workspaceId, [], Number.POSITIVE_INFINITY, keys);

/**
 * Refuses (422) a write that would take the workspace past the cap of distinct custom-field keys, so
 * exports and segment filters stay bounded; returns how the write must spell its keys (KeySpelling), so
 * that one field is never split in two by case. Call it inside the write's transaction with the database
 * (not the transaction): writes of one process are serialized, and its read sees every committed key.
 */
export async function assertCustomKeysWithinCap(
  db: Database,
  workspaceId: number,
  keys: Iterable<string>,
  max = customFieldKeyCap,
  /** Keys the write only removes: spelled as the workspace spells them, never counted as added. */
  removing: Iterable<string> = [],
): Promise<KeySpelling> {
  const spelling: KeySpelling = new Map();
  const wanted = new Set(keys);
  const gone = new Set(removing);
  if (wanted.size === 0 && gone.size === 0) return spelling;
  const byWorkspace = knownKeys.get(db) ?? new Map<number, Set<string>>();
  const cached = byWorkspace.get(workspaceId);
  if (cached && [...wanted, ...gone].every((key) => cached.has(key))) return spelling;
  const rows = await db.all<{ key: string }>(sql`SELECT DISTINCT j.key AS key
    FROM contacts c, json_each(c.custom_fields) j
    WHERE c.workspace_id = ${workspaceId} AND json_valid(c.custom_fields)`);
  const existing = new Set(rows.map((row) => row.key));
  if (existing.size <= max * 2) {
    byWorkspace.set(workspaceId, existing);
    knownKeys.set(db, byWorkspace);
  }
  // The workspace's spelling of each key (the first in sort order, when old writes left several).
  const spelled = new Map<string, string>();
  for (const key of [...existing].sort()) if (!spelled.has(folded(key))) spelled.set(folded(key), key);
  for (const key of [...wanted, ...gone]) {
    if (existing.has(key)) continue;
    const as = spelled.get(folded(key));
    if (as === undefined) {
      if (wanted.has(key)) spelled.set(folded(key), key);
    } else if (as !== key) spelling.set(key, as);
  }
  const added = [...new Set([...wanted].map((key) => spelling.get(key) ?? key))]
    .filter((key) => !existing.has(key))
    .sort();
  if (added.length > 0 && existing.size + added.length > max) {
    const shown = added.slice(0, 10).join(', ') + (added.length > 10 ? ', …' : '');
    throw new ApiError(422, 'custom_field_keys_limit', { count: existing.size, max, keys: shown }, [
      fieldIssue('customFields', 'newFieldKeys', { keys: added.join(', ') }),
    ]);
  }
  return spelling;
}
