/**
 * Who a broadcast goes to. The segment is resolved by the database at the moment it is used, and
 * each contact is sorted into "will receive" or one of the reasons it is left out: no identifier on
 * this channel, an invalid identifier, or a duplicate of another contact's identifier.
 */
import {
  type BroadcastContent,
  type ChannelType,
  channelCapabilities,
  type FactGroup,
  outsideWindowCarrier,
  type SegmentFilter,
  SegmentFilterSchema,
  windowHours,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { countryOfE164 } from '../lib/phone';
import { compileSegmentFilter, type SegmentScope } from '../segments/compile';
import { optedOutOf } from '../services/opt-outs';
import { stillToReach } from '../services/resend-store';
import { countedInScopeSql, type QuotaScope } from './limits';

type Runner = Pick<Database, 'get' | 'all' | 'run'>;

export type ExclusionReason = 'no_identifier' | 'invalid_identifier' | 'duplicate';

/**
 * One row per contact of the audience: id, identifier on the channel, the reason it cannot be
 * addressed (or null), and whether it opted out on this channel (the policy's first step, read by
 * the freeze below and by the pre-flight's forecast).
 */
/** A contact's identifier on the channel, whether it is valid, and the join it needs. */
export function identifierOn(channel: { id: number; type: ChannelType }) {
  const kind = channelCapabilities[channel.type].identifier;
  const identifier =
    kind === 'phone' ? sql`contacts.phone` : kind === 'email' ? sql`contacts.email` : sql`ci.identifier`;
  const valid = kind === 'phone' ? sql`contacts.phone_valid` : sql`1`;
  const join =
    kind === 'phone' || kind === 'email'
      ? sql``
      : sql`LEFT JOIN contact_identifiers ci ON ci.contact_id = contacts.id AND ci.channel_id = ${channel.id}`;
  return { identifier, valid, join };
}

function audienceQuery(where: SQL, ctx: Pick<AudienceContext, 'channel' | 'content'>, range: SQL = sql`1`): SQL {
  const { channel } = ctx;
  const { identifier, valid, join } = identifierOn(channel);
  // The oldest contact keeps a shared identifier; the others are duplicates and get nothing.
  return sql`SELECT contacts.id AS contact_id, ${identifier} AS identifier,
      CASE WHEN ${identifier} IS NULL THEN 'no_identifier'
           WHEN ${valid} = 0 THEN 'invalid_identifier'
           WHEN row_number() OVER (PARTITION BY ${identifier} ORDER BY contacts.id) > 1 THEN 'duplicate'
      END AS reason,
      ${optedOutOf(channel.id, identifier, ctx.content)} AS opted_out
    FROM contacts ${join} WHERE ${where} AND ${range}`;
}

/** Who a broadcast is for: a segment's contacts, or (a re-send) exactly the failed recipients it names. */
export type AudienceSource = { filter: SegmentFilter } | { resendTargetsOf: number };

export interface AudienceContext {
  scope: SegmentScope;
  channel: { id: number; type: ChannelType };
  source: AudienceSource;
  /** What it sends: a stop of marketing only lets a utility template through (optedOutOf). */
  content?: BroadcastContent;
}

/**
 * Who a broadcast goes to: a re-send planned from failed recipients goes to exactly those (its
 * resend_targets); any other broadcast to its segment's contacts. Undefined when that segment is
 * missing or deleted (each caller says so its own way).
 */
export async function audienceSourceOf(
  db: Queryable,
  broadcast: { id: number; resendOfId: number | null; resendReasons: Record<string, number> | null },
  segment: { filter: unknown; deletedAt?: Date | null } | undefined,
): Promise<AudienceSource | undefined> {
  if (broadcast.resendOfId !== null) {
    // One that notes what it took was planned target by target: it goes to those, even when a late
    // report left it none (resend-store's releaseHopelessTarget), never to its tag's whole segment.
    if (broadcast.resendReasons !== null) return { resendTargetsOf: broadcast.id };
    const targeted = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM (SELECT 1 FROM resend_targets WHERE broadcast_id = ${broadcast.id} LIMIT 1)`,
    );
    if (targeted?.n) return { resendTargetsOf: broadcast.id };
  }
  // Never a default filter: an empty one means every contact.
  if (!segment || segment.deletedAt) return undefined;
  return { filter: SegmentFilterSchema.parse(segment.filter) };
}

/** The contacts condition for an audience source. */
export async function audienceWhere(db: Queryable, scope: SegmentScope, source: AudienceSource): Promise<SQL> {
  if ('filter' in source) return compileSegmentFilter(db, scope, source.filter);
  // Only targets still to reach: one a late report delivered after the planning is not sent twice.
  return sql`contacts.workspace_id = ${scope.workspaceId} AND contacts.id IN
    (SELECT t.contact_id FROM resend_targets t JOIN messages m ON m.id = t.message_id
     WHERE ${await stillToReach(db, source.resendTargetsOf)})`;
}

/**
 * Recipients frozen per transaction when a broadcast starts: a 1,000,000-recipient audience frozen in
 * one held the database 9 s, past the 5 s after which a libSQL server takes a write lock back.
 */
export const FREEZE_ROWS = 20_000;

/**
 * How far a broadcast's audience is frozen: contacts with an identifier go first, in identifier order
 * (a chunk ends on an identifier, so all the contacts sharing one are in the same chunk and the
 * duplicate rule sees them together), then those without one, by id.
 */
export interface FreezeCursor {
  phase: 'identified' | 'unidentified' | 'done';
  afterIdentifier: string | null;
  afterContactId: number;
}

export const FREEZE_START: FreezeCursor = { phase: 'identified', afterIdentifier: null, afterContactId: 0 };

/**
 * Freezes the next chunk of the audience (about `rows` contacts) as one message row per contact,
 * left-out ones included with their reason; returns where the next chunk starts.
 */
export async function freezeChunk(
  db: Queryable,
  ctx: AudienceContext & { broadcastId: number; now: number },
  cursor: FreezeCursor,
  rows = FREEZE_ROWS,
): Promise<FreezeCursor> {
  if (cursor.phase === 'done') return cursor;
  const where = await audienceWhere(db, ctx.scope, ctx.source);
  const { identifier, join } = identifierOn(ctx.channel);
  let range: SQL;
  let next: FreezeCursor;
  if (cursor.phase === 'identified') {
    const from =
      cursor.afterIdentifier === null ? sql`${identifier} IS NOT NULL` : sql`${identifier} > ${cursor.afterIdentifier}`;
    const [edge] = await db.all<{ identifier: string }>(sql`SELECT ${identifier} AS identifier
      FROM contacts ${join} WHERE ${where} AND ${from} ORDER BY 1 LIMIT 1 OFFSET ${rows - 1}`);
    range = edge ? sql`${from} AND ${identifier} <= ${edge.identifier}` : from;
    next = edge
      ? { phase: 'identified', afterIdentifier: String(edge.identifier), afterContactId: 0 }
      : { phase: 'unidentified', afterIdentifier: null, afterContactId: 0 };
  } else {
    const from = sql`${identifier} IS NULL AND contacts.id > ${cursor.afterContactId}`;
    const [edge] = await db.all<{ id: number }>(sql`SELECT contacts.id AS id
      FROM contacts ${join} WHERE ${where} AND ${from} ORDER BY contacts.id LIMIT 1 OFFSET ${rows - 1}`);
    range = edge ? sql`${from} AND contacts.id <= ${edge.id}` : from;
    next = edge
      ? { phase: 'unidentified', afterIdentifier: null, afterContactId: Number(edge.id) }
      : { phase: 'done', afterIdentifier: null, afterContactId: 0 };
  }
  // After the first chunk, a contact whose identifier changed since the freeze began may have moved past
  // the chunks frozen (its phone corrected to a later one, its identifier removed, an import undone):
  // frozen already, it is not frozen again. Only those changed since are looked up (a few), by the time
  // the triggers of migration 0032 keep (never put back, unlike updated_at), with a minute's margin for
  // another process's clock.
  if (cursor.afterIdentifier !== null || cursor.phase !== 'identified') {
    const [began] = await db.all<{ at: number }>(
      sql`SELECT created_at AS at FROM messages WHERE broadcast_id = ${ctx.broadcastId} ORDER BY id LIMIT 1`,
    );
    if (began)
      range = sql`${range} AND (coalesce(contacts.identity_changed_at, 0) < ${Number(began.at) - 60_000} OR NOT EXISTS (SELECT 1 FROM messages f
        WHERE f.contact_id = contacts.id AND f.broadcast_id = ${ctx.broadcastId}))`;
  }
  await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
      next_attempt_at, failed_at, created_at, updated_at)
    SELECT ${ctx.scope.workspaceId}, ${ctx.broadcastId}, ${ctx.channel.id}, a.contact_id, a.identifier,
      CASE WHEN a.reason IS NULL AND NOT a.opted_out THEN 'queued' ELSE 'excluded' END,
      CASE WHEN a.reason IS NULL AND a.opted_out THEN 'opted_out' ELSE a.reason END, 0,
      CASE WHEN a.reason IS NULL AND NOT a.opted_out THEN NULL ELSE ${ctx.now} END, ${ctx.now}, ${ctx.now}
    FROM (${audienceQuery(where, ctx, range)}) a`);
  return next;
}

/** Snapshot of the segment's contacts at scheduling, for the reconciliation at start. */
export async function snapshotTargets(db: Runner, where: SQL, broadcastId: number): Promise<void> {
  await db.run(sql`DELETE FROM broadcast_targets WHERE broadcast_id = ${broadcastId}`);
  await db.run(
    sql`INSERT INTO broadcast_targets (broadcast_id, contact_id) SELECT ${broadcastId}, contacts.id FROM contacts WHERE ${where}`,
  );
}

export interface AudienceCounts {
  total: number;
  /** Addressable recipients (no exclusion reason), opted-out ones included. */
  addressable: number;
  excluded: Record<ExclusionReason, number>;
  /** Addressable recipients grouped by the facts the policy reads (see forecastAdmission). */
  groups: FactGroup[];
}

/** The same sorting as freezeChunk, counted without writing anything (pre-flight). */
export async function countAudience(
  db: Database,
  ctx: AudienceContext & { now: number; quota: QuotaScope },
): Promise<AudienceCounts> {
  const where = await audienceWhere(db, ctx.scope, ctx.source);
  const hours = windowHours(ctx.channel.type, ctx.content);
  const windowOpen = hours === null ? sql`0` : windowOpenSql(ctx.channel.id, sql`a.identifier`, hours, ctx.now);
  const counted = ctx.quota.limit === null ? sql`0` : countedInScopeSql(ctx.quota, sql`a.identifier`, ctx.now);
  const rows = await db.all<{
    reason: string | null;
    opted_out: number;
    window_open: number;
    counted: number;
    n: number;
  }>(sql`SELECT a.reason, CASE WHEN a.reason IS NULL THEN a.opted_out ELSE 0 END AS opted_out,
      CASE WHEN a.reason IS NULL THEN ${windowOpen} ELSE 0 END AS window_open,
      CASE WHEN a.reason IS NULL THEN ${counted} ELSE 0 END AS counted, count(*) AS n
    FROM (${audienceQuery(where, ctx)}) a GROUP BY 1, 2, 3, 4`);
  const excluded: Record<ExclusionReason, number> = { no_identifier: 0, invalid_identifier: 0, duplicate: 0 };
  const groups: FactGroup[] = [];
  let total = 0;
  for (const row of rows) {
    total += row.n;
    if (row.reason !== null) excluded[row.reason as ExclusionReason] += row.n;
    else
      groups.push({
        optedOut: !!row.opted_out,
        windowOpen: !!row.window_open,
        countedInQuota: !!row.counted,
        n: row.n,
      });
  }
  return { total, addressable: groups.reduce((a, g) => a + g.n, 0), excluded, groups };
}

/** Entered and left since scheduling, from the snapshot; zero when there was no snapshot. */
export async function reconcile(db: Runner, broadcastId: number) {
  const row = await db.get<{ snapshot: number; entered: number; left: number }>(sql`SELECT
      (SELECT count(*) FROM broadcast_targets WHERE broadcast_id = ${broadcastId}) AS snapshot,
      (SELECT count(*) FROM messages m WHERE m.broadcast_id = ${broadcastId}
         AND NOT EXISTS (SELECT 1 FROM broadcast_targets t WHERE t.broadcast_id = ${broadcastId} AND t.contact_id = m.contact_id)) AS entered,
      (SELECT count(*) FROM broadcast_targets t WHERE t.broadcast_id = ${broadcastId}
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.broadcast_id = ${broadcastId} AND m.contact_id = t.contact_id)) AS left`);
  return row?.snapshot ? { entered: row.entered, left: row.left } : { entered: 0, left: 0 };
}

/** Whether `identifier` wrote to the channel within the last `hours` (its window is open `now`). */
function windowOpenSql(channelId: number, identifier: SQL, hours: number, now: number): SQL {
  return sql`EXISTS (SELECT 1 FROM conversation_windows w WHERE w.channel_id = ${channelId}
    AND w.identifier = ${identifier} AND w.last_inbound_at > ${now - hours * 3_600_000})`;
}

/**
 * Of these contacts, how many a broadcast on the channel would reach: a valid identifier there, not
 * opted out of it, and, on a channel with a 24 h window where the content carries nothing past it (a
 * text to WhatsApp, no template), a window open there now: the claim refuses the rest (what a re-send
 * on another channel can promise before it goes).
 */
export async function reachableOn(
  db: Runner,
  channel: { id: number; type: ChannelType },
  contactIds: number[],
  content: BroadcastContent,
  now: number,
): Promise<number> {
  if (contactIds.length === 0) return 0;
  const { identifier, valid, join } = identifierOn(channel);
  const hours = textWindowHours(channel.type, content);
  const windowOpen = hours === null ? sql`` : sql`AND ${windowOpenSql(channel.id, identifier, hours, now)}`;
  const row = await db.all<{ n: number }>(sql`SELECT count(DISTINCT contacts.id) AS n FROM contacts ${join}
    WHERE contacts.id IN (SELECT value FROM json_each(${JSON.stringify(contactIds)}))
      AND ${identifier} IS NOT NULL AND ${valid} = 1
      AND NOT ${optedOutOf(channel.id, identifier, content)} ${windowOpen}`);
  return row[0]?.n ?? 0;
}

/**
 * The window a content needs open on a channel: its hours where the channel has a 24 h window and the
 * content carries nothing past it (a text to WhatsApp, no template; Messenger with no tag), else null.
 */
export function textWindowHours(type: ChannelType, content: BroadcastContent): number | null {
  return outsideWindowCarrier(type, content) === null ? windowHours(type, content) : null;
}

/**
 * Of these contacts, those with an identifier on the channel whose window will be closed at `at` for
 * this content (nobody wrote there in the hours before): the claim refuses them as outside_window.
 * Empty where the content needs no window.
 */
export async function windowClosedAt(
  db: Runner,
  channel: { id: number; type: ChannelType },
  contactIds: number[],
  content: BroadcastContent,
  at: number,
): Promise<Set<number>> {
  const hours = textWindowHours(channel.type, content);
  if (hours === null || contactIds.length === 0) return new Set();
  const { identifier, join } = identifierOn(channel);
  const rows = await db.all<{ id: number }>(sql`SELECT contacts.id AS id FROM contacts ${join}
    WHERE contacts.id IN (SELECT value FROM json_each(${JSON.stringify(contactIds)}))
      AND ${identifier} IS NOT NULL AND NOT ${windowOpenSql(channel.id, identifier, hours, at)}`);
  return new Set(rows.map((r) => Number(r.id)));
}

/** Identifiers' first digits grouped, then read as countries (E.164: "+549…" → AR; others "??"). */
async function countriesOf(db: Runner, query: SQL, into: Record<string, number> = {}): Promise<Record<string, number>> {
  const rows = await db.all<{ prefix: string | null; n: number }>(query);
  for (const { prefix, n } of rows) {
    const country = prefix?.startsWith('+') ? countryOfE164(prefix) : '??';
    into[country] = (into[country] ?? 0) + n;
  }
  return into;
}

/** Who a broadcast will go to (addressable, not opted out), by country: what its cost is estimated on. */
export async function audienceCountries(db: Queryable, ctx: AudienceContext): Promise<Record<string, number>> {
  const where = await audienceWhere(db, ctx.scope, ctx.source);
  return countriesOf(
    db,
    sql`SELECT substr(a.identifier, 1, 5) AS prefix, count(*) AS n FROM (${audienceQuery(where, ctx)}) a
      WHERE a.reason IS NULL AND NOT a.opted_out GROUP BY prefix`,
  );
}

/** These contacts' identifiers on the channel, by country (a re-send's estimate). */
export async function countriesOn(
  db: Runner,
  channel: { id: number; type: ChannelType },
  contactIds: number[],
): Promise<Record<string, number>> {
  if (contactIds.length === 0) return {};
  const { identifier, valid, join } = identifierOn(channel);
  return countriesOf(
    db,
    sql`SELECT substr(${identifier}, 1, 5) AS prefix, count(DISTINCT contacts.id) AS n FROM contacts ${join}
      WHERE contacts.id IN (SELECT value FROM json_each(${JSON.stringify(contactIds)}))
        AND ${identifier} IS NOT NULL AND ${valid} = 1 GROUP BY prefix`,
  );
}

/**
 * A started broadcast's recipients by country (its queued ones, once, when it starts), counted
 * `rows` at a time in id order: one GROUP BY over a million rows sorts them all in memory (this
 * build keeps SQLite's temporary files in memory), which was the engine's peak (+60 MB).
 */
export async function recipientCountries(
  db: Runner,
  broadcastId: number,
  rows = FREEZE_ROWS,
): Promise<Record<string, number>> {
  const byCountry: Record<string, number> = {};
  let after = 0;
  for (;;) {
    const [edge] = await db.all<{ id: number }>(sql`SELECT id FROM messages
      WHERE broadcast_id = ${broadcastId} AND state = 'queued' AND id > ${after} ORDER BY id LIMIT 1 OFFSET ${rows - 1}`);
    const upTo = edge ? sql`AND id <= ${edge.id}` : sql``;
    await countriesOf(
      db,
      sql`SELECT substr(identifier, 1, 5) AS prefix, count(*) AS n FROM messages
        WHERE broadcast_id = ${broadcastId} AND state = 'queued' AND id > ${after} ${upTo} GROUP BY prefix`,
      byCountry,
    );
    if (!edge) return byCountry;
    after = Number(edge.id);
  }
}
