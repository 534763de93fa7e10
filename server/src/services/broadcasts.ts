/**
 * A broadcast's life before the engine takes it: created, edited, scheduled, cancelled. Its reads (the
 * read model) are broadcast-read.ts and its pre-flight broadcast-preflight.ts, exported from here too,
 * where the routes, the CLI and the benchmarks have always found them.
 */
import { type BroadcastContent, type ChannelType, channelCapabilities, textTooLong } from '@rebound/shared';
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Queryable, Tx } from '../db/client';
import { type BroadcastRow, broadcasts, segments } from '../db/schema';
import { audienceSourceOf, audienceWhere, snapshotTargets } from '../engine/audience';
import { assertTransition, EDITABLE, refuseFarAhead, TransitionError } from '../engine/broadcast-state';
import { recordEvent } from '../engine/events';
import type { AuthContext } from '../lib/env';
import { ApiError, fieldIssue, notFound } from '../lib/errors';
import { getRow } from './broadcast-read';
import { getChannelRow } from './channels';
import { recheckLateFailures } from './resend-store';
import { getSegmentRow } from './segments';
import { workspaceSettings } from './workspaces';

export { preflight } from './broadcast-preflight';
export {
  broadcastsNeedingAttention,
  type CountsEntry,
  countsOf,
  getBroadcast,
  getRow,
  listBroadcasts,
  toBroadcast,
  toBroadcasts,
} from './broadcast-read';

type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

export interface NewBroadcast {
  name: string;
  channelId: number;
  segmentId: number;
  content: BroadcastContent;
  sendRate?: number | null | undefined;
  resendOfId?: number | null;
  /** Automatic re-sends; default: the workspace's. */
  autoRecovery?: number | undefined;
}

/** A channel that cannot broadcast is refused before anything is saved (S5). */
export async function broadcastableChannel(db: Queryable, workspaceId: number, channelId: number) {
  const channel = await getChannelRow(db, workspaceId, channelId);
  if (!channelCapabilities[channel.type].canBroadcast) {
    throw new ApiError(422, 'broadcast_unsupported_channel', {}, [
      fieldIssue('body.channelId', 'cannotBroadcast', { channel: channel.name }),
    ]);
  }
  return channel;
}

export async function createBroadcast(db: Database, workspaceId: number, input: NewBroadcast): Promise<BroadcastRow> {
  assertTextFits(await broadcastableChannel(db, workspaceId, input.channelId), input.content);
  await getSegmentRow(db, workspaceId, input.segmentId);
  const [row] = await db
    .insert(broadcasts)
    .values({
      workspaceId,
      name: input.name,
      channelId: input.channelId,
      segmentId: input.segmentId,
      content: input.content,
      sendRate: input.sendRate ?? null,
      resendOfId: input.resendOfId ?? null,
      autoRecovery: input.autoRecovery ?? (await workspaceSettings(db, workspaceId)).autoRecovery,
    })
    .returning();
  if (!row) throw new Error('broadcast insert returned nothing');
  return row;
}

export async function updateBroadcast(
  db: Database,
  ws: Workspace,
  id: number,
  patch: Partial<Omit<NewBroadcast, 'resendOfId'>>,
  now = Date.now(),
): Promise<BroadcastRow> {
  // One transaction: a change refused (or a re-snapshot that fails) leaves nothing half-saved.
  return db.transaction(async (tx) => {
    const current = await getRow(tx, ws.workspaceId, id);
    if (!EDITABLE.includes(current.status))
      throw new ApiError(409, 'broadcast_not_editable', { status: current.status });
    await refuseWhileStarting(tx, id);
    if (patch.channelId !== undefined || patch.content !== undefined) {
      // The channel it will send on, read once: broadcastable, not held (for one already scheduled there),
      // and taking its text in one message.
      const channel = await broadcastableChannel(tx, ws.workspaceId, patch.channelId ?? current.channelId);
      if (current.status === 'scheduled' && channel.id !== current.channelId) refuseHeldNumber(channel);
      assertTextFits(channel, patch.content ?? current.content);
    }
    if (patch.segmentId !== undefined) await getSegmentRow(tx, ws.workspaceId, patch.segmentId);
    const [row] = await tx
      .update(broadcasts)
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.channelId !== undefined && { channelId: patch.channelId }),
        ...(patch.segmentId !== undefined && { segmentId: patch.segmentId }),
        ...(patch.content !== undefined && { content: patch.content }),
        ...(patch.sendRate !== undefined && { sendRate: patch.sendRate }),
        ...(patch.autoRecovery !== undefined && { autoRecovery: patch.autoRecovery }),
        updatedAt: new Date(now),
      })
      .where(eq(broadcasts.id, id))
      .returning();
    if (!row) throw notFound('broadcast', { id });
    // A scheduled broadcast whose audience changed gets a fresh target, at its time (or now, if the
    // engine has not reached it yet: the time is not the user's to fix).
    if (row.status === 'scheduled' && patch.segmentId !== undefined)
      return scheduleIn(tx, ws, id, new Date(Math.max(row.scheduledAt?.getTime() ?? now, now)), now);
    return row;
  });
}

/** A text longer than the channel takes in one message: every recipient would fail for it (Twilio 21617). */
export function assertTextFits(channel: { type: ChannelType; name: string }, content: BroadcastContent): void {
  const over = textTooLong(channel.type, content.text);
  if (over)
    throw new ApiError(422, 'broadcast_text_too_long', { ...over, channel: channel.name }, [
      fieldIssue('body.content.text', 'textTooLong', { max: over.max, channel: channel.name }),
    ]);
}

/** A number held for its own sake (the channel's `hold`, read with it) takes nothing new. */
function refuseHeldNumber(channel: { hold: unknown }): void {
  if (channel.hold) throw new ApiError(409, 'broadcast_number_paused');
}

/**
 * The engine has begun this broadcast's start (its audience is being frozen, `broadcast_starts`): its
 * time, channel and segment are what the freeze is using, so they can no longer change. Cancel still can.
 */
async function refuseWhileStarting(tx: Tx, id: number): Promise<void> {
  const [starting] = await tx.all(sql`SELECT 1 AS starting FROM broadcast_starts WHERE broadcast_id = ${id}`);
  if (starting) throw new ApiError(409, 'broadcast_starting');
}

/**
 * Schedules now or at a time. The segment's size is recorded as the target; for a later send its
 * contacts are remembered too, so the start can say who entered or left in between (S2).
 */
export async function scheduleBroadcast(
  db: Database,
  ws: Workspace,
  id: number,
  at: Date | undefined,
  now = Date.now(),
) {
  const when = at ?? new Date(now);
  if (at && at.getTime() < now - 60_000)
    throw new ApiError(422, 'broadcast_schedule_past', {}, [fieldIssue('body.at', 'inThePast')]);
  if (at) refuseFarAhead(at.getTime(), now, at.toISOString());
  return db.transaction((tx) => scheduleIn(tx, ws, id, when, now));
}

async function scheduleIn(tx: Tx, ws: Workspace, id: number, when: Date, now: number): Promise<BroadcastRow> {
  const current = await getRow(tx, ws.workspaceId, id);
  // A paused broadcast that started goes on with a resume, where it was: scheduling it again would
  // freeze its whole audience a second time and send again to those who already have it.
  if (current.status === 'paused' && current.startedAt !== null) throw new ApiError(409, 'broadcast_paused_resume');
  // One paused before it started may move to another time, and stays paused: going on is a manager's
  // resume (which then schedules it for this time), not a side effect of choosing a time.
  const staysPaused = current.status === 'paused';
  if (!staysPaused) {
    try {
      assertTransition(current.status, 'scheduled');
    } catch (error) {
      if (error instanceof TransitionError)
        throw new ApiError(409, 'broadcast_transition', { from: error.from, to: error.to });
      throw error;
    }
  }
  await refuseWhileStarting(tx, id);
  const channel = await broadcastableChannel(tx, ws.workspaceId, current.channelId);
  assertTextFits(channel, current.content);
  // A number held for its own sake takes nothing new until a manager lifts the hold (as a re-send is
  // refused). One already scheduled may still move or change: it is held at its start anyway.
  if (!staysPaused && current.status !== 'scheduled') refuseHeldNumber(channel);
  const [segment] = current.segmentId
    ? await tx
        .select()
        .from(segments)
        .where(and(eq(segments.id, current.segmentId), eq(segments.workspaceId, ws.workspaceId)))
    : [];
  const source = await audienceSourceOf(tx, current, segment);
  if (!source) throw new ApiError(404, 'segment_not_found', {}, { id: current.segmentId });
  const where = await audienceWhere(tx, ws, source);
  const [count] = await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM contacts WHERE ${where}`);
  if (when.getTime() > now) await snapshotTargets(tx, where, id);
  else await tx.run(sql`DELETE FROM broadcast_targets WHERE broadcast_id = ${id}`);
  const [row] = await tx
    .update(broadcasts)
    .set({
      status: staysPaused ? 'paused' : 'scheduled',
      scheduledAt: when,
      targetCount: count?.n ?? 0,
      errorCode: null,
      updatedAt: new Date(now),
    })
    .where(eq(broadcasts.id, id))
    .returning();
  // Still paused, it is not "programada" to anyone reading the events: its status says it waits.
  if (!staysPaused)
    await recordEvent(tx, {
      workspaceId: ws.workspaceId,
      type: 'broadcast.scheduled',
      broadcastId: id,
      data: { name: current.name, at: when.toISOString(), target: count?.n ?? 0, resendOfId: current.resendOfId },
      at: now,
    });
  if (!row) throw notFound('broadcast', { id });
  return row;
}

/** Not started: scheduled, or paused before it started (the guard or Meta's flag paused the number). */
export const notStarted = (b: { status: string; startedAt: unknown }): boolean =>
  b.status === 'scheduled' || (b.status === 'paused' && b.startedAt === null);

/** Cancels a draft, scheduled or sending broadcast; recipients not yet sent are cancelled too. */
export async function cancelBroadcast(db: Database, workspaceId: number, id: number, now = Date.now()) {
  const row = await cancelIn(db, workspaceId, id, now, false);
  if (!row) throw notFound('broadcast', { id });
  return row;
}

/**
 * Cancels a broadcast only if it has not started, checked in the cancel's own transaction; one that
 * started meanwhile is left as it is (undefined): an agent's cancel of a re-send takes back only what
 * has not gone out, stopping one that sends is a manager's cancel.
 */
export const cancelIfNotStarted = (db: Database, workspaceId: number, id: number, now = Date.now()) =>
  cancelIn(db, workspaceId, id, now, true);

async function cancelIn(
  db: Database,
  workspaceId: number,
  id: number,
  now: number,
  onlyIfNotStarted: boolean,
): Promise<BroadcastRow | undefined> {
  let stoppedResendOf: number | null = null;
  const cancelled = await db.transaction(async (tx) => {
    const current = await getRow(tx, workspaceId, id);
    if (onlyIfNotStarted && !notStarted(current)) return undefined;
    try {
      assertTransition(current.status, 'cancelled');
    } catch (error) {
      if (error instanceof TransitionError)
        throw new ApiError(409, 'broadcast_transition', { from: error.from, to: error.to });
      throw error;
    }
    await tx.run(
      sql`UPDATE messages SET state = 'cancelled', updated_at = ${now} WHERE broadcast_id = ${id} AND state = 'queued'`,
    );
    // An engine freezing its audience right now loses its start lease, so it freezes nothing more.
    await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${id}`);
    // A re-send taken back before it began is a person's decision about that broadcast's recovery: an
    // automatic round it had waiting (the backlog past the last wave) does not come back by itself. A
    // failure reported since (or later) still brings one (lateFailure: recovery_late), kept however long
    // it waits (a held number's hour).
    if (current.resendOfId !== null && notStarted(current))
      await tx.run(sql`UPDATE broadcasts SET recovery_due_at = NULL
        WHERE id = ${current.resendOfId} AND recovery_late = 0`);
    else if (current.resendOfId !== null) stoppedResendOf = current.resendOfId;
    const [row] = await tx
      .update(broadcasts)
      .set({ status: 'cancelled', finishedAt: new Date(now), updatedAt: new Date(now) })
      .where(eq(broadcasts.id, id))
      .returning();
    await recordEvent(tx, {
      workspaceId,
      type: 'broadcast.cancelled',
      broadcastId: id,
      data: { name: current.name },
      at: now,
    });
    if (!row) throw notFound('broadcast', { id });
    return row;
  });
  // A re-send stopped mid-send still holds what it sent; those it never sent are free again and its
  // broadcast needs an agent for them, as when a re-send is taken back (recheckLateFailures).
  if (stoppedResendOf !== null) await recheckLateFailures(db, stoppedResendOf, now);
  return cancelled;
}
