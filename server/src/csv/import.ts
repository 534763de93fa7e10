/**
 * The CSV contact import, the reference help page's manual recovery path: export the failed messages,
 * import them back with "update existing contacts only", identifier = contact ID, and a tag such as
 * "failed broadcast 110122" that a segment and a new broadcast can then target.
 *
 * Three steps: parse and check the whole file (import-parse.ts), look every identifier up in chunks
 * while the import row shows the progress, then write everything in ONE transaction of multi-row
 * statements, or nothing: all-or-nothing with a rejected row, a dry run, or an error on the way.
 */
import {
  type ImportField,
  type ImportIdentifier,
  type ImportMode,
  type ImportRowReason,
  importRowReasonMessage,
  type Language,
  errorMessage as renderError,
} from '@rebound/shared';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { contacts, imports } from '../db/schema';
import { notFound } from '../lib/errors';
import { ensureTags } from '../services/tags';
import { decodeCsv, type ImportColumn, type ImportRow, type ImportRowData, parseContactCsv } from './import-parse';

export { decodeCsv, fileTooLarge, parseContactCsv, sniffDelimiter } from './import-parse';

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type ImportRecord = typeof imports.$inferSelect;

/** Rows looked up and written per statement: ~10 bound values a row stays far below SQLite's limit. */
export const IMPORT_CHUNK = 500;
/** The import row's processedRows moves every this many rows. */
export const IMPORT_PROGRESS_EVERY = 1000;

export interface ContactImportOptions {
  mode: ImportMode;
  identifier?: ImportIdentifier | undefined;
  tags: string[];
  dryRun: boolean;
  allOrNothing: boolean;
  mapping?: Record<string, ImportField> | undefined;
}

/** What the imports.options column holds. */
export interface StoredImportOptions extends Record<string, unknown> {
  mode: ImportMode;
  identifier: ImportIdentifier;
  tags: string[];
  dryRun: boolean;
  allOrNothing: boolean;
  encoding: string;
  delimiter: string;
  columns: ImportColumn[];
  language: Language;
}

/** One rejected row as stored: the reason as code and params (rendered again in each reader's language). */
export interface StoredRejection extends Record<string, unknown> {
  row: number;
  identifier: string | null;
  code: ImportRowReason;
  params: Record<string, string | number>;
  /** The reason in the language of the request that ran the import. */
  reason: string;
}

interface Workspace {
  workspaceId: number;
  defaultCountry: string;
}

/** One contact the import writes, with every row that goes to it. */
interface Target {
  id?: number;
  key: string;
  data: ImportRowData;
  lines: number[];
  identifierValue: string | null;
}

/** A later row of the same contact wins field by field; custom fields merge key by key. */
function merge(into: ImportRowData, from: ImportRowData): void {
  for (const field of ['firstName', 'lastName', 'phone', 'email', 'language'] as const) {
    if (from[field] !== undefined) (into as Record<string, unknown>)[field] = from[field];
  }
  if (from.customFields) into.customFields = { ...into.customFields, ...from.customFields };
}

/** Lets other requests (a GET of this import's progress, say) run between two chunks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A chunk's values travel as one JSON parameter: a short statement, prepared fast, whatever the chunk size. */
const jsonRows = (rows: unknown[]) => JSON.stringify(rows);

/** Contact ids by normalized identifier, for the chunk's keys, inside the workspace only. */
async function lookUp(db: Database, ws: Workspace, identifier: ImportIdentifier, keys: string[]) {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  if (identifier === 'contactId') {
    const rows = await db
      .select({ id: contacts.id })
      .from(contacts)
      // The unary + keeps SQLite on the primary key instead of scanning the workspace index.
      .where(
        sql`+${contacts.workspaceId} = ${ws.workspaceId} AND ${contacts.id} IN (SELECT value FROM json_each(${jsonRows(keys.map(Number))}))`,
      );
    for (const row of rows) found.set(String(row.id), row.id);
    return found;
  }
  // When duplicates share a phone or e-mail, the oldest contact answers, as everywhere else.
  const column = identifier === 'phone' ? contacts.phone : contacts.email;
  const rows = await db
    .select({ key: column, id: sql<number>`min(${contacts.id})` })
    .from(contacts)
    .where(
      and(eq(contacts.workspaceId, ws.workspaceId), sql`${column} IN (SELECT value FROM json_each(${jsonRows(keys)}))`),
    )
    .groupBy(column);
  for (const row of rows) if (row.key !== null) found.set(row.key, row.id);
  return found;
}

/** The columns of a contact a row sets, in the order the statements below read them. */
function values({ data }: Target): unknown[] {
  const phone = data.phone;
  return [
    data.firstName ?? null,
    data.lastName ?? null,
    phone ? 1 : 0,
    phone?.phone ?? null,
    phone?.phoneValid == null ? null : phone.phoneValid ? 1 : 0,
    phone?.phoneProblem ?? null,
    data.email ?? null,
    data.language ?? null,
    data.customFields ?? null,
  ];
}

/** One multi-row INSERT for a chunk of new contacts; their ids come back. */
async function insertChunk(tx: Tx, workspaceId: number, targets: Target[]): Promise<number[]> {
  const now = Date.now();
  const rows = await tx.all<{ id: number }>(sql`INSERT INTO contacts
      (workspace_id, first_name, last_name, phone, phone_valid, phone_problem, email, language, custom_fields, created_at, updated_at)
    SELECT ${workspaceId}, j.value ->> 0, j.value ->> 1, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6,
      j.value ->> 7, coalesce(j.value ->> 8, '{}'), ${now}, ${now}
    FROM json_each(${jsonRows(targets.map(values))}) AS j
    RETURNING id`);
  return rows.map((row) => Number(row.id));
}

/**
 * One UPDATE ... FROM for a chunk: an empty cell keeps what the contact has, custom fields merge.
 * RETURNING says which contacts were really there. The unary + keeps SQLite looking contacts up by
 * primary key, one per row of the chunk, rather than walking the workspace index.
 */
async function updateChunk(tx: Tx, workspaceId: number, targets: Target[]): Promise<Set<number>> {
  const payload = jsonRows(targets.map((target) => [target.id, ...values(target)]));
  const rows = await tx.all<{ id: number }>(sql`UPDATE contacts SET
      first_name = coalesce(v.first_name, contacts.first_name),
      last_name = coalesce(v.last_name, contacts.last_name),
      phone = CASE WHEN v.has_phone THEN v.phone ELSE contacts.phone END,
      phone_valid = CASE WHEN v.has_phone THEN v.phone_valid ELSE contacts.phone_valid END,
      phone_problem = CASE WHEN v.has_phone THEN v.phone_problem ELSE contacts.phone_problem END,
      email = coalesce(v.email, contacts.email),
      language = coalesce(v.language, contacts.language),
      custom_fields = CASE WHEN v.custom IS NULL THEN contacts.custom_fields ELSE json_patch(contacts.custom_fields, v.custom) END,
      updated_at = ${Date.now()}
    FROM (
      SELECT j.value ->> 0 AS id, j.value ->> 1 AS first_name, j.value ->> 2 AS last_name, j.value ->> 3 AS has_phone,
        j.value ->> 4 AS phone, j.value ->> 5 AS phone_valid, j.value ->> 6 AS phone_problem, j.value ->> 7 AS email,
        j.value ->> 8 AS language, j.value ->> 9 AS custom
      FROM json_each(${payload}) AS j
    ) AS v
    WHERE contacts.id = v.id AND +contacts.workspace_id = ${workspaceId}
    RETURNING contacts.id AS id`);
  return new Set(rows.map((row) => Number(row.id)));
}

/** Every contact gets every tag; a link it already has stays as it is. */
async function tagChunk(tx: Tx, contactIds: number[], tagIds: number[]): Promise<void> {
  await tx.run(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
    SELECT t.value, c.value FROM json_each(${jsonRows(tagIds)}) AS t, json_each(${jsonRows(contactIds)}) AS c`);
}

/** Thrown inside the write transaction to undo it when all-or-nothing meets a contact deleted meanwhile. */
class RowsVanished extends Error {}

export interface RunImportInput {
  fileName: string | null;
  bytes: Uint8Array;
  options: ContactImportOptions;
  /** The language of the request: rejection reasons are stored in it too. */
  language: Language;
}

/**
 * Runs a whole import and returns its row. File-level problems throw an ApiError before any import row
 * exists; from then on the outcome is recorded on the row (completed or failed), and contacts and tags
 * change only when the whole write transaction commits.
 */
export async function runContactImport(db: Database, ws: Workspace, input: RunImportInput): Promise<ImportRecord> {
  const { options, language } = input;
  const parsed = await parseContactCsv(decodeCsv(input.bytes), {
    mode: options.mode,
    identifier: options.identifier,
    mapping: options.mapping,
    defaultCountry: ws.defaultCountry,
  });
  const { identifier, rows } = parsed;
  const stored: StoredImportOptions = {
    mode: options.mode,
    identifier,
    tags: options.tags,
    dryRun: options.dryRun,
    allOrNothing: options.allOrNothing,
    encoding: parsed.encoding,
    delimiter: parsed.delimiter,
    columns: parsed.columns,
    language,
  };
  const [record] = await db
    .insert(imports)
    .values({
      workspaceId: ws.workspaceId,
      status: 'running',
      options: stored,
      fileName: input.fileName,
      totalRows: rows.length,
    })
    .returning();
  if (!record) throw new Error('import insert returned nothing');
  const importId = record.id;
  const finish = async (target: Database | Tx, values: Partial<typeof imports.$inferInsert>) => {
    await target
      .update(imports)
      .set({ processedRows: rows.length, finishedAt: new Date(), ...values })
      .where(eq(imports.id, importId));
  };

  const rejections: StoredRejection[] = [];
  const reject = (row: Pick<ImportRow, 'line' | 'identifierValue'>, code: ImportRowReason, params = {}) => {
    const all = { line: row.line, ...params };
    rejections.push({
      row: row.line,
      identifier: row.identifierValue,
      code,
      params: all,
      reason: importRowReasonMessage(code, language, all),
    });
  };

  try {
    // Step 2: look the identifiers up, chunk by chunk, and plan every write.
    const creates = new Map<string, Target>();
    const updates = new Map<number, Target>();
    const known = new Map<string, number>();
    let created = 0;
    let updated = 0;
    for (let start = 0; start < rows.length; start += IMPORT_CHUNK) {
      const chunk = rows.slice(start, start + IMPORT_CHUNK);
      const keys = [
        ...new Set(
          chunk.flatMap((row) =>
            row.rejection || !row.key || known.has(row.key) || creates.has(row.key) ? [] : [row.key],
          ),
        ),
      ];
      for (const [key, id] of await lookUp(db, ws, identifier, keys)) known.set(key, id);
      for (const row of chunk) {
        if (row.rejection) {
          reject(row, row.rejection.code, row.rejection.params);
          continue;
        }
        const key = row.key as string;
        const value = { identifier, value: row.identifierValue ?? '' };
        const pending = creates.get(key);
        if (pending) {
          if (options.mode === 'add') {
            reject(row, 'duplicate_row', { ...value, firstLine: pending.lines[0] ?? '' });
            continue;
          }
          merge(pending.data, row.data);
          pending.lines.push(row.line);
          updated++;
          continue;
        }
        const id = known.get(key);
        if (id !== undefined) {
          if (options.mode === 'add') {
            reject(row, 'already_exists', { ...value, contactId: id });
            continue;
          }
          const target = updates.get(id);
          if (target) {
            merge(target.data, row.data);
            target.lines.push(row.line);
          } else {
            updates.set(id, {
              id,
              key,
              data: { ...row.data },
              lines: [row.line],
              identifierValue: row.identifierValue,
            });
          }
          updated++;
          continue;
        }
        // Unknown: a contact ID of another workspace reads the same as one that never existed.
        if (options.mode === 'update' || identifier === 'contactId') {
          reject(row, 'not_found', value);
          continue;
        }
        creates.set(key, { key, data: { ...row.data }, lines: [row.line], identifierValue: row.identifierValue });
        created++;
      }
      const processed = Math.min(start + IMPORT_CHUNK, rows.length);
      if (processed % IMPORT_PROGRESS_EVERY === 0 && processed < rows.length) {
        await db.update(imports).set({ processedRows: processed }).where(eq(imports.id, importId));
        await nextTurn();
      }
    }
    rejections.sort((a, b) => a.row - b.row);

    const failWithRejections = async () =>
      finish(db, {
        status: 'failed',
        created: 0,
        updated: 0,
        rejected: rejections.length,
        rejectedRows: rejections,
        errorCode: 'import_rows_rejected',
        errorMessage: renderError('import_rows_rejected', language, { count: rejections.length }),
      });

    if (rejections.length > 0 && options.allOrNothing) {
      await failWithRejections();
    } else if (options.dryRun) {
      await finish(db, {
        status: 'completed',
        created,
        updated,
        rejected: rejections.length,
        rejectedRows: rejections,
      });
    } else {
      // Step 3: everything in one transaction.
      try {
        await db.transaction(async (tx) => {
          const tagIds = options.tags.length ? await ensureTags(tx, ws.workspaceId, options.tags) : [];
          const touched: number[] = [];
          const createList = [...creates.values()];
          for (let start = 0; start < createList.length; start += IMPORT_CHUNK) {
            touched.push(...(await insertChunk(tx, ws.workspaceId, createList.slice(start, start + IMPORT_CHUNK))));
            if (start % (IMPORT_CHUNK * 10) === 0) await nextTurn();
          }
          const updateList = [...updates.values()];
          const vanished: Target[] = [];
          for (let start = 0; start < updateList.length; start += IMPORT_CHUNK) {
            const chunk = updateList.slice(start, start + IMPORT_CHUNK);
            const present = await updateChunk(tx, ws.workspaceId, chunk);
            if (start % (IMPORT_CHUNK * 10) === 0) await nextTurn();
            for (const target of chunk) {
              if (target.id !== undefined && present.has(target.id)) touched.push(target.id);
              else vanished.push(target);
            }
          }
          // A contact deleted between the look-up and the write: its rows are not found after all.
          for (const target of vanished) {
            for (const line of target.lines) {
              reject({ line, identifierValue: target.identifierValue }, 'not_found', {
                identifier,
                value: target.identifierValue ?? '',
              });
            }
            updated -= target.lines.length;
          }
          if (vanished.length) {
            rejections.sort((a, b) => a.row - b.row);
            if (options.allOrNothing) throw new RowsVanished();
          }
          if (tagIds.length) {
            for (let start = 0; start < touched.length; start += IMPORT_CHUNK) {
              await tagChunk(tx, touched.slice(start, start + IMPORT_CHUNK), tagIds);
            }
          }
          await finish(tx, {
            status: 'completed',
            created,
            updated,
            rejected: rejections.length,
            rejectedRows: rejections,
          });
        });
      } catch (error) {
        if (!(error instanceof RowsVanished)) throw error;
        await failWithRejections();
      }
    }
  } catch (error) {
    await finish(db, {
      status: 'failed',
      created: 0,
      updated: 0,
      errorCode: 'internal_error',
      errorMessage: renderError('internal_error', language),
    }).catch(() => undefined);
    throw error;
  }
  return getImport(db, ws, importId);
}

/** An import of the workspace; another workspace's reads as not found. */
export async function getImport(db: Database, ws: Pick<Workspace, 'workspaceId'>, id: number): Promise<ImportRecord> {
  const [row] = await db
    .select()
    .from(imports)
    .where(and(eq(imports.id, id), eq(imports.workspaceId, ws.workspaceId)));
  if (!row) throw notFound('import', { id });
  return row;
}
