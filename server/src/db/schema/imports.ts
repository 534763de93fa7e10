/** CSV imports and what a running one changed, so that it can be undone. */

import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';
import { workspaces } from './workspaces';

/** CSV imports: progress while they run, and what they did. */
export const imports = sqliteTable(
  'imports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    status: text('status').$type<'queued' | 'running' | 'completed' | 'failed'>().notNull(),
    options: text('options', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** The process that holds the uploaded file and runs the import (host:pid:random, see import-jobs.ts). */
    claimedBy: text('claimed_by'),
    /** When that process last said it is alive (ms); a queued or running import whose beat stopped is settled. */
    heartbeatAt: integer('heartbeat_at'),
    fileName: text('file_name'),
    totalRows: integer('total_rows').notNull().default(0),
    processedRows: integer('processed_rows').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    /** Rejected rows with their reason, kept for the downloadable report. */
    rejectedRows: text('rejected_rows', { mode: 'json' }).$type<Record<string, unknown>[]>().notNull().default([]),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The message's parameters besides the code, to say it again in each reader's language. */
    errorParams: text('error_params', { mode: 'json' }).$type<Record<string, string | number>>(),
    createdAt: createdAt(),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('imports_workspace_idx').on(t.workspaceId),
    // One running import per workspace, whichever process runs it: the claim is this index's insert.
    uniqueIndex('imports_one_running_idx').on(t.workspaceId).where(sql`status = 'running'`),
    index('imports_live_idx').on(t.workspaceId, t.id).where(sql`status IN ('queued', 'running')`),
  ],
);

/**
 * What a running import changed, so that it can be undone: it writes in short transactions (a
 * libSQL server takes a write lock back after 5 s, and every other writer waits meanwhile), yet lands
 * whole or not at all. kind 'created': a contact it created (before is null); 'updated': a contact
 * it changed, with its columns before and the import's tags it did not have; 'tag': a tag it created;
 * 'written': a time (in `id`) at which it wrote contacts.
 * Rows of a finished import are deleted.
 */
export const importUndo = sqliteTable(
  'import_undo',
  {
    importId: integer('import_id').notNull(),
    kind: text('kind').$type<'created' | 'updated' | 'tag' | 'written'>().notNull(),
    id: integer('id').notNull(),
    before: text('before'),
  },
  (t) => [primaryKey({ columns: [t.importId, t.kind, t.id] })],
);
