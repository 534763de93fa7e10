/**
 * A broadcast's verdict: its recipients by state, and the status they call for once nobody is queued or
 * sending. The engine settles it when its last recipient is done; a late delivery report (delivery.ts)
 * settles it again.
 */
import { ALL_FAILED, type FailureReason } from '@rebound/shared';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { type BroadcastStatus, broadcastCounts, broadcasts, type MessageState } from '../db/schema';
import { assertTransition, finishedStatus, type StateCounts } from './broadcast-state';
import { recordEvent } from './events';

/**
 * A broadcast's recipients by state, from the read model kept by triggers in the same transaction
 * (migration 0007): a few rows, where a GROUP BY over messages read every recipient, on each
 * delivery report too. States with no recipient are left out, as the GROUP BY left them. A final
 * "unknown" report (failed, reason `uncertain`: an SMS provider's dlr:unknown) counts as uncertain, as a
 * send with no answer does: it may have arrived, so it makes no broadcast failed or partly failed.
 */
export async function stateCounts(db: Queryable, broadcastId: number): Promise<StateCounts> {
  const state = sql<MessageState>`CASE WHEN ${broadcastCounts.state} = 'failed' AND ${broadcastCounts.reason} = 'uncertain'
    THEN 'uncertain' ELSE ${broadcastCounts.state} END`;
  const rows = await db
    .select({ state, n: sql<number>`sum(${broadcastCounts.count})` })
    .from(broadcastCounts)
    .where(and(eq(broadcastCounts.broadcastId, broadcastId), gt(broadcastCounts.count, 0)))
    .groupBy(state);
  return Object.fromEntries(rows.map((r) => [r.state, r.n])) as StateCounts;
}

/**
 * Gives a sending or finished broadcast the status its recipients call for, and records the event
 * when it changes. Used when the last recipient is done and when a late delivery report changes counts.
 */
export async function settleBroadcastStatus(
  db: Database,
  broadcastId: number,
  now: number,
): Promise<BroadcastStatus | undefined> {
  return db.transaction(async (tx) => {
    const [broadcast] = await tx.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    if (!broadcast || !['sending', 'completed', 'partially_failed', 'failed'].includes(broadcast.status))
      return undefined;
    // A failure at start (segment deleted, nobody reachable) is final; "every recipient failed" is not.
    if (broadcast.errorCode && broadcast.errorCode !== ALL_FAILED) return broadcast.status;
    const counts = await stateCounts(tx, broadcastId);
    const verdict = finishedStatus(counts);
    if (!verdict) return broadcast.status;
    // A broadcast that failed as a whole says why, in the help page's style (rendered per language).
    const mainReason =
      verdict === 'failed'
        ? ((
            await first<{ reason: FailureReason | null }>(
              tx,
              // From the read model, as the counts above: a few rows, not every failed recipient.
              sql`SELECT nullif(reason, '') AS reason FROM broadcast_counts
              WHERE broadcast_id = ${broadcastId} AND state = 'failed' AND n > 0 ORDER BY n DESC, reason LIMIT 1`,
            )
          )?.reason ?? 'provider_error')
        : null;
    const errorCode = mainReason ? ALL_FAILED : null;
    if (verdict === broadcast.status && errorCode === broadcast.errorCode && mainReason === broadcast.errorReason)
      return broadcast.status;
    if (verdict !== broadcast.status) assertTransition(broadcast.status, verdict);
    // Its first verdict with failures, and automatic re-sends left in its family: the engine takes it
    // from here (engine/recovery.ts) at once; the re-sends themselves go at the policy's useful times.
    const recover =
      broadcast.status === 'sending' && verdict !== 'completed' && broadcast.autoRecovery > broadcast.recoveryAttempt;
    await tx
      .update(broadcasts)
      .set({
        ...(recover && { recoveryDueAt: now }),
        status: verdict,
        errorCode,
        errorReason: mainReason,
        finishedAt: broadcast.finishedAt ?? new Date(now),
        updatedAt: new Date(now),
      })
      .where(and(eq(broadcasts.id, broadcastId), eq(broadcasts.status, broadcast.status)));
    if (verdict === broadcast.status) return verdict;
    await recordEvent(tx, {
      workspaceId: broadcast.workspaceId,
      type: `broadcast.${verdict}` as const,
      broadcastId,
      data: {
        name: broadcast.name,
        previous: broadcast.status,
        sent: (counts.sent ?? 0) + (counts.delivered ?? 0),
        failed: counts.failed ?? 0,
        uncertain: counts.uncertain ?? 0,
        excluded: counts.excluded ?? 0,
      },
      at: now,
    });
    if (broadcast.resendOfId !== null && broadcast.status === 'sending') {
      await recordEvent(tx, {
        workspaceId: broadcast.workspaceId,
        type: 'resend.finished',
        broadcastId,
        data: {
          name: broadcast.name,
          originalId: broadcast.resendOfId,
          status: verdict,
          sent: (counts.sent ?? 0) + (counts.delivered ?? 0),
          failed: counts.failed ?? 0,
        },
        at: now,
      });
    }
    return verdict;
  });
}
