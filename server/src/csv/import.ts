/**
 * The CSV contact import, the reference help page's manual recovery path: export the failed messages,
 * import them back with "update existing contacts only", identifier = contact ID, and a tag such as
 * "failed broadcast 110122" that a segment and a new broadcast can then target.
 *
 * The uploaded file waits on disk and is read a piece at a time, so memory stays the same whatever the
 * file. Three passes: check the file as a whole and count its rows (import-parse.ts, here), then check
 * every row and look its identifier up in chunks while the import row shows the progress, writing the
 * plan to disk beside the file, then write the plan in short transactions of multi-row statements that
 * note what they change, so it lands whole or not at all (import-run.ts): nothing with a rejected row
 * under all-or-nothing, a dry run, or an error on the way. One import runs at a time
 * per workspace (services/import-jobs.ts). With a database file the API's thread only receives the
 * upload and records the import: the passes run on the import thread (import-thread.ts). What a row
 * means, how it matches a contact, and the statements that write it are the contact writer's
 * (services/contact-writer.ts), the same for the API and the benchmark.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ImportField,
  type ImportForm,
  type ImportIdentifier,
  type ImportMode,
  type ImportRowReason,
  type Language,
  errorMessage as renderError,
} from '@rebound/shared';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';
import { imports } from '../db/schema';
import { notFound } from '../lib/errors';
import { assertCustomKeysWithinCap, getCustomFieldKeyCap } from '../services/custom-field-keys';
import {
  holdImport,
  importFinished,
  ownership,
  queuedCount,
  queuedImports,
  queueFull,
  tryTurn,
  waitForTurn,
} from '../services/import-jobs';
import { forgetFinishedImports, undoImport } from '../services/import-undo';
import { detectEncoding, type FileEncoding } from './import-decode';
import { type CsvLayout, customKeysOf, type ImportColumn, scanContactCsv, spelledLayout } from './import-parse';
import { finishImport, type ImportRun, planAndWrite, type Source } from './import-run';
import type { ImportThread } from './import-thread';

export { fileTooLarge, sniffDelimiter } from './import-parse';
// Passes 2 and 3 live in import-run.ts; the import thread finds them here.
export { type ImportRun, planAndWrite } from './import-run';

export type ImportRecord = typeof imports.$inferSelect;

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
  /**
   * Imports of the workspace that may wait their turn (the API's MAX_QUEUED_IMPORTS): past it the import
   * is refused (429) and nothing is recorded. None for the command line, whose one import waits its turn.
   */
  queueCap?: number;
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
  const scanned = await scanContactCsv(path, encoding, { ...options, defaultCountry: ws.defaultCountry });
  const spelling = await assertCustomKeysWithinCap(db, ws.workspaceId, customKeysOf(scanned), maxCustomFieldKeys);
  return { encoding, layout: spelledLayout(scanned, spelling) } satisfies ScannedFile;
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
    // The queue's cap is checked again in the statement that joins it: uploads that passed the check
    // before their upload together (as many as the upload limit lets in) cannot all join a full queue.
    // One statement, so that a libSQL server's busy answer is retried like any write's.
    const owner = ownership();
    const cap = input.queueCap === undefined ? sql`1` : sql`${queuedCount(ws.workspaceId)} < ${input.queueCap}`;
    const joined = await first<{ id: number }>(
      db,
      sql`INSERT INTO imports (workspace_id, status, options, file_name, total_rows, claimed_by, heartbeat_at, created_at)
        SELECT ${ws.workspaceId}, 'queued', ${JSON.stringify(stored)}, ${input.fileName}, ${layout.totalRows},
          ${owner.claimedBy}, ${owner.heartbeatAt}, ${Date.now()}
        WHERE ${cap} RETURNING id`,
    );
    if (!joined) throw queueFull(await queuedImports(db, ws.workspaceId));
    const [record] = await db.select().from(imports).where(eq(imports.id, joined.id));
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
      maxCustomFieldKeys: getCustomFieldKeyCap(),
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

/** An import of the workspace; another workspace's reads as not found. */
export async function getImport(db: Database, ws: Pick<Workspace, 'workspaceId'>, id: number): Promise<ImportRecord> {
  const [row] = await db
    .select()
    .from(imports)
    .where(and(eq(imports.id, id), eq(imports.workspaceId, ws.workspaceId)));
  if (!row) throw notFound('import', { id });
  return row;
}
