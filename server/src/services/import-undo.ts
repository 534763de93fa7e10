/**
 * An import's undo log (the import_undo table): every statement of it, in one place.
 *
 * A 200,000-row import written in one transaction held the database's only write lock for 4 to 8 s:
 * every engine and agent waited, and a libSQL server takes such a lock back after 5 s once another
 * writer waits (TRANSACTION_TIMEOUT). So the import writes in short transactions, and each one notes
 * here what it changed: the contacts it created, the columns of those it updated as they were before
 * with the tags it gave them, the tags it created. A failure or a crash part-way undoes exactly that,
 * in short transactions too, before the import is called failed; a finished import's notes go.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { foldUnfolded } from './contact-store';
import { ensureTags, findTagIds } from './tags';

/** The database or a transaction of it. */
type Db = Pick<Database, 'all' | 'run'>;

/** Runs a write when this process's writers let it (the import thread's turn), or at once. */
export type WriteTurn = <T>(write: () => Promise<T>) => Promise<T>;
const now: WriteTurn = (write) => write();

/** Contacts undone, or notes forgotten, per transaction: a few tens of milliseconds each. */
export const UNDO_ROWS = 2000;

const json = (values: readonly number[]) => JSON.stringify(values);

/** The import's tags, the ones it creates noted. */
export async function ensureImportTags(
  tx: Pick<Database, 'all' | 'run' | 'select' | 'insert' | 'delete'>,
  importId: number,
  workspaceId: number,
  names: readonly string[],
): Promise<number[]> {
  if (names.length === 0) return [];
  const existing = new Set(await findTagIds(tx, workspaceId, names));
  const ids = await ensureTags(tx, workspaceId, names);
  const created = ids.filter((id) => !existing.has(id));
  if (created.length)
    await tx.run(sql`INSERT INTO import_undo (import_id, kind, id)
      SELECT ${importId}, 'tag', value FROM json_each(${json(created)}) WHERE true ON CONFLICT DO NOTHING`);
  return ids;
}

/**
 * A time at which the import wrote contacts (their updated_at): a contact whose updated_at is none of
 * these was changed by someone since, and the undo keeps that person's version.
 */
export async function noteWritten(tx: Db, importId: number, at: number): Promise<void> {
  await tx.run(sql`INSERT INTO import_undo (import_id, kind, id) VALUES (${importId}, 'written', ${at})
    ON CONFLICT DO NOTHING`);
}

/**
 * Of contacts this import created, those someone changed since it last wrote them: their updated_at is
 * none of its write times. Noted before the import writes them again, so that the undo puts back that
 * person's version (and keeps the contact) rather than losing it under the import's next write.
 */
/**
 * Whether a contact's updated_at (`updatedAt`) is one the import wrote: the one place the undo decides
 * "unchanged since". An import noted before write times were kept has none, and reads as unchanged.
 */
function writtenByImport(importId: number, updatedAt: SQL): SQL {
  return sql`(NOT EXISTS (SELECT 1 FROM import_undo WHERE import_id = ${importId} AND kind = 'written')
    OR ${updatedAt} IN (SELECT id FROM import_undo WHERE import_id = ${importId} AND kind = 'written'))`;
}

export async function changedSinceWritten(tx: Db, importId: number, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await tx.all<{ id: number }>(sql`SELECT id FROM contacts
    WHERE id IN (SELECT value FROM json_each(${json(ids)})) AND NOT ${writtenByImport(importId, sql`updated_at`)}`);
  return rows.map((row) => Number(row.id));
}

/**
 * Contacts the import just created: one note per statement, the ids in `before` (noting each contact
 * apart cost a tenth of a 100,000-row import).
 */
export async function noteCreated(tx: Db, importId: number, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.run(sql`INSERT INTO import_undo (import_id, kind, id, before)
    VALUES (${importId}, 'created', ${ids[0]}, ${json(ids)}) ON CONFLICT DO NOTHING`);
}

/**
 * Contacts that were there before the import and that it is about to update, as they are now, with
 * which of its tags each lacks. The first note of a contact wins (the state before the import), unless
 * someone changed the contact since the import last wrote it: then that person's version is what the
 * undo puts back, and the tags noted first stay the ones to take off.
 */
export async function noteBeforeUpdate(
  tx: Db,
  importId: number,
  workspaceId: number,
  ids: readonly number[],
  tagIds: readonly number[],
): Promise<void> {
  if (ids.length === 0) return;
  await tx.run(sql`INSERT INTO import_undo (import_id, kind, id, before)
    SELECT ${importId}, 'updated', c.id,
      json_array(c.first_name, c.last_name, c.phone, c.phone_valid, c.phone_problem, c.email, c.language,
        c.custom_fields, c.updated_at,
        (SELECT json_group_array(t.value) FROM json_each(${json(tagIds)}) AS t
          WHERE NOT EXISTS (SELECT 1 FROM contact_tags AS ct WHERE ct.tag_id = t.value AND ct.contact_id = c.id)))
    FROM contacts AS c
    WHERE c.id IN (SELECT value FROM json_each(${json(ids)})) AND +c.workspace_id = ${workspaceId}
    ON CONFLICT (import_id, kind, id) DO UPDATE SET before = json_set(excluded.before, '$[9]', json(import_undo.before -> 9))
      WHERE NOT ${writtenByImport(importId, sql`excluded.before ->> 8`)}`);
}

export interface Undone {
  /** Contacts put back as they were. */
  restored: number;
  /** Contacts someone changed after the import wrote them: their change is kept, not written over or removed. */
  changedSince: number;
  /** Contacts the import created, removed. */
  removed: number;
  /** Contacts it created that a broadcast already reached: kept, so that their messages keep a contact. */
  kept: number;
}

/**
 * Undoes what the import wrote, UNDO_ROWS contacts per transaction; each transaction forgets the notes
 * it applied, so an undo cut short by a crash goes on from there the next time.
 */
export async function undoImport(
  db: Database,
  importId: number,
  workspaceId: number,
  turn: WriteTurn = now,
): Promise<Undone> {
  const undone: Undone = { restored: 0, changedSince: 0, removed: 0, kept: 0 };
  // The contacts it updated, UNDO_ROWS at a time: columns and tags back as they were.
  for (;;) {
    const more = await turn(() =>
      db.transaction(async (tx) => {
        const notes = await tx.all<{ id: number }>(sql`SELECT id FROM import_undo
          WHERE import_id = ${importId} AND kind = 'updated' LIMIT ${UNDO_ROWS}`);
        if (notes.length === 0) return false;
        const ids = json(notes.map((n) => Number(n.id)));
        const these = sql`u.import_id = ${importId} AND u.kind = 'updated' AND u.id IN (SELECT value FROM json_each(${ids}))`;
        const restored = await tx.run(sql`UPDATE contacts SET
            first_name = u.before ->> 0, last_name = u.before ->> 1, phone = u.before ->> 2,
            phone_valid = u.before ->> 3, phone_problem = u.before ->> 4, email = u.before ->> 5,
            language = u.before ->> 6, custom_fields = u.before ->> 7, updated_at = u.before ->> 8
          FROM import_undo AS u WHERE ${these} AND contacts.id = u.id AND +contacts.workspace_id = ${workspaceId}
            AND ${writtenByImport(importId, sql`contacts.updated_at`)}`);
        // Text put back left the contact unfolded (trigger contacts_folded_stale, migration 0040): folded again.
        await foldUnfolded(
          tx,
          notes.map((n) => Number(n.id)),
        );
        await tx.run(sql`DELETE FROM contact_tags WHERE (tag_id, contact_id) IN (
            SELECT t.value, u.id FROM import_undo AS u, json_each(u.before -> 9) AS t WHERE ${these})`);
        await tx.run(sql`DELETE FROM import_undo AS u WHERE ${these}`);
        undone.restored += restored.rowsAffected;
        undone.changedSince += notes.length - restored.rowsAffected;
        return true;
      }),
    );
    if (!more) break;
  }
  // The contacts it created, one statement's worth per transaction.
  for (;;) {
    const more = await turn(() =>
      db.transaction(async (tx) => {
        const [note] = await tx.all<{ id: number; before: string }>(sql`SELECT id, before FROM import_undo
          WHERE import_id = ${importId} AND kind = 'created' LIMIT 1`);
        if (!note) return false;
        const ids: number[] = JSON.parse(note.before);
        const untouched = writtenByImport(importId, sql`(SELECT updated_at FROM contacts WHERE id = j.value)`);
        const [changed] = await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM json_each(${note.before}) AS j
          WHERE EXISTS (SELECT 1 FROM contacts WHERE id = j.value) AND NOT ${untouched}`);
        const removable = sql`SELECT value FROM json_each(${note.before}) AS j
          WHERE NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.contact_id = j.value) AND ${untouched}`;
        await tx.run(sql`DELETE FROM contact_tags WHERE contact_id IN (${removable})`);
        await tx.run(sql`DELETE FROM contact_identifiers WHERE contact_id IN (${removable})`);
        const removed = await tx.run(
          sql`DELETE FROM contacts WHERE id IN (${removable}) AND +workspace_id = ${workspaceId}`,
        );
        await tx.run(
          sql`DELETE FROM import_undo WHERE import_id = ${importId} AND kind = 'created' AND id = ${note.id}`,
        );
        const edited = Number(changed?.n ?? 0);
        undone.removed += removed.rowsAffected;
        undone.changedSince += edited;
        undone.kept += ids.length - removed.rowsAffected - edited;
        return true;
      }),
    );
    if (!more) break;
  }
  // Last, the tags it created, unless something else uses them by now.
  await turn(() =>
    db.transaction(async (tx) => {
      await tx.run(sql`DELETE FROM tags WHERE id IN (SELECT id FROM import_undo WHERE import_id = ${importId} AND kind = 'tag')
          AND +workspace_id = ${workspaceId} AND NOT EXISTS (SELECT 1 FROM contact_tags AS ct WHERE ct.tag_id = tags.id)`);
      await tx.run(sql`DELETE FROM import_undo WHERE import_id = ${importId}`);
    }),
  );
  return undone;
}

/** Forgets the notes of imports that finished (completed, or failed and undone), UNDO_ROWS at a time. */
export async function forgetFinishedImports(db: Database, importId?: number, turn: WriteTurn = now): Promise<void> {
  const which =
    importId === undefined
      ? sql`import_id IN (SELECT id FROM imports WHERE status IN ('completed', 'failed'))`
      : sql`import_id = ${importId}`;
  for (;;) {
    const result = await turn(() =>
      db.run(sql`DELETE FROM import_undo WHERE (import_id, kind, id) IN (
        SELECT import_id, kind, id FROM import_undo WHERE ${which} LIMIT ${UNDO_ROWS})`),
    );
    if (result.rowsAffected === 0) return;
  }
}
