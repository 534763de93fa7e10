/**
 * The failed-message log: every recipient that did not get a broadcast (failed, left out before
 * sending, or unconfirmed: sent, with no answer or delivery report since), newest first, with the
 * reason in the agent's language. The export reads the same rows.
 */
import {
  type BroadcastContent,
  describeFailure,
  FAILURE_REASONS,
  type FailedMessage,
  type FailureFilters,
  type FailureReason,
  type FailureSubtype,
  failureReasons,
  type Language,
  type Localized,
  nextDay,
  startOfDayInZone,
  workspaceTimeZone,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readColumn, readRows } from '../db/fast-read';
import { LOGGED_STATES_SQL } from '../db/schema';
import { ApiError } from '../lib/errors';
import { unconfirmedWindowMs } from '../lib/unconfirmed';

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
    const q = filters.q.toLowerCase();
    parts.push(sql`(instr(lower(coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')), ${q}) > 0
      OR instr(coalesce(m.identifier, ''), ${q}) > 0
      OR instr(lower(coalesce(m.provider_message, '')), ${q}) > 0)`);
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
const rowSelect = sql`SELECT json_array(m.id, m.failed_at, m.broadcast_id, b.name, b.content, m.contact_id,
    ct.first_name, ct.last_name, m.identifier, m.channel_id, c.type, c.name,
    m.state, m.reason, m.provider_code, m.provider_message, m.use_template, m.retry_after_at) AS r
  FROM messages m
  JOIN broadcasts b ON b.id = m.broadcast_id
  JOIN channels c ON c.id = m.channel_id
  LEFT JOIN contacts ct ON ct.id = m.contact_id`;

function toRow(packed: string): FailedRow {
  const values = JSON.parse(packed) as unknown[];
  const row = {} as Record<keyof FailedRow, unknown>;
  for (const [i, column] of ROW_COLUMNS.entries()) row[column] = values[i];
  return row as FailedRow;
}

function encodeCursor(row: { failed_at: number; id: number }): string {
  return Buffer.from(`${row.failed_at}:${row.id}`).toString('base64url');
}

const BAD_CURSOR: Localized = {
  en: 'Not a cursor from this API; start again without it',
  es: 'No es un cursor de esta API; vuelva a empezar sin él',
  pt: 'Não é um cursor desta API; comece de novo sem ele',
};

function decodeCursor(cursor: string, language: Language): { at: number; id: number } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':').map(Number);
  if (!Number.isSafeInteger(at) || !Number.isSafeInteger(id)) {
    throw new ApiError(422, 'validation_failed', {}, [{ path: 'query.cursor', message: BAD_CURSOR[language] }]);
  }
  return { at: at as number, id: id as number };
}

interface PageRequest {
  cursor?: string | undefined;
  limit: number;
  /** The language of a refused cursor's message. */
  language?: Language;
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
  const pages = await Promise.all(
    broadcastIds.map((id) => singlePage(db, workspaceId, { ...filters, broadcastId: [id] }, page)),
  );
  // A search page cut by its budget knows nothing of its broadcast's older rows: the merged page stops
  // at the newest such cut, and goes on from there.
  const cut = pages.reduce<Edge | undefined>(
    (edge, p) => (p.cut && (!edge || newer(p.cut, edge)) ? p.cut : edge),
    undefined,
  );
  const merged = pages
    .flatMap((p) => p.rows)
    .filter((row) => !cut || !newer(cut, { at: row.failed_at, id: row.id }))
    .sort((a, b) => b.failed_at - a.failed_at || b.id - a.id);
  const rows = merged.slice(0, page.limit);
  const last = rows.at(-1);
  if (merged.length > page.limit && last) return { rows, nextCursor: encodeCursor(last) };
  return { rows, nextCursor: cut ? encodeCursor({ failed_at: cut.at, id: cut.id }) : null, cut };
}

async function singlePage(
  db: Database,
  workspaceId: number,
  filters: ResolvedFilters,
  page: PageRequest,
): Promise<Page> {
  const after = page.cursor ? decodeCursor(page.cursor, page.language ?? 'en') : undefined;
  // The upper bound on failed_at lets the index seek straight to the page instead of walking from the top.
  const keyset = after
    ? sql` AND m.failed_at <= ${after.at} AND (m.failed_at < ${after.at} OR m.id < ${after.id})`
    : sql``;
  // A search reads LOG_SEARCH_BUDGET failures at most: the last of them, found by the index alone, bounds it.
  const [edge] = filters.q
    ? await readRows<{ at: number; id: number }>(
        db,
        sql`SELECT m.failed_at AS at, m.id AS id FROM messages m
        WHERE ${failureConditions(workspaceId, filters, false)}${keyset}
        ORDER BY m.failed_at DESC, m.id DESC LIMIT 1 OFFSET ${LOG_SEARCH_BUDGET - 1}`,
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

/** Broadcast contents repeat on every row of a broadcast: parse each once. */
const parsedContents = new Map<string, BroadcastContent>();

function parseContent(raw: string | BroadcastContent): BroadcastContent {
  if (typeof raw !== 'string') return raw;
  let content = parsedContents.get(raw);
  if (!content) {
    if (parsedContents.size > 1000) parsedContents.clear();
    content = JSON.parse(raw) as BroadcastContent;
    parsedContents.set(raw, content);
  }
  return content;
}

export interface SentContent {
  type: 'text' | 'template';
  text: string;
  template: { name: string; language: string; parameters: string[] } | null;
}

/** What the recipient was sent: the broadcast's template when the message went out as one, else its text. */
export function contentOf(row: Pick<FailedRow, 'content' | 'use_template'>): SentContent {
  const content = parseContent(row.content);
  const template = content.template;
  if (row.use_template && template) {
    const parameters = template.parameters ?? [];
    const params = parameters.length ? ` (${parameters.join(', ')})` : '';
    return {
      type: 'template',
      text: `${template.name} [${template.language}]${params}`,
      template: { name: template.name, language: template.language, parameters },
    };
  }
  return { type: 'text', text: content.text, template: null };
}

/**
 * Codes Rebound writes itself (its own reasons; the HTTP client's timeout and connection failures),
 * never the provider's: older rows carry them in provider_code.
 */
const REBOUND_CODES = new Set([
  'quota_reached',
  'outside_window',
  'opt_out',
  'opted_out',
  'uncertain',
  'timeout',
  'connection',
]);

/** English sentences older engine versions wrote as provider_message; the catalog says it in the reader's language. */
const REBOUND_TEXTS = [
  'The engine stopped while this message was being sent',
  'The contact blocked the business or opted out on this channel',
  'More than 24 h since the contact last wrote',
  'The channel reached its limit of ',
];

/** What older engine versions appended to the provider's words. */
const GAVE_UP_SUFFIX = /\s*\(gave up after \d+ attempts?\)$/;

/** The provider's code and words as the provider wrote them; null where Rebound wrote them itself. */
export function providerWords(row: Pick<FailedRow, 'provider_code' | 'provider_message'>): {
  code: string | null;
  message: string | null;
} {
  const code = row.provider_code?.trim() || null;
  if (code !== null && REBOUND_CODES.has(code.toLowerCase())) return { code: null, message: null };
  const message = row.provider_message?.replace(GAVE_UP_SUFFIX, '').trim() || null;
  if (message !== null && REBOUND_TEXTS.some((text) => message.startsWith(text))) return { code, message: null };
  return { code, message };
}

function reasonOf(row: Pick<FailedRow, 'state' | 'reason'>): FailureReason {
  if (row.reason && (FAILURE_REASONS as readonly string[]).includes(row.reason)) return row.reason;
  return row.state === 'uncertain' ? 'uncertain' : 'provider_error';
}

/**
 * When a re-send may go: for an unconfirmed message, once its wait for a delivery report is over
 * (`windowMs` after it was sent); otherwise the time the engine recorded (quota frees, provider wait).
 */
export function resendAfterOf(
  row: Pick<FailedRow, 'state' | 'reason' | 'failed_at' | 'retry_after_at'>,
  windowMs: number = unconfirmedWindowMs(),
): number | null {
  if (subtypeOf(row) === 'unconfirmed' && row.failed_at != null) return row.failed_at + windowMs;
  return row.retry_after_at;
}

/**
 * One row as the API shows it. `windowMs` is the unconfirmed messages' wait for a delivery report
 * (read once per page by callers that convert many rows).
 */
export function toFailedMessage(
  row: FailedRow,
  language: Language,
  windowMs: number = unconfirmedWindowMs(),
): FailedMessage {
  const content = contentOf(row);
  const provider = providerWords(row);
  const name = [row.first_name, row.last_name].filter(Boolean).join(' ');
  const resendAfter = resendAfterOf(row, windowMs);
  return {
    messageId: row.id,
    failedAt: new Date(row.failed_at).toISOString(),
    sender: { id: row.broadcast_id, type: 'broadcast', name: row.broadcast_name },
    contact: { id: row.contact_id, name: name || null, identifier: row.identifier },
    contentType: content.type,
    content: content.text,
    template: content.template,
    channel: { id: row.channel_id, type: row.channel_type, name: row.channel_name },
    type: 'broadcast',
    subtype: subtypeOf(row),
    providerCode: provider.code,
    providerMessage: provider.message,
    reason: describeFailure(reasonOf(row), language),
    retryAfter: resendAfter === null ? null : new Date(resendAfter).toISOString(),
  };
}

/** Counts by reason and by channel, and how many a re-send can help now, later or never. */
export async function failureSummary(db: Database, workspaceId: number, filters: FailureFilters) {
  const groups = countedByFilters(filters)
    ? await countedGroups(db, workspaceId, filters)
    : await scannedGroups(db, workspaceId, await resolveFilters(db, workspaceId, filters));
  return foldSummary(db, groups);
}

/** Filters the kept counts can answer: by broadcast, channel and reason (not time, text, contact or kind). */
function countedByFilters(filters: FailureFilters): boolean {
  return (
    filters.from === undefined &&
    filters.to === undefined &&
    filters.q === undefined &&
    filters.contactId === undefined &&
    filters.subtype === undefined
  );
}

interface FailureGroup {
  channel_id: number;
  reason: string | null;
  n: number;
}

/** From failure_counts, which triggers on messages keep exact: a few rows, whatever the log's size. */
function countedGroups(db: Database, workspaceId: number, filters: FailureFilters): Promise<FailureGroup[]> {
  const parts: SQL[] = [sql`workspace_id = ${workspaceId}`];
  if (filters.broadcastId?.length) parts.push(sql`broadcast_id IN ${filters.broadcastId}`);
  if (filters.channelId !== undefined) parts.push(sql`channel_id = ${filters.channelId}`);
  if (filters.reason) parts.push(sql`reason = ${filters.reason}`);
  return readRows<FailureGroup>(
    db,
    sql`SELECT channel_id, nullif(reason, '') AS reason, sum(n) AS n FROM failure_counts
    WHERE ${sql.join(parts, sql` AND `)} GROUP BY channel_id, reason HAVING sum(n) > 0`,
  );
}

function scannedGroups(db: Database, workspaceId: number, filters: ResolvedFilters): Promise<FailureGroup[]> {
  const needsContacts = filters.q !== undefined;
  // For a few broadcasts, walking their failures beats the planner's pick of scanning them all.
  const messages = filters.broadcastId?.length
    ? sql`messages m INDEXED BY messages_failed_broadcast_idx`
    : sql`messages m`;
  const from = needsContacts ? sql`${messages} LEFT JOIN contacts ct ON ct.id = m.contact_id` : messages;
  // One pass over the matching failures, folded by reason and by channel in foldSummary.
  // An unconfirmed row without a reason (written before reasons were kept for them) counts as uncertain.
  return readRows<FailureGroup>(
    db,
    sql`SELECT m.channel_id,
      coalesce(m.reason, CASE WHEN m.state = 'uncertain' THEN 'uncertain' END) AS reason,
      count(*) AS n FROM ${from} WHERE ${failureConditions(workspaceId, filters)} GROUP BY 1, 2`,
  );
}

async function foldSummary(db: Database, groups: FailureGroup[]) {
  const channelIds = [...new Set(groups.map((g) => g.channel_id))];
  const channelRows = channelIds.length
    ? await readRows<{ id: number; name: string; type: string }>(
        db,
        sql`SELECT id, name, type FROM channels WHERE id IN ${channelIds}`,
      )
    : [];
  const perChannel = new Map<number, number>();
  for (const g of groups) perChannel.set(g.channel_id, (perChannel.get(g.channel_id) ?? 0) + g.n);
  const byChannel = channelRows
    .map((c) => ({ channel_id: c.id, name: c.name, type: c.type, n: perChannel.get(c.id) ?? 0 }))
    .sort((a, b) => b.n - a.n);
  const byReason = groups;
  const reasons: Record<string, number> = {};
  const retryable = { now: 0, later: 0, never: 0 };
  let total = 0;
  let unconfirmed = 0;
  for (const { reason, n } of byReason) {
    const code =
      reason && (FAILURE_REASONS as readonly string[]).includes(reason) ? (reason as FailureReason) : 'provider_error';
    reasons[code] = (reasons[code] ?? 0) + n;
    retryable[failureReasons[code].resend] += n;
    total += n;
    // Reason uncertain is exactly the unconfirmed kind (subtypeOf), so the kept counts can tell it too.
    if (code === 'uncertain') unconfirmed += n;
  }
  return {
    total,
    byReason: reasons,
    byChannel: byChannel.map((c) => ({ channelId: c.channel_id, name: c.name, type: c.type, count: c.n })),
    retryable,
    unconfirmed,
  };
}
