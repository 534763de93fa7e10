import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { contacts } from '../db/schema';
import { assertCustomKeysWithinCap, normalizeEmail, phoneColumns } from './contacts';
import { ensureTags, tagContacts } from './tags';

export interface ContactUpsertRow {
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  email?: string | null;
  customFields?: Record<string, string>;
}

export interface BulkUpsertOptions {
  /** Which identifier matches an existing contact. */
  by: 'phone' | 'email';
  mode: 'add' | 'update' | 'upsert';
  /** Tags given to every created or updated contact. */
  tags?: string[];
}

export interface BulkUpsertResult {
  created: number;
  updated: number;
  /** Rows left alone: existing in add mode, new in update mode, or without the identifier. */
  skipped: number;
  contactIds: number[];
}

const CHUNK = 500;

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
interface PendingUpdate {
  id: number;
  item: { row: ContactUpsertRow; phone: ReturnType<typeof phoneColumns>; email: string | null };
}

/**
 * One UPDATE ... FROM (VALUES ...) for a whole chunk: a value left out of the row keeps what the
 * contact has; custom fields are merged key by key.
 */
async function updateChunk(tx: Tx, updates: PendingUpdate[]): Promise<void> {
  // The same contact twice in a chunk: the later row wins, as it would row by row.
  const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
  const values = latest.map(({ id, item }) => {
    const hasPhone = item.row.phone != null;
    return sql`(${id}, ${item.row.firstName ?? null}, ${item.row.lastName ?? null}, ${hasPhone ? 1 : 0},
      ${hasPhone ? item.phone.phone : null}, ${hasPhone ? item.phone.phoneValid : null}, ${hasPhone ? item.phone.phoneProblem : null},
      ${item.email}, ${item.row.customFields ? JSON.stringify(item.row.customFields) : null})`;
  });
  await tx.run(sql`UPDATE contacts SET
      first_name = coalesce(v.column2, contacts.first_name),
      last_name = coalesce(v.column3, contacts.last_name),
      phone = CASE WHEN v.column4 THEN v.column5 ELSE contacts.phone END,
      phone_valid = CASE WHEN v.column4 THEN v.column6 ELSE contacts.phone_valid END,
      phone_problem = CASE WHEN v.column4 THEN v.column7 ELSE contacts.phone_problem END,
      email = coalesce(v.column8, contacts.email),
      custom_fields = CASE WHEN v.column9 IS NULL THEN contacts.custom_fields ELSE json_patch(contacts.custom_fields, v.column9) END,
      updated_at = ${Date.now()}
    FROM (VALUES ${sql.join(values, sql`, `)}) AS v
    WHERE contacts.id = v.column1`);
}

function* customKeys(rows: readonly ContactUpsertRow[]): Generator<string> {
  for (const row of rows) if (row.customFields) yield* Object.keys(row.customFields);
}

/**
 * Creates or updates many contacts at once, matched on a normalized phone or e-mail, in chunks of
 * multi-row statements inside one transaction per call: all of it lands or none of it does.
 */
export async function bulkUpsertContacts(
  db: Database,
  ws: { workspaceId: number; defaultCountry: string },
  rows: readonly ContactUpsertRow[],
  options: BulkUpsertOptions,
): Promise<BulkUpsertResult> {
  return db.transaction(async (tx) => {
    const result: BulkUpsertResult = { created: 0, updated: 0, skipped: 0, contactIds: [] };
    await assertCustomKeysWithinCap(db, ws.workspaceId, customKeys(rows));
    const tagIds = options.tags?.length ? await ensureTags(tx, ws.workspaceId, options.tags) : [];
    for (let start = 0; start < rows.length; start += CHUNK) {
      const chunk = rows.slice(start, start + CHUNK).map((row) => {
        const phone = phoneColumns(row.phone ?? null, ws.defaultCountry);
        const email = row.email ? normalizeEmail(row.email) : null;
        return { row, phone, email, key: options.by === 'phone' ? phone.phone : email };
      });
      const keys = [...new Set(chunk.flatMap((c) => (c.key ? [c.key] : [])))];
      const column = options.by === 'phone' ? contacts.phone : contacts.email;
      const existing = keys.length
        ? await tx
            .select({ key: column, id: sql<number>`min(${contacts.id})` })
            .from(contacts)
            .where(and(eq(contacts.workspaceId, ws.workspaceId), inArray(column, keys)))
            .groupBy(column)
        : [];
      const idByKey = new Map(existing.map((e) => [e.key as string, e.id]));
      const toInsert: (typeof contacts.$inferInsert)[] = [];
      const toUpdate: { id: number; item: (typeof chunk)[number] }[] = [];
      const seenInChunk = new Set<string>();
      for (const item of chunk) {
        const id = item.key ? idByKey.get(item.key) : undefined;
        if (id !== undefined) {
          if (options.mode === 'add') result.skipped++;
          else toUpdate.push({ id, item });
          continue;
        }
        // A key repeated inside one chunk creates one contact, not two.
        if (options.mode === 'update' || !item.key || seenInChunk.has(item.key)) {
          result.skipped++;
          continue;
        }
        seenInChunk.add(item.key);
        toInsert.push({
          workspaceId: ws.workspaceId,
          firstName: item.row.firstName ?? null,
          lastName: item.row.lastName ?? null,
          ...item.phone,
          email: item.email,
          customFields: item.row.customFields ?? {},
        });
      }
      if (toUpdate.length) {
        await updateChunk(tx, toUpdate);
        result.updated += toUpdate.length;
        result.contactIds.push(...toUpdate.map((u) => u.id));
      }
      if (toInsert.length) {
        const inserted = await tx.insert(contacts).values(toInsert).returning({ id: contacts.id });
        result.created += inserted.length;
        result.contactIds.push(...inserted.map((r) => r.id));
      }
    }
    if (tagIds.length) await tagContacts(tx, result.contactIds, tagIds);
    return result;
  });
}
