/**
 * The failed-message log's SQL: the row it reads (one JSON array each) and the WHERE its filters make,
 * shared by the log's pages, its summary and the export.
 */
import {
  type FailureFilters,
  type FailureReason,
  type FailureSubtype,
  nextDay,
  startOfDayInZone,
  workspaceTimeZone,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readColumn, readRows } from '../db/fast-read';
import { LOGGED_STATES_SQL } from '../db/schema';
import { ApiError, fieldIssue } from '../lib/errors';
import { foldedContains, foldPattern, foldStored, foldTyped } from '../segments/fold';

export interface FailedRow {
  id: number;
  failed_at: number;
  broadcast_id: number;
  broadcast_name: string;
  content: string;
  contact_id: number | null;
  first_name: string | null;
  last_name: string | null;
  identifier: string | null;
  channel_id: number;
  channel_type: string;
  channel_name: string;
  state: 'failed' | 'excluded' | 'uncertain';
  reason: FailureReason | null;
  provider_code: string | null;
  provider_message: string | null;
  use_template: number;
  retry_after_at: number | null;
}

/**
 * The filters with `from` and `to` as instants: [fromMs, toMs), and the broadcast IDs narrowed to the
 * workspace's own (`ownBroadcasts`), so that the queries need not check each message's workspace.
 */
export type ResolvedFilters = Omit<FailureFilters, 'from' | 'to'> & {
  fromMs?: number;
  toMs?: number;
  ownBroadcasts?: boolean;
};

const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `from`/`to` as instants. A day alone means that whole day in the workspace's time zone (`to` includes
 * it); a time with its offset means that instant. The workspace is read only when a day is given.
 */
export async function resolveFilters(
  db: Database,
  workspaceId: number,
  filters: FailureFilters,
): Promise<ResolvedFilters> {
  const { from, to, ...rest } = filters;
  let zone = 'UTC';
  if ((from !== undefined && DAY_ONLY.test(from)) || (to !== undefined && DAY_ONLY.test(to))) {
    const [workspace] = await readRows<{ default_country: string | null; time_zone: string | null }>(
      db,
      sql`SELECT default_country, time_zone FROM workspaces WHERE id = ${workspaceId}`,
    );
    zone = workspaceTimeZone(workspace?.default_country, workspace?.time_zone);
  }
  const resolved: ResolvedFilters = { ...rest };
  if (rest.broadcastId?.length) {
    // A broadcast's messages are its workspace's: once its ID is known to be the workspace's, the index
    // on (broadcast, failure time) answers alone, without reading each message's row for its workspace
    // (10 ms for a search's 10,000-failure budget, 0.6 ms without). Another workspace's ID matches nothing.
    const own = await readColumn<number>(
      db,
      sql`SELECT id FROM broadcasts WHERE workspace_id = ${workspaceId} AND id IN ${[...new Set(rest.broadcastId)]}`,
      'id',
    );
    resolved.broadcastId = own.length ? own : [0];
    resolved.ownBroadcasts = true;
  }
  if (from !== undefined) resolved.fromMs = DAY_ONLY.test(from) ? startOfDayInZone(from, zone) : Date.parse(from);
  if (to !== undefined) resolved.toMs = DAY_ONLY.test(to) ? startOfDayInZone(nextDay(to), zone) : Date.parse(to);
  // Dates typed the wrong way round match nothing: said, not answered with an empty log ("no failures").
  if (resolved.fromMs !== undefined && resolved.toMs !== undefined && resolved.fromMs >= resolved.toMs)
    throw new ApiError(422, 'failures_range_reversed', { from: String(from), to: String(to) }, [
      fieldIssue('query.from', 'fromNotBeforeTo'),
    ]);
  return resolved;
}

/**
 * Unconfirmed: the state says the request may have reached the provider, or a report said the final
 * state is unknown (reason uncertain). Either way nobody knows whether the message arrived.
 */
const SUBTYPE_SQL: Record<FailureSubtype, SQL> = {
  unconfirmed: sql`(m.state = 'uncertain' OR m.reason = 'uncertain')`,
  failed: sql`m.state = 'failed' AND m.reason IS NOT 'uncertain'`,
  excluded: sql`m.state = 'excluded'`,
};

export function subtypeOf(row: Pick<FailedRow, 'state' | 'reason'>): FailureSubtype {
  if (row.state === 'uncertain' || row.reason === 'uncertain') return 'unconfirmed';
  return row.state;
}

/** A failure's text a search looks in: the contact's name, the recipient's identifier, the provider's words. */
export type SearchedText = [
  firstName: string | null,
  lastName: string | null,
  identifier: string | null,
  providerMessage: string | null,
];

/** The searched text's columns, in SearchedText's order (for a json_array of a candidate row). */
export const SEARCHED_COLUMNS = sql`ct.first_name, ct.last_name, m.identifier, m.provider_message`;

/**
 * Whether a failure's text holds what an agent typed: names and the provider's words as a segment
 * compares them, "gomez" finds "Gómez", "ÁNGEL" finds "Ángel" (fold.ts); a phone typed as people write it
 * ("11 5555-1234") by its digits in the stored +54 9 11… form; any other identifier (an e-mail, a PSID) as
 * typed. Checked here rather than in SQL: a GLOB with a class per letter can take a name's length times
 * the text's, and names are what any workspace writes (seconds a row, while other workspaces' reads wait).
 */
export function textMatcher(q: string): (text: SearchedText) => boolean {
  const typed = foldTyped(q);
  const digits = typedDigits(q);
  return ([first, last, identifier, providerMessage]) =>
    foldStored(`${first ?? ''} ${last ?? ''}`).includes(typed) ||
    (identifier ?? '').includes(q) ||
    (digits !== '' && (identifier ?? '').includes(digits)) ||
    foldStored(providerMessage ?? '').includes(typed);
}

/** A phone as people write it ("11 5555-1234"), by its digits; empty for anything else or fewer than 3. */
function typedDigits(q: string): string {
  const digits = /^[\d\s().+-]+$/.test(q) ? q.replace(/\D/g, '') : '';
  return digits.length >= 3 ? digits : '';
}

/** The identifier holds `q` as typed, or a phone typed with separators by its digits. */
function identifierHolds(q: string): SQL {
  const digits = typedDigits(q);
  return sql`instr(coalesce(m.identifier, ''), ${q}) > 0
    ${digits ? sql`OR instr(coalesce(m.identifier, ''), ${digits}) > 0` : sql``}`;
}

/** Newer-first keyset: the failures after (older than) one at `at` with `id`. */
export const olderThan = (at: number, id: number) =>
  sql` AND m.failed_at <= ${at} AND (m.failed_at < ${at} OR m.id < ${id})`;

/** Letters some accented letter folds to (fold.ts): SQLite's lower() cannot tell them from their accented kin. */
const ACCENTED_KIN = new Set('aeioucny');

/**
 * What a row must hold for textMatcher to find `q` in it, as SQL that reads each row once (instr is C,
 * and never the GLOB's name-times-text): the longest run of the typed text made of ASCII that is not a
 * letter with accented kin, in the lowercased name or provider's words ("cliente 12" → " 12",
 * "gomez" → "m"), or the identifier conditions themselves. Necessary, not sufficient: textMatcher
 * decides, on the rows it lets through (most rows, for a query all vowels and "n"s).
 */
export function textPrefilter(q: string): SQL {
  const typed = foldTyped(q);
  let run = '';
  let best = '';
  for (const c of typed) {
    run = c <= '\x7f' && !ACCENTED_KIN.has(c) ? run + c : '';
    if (run.length > best.length) best = run;
  }
  const text = best
    ? sql`instr(lower(coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')), ${best}) > 0
      OR instr(lower(coalesce(m.provider_message, '')), ${best}) > 0`
    : sql`1`;
  return sql`(${text} OR ${identifierHolds(q)})`;
}

/** The WHERE of the log, the summary and the export; only ever inside the workspace. */
export function failureConditions(workspaceId: number, filters: ResolvedFilters, withText = true): SQL {
  // LOGGED_STATES_SQL is the partial indexes' own condition, so they serve every query here.
  const parts: SQL[] = [LOGGED_STATES_SQL];
  if (filters.broadcastId?.length) {
    parts.push(sql`m.broadcast_id IN ${filters.broadcastId}`);
    if (!filters.ownBroadcasts) parts.push(sql`m.workspace_id = ${workspaceId}`);
  } else parts.push(sql`m.workspace_id = ${workspaceId}`);
  if (filters.channelId !== undefined) parts.push(sql`m.channel_id = ${filters.channelId}`);
  if (filters.contactId !== undefined) parts.push(sql`m.contact_id = ${filters.contactId}`);
  if (filters.reason) parts.push(sql`m.reason = ${filters.reason}`);
  if (filters.subtype) parts.push(SUBTYPE_SQL[filters.subtype]);
  if (filters.fromMs !== undefined) parts.push(sql`m.failed_at >= ${filters.fromMs}`);
  if (filters.toMs !== undefined) parts.push(sql`m.failed_at < ${filters.toMs}`);
  if (filters.q && withText) {
    // For the log's pages (each reads its searchBudget of failures at most); the summary, which reads every
    // failure, leaves it out and checks with textMatcher. What it finds is what textMatcher finds.
    const name = foldedContains(
      sql`ct.custom_folded IS NOT NULL`,
      sql`coalesce(ct.first_folded, '') || ' ' || coalesce(ct.last_folded, '')`,
      sql`coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')`,
      filters.q,
    );
    parts.push(sql`(${name} OR ${identifierHolds(filters.q)}
      OR coalesce(m.provider_message, '') GLOB ${foldPattern(filters.q, true)})`);
  }
  return sql.join(parts, sql` AND `);
}

/** The columns of a row, in FailedRow's order. */
const ROW_COLUMNS = [
  'id',
  'failed_at',
  'broadcast_id',
  'broadcast_name',
  'content',
  'contact_id',
  'first_name',
  'last_name',
  'identifier',
  'channel_id',
  'channel_type',
  'channel_name',
  'state',
  'reason',
  'provider_code',
  'provider_message',
  'use_template',
  'retry_after_at',
] as const;

/**
 * Each row comes back as one JSON array: the driver builds a JavaScript object per column per row,
 * which costs more than the query itself on an export of a million rows.
 */
export const rowSelect = sql`SELECT json_array(m.id, m.failed_at, m.broadcast_id, b.name, b.content, m.contact_id,
    ct.first_name, ct.last_name, m.identifier, m.channel_id, c.type, c.name,
    m.state, m.reason, m.provider_code, m.provider_message, m.use_template, m.retry_after_at) AS r
  FROM messages m
  JOIN broadcasts b ON b.id = m.broadcast_id
  JOIN channels c ON c.id = m.channel_id
  LEFT JOIN contacts ct ON ct.id = m.contact_id`;

export function toRow(packed: string): FailedRow {
  const values = JSON.parse(packed) as unknown[];
  const row = {} as Record<keyof FailedRow, unknown>;
  for (const [i, column] of ROW_COLUMNS.entries()) row[column] = values[i];
  return row as FailedRow;
}
