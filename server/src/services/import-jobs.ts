/**
 * Imports as jobs that several processes share through the database: one runs at a time per workspace
 * (the others wait, `queued`, in order), each is owned by the process that holds its uploaded file, and
 * an import whose process died is settled as failed, "interrupted: nothing was imported": what it had
 * written is undone first (services/import-undo.ts). The owner keeps a heartbeat while the import is
 * queued or running.
 */
import { errorMessage } from '@rebound/shared';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';
import { imports } from '../db/schema';
import { ApiError } from '../lib/errors';
import { ownerIsDead, PROCESS_OWNER } from '../lib/process-owner';
import { forgetFinishedImports, undoImport } from './import-undo';

/** How often a live owner says so. */
export const IMPORT_HEARTBEAT_MS = 10_000;
/** A beat older than this: the owner is gone (a process busy in a long write still beats between chunks). */
export const IMPORT_STALE_MS = 60_000;

/** This process as an import's owner. */
export const IMPORT_OWNER = PROCESS_OWNER;

/**
 * Marks failed every queued or running import (of one workspace, or all) whose owner died: its
 * heartbeat is stale, or it was this host's process that is gone (this process's previous life after a
 * restart). A live owner elsewhere keeps its imports. Returns how many were settled.
 */
export async function settleInterruptedImports(db: Database, workspaceId?: number): Promise<number> {
  const live = await db
    .select({
      id: imports.id,
      workspaceId: imports.workspaceId,
      claimedBy: imports.claimedBy,
      heartbeatAt: imports.heartbeatAt,
    })
    .from(imports)
    .where(
      and(
        inArray(imports.status, ['queued', 'running']),
        workspaceId === undefined ? undefined : eq(imports.workspaceId, workspaceId),
      ),
    );
  const staleBefore = Date.now() - IMPORT_STALE_MS;
  const dead = live.filter((job) =>
    job.claimedBy === IMPORT_OWNER
      ? // One of ours that nobody here runs any more (its undo failed when the database was away).
        !owned.has(job.id) && (job.heartbeatAt ?? 0) < staleBefore
      : (job.heartbeatAt ?? 0) < staleBefore || ownerIsDead(job.claimedBy),
  );
  let settled = 0;
  for (const job of dead) {
    // Taken over on the same owner and beat (an owner that beat meanwhile is alive after all), and
    // held with our own heartbeat while what it wrote is undone.
    const taken = await db
      .update(imports)
      .set(ownership())
      .where(
        and(
          eq(imports.id, job.id),
          inArray(imports.status, ['queued', 'running']),
          job.claimedBy === null ? sql`${imports.claimedBy} IS NULL` : eq(imports.claimedBy, job.claimedBy),
          job.heartbeatAt === null ? sql`${imports.heartbeatAt} IS NULL` : eq(imports.heartbeatAt, job.heartbeatAt),
        ),
      );
    if (taken.rowsAffected === 0) continue;
    const hold = holdImport(db, job.id);
    try {
      await undoImport(db, job.id, job.workspaceId);
      await db
        .update(imports)
        .set({
          status: 'failed',
          created: 0,
          updated: 0,
          errorCode: 'import_interrupted',
          errorMessage: errorMessage('import_interrupted', 'en'),
          finishedAt: new Date(),
        })
        .where(and(eq(imports.id, job.id), inArray(imports.status, ['queued', 'running'])));
      settled++;
    } finally {
      hold.release();
    }
  }
  // Notes of imports that finished but whose process stopped before it forgot them.
  if (workspaceId === undefined) await forgetFinishedImports(db);
  return settled;
}

/** Imports this process owns and keeps alive. */
const owned = new Set<number>();
let beat: NodeJS.Timeout | undefined;

async function heartbeat(db: Database): Promise<void> {
  if (owned.size === 0) return;
  await db
    .update(imports)
    .set({ heartbeatAt: Date.now() })
    .where(and(inArray(imports.id, [...owned]), eq(imports.claimedBy, IMPORT_OWNER)));
}

/** Starts beating for an import this process just created; `release` stops when it is finished. */
export function holdImport(db: Database, id: number): { release(): void } {
  owned.add(id);
  if (!beat) {
    beat = setInterval(() => void heartbeat(db).catch(() => undefined), IMPORT_HEARTBEAT_MS);
    beat.unref();
  }
  return {
    release() {
      owned.delete(id);
      if (owned.size === 0 && beat) {
        clearInterval(beat);
        beat = undefined;
      }
    },
  };
}

/** The fields a new import row gets to be owned by this process. */
export const ownership = () => ({ claimedBy: IMPORT_OWNER, heartbeatAt: Date.now() });

/**
 * Imports one process runs at once, whatever their workspaces. They share one thread (the import
 * thread, or the API's without one) and one writer, so more at once finish no sooner, they only hold
 * more memory (each keeps a batch of rows and its key map).
 */
export const IMPORTS_PER_PROCESS = 2;
let running = 0;

/**
 * A slot to run an import in this process, or undefined when all are taken; call the result to free it
 * (`wake` false: it ran nothing, so no waiter has a new chance, and waking them would only spin).
 */
function tryImportSlot(): ((wake?: boolean) => void) | undefined {
  if (running >= IMPORTS_PER_PROCESS) return undefined;
  running++;
  let freed = false;
  return (wake = true) => {
    if (freed) return;
    freed = true;
    running--;
    if (wake) wakeWaiters();
  };
}

/** Queued imports of this process waiting for their turn; woken when an import or a slot frees, else polled. */
const waiters = new Set<() => void>();
const POLL_MS = 500;

function wakeWaiters(): void {
  for (const wake of [...waiters]) wake();
}

/** An import of this process finished: the next in its workspace's queue may run. */
export function importFinished(): void {
  wakeWaiters();
}

/**
 * Turns the queued import into the running one when it is first in its workspace's queue and no import
 * runs there (the unique index on running imports makes this safe across processes). False: not yet.
 */
export async function tryClaim(db: Database, workspaceId: number, id: number): Promise<boolean> {
  await settleInterruptedImports(db, workspaceId);
  try {
    const claimed = await first<{ id: number }>(
      db,
      sql`UPDATE imports SET status = 'running', claimed_by = ${IMPORT_OWNER}, heartbeat_at = ${Date.now()}
        WHERE id = ${id} AND status = 'queued'
          AND id = (SELECT min(id) FROM imports WHERE workspace_id = ${workspaceId} AND status = 'queued')
          AND NOT EXISTS (SELECT 1 FROM imports WHERE workspace_id = ${workspaceId} AND status = 'running')
        RETURNING id`,
    );
    return claimed !== undefined;
  } catch (error) {
    // Another process claimed one for this workspace at the same moment.
    if (/UNIQUE constraint failed/i.test(String((error as Error).message))) return false;
    throw error;
  }
}

/** A slot of this process and the workspace's turn, both at once, or undefined (nothing held). */
export async function tryTurn(db: Database, workspaceId: number, id: number): Promise<(() => void) | undefined> {
  const release = tryImportSlot();
  if (!release) return undefined;
  try {
    if (await tryClaim(db, workspaceId, id)) return () => release();
  } catch (error) {
    release(false);
    throw error;
  }
  release(false);
  return undefined;
}

/**
 * Resolves once the queued import runs (its workspace's turn and a slot of this process): call the
 * result when it is done. Rejects if the import was settled meanwhile.
 */
export async function waitForTurn(db: Database, workspaceId: number, id: number): Promise<() => void> {
  for (;;) {
    const release = await tryTurn(db, workspaceId, id);
    if (release) return release;
    const [row] = await db.select({ status: imports.status }).from(imports).where(eq(imports.id, id));
    if (row?.status !== 'queued') throw new Error(`import ${id} is ${row?.status ?? 'gone'}, no longer queued`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, POLL_MS);
      waiters.add(wake);
    });
  }
}

/**
 * Imports a workspace may have waiting their turn: each keeps its uploaded file (up to the body limit)
 * on disk and a poll, so a client posting in a loop could fill the disk while the first one runs.
 */
export const MAX_QUEUED_IMPORTS = 10;

/** When to ask again once the queue is full: about what a 20 MB import takes. */
const QUEUE_FULL_RETRY_SECONDS = 30;

/** The refusal of an import past the queue: 429, with when to ask again (`seconds`, the Retry-After). */
export function queueFull(queued: number): ApiError {
  return new ApiError(429, 'too_many_queued_imports', { queued, seconds: QUEUE_FULL_RETRY_SECONDS });
}

/** How many imports of the workspace wait their turn, as an expression (the queue's cap is checked in SQL too). */
export const queuedCount = (workspaceId: number) =>
  sql`(SELECT count(*) FROM imports WHERE workspace_id = ${workspaceId} AND status = 'queued')`;

/** How many imports of the workspace wait their turn. */
export async function queuedImports(db: Database, workspaceId: number): Promise<number> {
  const row = await first<{ n: number }>(db, sql`SELECT ${queuedCount(workspaceId)} AS n`);
  return Number(row?.n ?? 0);
}

/** Where a queued import stands in its workspace's queue: 1 = next. */
export async function queuePosition(db: Database, workspaceId: number, id: number): Promise<number> {
  const row = await first<{ n: number }>(
    db,
    sql`SELECT count(*) AS n FROM imports WHERE workspace_id = ${workspaceId} AND status = 'queued' AND id <= ${id}`,
  );
  return Number(row?.n ?? 1);
}
