/**
 * The CSV contact import, the reference help page's manual recovery path: export the failed messages,
 * import them back with "update existing contacts only", identifier = contact ID, and a tag such as
 * "failed broadcast 110122" that a segment and a new broadcast can then target.
 *
 * The uploaded file waits on disk and is read a piece at a time, so memory stays the same whatever the
 * file. Three passes: check the file as a whole and count its rows (import-parse.ts), then check every
 * row and look its identifier up in chunks while the import row shows the progress, writing the plan
 * to disk beside the file, then write the plan in ONE transaction of multi-row statements, or nothing:
 * all-or-nothing with a rejected row, a dry run, or an error on the way. One import runs at a time
 * per workspace (services/import-jobs.ts). With a database file the API's thread only receives the
 * upload and records the import: the passes run on the import thread (import-thread.ts).
 */

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type ImportField,
  type ImportForm,
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
import { assertCustomKeysWithinCap, getCustomFieldKeyCap } from '../services/contacts';
import { holdImport, importFinished, ownership, tryTurn, waitForTurn } from '../services/import-jobs';
import { ensureTags } from '../services/tags';
import { detectEncoding, type FileEncoding } from './import-decode';
import {
  type CsvLayout,
  type ImportColumn,
  type ImportRow,
  type ImportRowData,
  readContactRows,
  scanContactCsv,
} from './import-parse';
import type { ImportThread } from './import-thread';

export { fileTooLarge, sniffDelimiter } from './import-parse';

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

export interface Workspace {
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
async function lookUp(db: Database | Tx, ws: Workspace, identifier: ImportIdentifier, keys: string[]) {
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

/** The import's options from the checked form, as the API and the CLI both pass them. */
export function importOptionsOf(form: Omit<ImportForm, 'file'>): ContactImportOptions {
  return {
    mode: form.mode,
    identifier: form.identifier,
    tags: form.tags,
    dryRun: form.dryRun,
    allOrNothing: form.allOrNothing,
    mapping: form.mapping,
  };
}

export interface RunImportInput {
  fileName: string | null;
  /** The uploaded file on disk (import-upload.ts spools it there), or its bytes. */
  path?: string;
  bytes?: Uint8Array;
  options: ContactImportOptions;
  /** The language of the request: rejection reasons are stored in it too. */
  language: Language;
}

/** One chunk of the plan, as a line of the plan file: contacts to create, and to update by id or by key. */
interface PlanChunk {
  create: Target[];
  update: Target[];
  /** Later rows of a contact this import creates: its id exists only once the write has created it. */
  updateByKey: Target[];
}

/** An import checked as a whole and recorded as queued, its file on disk until it has run. */
export interface PreparedImport {
  record: ImportRecord;
  /** Runs it now (its turn must have come): the finished import. */
  execute(): Promise<ImportRecord>;
  /** Drops the file without running (the import stays as it is). */
  discard(): Promise<void>;
}

/** What the first pass needs; it crosses to the import thread as it is. */
export interface ScanInput {
  ws: Workspace;
  path: string;
  options: Pick<ContactImportOptions, 'mode' | 'identifier' | 'mapping'>;
  /** The workspace's cap on custom-field keys, given (the API thread's setting is not the import thread's). */
  maxCustomFieldKeys: number;
}

/** What the first pass learns: how to read the file, and its layout. */
export interface ScannedFile {
  encoding: FileEncoding;
  layout: CsvLayout;
}

/**
 * The first pass: encoding, binary, NUL, header, mapping, row count, and the workspace's cap on distinct
 * custom-field keys, which holds for a file too, before anything is written. Reads only.
 */
export async function scanImportFile(db: Database, { ws, path, options, maxCustomFieldKeys }: ScanInput) {
  const encoding = await detectEncoding(path);
  const layout = await scanContactCsv(path, encoding, { ...options, defaultCountry: ws.defaultCountry });
  await assertCustomKeysWithinCap(
    db,
    ws.workspaceId,
    layout.columns.filter((c) => c.field.startsWith('custom.')).map((c) => c.field.slice('custom.'.length)),
    maxCustomFieldKeys,
  );
  return { encoding, layout } satisfies ScannedFile;
}

/**
 * Checks the file as a whole (encoding, binary, NUL, header, mapping, row count) and records the import
 * as queued, owned by this process. File-level problems throw an ApiError before any import row exists.
 */
export async function prepareContactImport(
  db: Database,
  ws: Workspace,
  input: RunImportInput,
  thread?: ImportThread,
): Promise<PreparedImport> {
  const { options, language } = input;
  const dir = await mkdtemp(join(tmpdir(), 'rebound-import-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    let path = input.path;
    if (!path) {
      path = join(dir, 'upload.csv');
      await writeFile(path, input.bytes ?? new Uint8Array());
    }
    const scan: ScanInput = {
      ws: { workspaceId: ws.workspaceId, defaultCountry: ws.defaultCountry },
      path,
      options: { mode: options.mode, identifier: options.identifier, mapping: options.mapping },
      maxCustomFieldKeys: getCustomFieldKeyCap(),
    };
    const { encoding, layout } = thread ? await thread.scan(scan) : await scanImportFile(db, scan);
    const stored: StoredImportOptions = {
      mode: options.mode,
      identifier: layout.identifier,
      tags: options.tags,
      dryRun: options.dryRun,
      allOrNothing: options.allOrNothing,
      encoding: layout.encoding,
      delimiter: layout.delimiter,
      columns: layout.columns,
      language,
    };
    const [record] = await db
      .insert(imports)
      .values({
        workspaceId: ws.workspaceId,
        status: 'queued',
        options: stored,
        fileName: input.fileName,
        totalRows: layout.totalRows,
        ...ownership(),
      })
      .returning();
    if (!record) throw new Error('import insert returned nothing');
    const source = path;
    return {
      record,
      discard,
      async execute() {
        try {
          return await execute(db, ws, record.id, { path: source, encoding, layout, dir }, input, thread);
        } finally {
          await discard();
        }
      },
    };
  } catch (error) {
    await discard();
    throw error;
  }
}

/**
 * The queued import's turn, if it may run now (first in its workspace's queue, none running there, a
 * slot free in this process): call the result when it is done. Undefined: it has to wait.
 */
export const claimImportTurn = (db: Database, ws: Workspace, id: number) => tryTurn(db, ws.workspaceId, id);

/**
 * Runs a whole import and returns its row, waiting for its turn if another import of the workspace runs.
 * File-level problems throw an ApiError before any import row exists; from then on the outcome is
 * recorded on the row (completed or failed), and contacts and tags change only when the whole write
 * transaction commits.
 */
export async function runContactImport(db: Database, ws: Workspace, input: RunImportInput): Promise<ImportRecord> {
  const prepared = await prepareContactImport(db, ws, input);
  const hold = holdImport(db, prepared.record.id);
  let release: () => void;
  try {
    release = await waitForTurn(db, ws.workspaceId, prepared.record.id);
  } catch (error) {
    await prepared.discard();
    throw error;
  } finally {
    hold.release();
  }
  try {
    return await prepared.execute();
  } finally {
    release();
  }
}

export interface Source {
  path: string;
  encoding: FileEncoding;
  layout: CsvLayout;
  dir: string;
}

/** Appends lines to a file, waiting when the disk is behind. */
async function planWriter(path: string) {
  const file = await open(path, 'w');
  const stream = file.createWriteStream();
  return {
    async write(chunk: PlanChunk) {
      if (!stream.write(`${JSON.stringify(chunk)}\n`)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'close');
    },
  };
}

async function* planChunks(path: string): AsyncGenerator<PlanChunk> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line) yield JSON.parse(line) as PlanChunk;
}

/** The import's outcome on its row; processedRows reaches the total whatever the outcome. */
async function finishImport(
  target: Database | Tx,
  importId: number,
  totalRows: number,
  values: Partial<typeof imports.$inferInsert>,
): Promise<void> {
  await target
    .update(imports)
    .set({ processedRows: totalRows, finishedAt: new Date(), ...values })
    .where(eq(imports.id, importId));
}

/** What passes 2 and 3 need; it crosses to the import thread as it is. */
export interface ImportRun {
  ws: Workspace;
  importId: number;
  source: Source;
  options: ContactImportOptions;
  /** The language of the request: rejection reasons are stored in it too. */
  language: Language;
}

/** What passes 2 and 3 ask of the API thread (on it, they do it themselves). */
export interface ImportHooks {
  /** Rows checked so far, for the import row's progress. */
  progress(processed: number): Promise<void>;
  /** Runs the import's writes (its outcome, its one transaction) once this process's other writers let it. */
  writeTurn<T>(write: () => Promise<T>): Promise<T>;
}

/**
 * The running import (this process holds its turn) from the second pass to its outcome: on the import
 * thread when there is one, here otherwise. The heartbeat beats here either way, and stops when the
 * passes end, the thread's death included; an error is recorded on the row as a failure.
 */
async function execute(
  db: Database,
  ws: Workspace,
  importId: number,
  source: Source,
  input: RunImportInput,
  thread: ImportThread | undefined,
): Promise<ImportRecord> {
  const hold = holdImport(db, importId);
  try {
    const run: ImportRun = {
      ws: { workspaceId: ws.workspaceId, defaultCountry: ws.defaultCountry },
      importId,
      source,
      options: input.options,
      language: input.language,
    };
    if (thread) await thread.execute(db, run);
    else
      await planAndWrite(db, run, {
        progress: async (processed) => {
          await db.update(imports).set({ processedRows: processed }).where(eq(imports.id, importId));
        },
        writeTurn: (write) => write(),
      });
  } catch (error) {
    await finishImport(db, importId, source.layout.totalRows, {
      status: 'failed',
      created: 0,
      updated: 0,
      errorCode: 'internal_error',
      errorMessage: renderError('internal_error', input.language),
    }).catch(() => undefined);
    throw error;
  } finally {
    hold.release();
    importFinished();
  }
  return getImport(db, ws, importId);
}

/** Passes 2 and 3: every row checked and looked up, then the plan written in one transaction, or why not. */
export async function planAndWrite(db: Database, run: ImportRun, hooks: ImportHooks): Promise<void> {
  const { ws, importId, source, options, language } = run;
  const { identifier, totalRows } = source.layout;
  const finish = (target: Database | Tx, values: Partial<typeof imports.$inferInsert>) =>
    finishImport(target, importId, totalRows, values);

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

  // Pass 2: check each row, look the identifiers up chunk by chunk, and write the plan beside the file.
  const planPath = join(source.dir, 'plan.jsonl');
  const plan = await planWriter(planPath);
  // Contacts this import creates, by key, with the line that creates them; the one map kept whole.
  const creating = new Map<string, number>();
  let created = 0;
  let updated = 0;
  let processed = 0;
  let reported = 0;
  const planChunk = async (chunk: ImportRow[]) => {
    const keys = [
      ...new Set(chunk.flatMap((row) => (row.rejection || !row.key || creating.has(row.key) ? [] : [row.key]))),
    ];
    const known = await lookUp(db, ws, identifier, keys);
    const creates = new Map<string, Target>();
    const updates = new Map<number, Target>();
    const byKey = new Map<string, Target>();
    const add = <K>(into: Map<K, Target>, key: K, row: ImportRow, target: Omit<Target, 'data' | 'lines'>) => {
      const pending = into.get(key);
      if (pending) {
        merge(pending.data, row.data);
        pending.lines.push(row.line);
      } else into.set(key, { ...target, data: { ...row.data }, lines: [row.line] });
    };
    for (const row of chunk) {
      if (row.rejection) {
        reject(row, row.rejection.code, row.rejection.params);
        continue;
      }
      const key = row.key as string;
      const value = { identifier, value: row.identifierValue ?? '' };
      const firstLine = creating.get(key);
      if (firstLine !== undefined) {
        if (options.mode === 'add') {
          reject(row, 'duplicate_row', { ...value, firstLine });
          continue;
        }
        if (creates.has(key)) add(creates, key, row, { key, identifierValue: row.identifierValue });
        else add(byKey, key, row, { key, identifierValue: row.identifierValue });
        updated++;
        continue;
      }
      const id = known.get(key);
      if (id !== undefined) {
        if (options.mode === 'add') {
          reject(row, 'already_exists', { ...value, contactId: id });
          continue;
        }
        add(updates, id, row, { id, key, identifierValue: row.identifierValue });
        updated++;
        continue;
      }
      // Unknown: a contact ID of another workspace reads the same as one that never existed.
      if (options.mode === 'update' || identifier === 'contactId') {
        reject(row, 'not_found', value);
        continue;
      }
      creating.set(key, row.line);
      add(creates, key, row, { key, identifierValue: row.identifierValue });
      created++;
    }
    if (creates.size || updates.size || byKey.size) {
      await plan.write({
        create: [...creates.values()],
        update: [...updates.values()],
        updateByKey: [...byKey.values()],
      });
    }
  };
  try {
    await readContactRows(source.path, source.encoding, source.layout, ws.defaultCountry, async (rows) => {
      for (let start = 0; start < rows.length; start += IMPORT_CHUNK) {
        await planChunk(rows.slice(start, start + IMPORT_CHUNK));
      }
      processed += rows.length;
      if (processed - reported >= IMPORT_PROGRESS_EVERY && processed < totalRows) {
        reported = processed;
        await hooks.progress(processed);
      }
      await nextTurn();
    });
  } finally {
    await plan.close();
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
    await hooks.writeTurn(failWithRejections);
  } else if (options.dryRun) {
    await hooks.writeTurn(() =>
      finish(db, {
        status: 'completed',
        created,
        updated,
        rejected: rejections.length,
        rejectedRows: rejections,
      }),
    );
  } else {
    // Pass 3: the plan, chunk by chunk, in one transaction.
    await hooks.writeTurn(async () => {
      try {
        await db.transaction(async (tx) => {
          const tagIds = options.tags.length ? await ensureTags(tx, ws.workspaceId, options.tags) : [];
          const vanished: Target[] = [];
          let written = 0;
          for await (const chunk of planChunks(planPath)) {
            const touched = chunk.create.length ? await insertChunk(tx, ws.workspaceId, chunk.create) : [];
            if (chunk.updateByKey.length) {
              const ids = await lookUp(
                tx,
                ws,
                identifier,
                chunk.updateByKey.map((target) => target.key),
              );
              for (const target of chunk.updateByKey) target.id = ids.get(target.key);
            }
            const updates = [...chunk.update, ...chunk.updateByKey];
            if (updates.length) {
              const present = await updateChunk(tx, ws.workspaceId, updates);
              for (const target of updates) {
                if (target.id !== undefined && present.has(target.id)) touched.push(target.id);
                else vanished.push(target);
              }
            }
            if (tagIds.length && touched.length) await tagChunk(tx, touched, tagIds);
            written += chunk.create.length + updates.length;
            if (written >= IMPORT_CHUNK * 10) {
              written = 0;
              await nextTurn();
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
    });
  }
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
