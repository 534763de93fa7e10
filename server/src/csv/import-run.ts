/**
 * Passes 2 and 3 of a CSV contact import (import.ts has the whole story and pass 1): every row checked
 * and its identifier looked up in chunks, the plan written to disk beside the file while the import row
 * shows the progress; then the plan written in short transactions that note what they change, or
 * nothing. On the import thread when there is one (import-thread.ts), on the API's otherwise.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  IMPORT_LIMITS,
  type ImportRowReason,
  importRowReasonMessage,
  type Language,
  errorMessage as renderError,
} from '@rebound/shared';
import { eq } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { imports } from '../db/schema';
import { ApiError } from '../lib/errors';
import { BatchedWriter, ContactPlanner, PLAN_ROWS, type PlannedBatch } from '../services/contact-writer';
import { assertCustomKeysWithinCap, workspaceSpelling } from '../services/custom-field-keys';
import { ensureImportTags, forgetFinishedImports, undoImport } from '../services/import-undo';
import type { ContactImportOptions, StoredRejection, Workspace } from './import';
import type { FileEncoding } from './import-decode';
import { type CsvLayout, customKeysOf, type ImportRow, readContactRows, spelledLayout } from './import-parse';

/** Rows checked and looked up per statement (the contact writer's plan batch). */
export const IMPORT_CHUNK = PLAN_ROWS;
/** The import row's processedRows moves every this many rows. */
export const IMPORT_PROGRESS_EVERY = 1000;
/**
 * Contacts written per transaction of an import (with their undo notes): about 0.2 s each on this
 * 2-core machine, where a 100,000-row import held the write lock 3.5 s in one transaction.
 */
export const IMPORT_WRITE_ROWS = 5000;

/** Lets other requests (a GET of this import's progress, say) run between two chunks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Thrown inside the write transaction to undo it when all-or-nothing meets a contact deleted meanwhile. */
class RowsVanished extends Error {}

/** One chunk of the plan, as a line of the plan file: the contact writer's planned batch. */
type PlanChunk = PlannedBatch;

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
export async function finishImport(
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
  /** The workspace's cap on custom-field keys, given (the API thread's setting is not the import thread's). */
  maxCustomFieldKeys: number;
}

/** What passes 2 and 3 ask of the API thread (on it, they do it themselves). */
export interface ImportHooks {
  /** Rows checked so far, for the import row's progress. */
  progress(processed: number): Promise<void>;
  /** Runs one of the import's write transactions once this process's other writers let it. */
  writeTurn<T>(write: () => Promise<T>): Promise<T>;
}

/** An echoed cell in a rejection: enough to find the row, never a 64 KB cell stored again (and again in its reason). */
function clip(value: string): string {
  return value.length > IMPORT_LIMITS.rejectionEchoChars
    ? `${value.slice(0, IMPORT_LIMITS.rejectionEchoChars - 1)}…`
    : value;
}

/**
 * The rows refused: counted exactly, and the first IMPORT_LIMITS.rejectionsKept of them (by row) kept
 * with their reasons. A file of 200,000 bad rows would otherwise store them all in the import's record,
 * read back whole at every progress poll.
 */
class Rejections {
  count = 0;
  #rows: StoredRejection[] = [];

  add(rejection: StoredRejection): void {
    this.count++;
    this.#rows.push(rejection);
    if (this.#rows.length >= 2 * IMPORT_LIMITS.rejectionsKept) this.#trim();
  }

  /** The first ones, by row: a row's look-up may refuse it after later rows were checked. */
  get rows(): StoredRejection[] {
    this.#trim();
    return this.#rows;
  }

  #trim(): void {
    this.#rows.sort((a, b) => a.row - b.row);
    if (this.#rows.length > IMPORT_LIMITS.rejectionsKept) this.#rows.length = IMPORT_LIMITS.rejectionsKept;
  }
}

/** Passes 2 and 3: every row checked and looked up, then the plan written in one transaction, or why not. */
export async function planAndWrite(db: Database, run: ImportRun, hooks: ImportHooks): Promise<void> {
  const { ws, importId, source, options, language } = run;
  const { identifier, totalRows } = source.layout;
  // Spelled again as the workspace spells its keys now: an import queued behind another that brought
  // "Plan" writes its "plan" there too (the cap is checked at the write, below).
  const layout = spelledLayout(source.layout, await workspaceSpelling(db, ws.workspaceId, customKeysOf(source.layout)));
  const finish = (target: Database | Tx, values: Partial<typeof imports.$inferInsert>) =>
    finishImport(target, importId, totalRows, values);

  const rejections = new Rejections();
  const reject = (
    row: Pick<ImportRow, 'line' | 'identifierValue'>,
    code: ImportRowReason,
    params: Record<string, string | number> = {},
  ) => {
    const all: Record<string, string | number> = { line: row.line };
    for (const [key, value] of Object.entries(params)) all[key] = typeof value === 'string' ? clip(value) : value;
    rejections.add({
      row: row.line,
      identifier: row.identifierValue === null ? null : clip(row.identifierValue),
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
    await readContactRows(source.path, source.encoding, layout, ws.defaultCountry, async (rows) => {
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
  const { created } = planner;
  let { updated } = planner;

  const failWithRejections = async () =>
    finish(db, {
      status: 'failed',
      created: 0,
      updated: 0,
      rejected: rejections.count,
      rejectedRows: rejections.rows,
      errorCode: 'import_rows_rejected',
      errorMessage: renderError('import_rows_rejected', language, { count: rejections.count }),
    });

  // Read when it runs: `updated` loses the contacts that vanished while the plan was written.
  const completed = () =>
    finish(db, { status: 'completed', created, updated, rejected: rejections.count, rejectedRows: rejections.rows });

  // The cap on custom-field keys again, when it writes (or would): the first pass checked it when the
  // file came, but imports queued behind another (or the API's writes meanwhile) may have added keys.
  const fileKeys = customKeysOf(layout);
  /** Refused for the cap: recorded as the import's failure (true), before anything is written. */
  const refusedForKeys = async (): Promise<boolean> => {
    try {
      await assertCustomKeysWithinCap(db, ws.workspaceId, fileKeys, run.maxCustomFieldKeys);
      return false;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'custom_field_keys_limit')) throw error;
      await finish(db, {
        status: 'failed',
        created: 0,
        updated: 0,
        rejected: rejections.count,
        rejectedRows: rejections.rows,
        errorCode: error.code,
        errorMessage: renderError(error.code, language, error.params),
        errorParams: error.params,
      });
      return true;
    }
  };

  if (rejections.count > 0 && options.allOrNothing) {
    await hooks.writeTurn(failWithRejections);
  } else if (options.dryRun) {
    await hooks.writeTurn(async () => (await refusedForKeys()) || (await completed()));
  } else {
    // Pass 3: the plan in short transactions of about IMPORT_WRITE_ROWS contacts, each noting what it
    // changed (services/import-undo.ts): other writers (engines, agents) wait one of them at most, and
    // a failure part-way is undone, so the import still lands whole or not at all.
    const tagIds = await hooks.writeTurn(async () =>
      (await refusedForKeys())
        ? undefined
        : db.transaction((tx) => ensureImportTags(tx, importId, ws.workspaceId, options.tags)),
    );
    if (tagIds) await writePlan(tagIds);
    await forgetFinishedImports(db, importId, hooks.writeTurn);
  }

  /** Pass 3's writes, then the outcome; a contact gone meanwhile under all-or-nothing undoes them. */
  async function writePlan(tagIds: number[]): Promise<void> {
    try {
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
      await hooks.writeTurn(completed);
    } catch (error) {
      // Any other failure is undone by whoever records it (execute(), or a settle after a crash).
      if (!(error instanceof RowsVanished)) throw error;
      await undoImport(db, importId, ws.workspaceId, hooks.writeTurn);
      await hooks.writeTurn(failWithRejections);
    }
  }
}
