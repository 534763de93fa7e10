/**
 * The failed-message log: every recipient that did not get a broadcast (failed, left out before
 * sending, or unconfirmed: sent, with no answer or delivery report since), newest first, with the
 * reason in the agent's language. The export reads the same rows.
 */
import type { FailureFilters } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readColumn, readRows } from '../db/fast-read';
import { ApiError, fieldIssue } from '../lib/errors';
import { foldTyped } from '../segments/fold';
import {
  type FailedRow,
  failureConditions,
  olderThan,
  type ResolvedFilters,
  resolveFilters,
  rowSelect,
  toRow,
} from './failure-query';

// The log's SQL (failure-query.ts), its rows as shown (failed-message.ts) and its summary
// (failure-summary.ts) are exported from here too, where the routes, the export and the benchmarks
// have always found them.
export {
  contentOf,
  providerWords,
  resendAfterOf,
  type SentContent,
  toFailedMessage,
} from './failed-message';
export {
  type FailedRow,
  failureConditions,
  type ResolvedFilters,
  resolveFilters,
  subtypeOf,
} from './failure-query';
export { failureSummary } from './failure-summary';

function encodeCursor(row: { failed_at: number; id: number }): string {
  return Buffer.from(`${row.failed_at}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: number } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':').map(Number);
  if (!Number.isSafeInteger(at) || !Number.isSafeInteger(id)) {
    throw new ApiError(422, 'validation_failed', {}, [fieldIssue('query.cursor', 'badCursor')]);
  }
  return { at: at as number, id: id as number };
}

interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

/**
 * One page, newest first (keyset on failure time and id, so pages never shift). Several broadcasts
 * are read one by one in index order and merged: SQLite would otherwise sort all their failures.
 */
export async function failedMessagePage(
  db: Database,
  workspaceId: number,
  filters: FailureFilters,
  page: PageRequest,
): Promise<Page> {
  return resolvedPage(db, workspaceId, await resolveFilters(db, workspaceId, filters), page);
}

/**
 * Failures a text search reads per page, at most (a long search fewer: searchBudget): about 30 ms here.
 * A search cannot use an index (it looks for the text inside names, identifiers and the provider's
 * words), and a rare one read a whole broadcast's failures or the workspace's: 0.3 s for 100,000, 3 s
 * for a million, while every other read waited. Past the budget the page ends early, even empty, with
 * a cursor to read on; a client follows it, as it follows any page.
 */
export const LOG_SEARCH_BUDGET = 10_000;

/**
 * What a page of a search may cost, in letters typed times failures read. The GLOB that finds a name
 * (failureConditions) can take the name's length (up to 201 letters) times the typed text's on a row:
 * a workspace that named its contacts to almost match a search ("aaa…ab" against names of 200 "a") held
 * the read thread 1 s a page for 10 letters typed and 3 s for 199, while every other workspace's page
 * waited. A page reads 10,000 failures for up to 3 letters typed and fewer past that, about 0.3 s a page
 * for such names whatever was typed; ordinary names cost a fraction of it. A client follows the cursor,
 * as it follows any page.
 */
const LOG_SEARCH_LETTERS = 30_000;

/** Failures a page of this search reads at most (LOG_SEARCH_LETTERS). */
export function searchBudget(q: string): number {
  return Math.min(LOG_SEARCH_BUDGET, Math.floor(LOG_SEARCH_LETTERS / Math.max(1, [...foldTyped(q)].length)));
}

type Edge = { at: number; id: number };
type Page = { rows: FailedRow[]; nextCursor: string | null; cut?: Edge | undefined };

const newer = (a: Edge, b: Edge) => a.at > b.at || (a.at === b.at && a.id > b.id);

async function resolvedPage(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  page: PageRequest,
): Promise<Page> {
  const broadcastIds = [...new Set(filters.broadcastId ?? [])];
  const budget = filters.q ? searchBudget(filters.q) : LOG_SEARCH_BUDGET;
  if (broadcastIds.length <= 1) return singlePage(db, workspaceId, filters, page, budget);
  // The search's budget is the page's, shared by its broadcasts: a hundred of them read as much as one.
  const share = Math.ceil(budget / broadcastIds.length);
  const pages = await Promise.all(
    broadcastIds.map((id) => singlePage(db, workspaceId, { ...filters, broadcastId: [id] }, page, share)),
  );
  // Each broadcast's page knows its failures down to its frontier: its last row when it had more, or
  // where its search budget cut it. Below the newest frontier the merged page would miss rows, so it
  // stops there and goes on from there (with only the others' rows, a page that stopped at `limit`
  // would end the log early: a two-broadcast export lost all but its first 4,000 rows).
  const frontier = pages.reduce<Edge | undefined>((edge, p) => {
    const last = p.rows.at(-1);
    const own = p.cut ?? (p.nextCursor !== null && last ? { at: last.failed_at, id: last.id } : undefined);
    return own && (!edge || newer(own, edge)) ? own : edge;
  }, undefined);
  const merged = pages
    .flatMap((p) => p.rows)
    .filter((row) => !frontier || !newer(frontier, { at: row.failed_at, id: row.id }))
    .sort((a, b) => b.failed_at - a.failed_at || b.id - a.id);
  const rows = merged.slice(0, page.limit);
  const last = rows.at(-1);
  if (merged.length > page.limit && last) return { rows, nextCursor: encodeCursor(last) };
  return { rows, nextCursor: frontier ? encodeCursor({ failed_at: frontier.at, id: frontier.id }) : null };
}

async function singlePage(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  page: PageRequest,
  budgetRows: number,
): Promise<Page> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  // The upper bound on failed_at lets the index seek straight to the page instead of walking from the top.
  const keyset = after ? olderThan(after.at, after.id) : sql``;
  // A search reads `budgetRows` failures at most: the last of them, found by the index alone, bounds it.
  const [edge] = filters.q
    ? await readRows<{ at: number; id: number }>(
        db,
        sql`SELECT m.failed_at AS at, m.id AS id FROM messages m
        WHERE ${failureConditions(workspaceId, filters, false)}${keyset}
        ORDER BY m.failed_at DESC, m.id DESC LIMIT 1 OFFSET ${budgetRows - 1}`,
      )
    : [];
  const budget = edge
    ? sql` AND m.failed_at >= ${edge.at} AND (m.failed_at > ${edge.at} OR m.id >= ${edge.id})`
    : sql``;
  const packed = await readColumn<string>(
    db,
    sql`${rowSelect}
    WHERE ${failureConditions(workspaceId, filters)}${keyset}${budget}
    ORDER BY m.failed_at DESC, m.id DESC LIMIT ${page.limit + 1}`,
    'r',
  );
  const rows = packed.map(toRow);
  const last = rows[page.limit - 1];
  if (rows.length > page.limit && last) return { rows: rows.slice(0, page.limit), nextCursor: encodeCursor(last) };
  // Cut by the budget: fewer rows than asked (maybe none), and a cursor past the last failure read.
  return { rows, nextCursor: edge ? encodeCursor({ failed_at: edge.at, id: edge.id }) : null, cut: edge };
}

/** Every matching row, page by page: constant memory however many there are. */
export async function* allFailedMessages(db: Database, workspaceId: number, filters: FailureFilters, pageSize = 2000) {
  const resolved = await resolveFilters(db, workspaceId, filters);
  let cursor: string | undefined;
  do {
    const page = await resolvedPage(db, workspaceId, resolved, { cursor, limit: pageSize });
    yield page.rows;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
