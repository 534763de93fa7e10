/**
 * The contact writer's statements (its SQL), beside the writer that plans and orders them
 * (contact-writer.ts): existing contacts matched by contact ID, phone or e-mail (the oldest answers when
 * several share one), batches written as multi-row statements whose values travel as one JSON
 * parameter, and tags linked in one statement per batch.
 */
import type { ImportIdentifier } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { contacts } from '../db/schema';
import { foldCustom, foldName } from '../segments/fold';
import type { ContactValues } from './contact-input';

/** The database or a transaction of it: every statement here runs on either. */
export type Db = Pick<Database, 'all' | 'run'>;

/** A batch's values travel as one JSON parameter: a short statement, prepared fast, whatever the batch size. */
/** A batch's values travel as one JSON parameter: a short statement, prepared fast, whatever the batch size. */
const jsonRows = (rows: unknown[]) => JSON.stringify(rows);

/**
 * Contact ids by normalized identifier, for the given keys, inside the workspace only. Raw rows, not
 * drizzle's select: mapping each row back was half the time of a look-up.
 */
export async function findContactIds(
  db: Db,
  workspaceId: number,
  identifier: ImportIdentifier,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  if (identifier === 'contactId') {
    // The unary + keeps SQLite on the primary key instead of scanning the workspace index.
    const rows = await db.all<{ id: number }>(sql`SELECT ${contacts.id} AS id FROM ${contacts}
      WHERE +${contacts.workspaceId} = ${workspaceId}
        AND ${contacts.id} IN (SELECT value FROM json_each(${jsonRows(keys.map(Number))}))`);
    for (const { id } of rows) found.set(String(id), Number(id));
    return found;
  }
  // When duplicates share a phone or e-mail, the oldest contact answers, as everywhere else.
  const column = identifier === 'phone' ? contacts.phone : contacts.email;
  const rows = await db.all<{ key: string | null; id: number }>(sql`SELECT ${column} AS key, min(${contacts.id}) AS id
    FROM ${contacts}
    WHERE ${contacts.workspaceId} = ${workspaceId} AND ${column} IN (SELECT value FROM json_each(${jsonRows([...keys])}))
    GROUP BY ${column}`);
  for (const { key, id } of rows) if (key !== null) found.set(key, Number(id));
  return found;
}

/** Bits of the first column of an update row: which fields it sets (absent ones keep the contact's). */
const SETS = { firstName: 1, lastName: 2, phone: 4, email: 8, language: 16 } as const;

/** A contact's columns as an array, in the order the statements below read them. */
function columnsOf(data: ContactValues, custom: Record<string, string | null> | undefined): unknown[] {
  const phone = data.phone;
  let sets = 0;
  for (const field of ['firstName', 'lastName', 'phone', 'email', 'language'] as const) {
    if (data[field] !== undefined) sets |= SETS[field];
  }
  return [
    sets,
    data.firstName ?? null,
    data.lastName ?? null,
    phone?.phone ?? null,
    phone?.phoneValid == null ? null : phone.phoneValid ? 1 : 0,
    phone?.phoneProblem ?? null,
    data.email ?? null,
    data.language ?? null,
    custom ?? null,
    // The folded copies a segment's "contains" reads (migration 0040), written with the text.
    foldName(data.firstName),
    foldName(data.lastName),
    custom ? foldCustom(custom) : null,
  ];
}

/** A new contact's custom fields: a null (remove) has nothing to remove. */
function newCustomFields(fields: Record<string, string | null> | undefined) {
  if (!fields) return undefined;
  for (const value of Object.values(fields)) {
    if (value === null) return Object.fromEntries(Object.entries(fields).filter(([, kept]) => kept !== null));
  }
  return fields;
}

/** Creates contacts in one multi-row INSERT; their ids come back (in no particular order). */
export async function insertContacts(
  tx: Db,
  workspaceId: number,
  rows: readonly ContactValues[],
  /** Their created_at and updated_at: an import notes it (noteWritten). */
  now = Date.now(),
): Promise<number[]> {
  if (rows.length === 0) return [];
  const created = await tx.all<{ id: number }>(sql`INSERT INTO contacts
      (workspace_id, first_name, last_name, phone, phone_valid, phone_problem, email, language, custom_fields, created_at, updated_at,
       first_folded, last_folded, custom_folded)
    SELECT ${workspaceId}, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6,
      j.value ->> 7, coalesce(j.value ->> 8, '{}'), ${now}, ${now}, j.value ->> 9, j.value ->> 10, coalesce(j.value ->> 11, '{}')
    FROM json_each(${jsonRows(rows.map((data) => columnsOf(data, newCustomFields(data.customFields))))}) AS j
    RETURNING id`);
  return created.map((row) => Number(row.id));
}

export interface ContactUpdate {
  id: number;
  data: ContactValues;
}

/**
 * Updates contacts by id in one UPDATE ... FROM: a field a row leaves out keeps what the contact has,
 * custom fields merge (json_patch: a null removes its key). Returns the ids that were really there. The
 * unary + keeps SQLite looking contacts up by primary key, one per row, rather than walking the
 * workspace index. Each id must appear once: UPDATE ... FROM applies only one row per contact.
 */
export async function updateContacts(
  tx: Db,
  workspaceId: number,
  updates: readonly ContactUpdate[],
  /** The contacts' updated_at: an import's undo note keeps it (noteBeforeUpdate). */
  at = Date.now(),
): Promise<Set<number>> {
  if (updates.length === 0) return new Set();
  const payload = jsonRows(updates.map(({ id, data }) => [id, ...columnsOf(data, data.customFields)]));
  const result = await tx.run(sql`UPDATE contacts SET
      first_name = CASE WHEN v.sets & 1 THEN v.first_name ELSE contacts.first_name END,
      last_name = CASE WHEN v.sets & 2 THEN v.last_name ELSE contacts.last_name END,
      phone = CASE WHEN v.sets & 4 THEN v.phone ELSE contacts.phone END,
      phone_valid = CASE WHEN v.sets & 4 THEN v.phone_valid ELSE contacts.phone_valid END,
      phone_problem = CASE WHEN v.sets & 4 THEN v.phone_problem ELSE contacts.phone_problem END,
      email = CASE WHEN v.sets & 8 THEN v.email ELSE contacts.email END,
      language = CASE WHEN v.sets & 16 THEN v.language ELSE contacts.language END,
      custom_fields = CASE WHEN v.custom IS NULL THEN contacts.custom_fields ELSE json_patch(contacts.custom_fields, v.custom) END,
      first_folded = CASE WHEN v.sets & 1 THEN v.first_folded ELSE contacts.first_folded END,
      last_folded = CASE WHEN v.sets & 2 THEN v.last_folded ELSE contacts.last_folded END,
      -- A contact not folded yet (null) stays so here: foldUnfolded writes its three copies below.
      custom_folded = CASE WHEN v.custom IS NULL THEN contacts.custom_folded ELSE json_patch(contacts.custom_folded, v.custom_folded) END,
      updated_at = ${at}
    FROM (
      SELECT j.value ->> 0 AS id, j.value ->> 1 AS sets, j.value ->> 2 AS first_name, j.value ->> 3 AS last_name,
        j.value ->> 4 AS phone, j.value ->> 5 AS phone_valid, j.value ->> 6 AS phone_problem, j.value ->> 7 AS email,
        j.value ->> 8 AS language, j.value ->> 9 AS custom, j.value ->> 10 AS first_folded, j.value ->> 11 AS last_folded,
        j.value ->> 12 AS custom_folded
      FROM json_each(${payload}) AS j
    ) AS v
    WHERE contacts.id = v.id AND +contacts.workspace_id = ${workspaceId}`);
  const ids = new Set(updates.map(({ id }) => id));
  await foldUnfolded(tx, [...ids]);
  // Every contact there: the usual case, told by the count alone (RETURNING would build a row per contact).
  if (result.rowsAffected === ids.size) return ids;
  const present = await tx.all<{ id: number }>(sql`SELECT ${contacts.id} AS id FROM ${contacts}
    WHERE +${contacts.workspaceId} = ${workspaceId}
      AND ${contacts.id} IN (SELECT value FROM json_each(${jsonRows([...ids])}))`);
  return new Set(present.map((row) => Number(row.id)));
}

/** Every contact gets every tag; a link it already has stays as it is. */
export async function linkTags(tx: Db, contactIds: readonly number[], tagIds: readonly number[]): Promise<void> {
  if (contactIds.length === 0 || tagIds.length === 0) return;
  await tx.run(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
    SELECT t.value, c.value FROM json_each(${jsonRows([...tagIds])}) AS t, json_each(${jsonRows([...contactIds])}) AS c`);
}

/** At most this much text is folded in one write of foldContacts (a contact may hold 400 kB of custom fields). */
const FOLD_TEXT = 1_000_000;

/**
 * Writes the folded copies (migration 0040) of the contacts among `ids` that have none, from their text
 * as it is now. The writers call it on what they wrote, in their transaction: a contact written before
 * 0040, or put back by an import's undo as it was before, is folded by its next write.
 */
export async function foldUnfolded(db: Db, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db.all<{ id: number; first: string | null; last: string | null; custom: string }>(sql`SELECT
      id, first_name AS first, last_name AS last, custom_fields AS custom
    FROM contacts WHERE custom_folded IS NULL AND id IN (SELECT value FROM json_each(${jsonRows([...ids])}))`);
  if (rows.length === 0) return 0;
  const payload = jsonRows(
    rows.map((c) => {
      let custom: unknown = {};
      try {
        custom = JSON.parse(c.custom);
      } catch {
        // Not JSON (written by hand): nothing a segment can read in it either.
      }
      const fields = custom !== null && typeof custom === 'object' && !Array.isArray(custom) ? custom : {};
      const folded = JSON.stringify(foldCustom(fields as Record<string, unknown>));
      return [c.id, c.first, c.last, c.custom, foldName(c.first), foldName(c.last), folded];
    }),
  );
  // Only where the text is still what was read: foldContacts reads and writes in two statements.
  const result = await db.run(sql`UPDATE contacts
    SET first_folded = v.value ->> 4, last_folded = v.value ->> 5, custom_folded = v.value ->> 6
    FROM json_each(${payload}) AS v
    WHERE contacts.id = v.value ->> 0 AND contacts.custom_folded IS NULL AND contacts.first_name IS v.value ->> 1
      AND contacts.last_name IS v.value ->> 2 AND contacts.custom_fields IS v.value ->> 3`);
  return result.rowsAffected;
}

/**
 * Folds every contact that has no folded copies (written before migration 0040, or straight into the
 * table), oldest first, up to FOLD_TEXT of text a write, giving the event loop a turn between writes
 * (the driver's answers would otherwise hold it for the whole table); returns how many it folded. The
 * server runs it at start. A contact written meanwhile is folded by its writer (foldUnfolded).
 */
export async function foldContacts(db: Db): Promise<number> {
  let folded = 0;
  for (let after = 0; ; ) {
    // The partial index holds only the contacts not folded yet: nothing to read once all are.
    const next = await db.all<{ id: number; size: number }>(sql`SELECT id,
        coalesce(length(first_name), 0) + coalesce(length(last_name), 0) + length(custom_fields) AS size
      FROM contacts INDEXED BY contacts_unfolded_idx WHERE custom_folded IS NULL AND id > ${after} ORDER BY id LIMIT 1000`);
    if (next.length === 0) return folded;
    const ids: number[] = [];
    let text = 0;
    for (const row of next) {
      if (ids.length > 0 && text + Number(row.size) > FOLD_TEXT) break;
      ids.push(Number(row.id));
      text += Number(row.size);
    }
    after = ids.at(-1) as number;
    folded += await foldUnfolded(db, ids);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
