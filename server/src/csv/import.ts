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
 * upload and records the import: the passes run on the import thread (import-thread.ts). What a row
 * means, how it matches a contact, and the statements that write it are the contact writer's
 * (services/contact-writer.ts), the same for the API and the benchmark.
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
import { and, eq } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { imports } from '../db/schema';
import { notFound } from '../lib/errors';
import { BatchedWriter, ContactPlanner, PLAN_ROWS, type PlannedBatch } from '../services/contact-writer';
import { assertCustomKeysWithinCap, getCustomFieldKeyCap } from '../services/custom-field-keys';
import { holdImport, importFinished, ownership, tryTurn, waitForTurn } from '../services/import-jobs';
import { ensureImportTags, forgetFinishedImports, undoImport } from '../services/import-undo';
import { detectEncoding, type FileEncoding } from './import-decode';
import { type CsvLayout, type ImportColumn, type ImportRow, readContactRows, scanContactCsv } from './import-parse';
import type { ImportThread } from './import-thread';

export { fileTooLarge, sniffDelimiter } from './import-parse';

export type ImportRecord = typeof imports.$inferSelect;

/** Rows checked and looked up per statement (the contact writer's plan batch). */
export const IMPORT_CHUNK = PLAN_ROWS;
/** The import row's processedRows moves every this many rows. */
export const IMPORT_PROGRESS_EVERY = 1000;
/**
 * Contacts written per transaction of an import (with their undo notes): about 0.2 s each on this
 * 2-core machine, where a 100,000-row import held the write lock 3.5 s in one transaction.
 */
export const IMPORT_WRITE_ROWS = 5000;

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

/** Lets other requests (a GET of this import's progress, say) run between two chunks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

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

/** One chunk of the plan, as a line of the plan file: the contact writer's planned batch. */
type PlanChunk = PlannedBatch;

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
 * recorded on the row (completed or failed); a failed import's writes are undone before it says so.
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
  /** Runs one of the import's write transactions once this process's other writers let it. */
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
    // What it wrote goes first; if the database cannot take that now, the import stays running with
    // its heartbeat stopped, and the next settle (any process) undoes it and records the failure.
    await undoImport(db, importId, ws.workspaceId)
      .then(() =>
        finishImport(db, importId, source.layout.totalRows, {
          status: 'failed',
          created: 0,
          updated: 0,
          errorCode: 'internal_error',
          errorMessage: renderError('internal_error', input.language),
        }),
      )
      .then(() => forgetFinishedImports(db, importId))
      .catch(() => undefined);
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
  // The writer's rules: matched in the workspace, the mode's refusals, one write per contact.
  const planner = new ContactPlanner(db, ws.workspaceId, identifier, options.mode);
  let processed = 0;
  let reported = 0;
  const planChunk = async (chunk: ImportRow[]) => {
    const batch = await planner.plan(chunk, reject);
    if (batch.create.length || batch.update.length || batch.updateByKey.length) await plan.write(batch);
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
  const { created } = planner;
  let { updated } = planner;

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
    // Pass 3: the plan in short transactions of about IMPORT_WRITE_ROWS contacts, each noting what it
    // changed (services/import-undo.ts): other writers (engines, agents) wait one of them at most, and
    // a failure part-way is undone, so the import still lands whole or not at all.
    try {
      const tagIds = await hooks.writeTurn(() =>
        db.transaction((tx) => ensureImportTags(tx, importId, ws.workspaceId, options.tags)),
      );
      let pending: PlanChunk[] = [];
      let pendingRows = 0;
      const writePending = async () => {
        const chunks = pending;
        pending = [];
        pendingRows = 0;
        await hooks.writeTurn(() =>
          db.transaction(async (tx) => {
            // The plan's chunks, gathered into the writer's larger statements.
            const writer = new BatchedWriter(tx, ws.workspaceId, identifier, tagIds, undefined, importId);
            for (const chunk of chunks) await writer.add(chunk);
            await writer.flush();
            // A contact deleted between the look-up and the write: its rows are not found after all.
            for (const target of writer.vanished) {
              for (const line of target.lines) {
                reject({ line, identifierValue: target.identifierValue }, 'not_found', {
                  identifier,
                  value: target.identifierValue ?? '',
                });
              }
              updated -= target.lines.length;
            }
            if (writer.vanished.length && options.allOrNothing) throw new RowsVanished();
          }),
        );
        await nextTurn();
      };
      for await (const chunk of planChunks(planPath)) {
        pending.push(chunk);
        pendingRows += chunk.create.length + chunk.update.length + chunk.updateByKey.length;
        if (pendingRows >= IMPORT_WRITE_ROWS) await writePending();
      }
      if (pending.length) await writePending();
      rejections.sort((a, b) => a.row - b.row);
      await hooks.writeTurn(() =>
        finish(db, { status: 'completed', created, updated, rejected: rejections.length, rejectedRows: rejections }),
      );
    } catch (error) {
      // Any other failure is undone by whoever records it (execute(), or a settle after a crash).
      if (!(error instanceof RowsVanished)) throw error;
      rejections.sort((a, b) => a.row - b.row);
      await undoImport(db, importId, ws.workspaceId, hooks.writeTurn);
      await hooks.writeTurn(failWithRejections);
    }
    await forgetFinishedImports(db, importId, hooks.writeTurn);
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
