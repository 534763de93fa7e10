/**
 * Who a broadcast goes to. The segment is resolved by the database at the moment it is used, and
 * each contact is sorted into "will receive" or one of the reasons it is left out: no identifier on
 * this channel, an invalid identifier, or a duplicate of another contact's identifier.
 */
import { type ChannelType, channelCapabilities, type SegmentFilter } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { compileSegmentFilter, type SegmentScope } from '../segments/compile';
import { DAY_MS } from './limits';

type Runner = Pick<Database, 'get' | 'all' | 'run'>;

export type ExclusionReason = 'no_identifier' | 'invalid_identifier' | 'duplicate';

/** One row per contact of the segment: id, identifier on the channel, exclusion reason or null. */
function audienceQuery(where: SQL, channel: { id: number; type: ChannelType }): SQL {
  const kind = channelCapabilities[channel.type].identifier;
  const identifier =
    kind === 'phone' ? sql`contacts.phone` : kind === 'email' ? sql`contacts.email` : sql`ci.identifier`;
  const valid = kind === 'phone' ? sql`contacts.phone_valid` : sql`1`;
  const join =
    kind === 'phone' || kind === 'email'
      ? sql``
      : sql`LEFT JOIN contact_identifiers ci ON ci.contact_id = contacts.id AND ci.channel_id = ${channel.id}`;
  // The oldest contact keeps a shared identifier; the others are duplicates and get nothing.
  return sql`SELECT contacts.id AS contact_id, ${identifier} AS identifier,
      CASE WHEN ${identifier} IS NULL THEN 'no_identifier'
           WHEN ${valid} = 0 THEN 'invalid_identifier'
           WHEN row_number() OVER (PARTITION BY ${identifier} ORDER BY contacts.id) > 1 THEN 'duplicate'
      END AS reason
    FROM contacts ${join} WHERE ${where}`;
}

export interface AudienceContext {
  scope: SegmentScope;
  channel: { id: number; type: ChannelType };
  filter: SegmentFilter;
}

/** Freezes the audience as one message row per contact (excluded ones included, with their reason). */
export async function freezeAudience(db: Database, ctx: AudienceContext & { broadcastId: number; now: number }) {
  const where = await compileSegmentFilter(db, ctx.scope, ctx.filter);
  await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
      next_attempt_at, failed_at, created_at, updated_at)
    SELECT ${ctx.scope.workspaceId}, ${ctx.broadcastId}, ${ctx.channel.id}, a.contact_id, a.identifier,
      CASE WHEN a.reason IS NULL THEN 'queued' ELSE 'excluded' END, a.reason, 0,
      CASE WHEN a.reason IS NULL THEN NULL ELSE ${ctx.now} END, ${ctx.now}, ${ctx.now}
    FROM (${audienceQuery(where, ctx.channel)}) a`);
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
  willSend: number;
  excluded: Record<ExclusionReason, number>;
  /** Of willSend: recipients whose 24 h customer-service window is closed (only for channels that have one). */
  outsideWindow: number;
  /** Of willSend: recipients who blocked the business or opted out on this channel. */
  optedOut: number;
  /** Of willSend: recipients who would count as new against the rolling quota. */
  newForQuota: number;
}

/** The same sorting as freezeAudience, counted without writing anything (pre-flight). */
export async function countAudience(
  db: Database,
  ctx: AudienceContext & { now: number; needsQuota: boolean },
): Promise<AudienceCounts> {
  const where = await compileSegmentFilter(db, ctx.scope, ctx.filter);
  const hasWindow = channelCapabilities[ctx.channel.type].customerServiceWindowHours !== null;
  const windowOpen = hasWindow
    ? sql`EXISTS (SELECT 1 FROM conversation_windows w WHERE w.channel_id = ${ctx.channel.id} AND w.identifier = a.identifier
        AND w.last_inbound_at > ${ctx.now - DAY_MS})`
    : sql`1`;
  const counted = ctx.needsQuota
    ? sql`EXISTS (SELECT 1 FROM quota_ledger q WHERE q.channel_id = ${ctx.channel.id} AND q.identifier = a.identifier
        AND q.last_sent_at > ${ctx.now - DAY_MS})`
    : sql`1`;
  const row = await db.get<{
    total: number;
    will_send: number;
    no_identifier: number;
    invalid_identifier: number;
    duplicate: number;
    outside_window: number;
    opted_out: number;
    new_for_quota: number;
  }>(sql`SELECT count(*) AS total,
      count(*) FILTER (WHERE a.reason IS NULL) AS will_send,
      count(*) FILTER (WHERE a.reason = 'no_identifier') AS no_identifier,
      count(*) FILTER (WHERE a.reason = 'invalid_identifier') AS invalid_identifier,
      count(*) FILTER (WHERE a.reason = 'duplicate') AS duplicate,
      count(*) FILTER (WHERE a.reason IS NULL AND NOT (${windowOpen})) AS outside_window,
      count(*) FILTER (WHERE a.reason IS NULL AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel_id = ${ctx.channel.id} AND o.identifier = a.identifier)) AS opted_out,
      count(*) FILTER (WHERE a.reason IS NULL AND NOT (${windowOpen}) AND NOT (${counted})) AS new_for_quota
    FROM (${audienceQuery(where, ctx.channel)}) a`);
  return {
    total: row?.total ?? 0,
    willSend: row?.will_send ?? 0,
    excluded: {
      no_identifier: row?.no_identifier ?? 0,
      invalid_identifier: row?.invalid_identifier ?? 0,
      duplicate: row?.duplicate ?? 0,
    },
    outsideWindow: hasWindow ? (row?.outside_window ?? 0) : 0,
    optedOut: row?.opted_out ?? 0,
    newForQuota: ctx.needsQuota ? (row?.new_for_quota ?? 0) : 0,
  };
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
