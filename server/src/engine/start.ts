/**
 * Starting a due broadcast: the checks that it can go, the start lease (one process wins the
 * start), the audience frozen in chunks, and the move to sending with its reconciliation.
 */
import { channelCapabilities } from '@rebound/shared';
import { eq, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { type BroadcastRow, broadcasts, channels, segments, workspaces } from '../db/schema';
import { stillToReach } from '../services/resend-store';
import {
  audienceSourceOf,
  FREEZE_START,
  type FreezeCursor,
  freezeChunk,
  recipientCountries,
  reconcile,
} from './audience';
import { assertTransition } from './broadcast-state';
import { recordEvent } from './events';
import { numberHold, pauseBroadcasts, pauseHoldingStart } from './guard';
import { broadcastStatus } from './queue';
import { settleBroadcastStatus, stateCounts } from './verdict';

/** What a start needs from the engine that runs it. */
export interface StartOptions {
  db: Database;
  /** Names the start lease's owner. */
  workerId: string;
  leaseMs: number;
  /** Recipients frozen per transaction. */
  freezeRows: number;
  clock: () => number;
  /** True once the engine is stopping: the freeze stops between chunks, its lease left to run out. */
  stopping: () => boolean;
}

/**
 * Starts a due broadcast: checks it can go and takes its start lease (one process wins the start),
 * freezes its audience `freezeRows` recipients per transaction (a whole 1,000,000-recipient audience
 * in one held the database 9 s), reads the counts with no lock held, and changes its status in a
 * last short transaction. A process that dies mid-freeze leaves its lease to run out; another goes
 * on from the cursor, and a process stopping mid-freeze does the same on its next start.
 */
export async function startBroadcast(o: StartOptions, broadcastId: number): Promise<void> {
  const now = o.clock();
  const failStart = async (tx: Tx, broadcast: BroadcastRow, errorCode: string) => {
    assertTransition(broadcast.status, 'failed');
    await tx
      .update(broadcasts)
      .set({
        status: 'failed',
        errorCode,
        startedAt: new Date(now),
        finishedAt: new Date(now),
        updatedAt: new Date(now),
      })
      .where(eq(broadcasts.id, broadcastId));
    await recordEvent(tx, {
      workspaceId: broadcast.workspaceId,
      type: 'broadcast.failed',
      broadcastId,
      data: { name: broadcast.name, errorCode },
      at: now,
    });
    await forgetStart(tx);
  };
  // A start that will not finish (failed, or cancelled meanwhile): what it froze is never sent.
  const forgetStart = async (tx: Tx) => {
    await tx.run(
      sql`UPDATE messages SET state = 'cancelled', updated_at = ${now} WHERE broadcast_id = ${broadcastId} AND state = 'queued'`,
    );
    await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId}`);
  };
  const holding = await pauseHoldingStart(o.db, broadcastId);
  if (holding) {
    await pauseBroadcasts(o.db, [broadcastId], holding, now);
    return;
  }
  const start = await o.db.transaction(async (tx) => {
    const [broadcast] = await tx.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    if (broadcast?.status !== 'scheduled') return undefined;
    // Moved to a later time since it was found due: not due any more (the API refuses a move once this
    // start holds its lease, so a freeze under way keeps its time).
    if (broadcast.scheduledAt && broadcast.scheduledAt.getTime() > now) return undefined;
    const [segment] = broadcast.segmentId
      ? await tx.select().from(segments).where(eq(segments.id, broadcast.segmentId))
      : [];
    // A re-send goes to exactly the failed recipients it was planned for; its segment only labels them.
    const source = await audienceSourceOf(tx, broadcast, segment);
    if (!source)
      return failStart(tx, broadcast, segment?.deletedAt ? 'broadcast_segment_deleted' : 'segment_not_found');
    const [channel] = await tx.select().from(channels).where(eq(channels.id, broadcast.channelId));
    if (!channel || channel.deletedAt) return failStart(tx, broadcast, 'broadcast_channel_missing');
    if (!channelCapabilities[channel.type].canBroadcast)
      return failStart(tx, broadcast, 'broadcast_unsupported_channel');
    const [workspace] = await tx.select().from(workspaces).where(eq(workspaces.id, broadcast.workspaceId));
    // The start lease: ours if nobody holds it, or we held it (a retry, or this worker's earlier life).
    const [held] = await tx.all<{
      phase: FreezeCursor['phase'];
      after_identifier: string | null;
      after_contact_id: number;
    }>(
      sql`INSERT INTO broadcast_starts (broadcast_id, owner, lease_until, phase, after_identifier, after_contact_id)
        VALUES (${broadcastId}, ${o.workerId}, ${now + o.leaseMs}, ${FREEZE_START.phase}, NULL, 0)
        ON CONFLICT (broadcast_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
        WHERE broadcast_starts.owner = excluded.owner OR broadcast_starts.lease_until < ${now}
        RETURNING phase, after_identifier, after_contact_id`,
    );
    if (!held) return undefined;
    return {
      broadcast,
      ctx: {
        scope: { workspaceId: broadcast.workspaceId, defaultCountry: workspace?.defaultCountry ?? 'AR' },
        channel: { id: channel.id, type: channel.type },
        source,
        content: broadcast.content,
      },
      cursor: {
        phase: held.phase,
        afterIdentifier: held.after_identifier,
        afterContactId: Number(held.after_contact_id),
      },
    };
  });
  if (!start) return;
  const { broadcast, ctx } = start;
  let cursor: FreezeCursor = start.cursor;
  while (cursor.phase !== 'done') {
    if (o.stopping()) return;
    const from = cursor;
    const next = await o.db.transaction(async (tx) => {
      // Still ours, and still where we left it: otherwise another process took the start over.
      const [ours] = await tx.all(sql`UPDATE broadcast_starts SET lease_until = ${o.clock() + o.leaseMs}
        WHERE broadcast_id = ${broadcastId} AND owner = ${o.workerId} AND phase = ${from.phase}
          AND after_identifier IS ${from.afterIdentifier} AND after_contact_id = ${from.afterContactId}
        RETURNING 1 AS held`);
      if (!ours) return undefined;
      // No longer ours to start (started elsewhere, say after a replica's stale read): let the lease go
      // and touch nothing else; a cancel has already cancelled what was frozen.
      if ((await broadcastStatus(tx, broadcastId)) !== 'scheduled') {
        await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId}`);
        return undefined;
      }
      const moved = await freezeChunk(tx, { ...ctx, broadcastId, now }, from, o.freezeRows);
      await tx.run(sql`UPDATE broadcast_starts SET phase = ${moved.phase}, after_identifier = ${moved.afterIdentifier},
        after_contact_id = ${moved.afterContactId} WHERE broadcast_id = ${broadcastId}`);
      return moved;
    });
    if (!next) return;
    cursor = next;
  }
  // The figures of the freeze, read with no lock held: nothing else writes a scheduled broadcast's recipients.
  const freezeFigures = async (db: Tx | Database) => {
    const counts = await stateCounts(db, broadcastId);
    const { entered, left } = await reconcile(db, broadcastId);
    const excluded = await db.all<{ reason: string; n: number }>(sql`SELECT reason, count(*) AS n FROM messages
      WHERE broadcast_id = ${broadcastId} AND state = 'excluded' GROUP BY reason`);
    // By country, once: what its cost so far is priced by (services/broadcast-read.ts).
    const countryMix = await recipientCountries(db, broadcastId, o.freezeRows);
    return { counts, entered, left, excludedBy: Object.fromEntries(excluded.map((r) => [r.reason, r.n])), countryMix };
  };
  const unlocked = await freezeFigures(o.db);
  let nothingLeft = false;
  await o.db.transaction(async (tx) => {
    const [ours] = await tx.all(
      sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId} AND owner = ${o.workerId} RETURNING 1 AS held`,
    );
    if (!ours) return;
    const [current] = await tx.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    // Cancelled while its audience was being frozen: the cancel already cancelled what was frozen.
    if (current?.status !== 'scheduled') return;
    // The decision reads the counts again in this write transaction: an engine on a libSQL replica may
    // have read the figures above before its own freeze reached the replica, and would have failed a
    // full broadcast as empty (and cancelled its recipients). Read stale, the figures are read again here.
    const fresh = await stateCounts(tx, broadcastId);
    const sameCounts = JSON.stringify(fresh) === JSON.stringify(unlocked.counts);
    const { counts, entered, left, excludedBy, countryMix } = sameCounts ? unlocked : await freezeFigures(tx);
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    const target = current.targetCount ?? total;
    const reconciliation = {
      target,
      entered,
      left,
      duplicates: excludedBy.duplicate ?? 0,
      invalidIdentifiers: excludedBy.invalid_identifier ?? 0,
      noIdentifier: excludedBy.no_identifier ?? 0,
      completed: counts.queued ?? 0,
    };
    // A re-send every target of which was reached meanwhile (late delivery reports): nothing is left to
    // send, which is done, not failed. It goes to sending and is settled as completed just below.
    nothingLeft = total === 0 && current.resendOfId !== null && (await everyTargetReached(tx, broadcastId));
    if (total === 0 && !nothingLeft) return failStart(tx, current, 'broadcast_empty_target');
    if (!counts.queued && !nothingLeft) {
      await tx.update(broadcasts).set({ reconciliation }).where(eq(broadcasts.id, broadcastId));
      return failStart(tx, current, 'broadcast_no_reachable_recipients');
    }
    assertTransition(current.status, 'sending');
    await tx
      .update(broadcasts)
      .set({ status: 'sending', reconciliation, countryMix, startedAt: new Date(now), updatedAt: new Date(now) })
      .where(eq(broadcasts.id, broadcastId));
    await recordEvent(tx, {
      workspaceId: broadcast.workspaceId,
      type: 'broadcast.started',
      broadcastId,
      data: { name: current.name, recipients: counts.queued ?? 0, excluded: total - (counts.queued ?? 0) },
      at: now,
    });
    // The number was held while its audience was being frozen (that start was left to finish): it is
    // started, and waits paused with the number, in this same transaction, before anything goes out.
    const hold = nothingLeft ? undefined : await numberHold(tx, current.channelId);
    if (hold) {
      assertTransition('sending', 'paused');
      await tx.update(broadcasts).set({ status: 'paused', pause: hold }).where(eq(broadcasts.id, broadcastId));
      await recordEvent(tx, {
        workspaceId: broadcast.workspaceId,
        type: 'broadcast.paused',
        broadcastId,
        data: { name: current.name, previous: 'sending', pause: hold },
        at: now,
      });
    }
  });
  if (nothingLeft) await settleBroadcastStatus(o.db, broadcastId, now);
}

/** Whether each target of a re-send is reached by now (stillToReach: none left to send to). */
async function everyTargetReached(tx: Tx, broadcastId: number): Promise<boolean> {
  const [row] = await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM resend_targets t
    JOIN messages m ON m.id = t.message_id WHERE ${await stillToReach(tx, broadcastId)}`);
  return (row?.n ?? 0) === 0;
}
