/**
 * The re-send's SQL, in one place beside the planner (resend.ts): which failed rows can be re-sent,
 * which tag is free, which segment is the tag's, what is already planned. The plan itself is written by
 * resend-writer.ts.
 */
import {
  ALL_FAILED,
  type ChannelType,
  cannotReachAgain,
  DAY_MS,
  defaultResendReasons,
  type FailureReason,
  type SegmentFilter,
} from '@rebound/shared';
import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { type BroadcastRow, broadcasts, channels, LOGGED_STATES_SQL, workspaces } from '../db/schema';
import { identifierOn } from '../engine/audience';
import { ApiError } from '../lib/errors';
import { tagKey } from './tags';

/** The broadcast a re-send recovers. */
export type OriginalBroadcast = BroadcastRow;
export type { ChannelRow } from '../db/schema';

export interface Candidate {
  messageId: number;
  contactId: number;
  reason: FailureReason;
  failedAt: number;
  /**
   * When a re-send can help, as the provider's answer put it at the failure (its Retry-After, a daily
   * cap's day); null for Rebound's own refusals (the quota ledger tells, as it is at planning).
   */
  usefulFrom: number | null;
}

export interface LiveResend {
  id: number;
  status: string;
  startedAt: number | null;
  scheduledAt: string | null;
  segmentId: number | null;
  tag: string | null;
  count: number;
  byReason: Record<string, number>;
}

/** States whose rows a re-send may take: failed, left out, unconfirmed. */
const RESENDABLE = LOGGED_STATES_SQL;

/** A broadcast's family: its first send and every re-send of it, at any depth (20 at most). */
async function familyOf(db: Pick<Database, 'all'>, broadcastId: number): Promise<number[]> {
  const rows = await db.all<{ id: number }>(sql`WITH RECURSIVE up(id, parent, depth) AS (
      SELECT id, resend_of_id, 0 FROM broadcasts WHERE id = ${broadcastId}
      UNION ALL SELECT b.id, b.resend_of_id, up.depth + 1 FROM broadcasts b JOIN up ON b.id = up.parent WHERE up.depth < 20),
    down(id, depth) AS (
      SELECT id, 0 FROM up WHERE parent IS NULL
      UNION ALL SELECT b.id, down.depth + 1 FROM broadcasts b JOIN down ON b.resend_of_id = down.id WHERE down.depth < 20)
    SELECT id FROM down`);
  return rows.map((r) => r.id);
}

/**
 * A re-send's target `m` (the original's message) still not reached, with the reason it is noted under.
 * A late report can deliver it after the re-send was planned: the re-send then skips it (audienceWhere).
 */
export const UNREACHED = sql`(m.state IN ('failed', 'excluded', 'uncertain') AND m.reason IS NOT NULL)`;

/**
 * The targets `t` (with their message `m`) re-send `resendId` still has to reach when it goes: not reached
 * (UNREACHED), and the contact not reached by any broadcast of its family meanwhile either (the first
 * send reported delivered late after an earlier re-send failed for them). One rule for the audience and
 * for "nobody left to send to" at the start.
 */
export async function stillToReach(db: Pick<Database, 'all'>, resendId: number): Promise<SQL> {
  const family = JSON.stringify(await familyOf(db, resendId));
  return sql`t.broadcast_id = ${resendId} AND ${UNREACHED} AND NOT EXISTS (SELECT 1 FROM messages reached
    WHERE reached.contact_id = t.contact_id AND reached.state IN ('sent', 'delivered')
      AND reached.broadcast_id IN (SELECT value FROM json_each(${family})))`;
}

/**
 * A re-send `r` that holds what it was planned for (shared `resendHolds`): not cancelled, or cancelled
 * only after it began sending, since what it sent stays sent; and not failed at its start (it sent
 * nothing: its channel was deleted meanwhile, say), whose targets would otherwise stay held for good.
 */
export const RESEND_HOLDS = sql`((r.status != 'cancelled' OR r.started_at IS NOT NULL)
  AND NOT (r.status = 'failed' AND r.error_code IS NOT NULL AND r.error_code != ${ALL_FAILED}))`;

/**
 * A target `t` its re-send `r` holds: the re-send holds, and, in one cancelled mid-send, it was sent
 * there (its row there is neither cancelled nor still queued: nobody sends a cancelled broadcast's
 * queue). The targets it never sent are free again.
 */
export const TARGET_HELD = sql`(${RESEND_HOLDS} AND (r.status != 'cancelled' OR EXISTS (SELECT 1 FROM messages x
    WHERE x.contact_id = t.contact_id AND x.broadcast_id = r.id AND x.state NOT IN ('cancelled', 'queued'))))`;

/** A row already in a re-send that holds it (TARGET_HELD) is never planned again. */
const notInLiveResend = sql`NOT EXISTS (SELECT 1 FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
  WHERE t.message_id = m.id AND ${TARGET_HELD})`;

/**
 * A late report moved message `messageId` (unconfirmed when a re-send took it) to a failure that says no
 * re-send on that channel reaches them (`cannotReachAgain`: blocked, not on WhatsApp…). Each re-send on
 * the same channel still to send them lets them go rather than send the message once more and hurt the
 * number, in the caller's transaction (the report's own): one not started drops the target (its frozen
 * message too, if any; its note and count follow, so the lineage counts them left and a re-send chosen
 * for that reason may take them); one sending leaves their queued message out with that reason. Kept:
 * a re-send on another channel, a contact whose number was changed since (the report is about the old
 * one), a message already on its way. A failed row never moves to another reason, so a reason the agent
 * chose on purpose is never undone here. Returns the re-sends that changed (the caller settles them).
 */
export async function releaseHopelessTarget(
  db: Queryable,
  messageId: number,
  reason: FailureReason,
  channel: { id: number; type: ChannelType },
  now: number,
): Promise<number[]> {
  if (!cannotReachAgain(reason)) return [];
  const { identifier, join } = identifierOn(channel);
  const holding = await db.all<{
    id: number;
    started_at: number | null;
    contact_id: number;
    failed_to: string | null;
    same_number: number;
  }>(
    sql`SELECT r.id, r.started_at, t.contact_id, m.identifier AS failed_to, ${identifier} IS m.identifier AS same_number
    FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id JOIN messages m ON m.id = t.message_id
      JOIN contacts ON contacts.id = t.contact_id ${join}
    WHERE t.message_id = ${messageId} AND r.channel_id = ${channel.id} AND r.resend_reasons IS NOT NULL
      AND r.status IN ('draft', 'scheduled', 'paused', 'sending')`,
  );
  const changed: number[] = [];
  for (const r of holding) {
    const frozen = await first<{ id: number; state: string; identifier: string | null }>(
      db,
      sql`SELECT id, state, identifier FROM messages WHERE contact_id = ${r.contact_id} AND broadcast_id = ${r.id} LIMIT 1`,
    );
    if (frozen ? frozen.identifier !== r.failed_to : !r.same_number) continue;
    if (frozen && frozen.state !== 'queued') continue;
    if (frozen && r.started_at !== null) {
      await db.run(sql`UPDATE messages SET state = 'excluded', reason = ${reason}, failed_at = ${now},
        updated_at = ${now} WHERE id = ${frozen.id} AND state = 'queued'`);
    } else {
      // Not started: as if never taken (its start then finds one fewer, or nobody left, which is done).
      if (frozen) await db.run(sql`DELETE FROM messages WHERE id = ${frozen.id} AND state = 'queued'`);
      await db.run(sql`DELETE FROM resend_targets WHERE broadcast_id = ${r.id} AND message_id = ${messageId}`);
      // The trigger of drizzle/0018 already noted the target under its new reason: it is no longer taken.
      await db.run(sql`UPDATE broadcasts SET target_count = max(coalesce(target_count, 1) - 1, 0),
        resend_reasons = ${noted({ [reason]: -1 })} WHERE id = ${r.id}`);
    }
    changed.push(r.id);
  }
  return changed;
}

/** A re-send's note (broadcasts.resend_reasons) with `delta[reason]` more targets under each reason, in one json_set. */
function noted(delta: Record<string, number>): SQL {
  const changes = Object.entries(delta).map(([reason, n]) => {
    const key = `$."${reason}"`;
    return sql`${key}, coalesce(json_extract(resend_reasons, ${key}), 0) + ${n}`;
  });
  return sql`json_set(resend_reasons, ${sql.join(changes, sql`, `)})`;
}

/**
 * Reports that came for a plan's targets after the planning read them and before their rows were written:
 * the note's trigger (drizzle/0018) and releaseHopelessTarget follow a target only once its row exists.
 * Run in the transaction that writes the rows (`planned`: JSON { message ID: reason as planned }), so a
 * report lands either before it (seen here) or after it (followed as for any target). What moved is noted
 * as the trigger would have (gone from its planned reason, under its reason now while still not reached),
 * and a reason no re-send on the channel can help lets the target go as such a report does. Returns the
 * messages let go.
 */
export async function followReportsSincePlanned(
  db: Queryable,
  resendId: number,
  planned: string,
  now: number,
): Promise<number[]> {
  const moved = await db.all<{
    id: number;
    reason: FailureReason | null;
    unreached: number;
    planned: string;
    channel_id: number;
    channel_type: ChannelType;
  }>(
    // Key and value as they are: reading fields out of an array per row cost more than the rest.
    sql`SELECT m.id, m.reason, ${UNREACHED} AS unreached, v.value AS planned,
        c.id AS channel_id, c.type AS channel_type
      FROM json_each(${planned}) AS v JOIN messages m ON m.id = v.key JOIN channels c ON c.id = m.channel_id
      WHERE NOT ${UNREACHED} OR m.reason IS NOT v.value`,
  );
  if (moved.length === 0) return [];
  // The note moved in one statement, whatever the number of reports (each write holds the only write lock).
  const delta: Record<string, number> = {};
  for (const m of moved) {
    delta[m.planned] = (delta[m.planned] ?? 0) - 1;
    if (m.unreached && m.reason !== null) delta[m.reason] = (delta[m.reason] ?? 0) + 1;
  }
  const changes = Object.fromEntries(Object.entries(delta).filter(([, n]) => n !== 0));
  if (Object.keys(changes).length)
    await db.run(sql`UPDATE broadcasts SET resend_reasons = ${noted(changes)} WHERE id = ${resendId}`);
  const released: number[] = [];
  for (const m of moved) {
    if (!m.unreached || m.reason === null) continue;
    // The report's channel, as a report's own release is given: a re-send on another channel keeps them.
    const changed = await releaseHopelessTarget(db, m.id, m.reason, { id: m.channel_id, type: m.channel_type }, now);
    if (changed.includes(resendId)) released.push(m.id);
  }
  return released;
}

export async function originalBroadcast(db: Database, workspaceId: number, id: number) {
  const [row] = await db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.id, id), eq(broadcasts.workspaceId, workspaceId)));
  return row;
}

export async function workspaceOf(db: Database, workspaceId: number) {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  return row;
}

/** The type of the channel a broadcast went on (its failures' channel, whatever a re-send goes on). */
export async function broadcastChannelType(db: Database, broadcastId: number): Promise<ChannelType | undefined> {
  const [row] = await db.all<{ type: ChannelType }>(
    sql`SELECT c.type FROM broadcasts b JOIN channels c ON c.id = b.channel_id WHERE b.id = ${broadcastId}`,
  );
  return row?.type;
}

export async function channelOf(db: Database, channelId: number) {
  const [row] = await db.select().from(channels).where(eq(channels.id, channelId));
  return row;
}

/**
 * The failed rows of the chosen reasons not yet in a live re-send, the rest counted by reason, and how
 * many of the chosen are in a live re-send already: one pass over the broadcast's failures, the
 * candidates coming back as one JSON value per reason rather than a driver row per recipient.
 */
export async function candidates(
  db: Database,
  broadcastId: number,
  reasons: FailureReason[],
): Promise<{ candidates: Candidate[]; skipped: Record<string, number>; alreadyPlanned: number }> {
  const chosen = JSON.stringify(reasons);
  // The first click (no live re-send of this broadcast yet) needs no per-row look-up of earlier targets.
  const live = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM broadcasts r
    WHERE r.resend_of_id = ${broadcastId} AND ${RESEND_HOLDS}`);
  const fresh = live?.n ? notInLiveResend : sql`1`;
  const groups = await db.all<{
    kind: 'candidate' | 'planned' | 'skipped';
    reason: string | null;
    n: number;
    rows: string | null;
  }>(
    sql`WITH f AS (SELECT m.id, m.contact_id, m.reason, coalesce(m.failed_at, m.updated_at) AS at,
        -- The provider's word on when (Rebound's own quota refusals: the ledger says, as it is now).
        CASE WHEN m.provider_code IS NOT NULL THEN m.retry_after_at END AS useful,
        CASE WHEN m.contact_id IS NULL OR m.reason IS NULL OR m.reason NOT IN (SELECT value FROM json_each(${chosen}))
               THEN 'skipped'
             WHEN ${fresh} THEN 'candidate' ELSE 'planned' END AS kind
      FROM messages m WHERE m.broadcast_id = ${broadcastId} AND ${RESENDABLE})
    SELECT kind, reason, count(*) AS n,
      CASE WHEN kind = 'candidate' THEN json_group_array(json_array(id, contact_id, at, useful)) END AS rows
    FROM f GROUP BY kind, reason`,
  );
  const list: Candidate[] = [];
  const skipped: Record<string, number> = {};
  let alreadyPlanned = 0;
  for (const group of groups) {
    if (group.kind === 'planned') alreadyPlanned += group.n;
    else if (group.kind === 'skipped') {
      const reason = group.reason ?? 'provider_error';
      skipped[reason] = (skipped[reason] ?? 0) + group.n;
    } else {
      const reason = group.reason as FailureReason;
      for (const [messageId, contactId, failedAt, usefulFrom] of JSON.parse(group.rows ?? '[]') as [
        number,
        number,
        number,
        number | null,
      ][])
        list.push({ messageId, contactId, reason, failedAt, usefulFrom });
    }
  }
  return { candidates: list, skipped, alreadyPlanned };
}

/**
 * When the last not yet started re-send in broadcast `broadcastId`'s family (a wave's own re-send is in
 * it too), on a channel of the quota's scope, that takes failures of `reason` is scheduled, if it is still
 * ahead of `now`: a quota backlog's waves hold the daily limit until then, so more of that reason planned
 * meanwhile would only meet the limit again.
 */
export async function lastWaveAhead(
  db: Database,
  broadcastId: number,
  channelIds: number[],
  /** The backlog's reasons: a quota backlog, and failures outside the window a template re-sends with it. */
  reasons: readonly FailureReason[],
  now: number,
): Promise<number | null> {
  const family = JSON.stringify(await familyOf(db, broadcastId));
  const row = await first<{ at: number | null }>(
    db,
    sql`SELECT max(scheduled_at) AS at FROM broadcasts WHERE id IN (SELECT value FROM json_each(${family}))
      AND channel_id IN (SELECT value FROM json_each(${JSON.stringify(channelIds)}))
      AND status = 'scheduled' AND scheduled_at > ${now}
      AND EXISTS (SELECT 1 FROM json_each(${JSON.stringify(reasons)}) r
        WHERE json_extract(resend_reasons, '$."' || r.value || '"') > 0)`,
  );
  return row?.at ?? null;
}

/**
 * What other broadcasts' re-sends still to finish on the same limit hold: how many targets, of every
 * reason (any of them may take a place in the limit when it goes: a template outside the window does),
 * a wave sending counted whole though some of it is in the ledger too (the safe side); and the time of
 * their last wave (now for one already due). A backlog planned now goes beside them if both fit, else
 * after them.
 */
export async function othersQuotaAhead(
  db: Database,
  broadcastId: number,
  channelIds: number[],
  now: number,
  /** Only those that go within a day of this time (a day's limit is shared only within a day); all without. */
  around?: number,
): Promise<{ pending: number; lastAt: number | null }> {
  const family = JSON.stringify(await familyOf(db, broadcastId));
  const goesAt = sql`max(coalesce(b.scheduled_at, ${now}), ${now})`;
  const near = around === undefined ? sql`1` : sql`${goesAt} > ${around - DAY_MS} AND ${goesAt} < ${around + DAY_MS}`;
  const row = await first<{ pending: number | null; last: number | null }>(
    db,
    sql`SELECT sum((SELECT sum(max(r.value, 0)) FROM json_each(b.resend_reasons) AS r)) AS pending,
        max(${goesAt}) AS last
      FROM broadcasts AS b WHERE b.resend_of_id IS NOT NULL AND b.id NOT IN (SELECT value FROM json_each(${family}))
      AND b.channel_id IN (SELECT value FROM json_each(${JSON.stringify(channelIds)}))
      AND b.status IN ('draft', 'scheduled', 'sending', 'paused') AND b.resend_reasons IS NOT NULL AND ${near}`,
  );
  return { pending: Number(row?.pending ?? 0), lastAt: row?.last ?? null };
}

/**
 * Of failed rows left out as duplicates, those whose contact still has the number they shared (its
 * identifier on `channel` is the row's): another contact of the broadcast kept that number, and its own
 * row says how the number fared (a re-send of that row reaches it). Sent again, the number would get the
 * message twice. A contact given a number of its own since is not among them.
 */
export async function stillSharingANumber(
  db: Queryable,
  channel: { id: number; type: ChannelType },
  messageIds: number[],
): Promise<Set<number>> {
  if (messageIds.length === 0) return new Set();
  const { identifier, join } = identifierOn(channel);
  const rows = await db.all<{ id: number }>(sql`SELECT m.id FROM messages m
    JOIN contacts ON contacts.id = m.contact_id ${join}
    WHERE m.id IN (SELECT value FROM json_each(${JSON.stringify(messageIds)})) AND ${identifier} IS m.identifier`);
  return new Set(rows.map((r) => r.id));
}

/**
 * The reasons a broadcast's one-click re-send takes (shared/src/policy.ts: those a re-send can help), or
 * none when it is gone. As resendFailed's default with the same content: the closed window is not among
 * them (its failures went out as text the engine thought inside the window, and would again); a re-send
 * with other content (a template) takes it.
 */
export async function oneClickReasons(db: Queryable, broadcastId: number): Promise<FailureReason[]> {
  const row = await first<{ id: number }>(db, sql`SELECT id FROM broadcasts WHERE id = ${broadcastId}`);
  return row ? defaultResendReasons(null) : [];
}

/** Whether a re-send that holds it took message `messageId` (a late report about it changes nothing to do). */
export async function heldByResend(db: Queryable, messageId: number): Promise<boolean> {
  const row = await first<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
      WHERE t.message_id = ${messageId} AND ${TARGET_HELD} LIMIT 1`,
  );
  return row !== undefined;
}

/** Whether any of a broadcast's failures its one-click re-send would take is held by no re-send. */
async function anyUntaken(db: Queryable, broadcastId: number): Promise<boolean> {
  const reasons = await oneClickReasons(db, broadcastId);
  if (reasons.length === 0) return false;
  const row = await first<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM messages m WHERE m.broadcast_id = ${broadcastId} AND ${RESENDABLE}
      AND m.contact_id IS NOT NULL AND m.reason IN (SELECT value FROM json_each(${JSON.stringify(reasons)}))
      AND ${notInLiveResend} LIMIT 1`,
  );
  return row !== undefined;
}

/**
 * Whether a re-send of the broadcast stopped mid-send (cancelled once it had begun) left targets it never
 * sent that no re-send holds now and are still failed, whatever their reason (a fallback's closed window,
 * a template's): nobody sent to them, and the agent who asked for them must know. The latest targets first,
 * down the targets' key (no sort of them all): a re-send sends in order, so those it never reached are at
 * its end.
 */
async function anyFreedByStoppedResend(db: Queryable, broadcastId: number): Promise<boolean> {
  const row = await first<{ one: number }>(
    db,
    sql`SELECT 1 AS one FROM broadcasts s JOIN resend_targets st ON st.broadcast_id = s.id
      JOIN messages m ON m.id = st.message_id
      WHERE s.resend_of_id = ${broadcastId} AND s.status = 'cancelled' AND s.started_at IS NOT NULL
        AND ${RESENDABLE} AND ${notInLiveResend} ORDER BY s.id DESC, st.message_id DESC LIMIT 1`,
  );
  return row !== undefined;
}

/**
 * Whether failures after a broadcast's re-sends still need an agent (`late_failed_at`): failures reported
 * after its latest re-send was planned that its one-click re-send takes, or targets a re-send stopped
 * mid-send never sent; none while a re-send holds every one of them. With `now`, it is set when some are
 * free (a re-send that had taken them was taken back, or stopped); without, it is only ever cleared. Each
 * look stops at the first free one.
 */
export async function recheckLateFailures(db: Queryable, broadcastId: number, now?: number) {
  const row = await first<{ late: number | null }>(
    db,
    sql`SELECT late_failed_at AS late FROM broadcasts WHERE id = ${broadcastId}`,
  );
  if (row === undefined || (row.late === null && now === undefined)) return;
  const open = (await anyUntaken(db, broadcastId)) || (await anyFreedByStoppedResend(db, broadcastId));
  if (!open && row.late !== null)
    await db.run(sql`UPDATE broadcasts SET late_failed_at = NULL WHERE id = ${broadcastId}`);
  else if (open && row.late === null && now !== undefined)
    await db.run(sql`UPDATE broadcasts SET late_failed_at = ${now} WHERE id = ${broadcastId}
      AND EXISTS (SELECT 1 FROM broadcasts r WHERE r.resend_of_id = ${broadcastId} AND ${RESEND_HOLDS})`);
}

/** The tag's filter: what the manual path builds ("contact tag has any of <tag>"). */
function tagFilter(tag: string): SegmentFilter {
  return {
    match: 'all',
    groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [tag] }] }],
  };
}

/**
 * The asked tag when nobody outside this broadcast's failed recipients carries it and no other
 * segment has its name; else "<tag> (#id)", "<tag> (#id-2)", ...: so the segment "tag has any of
 * <tag>" reaches the same people as the one-click re-send.
 */
export async function uniqueTag(
  db: Database,
  workspaceId: number,
  broadcastId: number,
  asked: string,
): Promise<{ tag: string; othersCarrying: number }> {
  let othersFirst = 0;
  for (let i = 0; i < 50; i++) {
    const tag = i === 0 ? asked : fitTag(asked, i === 1 ? ` (#${broadcastId})` : ` (#${broadcastId}-${i})`);
    const key = tagKey(tag);
    const others = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM contact_tags ct
      JOIN tags t ON t.id = ct.tag_id WHERE t.workspace_id = ${workspaceId} AND t.key = ${key}
        AND ct.contact_id NOT IN (SELECT m.contact_id FROM messages m WHERE m.broadcast_id = ${broadcastId}
          AND ${RESENDABLE} AND m.contact_id IS NOT NULL)`);
    const segment = await first<{ filter: string }>(
      db,
      sql`SELECT filter FROM segments WHERE workspace_id = ${workspaceId} AND name_key = ${key} AND deleted_at IS NULL`,
    );
    const segmentClashes = segment !== undefined && segment.filter !== JSON.stringify(tagFilter(tag));
    if (i === 0) othersFirst = others?.n ?? 0;
    if (!others?.n && !segmentClashes) return { tag, othersCarrying: othersFirst };
  }
  throw new ApiError(409, 'resend_tag_taken', { tag: asked });
}

/** Longest a tag may be (shared/src/schemas/segments.ts): a longer one's segment could not be read back. */
const MAX_TAG_LENGTH = 100;

/** `asked` with `suffix`, the asked part shortened (never within a character) for both to fit. */
function fitTag(asked: string, suffix: string): string {
  let base = Array.from(asked);
  while (base.join('').length + suffix.length > MAX_TAG_LENGTH) base = base.slice(0, -1);
  return `${base.join('').trimEnd()}${suffix}`;
}

export async function taggedCount(db: Database, broadcastId: number, tag: string): Promise<number> {
  const row = await db.get<{ n: number }>(sql`SELECT count(DISTINCT m.contact_id) AS n FROM messages m
    JOIN contact_tags ct ON ct.contact_id = m.contact_id JOIN tags t ON t.id = ct.tag_id
    WHERE m.broadcast_id = ${broadcastId} AND ${RESENDABLE} AND t.key = ${tagKey(tag)}
      AND t.workspace_id = (SELECT workspace_id FROM broadcasts WHERE id = ${broadcastId})`);
  return row?.n ?? 0;
}

/**
 * What each written re-send takes now, by reason: its note (broadcasts.resend_reasons), which reports keep
 * exact (the trigger of drizzle/0018, releaseHopelessTarget, followReportsSincePlanned), so the click's
 * answer says what liveResends would say of the same re-sends, in one read rather than a pass over the targets.
 */
export async function takenNow(db: Database, resendIds: number[]): Promise<Map<number, Record<string, number>>> {
  const rows = await db.all<{ id: number; reasons: string | null }>(
    sql`SELECT id, resend_reasons AS reasons FROM broadcasts WHERE id IN (SELECT value FROM json_each(${JSON.stringify(resendIds)}))`,
  );
  return new Map(
    rows.map((r) => [
      Number(r.id),
      Object.fromEntries(
        Object.entries(JSON.parse(r.reasons ?? '{}') as Record<string, number>).filter(([, n]) => n > 0),
      ),
    ]),
  );
}

/**
 * The original's re-sends that hold their targets (RESEND_HOLDS), earliest first, with their exact recipients
 * counted: the targets still not reached (a late report may have delivered one since; the re-send skips it).
 */
export async function liveResends(db: Database, broadcastId: number): Promise<LiveResend[]> {
  const rows = await db.all<{
    id: number;
    status: string;
    started_at: number | null;
    scheduled_at: number | null;
    segment_id: number | null;
    tag: string | null;
    by_reason: string;
  }>(sql`SELECT r.id, r.status, r.started_at, r.scheduled_at, r.segment_id, s.name AS tag,
      (SELECT json_group_object(reason, n) FROM (SELECT m.reason, count(*) AS n FROM resend_targets t
         JOIN messages m ON m.id = t.message_id WHERE t.broadcast_id = r.id AND ${UNREACHED} GROUP BY m.reason)) AS by_reason
    FROM broadcasts r LEFT JOIN segments s ON s.id = r.segment_id
    WHERE r.resend_of_id = ${broadcastId} AND ${RESEND_HOLDS} ORDER BY r.scheduled_at, r.id`);
  return rows.map((r) => {
    const byReason = JSON.parse(r.by_reason ?? '{}') as Record<string, number>;
    return {
      id: r.id,
      status: r.status,
      startedAt: r.started_at,
      scheduledAt: r.scheduled_at === null ? null : new Date(r.scheduled_at).toISOString(),
      segmentId: r.segment_id,
      tag: r.tag,
      count: Object.values(byReason).reduce((a, b) => a + b, 0),
      byReason,
    };
  });
}

/**
 * The segment "contact tag has any of <tag>" of the manual path, for the record and the help page (the
 * re-sends do not read it): the workspace's one of that name, or a new one.
 */
export async function segmentForTag(
  tx: Pick<Database, 'all'>,
  workspaceId: number,
  tag: string,
  now: number,
): Promise<{ id: number | null; created: boolean }> {
  const key = tagKey(tag);
  const existing = await first<{ id: number }>(
    tx,
    sql`SELECT id FROM segments WHERE workspace_id = ${workspaceId} AND name_key = ${key} AND deleted_at IS NULL`,
  );
  if (existing) return { id: Number(existing.id), created: false };
  const row = await first<{ id: number }>(
    tx,
    sql`INSERT INTO segments (workspace_id, name, name_key, filter, created_at, updated_at)
      VALUES (${workspaceId}, ${tag}, ${key}, ${JSON.stringify(tagFilter(tag))}, ${now}, ${now}) RETURNING id`,
  );
  return { id: row ? Number(row.id) : null, created: row !== undefined };
}

/**
 * Contacts whose last `times` messages on the channel since `since` all failed with the marketing cap
 * (WhatsApp 131049): Meta keeps choosing not to deliver to them, and each try still counts against the
 * number, so automatic recovery leaves them alone for a while. Through the contact index, a few rows each.
 */
export async function cappedInARow(
  db: Database,
  channelId: number,
  contactIds: number[],
  since: number,
  times: number,
): Promise<Set<number>> {
  if (contactIds.length === 0) return new Set();
  const rows = await db.all<{ contact_id: number; reasons: string }>(sql`SELECT contact_id,
      json_group_array(coalesce(reason, state)) AS reasons FROM (
        SELECT contact_id, reason, state FROM messages
        WHERE contact_id IN (SELECT value FROM json_each(${JSON.stringify(contactIds)}))
          AND channel_id = ${channelId} AND created_at >= ${since} AND state IN ('sent', 'delivered', 'failed')
        ORDER BY id DESC)
    GROUP BY contact_id`);
  const capped = new Set<number>();
  for (const row of rows) {
    const latest = (JSON.parse(row.reasons) as string[]).slice(0, times);
    if (latest.length === times && latest.every((reason) => reason === 'recipient_limit')) capped.add(row.contact_id);
  }
  return capped;
}

/**
 * Of broadcast `broadcastId`'s failed rows, those a re-send of it that was taken back (cancelled before it
 * began: a person's decision not to send it then) had planned. Automatic recovery never plans them again;
 * an agent's own click still may.
 */
export async function takenBack(db: Database, broadcastId: number): Promise<Set<number>> {
  const rows = await db.all<{ message_id: number }>(sql`SELECT DISTINCT t.message_id FROM resend_targets t
    JOIN broadcasts r ON r.id = t.broadcast_id
    WHERE r.resend_of_id = ${broadcastId} AND r.status = 'cancelled' AND r.started_at IS NULL`);
  return new Set(rows.map((r) => r.message_id));
}
