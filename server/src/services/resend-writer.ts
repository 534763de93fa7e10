/**
 * A re-send's plan written in short transactions, yet all or nothing: every statement of it here.
 *
 * Written in one transaction, a 500,000-recipient re-send held the database's only write lock about
 * 5 s: every engine and agent waited, and a libSQL server takes such a lock back after 5 s once another
 * writer waits (TRANSACTION_TIMEOUT). So:
 * 1. `claimPlan`: one plan per original broadcast at a time (resend_plans); a second click waits for
 *    the first and then finds its plan, rather than planning what the first had not written yet.
 * 2. `writePlan`: the tag, the segment and the re-sends in one short transaction, the re-sends hidden
 *    (status draft, `writing_plan` set: no list, route or engine sees them); then the contacts tagged
 *    and the exact targets RESEND_WRITE_ROWS per transaction, each noting what it added; then one short
 *    transaction that schedules the re-sends and records their events.
 * 3. A failure part-way undoes what was noted (`undoPlan`), in short transactions too; a plan whose
 *    process died (no heartbeat for RESEND_PLAN_STALE_MS, or a dead pid on this host) is undone by the
 *    next process that looks (`settleInterruptedPlans`: at start, and before each claim).
 */
import type { Language } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';
import { reportMayStillMove } from '../engine/delivery';
import { recordEvent } from '../engine/events';
import { ApiError } from '../lib/errors';
import { ownerIsDead, PROCESS_OWNER } from '../lib/process-owner';
import type { Candidate, OriginalBroadcast } from './resend-store';
import { followReportsSincePlanned, segmentForTag, TARGET_HELD } from './resend-store';
import { ensureTags, findTagIds } from './tags';

/** Targets or contacts tagged per transaction: about 0.2 s of writing here. */
export const RESEND_WRITE_ROWS = 20_000;
/** A plan whose owner has not beaten for this long is dead (an owner beats with every transaction). */
export const RESEND_PLAN_STALE_MS = 60_000;
/** A plan of this process's own, not being written here, is an orphan once this quiet (see settleInterruptedPlans). */
const OWN_PLAN_QUIET_MS = 5_000;
/** How long a second click waits for the first one's plan before it answers 409. */
const WAIT_FOR_OTHER_PLAN_MS = 15_000;

/** Plans this process is writing now: never taken over by its own settling. */
const writing = new Set<number>();

const json = (values: unknown) => JSON.stringify(values);

/**
 * Claims the right to write a re-send of `originalId`, waiting while another process or click writes
 * one (a dead one's plan is undone first). Returns the plan's id; `releasePlan` lets it go.
 */
export async function claimPlan(db: Database, workspaceId: number, originalId: number): Promise<number> {
  const deadline = Date.now() + WAIT_FOR_OTHER_PLAN_MS;
  for (;;) {
    await settleInterruptedPlans(db, originalId);
    const row = await first<{ id: number }>(
      db,
      sql`INSERT INTO resend_plans (workspace_id, original_id, owner, heartbeat_at)
        VALUES (${workspaceId}, ${originalId}, ${PROCESS_OWNER}, ${Date.now()})
        ON CONFLICT (original_id) DO NOTHING RETURNING id`,
    );
    if (row) {
      writing.add(Number(row.id));
      return Number(row.id);
    }
    if (Date.now() > deadline) throw new ApiError(409, 'resend_conflict');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Whether a plan of this workspace is being written now (a live owner: its heartbeat within
 * RESEND_PLAN_STALE_MS). A contact merge waits for it (services/contacts.ts): the plan has read its
 * contacts and writes their tags and targets afterwards.
 */
export async function planBeingWritten(db: Pick<Database, 'all'>, workspaceId: number): Promise<boolean> {
  const row = await first(
    db,
    sql`SELECT 1 FROM resend_plans WHERE workspace_id = ${workspaceId}
      AND heartbeat_at > ${Date.now() - RESEND_PLAN_STALE_MS} LIMIT 1`,
  );
  return row !== undefined;
}

/**
 * Lets a claim go. A plan refused before writing (nothing to re-send, too early) has written nothing
 * (no tag noted yet); a written one was deleted by its last transaction, an undone one by its undo, and
 * one whose undo failed stays for settleInterruptedPlans.
 */
export async function releasePlan(db: Database, planId: number): Promise<void> {
  try {
    await db.run(sql`DELETE FROM resend_plans WHERE id = ${planId} AND owner = ${PROCESS_OWNER} AND tag_id IS NULL`);
  } finally {
    writing.delete(planId);
  }
}

/** Every transaction of a plan says its owner is alive, and stops if another process took the plan over. */
async function beat(tx: Pick<Database, 'run'>, planId: number): Promise<void> {
  const { rowsAffected } = await tx.run(
    sql`UPDATE resend_plans SET heartbeat_at = ${Date.now()} WHERE id = ${planId} AND owner = ${PROCESS_OWNER}`,
  );
  if (rowsAffected !== 1) throw new Error(`re-send plan ${planId} was taken over by another process`);
}

export interface PlanToWrite {
  planId: number;
  workspaceId: number;
  original: OriginalBroadcast;
  tag: string;
  language: Language;
  /** Linked re-sends, earliest first; empty: only tag. */
  parts: { at: number; rows: Candidate[] }[];
  allRows: Candidate[];
  now: number;
  /** Rows per transaction (tests make it small). */
  writeRows?: number;
}

function reasonsOf(rows: { reason: string }[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const row of rows) by[row.reason] = (by[row.reason] ?? 0) + 1;
  return by;
}

const RESEND_WORDS: Record<Language, string> = { es: 'reenvío', en: 're-send', pt: 'reenvio' };

/** Tags, the segment, the linked re-sends with their exact targets and events: all or nothing. */
export async function writePlan(db: Database, plan: PlanToWrite) {
  try {
    return await writeInChunks(db, plan);
  } catch (error) {
    // Undone with the same database: a storage fault that stopped the write may stop the undo too,
    // and then the plan is settled later, as a crashed one is.
    await undoPlan(db, plan.planId).catch(() => undefined);
    throw error;
  }
}

async function writeInChunks(db: Database, plan: PlanToWrite) {
  const { planId, workspaceId, original, tag, now } = plan;
  const rowsPerTransaction = plan.writeRows ?? RESEND_WRITE_ROWS;
  const total = plan.parts.length;
  const names = plan.parts.map(
    (_, i) => `${original.name} (${RESEND_WORDS[plan.language]}${total > 1 ? ` ${i + 1}/${total}` : ''})`,
  );

  // 1. The tag, the segment and the hidden re-sends, what was created noted on the plan.
  const { tagId, segmentId, broadcastIds, guarded } = await db.transaction(async (tx) => {
    await beat(tx, planId);
    const tagExisted = (await findTagIds(tx, workspaceId, [tag])).length > 0;
    const [tagId] = await ensureTags(tx, workspaceId, [tag]);
    if (tagId === undefined) throw new Error(`tag "${tag}" was not created`);
    // The manual path's segment, for the record and the help page; the re-sends do not read it.
    const segment = total ? await segmentForTag(tx, workspaceId, tag, now) : { id: null, created: false };
    await tx.run(sql`UPDATE resend_plans SET tag_id = ${tagId}, tag_created = ${tagExisted ? 0 : 1},
      segment_id = ${segment.id}, segment_created = ${segment.created ? 1 : 0} WHERE id = ${planId}`);
    // Another live re-send of this broadcast (a plan of a process that lost its claim)? Only then must
    // each target be checked against the live ones.
    const others = await tx.get<{ n: number }>(sql`SELECT count(*) AS n FROM broadcasts
      WHERE resend_of_id = ${original.id} AND status != 'cancelled' AND writing_plan IS NOT ${planId}`);
    const broadcastIds: number[] = [];
    for (const [i, part] of plan.parts.entries()) {
      const row = await first<{ id: number }>(
        tx,
        // A re-send keeps its family's automatic re-sends, one attempt further, and notes what it took.
        sql`INSERT INTO broadcasts (workspace_id, name, channel_id, segment_id, content, send_rate, status,
          scheduled_at, target_count, resend_of_id, writing_plan, auto_recovery, recovery_attempt, resend_reasons,
          created_at, updated_at)
        VALUES (${workspaceId}, ${names[i]}, ${original.channelId}, ${segment.id}, ${json(original.content)},
          ${original.sendRate}, 'draft', ${part.at}, ${part.rows.length}, ${original.id}, ${planId},
          ${original.autoRecovery}, ${original.recoveryAttempt + 1}, ${json(reasonsOf(part.rows))}, ${now}, ${now})
        RETURNING id`,
      );
      if (!row) throw new Error('re-send insert returned nothing');
      broadcastIds.push(Number(row.id));
    }
    return { tagId, segmentId: segment.id, broadcastIds, guarded: (others?.n ?? 0) > 0 };
  });

  // 2. The contacts tagged, each transaction noting those that lacked the tag (undo removes only them).
  const contactIds = [...new Set(plan.allRows.map((r) => r.contactId))];
  let newlyTagged = 0;
  for (let at = 0; at < contactIds.length; at += rowsPerTransaction) {
    const chunk = json(contactIds.slice(at, at + rowsPerTransaction));
    newlyTagged += await db.transaction(async (tx) => {
      await beat(tx, planId);
      const lacking = sql`SELECT value FROM json_each(${chunk}) AS j
        WHERE NOT EXISTS (SELECT 1 FROM contact_tags AS ct WHERE ct.tag_id = ${tagId} AND ct.contact_id = j.value)`;
      // An outer WHERE rather than HAVING without GROUP BY: sqld's statement parser rejects the latter.
      await tx.run(sql`INSERT INTO resend_plan_tagged (plan_id, first_id, ids)
        SELECT ${planId}, first_id, ids FROM (SELECT min(value) AS first_id, json_group_array(value) AS ids,
          count(*) AS n FROM (${lacking})) WHERE n > 0`);
      // rowsAffected rather than RETURNING: a row object per newly tagged contact costs more than the insert.
      const { rowsAffected } = await tx.run(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
        SELECT ${tagId}, value FROM json_each(${chunk})`);
      return rowsAffected;
    });
  }

  // 3. The exact targets. A row another re-send took meanwhile is not taken again: the plan finds
  // fewer rows than it planned and is undone. Held as the plan's candidates are (TARGET_HELD): a re-send
  // that failed at its start holds nobody here either.
  const guard = guarded
    ? sql`WHERE NOT EXISTS (SELECT 1 FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id
        WHERE t.message_id = v.value ->> 0 AND ${TARGET_HELD})`
    : sql``;
  // Targets a report let go while the plan was written: the answer counts the re-sends as written.
  const released = new Set<number>();
  for (const [i, part] of plan.parts.entries()) {
    const resendId = broadcastIds[i] as number;
    for (let at = 0; at < part.rows.length; at += rowsPerTransaction) {
      const rows = part.rows.slice(at, at + rowsPerTransaction);
      const pairs = json(rows.map((r) => [r.messageId, r.contactId]));
      // Only those a report may still have moved since the plan read them: most failures are final.
      const movable = rows.filter((r) => reportMayStillMove(r.reason));
      const planned = json(Object.fromEntries(movable.map((r) => [r.messageId, r.reason])));
      const letGo = await db.transaction(async (tx) => {
        await beat(tx, planId);
        const { rowsAffected } = await tx.run(sql`INSERT INTO resend_targets (broadcast_id, message_id, contact_id)
          SELECT ${resendId}, value ->> 0, value ->> 1 FROM json_each(${pairs}) AS v ${guard}`);
        if (rowsAffected !== rows.length) throw new ApiError(409, 'resend_conflict');
        return movable.length ? followReportsSincePlanned(tx, resendId, planned, now) : [];
      });
      for (const id of letGo) released.add(id);
    }
  }

  // 4. Scheduled, with their events, and the plan's notes forgotten: one short transaction.
  return db.transaction(async (tx) => {
    await beat(tx, planId);
    for (const [i, part] of plan.parts.entries()) {
      const id = broadcastIds[i] as number;
      const name = names[i] as string;
      // Fewer than planned when a report let some go while the plan was written (followReportsSincePlanned).
      const scheduled = await first<{ target: number }>(
        tx,
        sql`UPDATE broadcasts SET status = 'scheduled', writing_plan = NULL WHERE id = ${id} RETURNING target_count AS target`,
      );
      await recordEvent(tx, {
        workspaceId,
        type: 'broadcast.scheduled',
        broadcastId: id,
        data: {
          name,
          at: new Date(part.at).toISOString(),
          target: scheduled?.target ?? part.rows.length,
          resendOfId: original.id,
        },
        at: now,
      });
      await recordEvent(tx, {
        workspaceId,
        type: 'resend.scheduled',
        broadcastId: id,
        data: {
          name,
          originalId: original.id,
          originalName: original.name,
          tagged: part.rows.length,
          at: new Date(part.at).toISOString(),
          part: i + 1,
          parts: total,
        },
        at: now,
      });
    }
    // The tag was chosen so that no contact outside this broadcast's failures carries it: its carriers are the count.
    const tagged =
      (await tx.get<{ n: number }>(sql`SELECT count(*) AS n FROM contact_tags WHERE tag_id = ${tagId}`))?.n ?? 0;
    await tx.run(sql`DELETE FROM resend_plan_tagged WHERE plan_id = ${planId}`);
    await tx.run(sql`DELETE FROM resend_plans WHERE id = ${planId}`);
    return { tagged, newlyTagged, segmentId: total ? segmentId : null, broadcastIds, released: [...released] };
  });
}

/**
 * Undoes what a plan wrote, a transaction per RESEND_WRITE_ROWS targets or per tagging note, each
 * forgetting what it undid, so an undo cut short goes on from there the next time; the plan's row goes last.
 */
export async function undoPlan(db: Database, planId: number, rowsPerTransaction = RESEND_WRITE_ROWS): Promise<void> {
  const hidden = sql`SELECT id FROM broadcasts WHERE writing_plan = ${planId}`;
  for (;;) {
    const { rowsAffected } = await db.run(sql`DELETE FROM resend_targets WHERE (broadcast_id, message_id) IN (
      SELECT broadcast_id, message_id FROM resend_targets WHERE broadcast_id IN (${hidden}) LIMIT ${rowsPerTransaction})`);
    if (rowsAffected === 0) break;
  }
  await db.run(sql`DELETE FROM broadcasts WHERE writing_plan = ${planId}`);
  const plan = await first<{
    tag_id: number | null;
    tag_created: number;
    segment_id: number | null;
    segment_created: number;
  }>(db, sql`SELECT tag_id, tag_created, segment_id, segment_created FROM resend_plans WHERE id = ${planId}`);
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const [note] = await tx.all<{ first_id: number; ids: string }>(
        sql`SELECT first_id, ids FROM resend_plan_tagged WHERE plan_id = ${planId} LIMIT 1`,
      );
      if (!note) return true;
      await tx.run(sql`DELETE FROM contact_tags WHERE tag_id = ${plan?.tag_id ?? null}
        AND contact_id IN (SELECT value FROM json_each(${note.ids}))`);
      await tx.run(sql`DELETE FROM resend_plan_tagged WHERE plan_id = ${planId} AND first_id = ${note.first_id}`);
      return false;
    });
    if (done) break;
  }
  await db.transaction(async (tx) => {
    // What the plan created, unless something else uses it by now.
    if (plan?.segment_created && plan.segment_id !== null)
      await tx.run(sql`DELETE FROM segments WHERE id = ${plan.segment_id}
        AND NOT EXISTS (SELECT 1 FROM broadcasts WHERE segment_id = ${plan.segment_id})`);
    if (plan?.tag_created && plan.tag_id !== null)
      await tx.run(sql`DELETE FROM tags WHERE id = ${plan.tag_id}
        AND NOT EXISTS (SELECT 1 FROM contact_tags WHERE tag_id = ${plan.tag_id})`);
    await tx.run(sql`DELETE FROM resend_plans WHERE id = ${planId}`);
  });
}

/**
 * Undoes every plan (of one original broadcast, or all) whose owner died: stale heartbeat, or this
 * host's process that is gone. A plan is taken over on its owner and beat (an owner that beat
 * meanwhile is alive after all) before it is undone. Returns how many were undone.
 */
export async function settleInterruptedPlans(db: Database, originalId?: number): Promise<number> {
  const plans = await db.all<{ id: number; owner: string; heartbeat_at: number }>(
    sql`SELECT id, owner, heartbeat_at FROM resend_plans
      ${originalId === undefined ? sql`` : sql`WHERE original_id = ${originalId}`}`,
  );
  const staleBefore = Date.now() - RESEND_PLAN_STALE_MS;
  const ownStaleBefore = Date.now() - OWN_PLAN_QUIET_MS;
  let settled = 0;
  for (const plan of plans) {
    const id = Number(plan.id);
    if (writing.has(id)) continue;
    if (plan.owner === PROCESS_OWNER) {
      // One of this process's own that nobody here writes any more (its undo failed) is dead too; but
      // not one just claimed: on a server, another click's read may see the claim's row before the
      // claim's own answer comes back and marks it as being written here.
      if (plan.heartbeat_at >= ownStaleBefore) continue;
    } else if (plan.heartbeat_at >= staleBefore && !ownerIsDead(plan.owner)) continue;
    const { rowsAffected } =
      await db.run(sql`UPDATE resend_plans SET owner = ${PROCESS_OWNER}, heartbeat_at = ${Date.now()}
      WHERE id = ${id} AND owner = ${plan.owner} AND heartbeat_at = ${plan.heartbeat_at}`);
    if (rowsAffected !== 1) continue;
    writing.add(id);
    try {
      await undoPlan(db, id);
      settled++;
    } finally {
      writing.delete(id);
    }
  }
  return settled;
}
