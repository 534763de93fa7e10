/**
 * A broadcast's lineage: what its first send reached, what each round of re-sends recovered, and who is
 * left, by reason. Read from the broadcasts of the family and their counts (the read model), a few
 * rows each, never from recipients: a re-send notes the failures it took by their reason now
 * (`resend_reasons`, kept in step with late reports by a trigger, drizzle/0018), so what is left is what
 * failed, was left out or stayed unconfirmed anywhere in the family less what a live re-send holds.
 * Unconfirmed, as in the failed-message log: no answer yet (state uncertain), or a final report that
 * does not say (failed, reason uncertain).
 */
import type { Recovery } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import type { BroadcastRow } from '../db/schema';
import type { CountsEntry } from './broadcasts';
import { RESEND_HOLDS, TARGET_HELD, UNREACHED } from './resend-store';

type CountsOf = (db: Database, ids: number[]) => Promise<Map<number, CountsEntry>>;

/** Re-sends of re-sends are followed this deep at most (automatic recovery stops at 5). */
const MAX_DEPTH = 20;

export async function recoveryLineage(db: Database, root: BroadcastRow, countsOf: CountsOf): Promise<Recovery | null> {
  const family = await db.all<{
    id: number;
    depth: number;
    status: string;
    target_count: number | null;
    resend_reasons: string | null;
    recovery_due_at: number | null;
    started_at: number | null;
    holds: number;
  }>(sql`WITH RECURSIVE tree(id, depth) AS (
      SELECT ${root.id}, 0
      UNION ALL
      SELECT b.id, t.depth + 1 FROM broadcasts b JOIN tree t ON b.resend_of_id = t.id
      WHERE t.depth < ${MAX_DEPTH} AND b.writing_plan IS NULL)
    SELECT r.id, t.depth, r.status, r.target_count, r.resend_reasons, r.recovery_due_at, r.started_at, ${RESEND_HOLDS} AS holds
    FROM tree t JOIN broadcasts r ON r.id = t.id ORDER BY t.depth, r.id`);
  if (family.length <= 1 && root.autoRecovery === 0) return null;
  // A re-send cancelled before it began was taken back: its targets are left again, and it recovered
  // nobody. One cancelled mid-send keeps what it reached and what failed there (RESEND_HOLDS).
  const live = family.filter((b) => b.depth === 0 || b.holds);
  const counts = await countsOf(
    db,
    live.map((b) => b.id),
  );
  // What each re-send took and still has to reach, by reason (read once, used by pending and left).
  const notes = new Map(
    live.map((b) => [b.id, b.resend_reasons ? (JSON.parse(b.resend_reasons) as Record<string, number>) : null]),
  );
  const reached = (id: number) => (counts.get(id)?.counts.sent ?? 0) + (counts.get(id)?.counts.delivered ?? 0);
  const unknownFinal = (id: number) => counts.get(id)?.failedByReason.uncertain ?? 0;
  const failed = (id: number) => (counts.get(id)?.counts.failed ?? 0) - unknownFinal(id);
  const unconfirmed = (id: number) => (counts.get(id)?.counts.uncertain ?? 0) + unknownFinal(id);
  const pending = (b: (typeof family)[number]) => {
    const c = counts.get(b.id)?.counts ?? {};
    // Not started yet: its targets have no recipient rows until it starts. It goes to those still not
    // reached, which its note keeps count of (a late report may have delivered one since).
    // Paused before it started too (the guard or Meta's flag paused its number).
    if (b.status === 'draft' || b.status === 'scheduled' || (b.status === 'paused' && b.started_at === null)) {
      const note = notes.get(b.id);
      return note ? Object.values(note).reduce((a, n) => a + Math.max(n, 0), 0) : (b.target_count ?? 0);
    }
    return (c.queued ?? 0) + (c.sending ?? 0);
  };
  const left: Record<string, number> = {};
  for (const b of live) {
    // Failed, or left out before sending (a re-send may take those too, once their number is fixed),
    // but a duplicate: it got the message through the contact that shares its number (the catalog says so).
    const entry = counts.get(b.id);
    const { duplicate: _reachedThroughAnother, ...leftOut } = entry?.excludedByReason ?? {};
    for (const [reason, n] of [...Object.entries(entry?.failedByReason ?? {}), ...Object.entries(leftOut)])
      left[reason] = (left[reason] ?? 0) + n;
    // No answer yet: they may not have it, so they are left until a report or a re-send says otherwise.
    const noAnswer = entry?.counts.uncertain ?? 0;
    if (noAnswer) left.uncertain = (left.uncertain ?? 0) + noAnswer;
    if (b.depth > 0)
      for (const [reason, n] of Object.entries(notes.get(b.id) ?? {})) left[reason] = (left[reason] ?? 0) - n;
  }
  // What re-sends cancelled mid-send never sent is left again, by its reason now, if still not reached.
  const cancelledMidSend = live.filter((b) => b.depth > 0 && b.status === 'cancelled').map((b) => b.id);
  if (cancelledMidSend.length) {
    const unsent = await db.all<{ reason: string; n: number }>(sql`SELECT m.reason, count(*) AS n
      FROM resend_targets t JOIN broadcasts r ON r.id = t.broadcast_id JOIN messages m ON m.id = t.message_id
      WHERE t.broadcast_id IN ${cancelledMidSend} AND NOT ${TARGET_HELD} AND ${UNREACHED}
      GROUP BY m.reason`);
    for (const { reason, n } of unsent) left[reason] = (left[reason] ?? 0) + n;
  }
  for (const reason of Object.keys(left)) if ((left[reason] ?? 0) <= 0) delete left[reason];
  const attempts: Recovery['attempts'] = [];
  for (const b of live) {
    if (b.depth === 0) continue;
    let round = attempts[b.depth - 1];
    if (!round) {
      round = { attempt: b.depth, broadcastIds: [], recovered: 0, failed: 0, pending: 0, unconfirmed: 0 };
      attempts[b.depth - 1] = round;
    }
    round.broadcastIds.push(b.id);
    round.recovered += reached(b.id);
    round.failed += failed(b.id);
    round.pending += pending(b);
    round.unconfirmed += unconfirmed(b.id);
  }
  const due = family.map((b) => b.recovery_due_at).filter((at): at is number => at !== null);
  return {
    firstSend: { reached: reached(root.id), failed: failed(root.id), unconfirmed: unconfirmed(root.id) },
    attempts: attempts.filter(Boolean),
    left: { total: Object.values(left).reduce((a, n) => a + n, 0), byReason: left },
    automatic: {
      attempts: root.autoRecovery,
      nextAt: due.length ? new Date(Math.min(...due)).toISOString() : null,
    },
  };
}
