/**
 * The failed-message log: every recipient that did not get a broadcast (failed, left out before
 * sending, or unconfirmed: sent, with no answer or delivery report since), newest first, with the
 * reason in the agent's language. The export reads the same rows.
 */
import type { FailureFilters } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readColumn } from '../db/fast-read';
import { ApiError, fieldIssue } from '../lib/errors';
import {
  type FailedRow,
  failureConditions,
  type ResolvedFilters,
  resolveFilters,
  rowSelect,
  SEARCHED_COLUMNS,
  type SearchedText,
  textMatcher,
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
 * Failures a text search reads per page, at most: about 30 ms here. A search cannot use an index (it
 * looks for the text inside names, identifiers and the provider's words), and a rare one read a whole
 * broadcast's failures or the workspace's: 0.3 s for 100,000, 3 s for a million, while every other
 * read waited. Past the budget the page ends early, even empty, with a cursor to read on; a client
 * follows it, as it follows any page.
 */
export const LOG_SEARCH_BUDGET = 10_000;

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
  if (broadcastIds.length <= 1) return singlePage(db, workspaceId, filters, page);
  // The search's budget is the page's, shared by its broadcasts: a hundred of them read as much as one.
  const share = Math.ceil(LOG_SEARCH_BUDGET / broadcastIds.length);
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
  searchBudget = LOG_SEARCH_BUDGET,
): Promise<Page> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  // The upper bound on failed_at lets the index seek straight to the page instead of walking from the top.
  const keyset = after
    ? sql` AND m.failed_at <= ${after.at} AND (m.failed_at < ${after.at} OR m.id < ${after.id})`
    : sql``;
  if (filters.q) return searchedPage(db, workspaceId, filters, filters.q, page, keyset, searchBudget);
  const packed = await readColumn<string>(
    db,
    sql`${rowSelect}
    WHERE ${failureConditions(workspaceId, filters)}${keyset}
    ORDER BY m.failed_at DESC, m.id DESC LIMIT ${page.limit + 1}`,
    'r',
  );
  const rows = packed.map(toRow);
  const last = rows[page.limit - 1];
  if (rows.length > page.limit && last) return { rows: rows.slice(0, page.limit), nextCursor: encodeCursor(last) };
  return { rows, nextCursor: null };
}

/**
 * A page of a text search: the next `searchBudget` failures by the other filters, their text checked here
 * (textMatcher), then the page's rows read whole. Past the budget the page ends early, even empty, with a
 * cursor past the last failure read.
 */
async function searchedPage(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  q: string,
  page: PageRequest,
  keyset: SQL,
  searchBudget: number,
): Promise<Page> {
  const matches = textMatcher(q);
  /** The matching failures read, newest first: failure time and id. */
  const found: [number, number][] = [];
  // Read in growing chunks: a common name fills the page from the first few hundred, a rare one reads on.
  let read = 0;
  let chunk = Math.min(searchBudget, (page.limit + 1) * 4);
  /** The last failure read: where the next chunk, or the next page when the budget is spent, goes on from. */
  let reached: [number, number] | undefined;
  while (found.length <= page.limit && read < searchBudget) {
    const want = Math.min(chunk, searchBudget - read);
    const from = reached
      ? sql`${keyset} AND m.failed_at <= ${reached[0]} AND (m.failed_at < ${reached[0]} OR m.id < ${reached[1]})`
      : keyset;
    // One JSON value for the chunk: a driver row (or a JSON text) per failure costs more than the check.
    const [packed] = await readColumn<string>(
      db,
      sql`SELECT json_group_array(json_array(m.failed_at, m.id, ${SEARCHED_COLUMNS})
          ORDER BY m.failed_at DESC, m.id DESC) AS r FROM (
        SELECT m.failed_at, m.id, m.contact_id, m.identifier, m.provider_message FROM messages m
        WHERE ${failureConditions(workspaceId, filters)}${from}
        ORDER BY m.failed_at DESC, m.id DESC LIMIT ${want}) m
      LEFT JOIN contacts ct ON ct.id = m.contact_id`,
      'r',
    );
    const candidates = JSON.parse(packed ?? '[]') as [number, number, ...SearchedText][];
    for (const [at, id, ...text] of candidates) {
      read++;
      reached = [at, id];
      if (matches(text)) found.push([at, id]);
      if (found.length > page.limit) break;
    }
    // The log ended before the budget: no cursor.
    if (candidates.length < want) break;
    chunk *= 4;
  }
  // The page's own rows read whole, still failures by the filters: a report may have delivered one since.
  const shown = found.slice(0, page.limit);
  const rows = shown.length
    ? (
        await readColumn<string>(
          db,
          sql`${rowSelect} WHERE m.id IN (SELECT value FROM json_each(${JSON.stringify(shown.map(([, id]) => id))}))
          AND ${failureConditions(workspaceId, filters)} ORDER BY m.failed_at DESC, m.id DESC`,
          'r',
        )
      ).map(toRow)
    : [];
  // More than a page matched: the next goes on after this page's last match, as the scan read it.
  const last = shown.at(-1);
  if (found.length > page.limit && last) return { rows, nextCursor: encodeCursor({ failed_at: last[0], id: last[1] }) };
  // Cut by the budget: fewer rows than asked (maybe none), and a cursor past the last failure read.
  const edge = read >= searchBudget && reached ? { at: reached[0], id: reached[1] } : undefined;
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
