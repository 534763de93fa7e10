/**
 * Automatic recovery: the re-sends Rebound schedules by itself for a broadcast with `autoRecovery`.
 * The verdict marks a broadcast due (engine/verdict.ts), and so does a failure reported after it finished
 * (lateFailure, from engine/delivery.ts); an engine takes it under a short lease and
 * asks for the one-click re-send an agent would (services/resend.ts: each reason at its earliest useful
 * time, never a reason a re-send cannot help), leaving out contacts the marketing cap refused three
 * times in a row; the contacts its channel cannot reach go to the channel's fallback (WhatsApp → SMS)
 * when it names one. Never while the quality guard holds the channel: the number is in trouble.
 */
import {
  anotherChannelReasons,
  type BroadcastContent,
  type ChannelType,
  contentForChannel,
  type FailureReason,
} from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { ApiError } from '../lib/errors';
import { resendFailed } from '../services/resend';
import { heldByResend, oneClickReasons } from '../services/resend-store';
import { guardHolds } from './guard';

/** How long an engine holds a due recovery while it plans it (another takes it over after). */
const LEASE_MS = 10 * 60_000;
/** How long a recovery waits while the guard holds its channel, before it looks again. */
const GUARD_WAIT_MS = 60 * 60_000;

/**
 * How long the first failure a delivery report brings after a broadcast finished waits for others before
 * its recovery is planned: a burst of late reports makes one plan (one re-send per useful time), not one each.
 */
export const LATE_GATHER_MS = 15 * 60_000;

/**
 * A failure reported after its broadcast finished (S10: WhatsApp's 131049 comes by webhook, an SMS
 * receipt after the send), of a reason its one-click re-send takes, on a message no re-send holds, is
 * recovered as one at the send is:
 * - with automatic re-sends left, its broadcast is due once the gathering ends (later than a time already
 *   due or an engine's lease on it, so a plan under way does not forget it: runDueRecoveries clears only
 *   its own lease);
 * - and it needs an agent again (`late_failed_at`, the attention list), even when a re-send of it exists:
 *   that re-send was planned before this failure and cannot take it (recheckLateFailures clears it once
 *   none is left untaken).
 */
export async function lateFailure(
  db: Database,
  broadcastId: number,
  messageId: number,
  reason: FailureReason,
  now: number,
): Promise<void> {
  const oneClick = (await oneClickReasons(db, broadcastId)).includes(reason);
  // Not a number its channel can reach (131026 by webhook), where the channel names a fallback: the
  // automatic round takes it there, as it would have at the send. No agent's one click on this channel helps.
  const fallback = oneClick ? undefined : await fallbackOf(db, broadcastId);
  const toFallback =
    fallback !== undefined &&
    anotherChannelReasons(fallback.from, fallback.to, contentForChannel(fallback.to, fallback.content)).includes(
      reason,
    );
  if ((!oneClick && !toFallback) || (await heldByResend(db, messageId))) return;
  // Due once the reports are gathered, even when a round was due later (a quota backlog's, days ahead):
  // that round is planned again then, and plans its backlog's time again (onUnplanned).
  await db.run(sql`UPDATE broadcasts SET late_failed_at = ${oneClick ? now : sql`late_failed_at`},
      recovery_due_at = CASE WHEN auto_recovery > recovery_attempt
        THEN ${now + LATE_GATHER_MS} ELSE recovery_due_at END,
      recovery_late = CASE WHEN auto_recovery > recovery_attempt THEN 1 ELSE recovery_late END
    WHERE id = ${broadcastId} AND status IN ('completed', 'partially_failed', 'failed')`);
}

/** The broadcast's channel type and its fallback's, where it names one (not disconnected), and what it sent. */
async function fallbackOf(
  db: Database,
  broadcastId: number,
): Promise<{ from: ChannelType; to: ChannelType; content: BroadcastContent } | undefined> {
  const [row] = await db.all<{ from: ChannelType; to: ChannelType; content: string }>(sql`SELECT c.type AS "from",
      f.type AS "to", b.content
    FROM broadcasts b JOIN channels c ON c.id = b.channel_id JOIN channels f ON f.id = c.fallback_channel_id
    WHERE b.id = ${broadcastId} AND f.deleted_at IS NULL`);
  return row && { ...row, content: JSON.parse(row.content) as BroadcastContent };
}

/** Plans the automatic re-sends that are due; returns how many broadcasts it handled. */
export async function runDueRecoveries(
  db: Database,
  now: number,
  log: (message: string, error?: unknown) => void,
): Promise<number> {
  const due = await db.all<{
    id: number;
    workspace_id: number;
    channel_id: number;
    default_country: string;
    fallback_channel_id: number | null;
    disconnected: number;
  }>(
    sql`SELECT b.id, b.workspace_id, b.channel_id, w.default_country, c.fallback_channel_id,
        c.deleted_at IS NOT NULL AS disconnected FROM broadcasts b
      JOIN workspaces w ON w.id = b.workspace_id JOIN channels c ON c.id = b.channel_id
      WHERE b.recovery_due_at IS NOT NULL AND b.recovery_due_at <= ${now} ORDER BY b.recovery_due_at LIMIT 20`,
  );
  let handled = 0;
  for (const broadcast of due) {
    // Taken by one engine: the lease moves the due time on, so another engine's tick skips it.
    const taken = await db.all(sql`UPDATE broadcasts SET recovery_due_at = ${now + LEASE_MS}
      WHERE id = ${broadcast.id} AND recovery_due_at <= ${now} RETURNING id`);
    if (taken.length === 0) continue;
    // A channel disconnected since sends nothing more, held or not (nobody can lift its hold now): only
    // its fallback may take its contacts.
    if (!broadcast.disconnected && (await guardHolds(db, broadcast.channel_id))) {
      await db.run(sql`UPDATE broadcasts SET recovery_due_at = ${now + GUARD_WAIT_MS} WHERE id = ${broadcast.id}`);
      continue;
    }
    // On its own channel first; then, where the channel names a fallback, those it cannot reach go there.
    const ws = { workspaceId: broadcast.workspace_id, defaultCountry: broadcast.default_country };
    const fallback = broadcast.fallback_channel_id;
    // A fallback whose number is held waits for it, as the own channel does: planned without it now, the
    // contacts only it can reach would never be looked at again.
    const fallbackHeld = fallback !== null && (await guardHolds(db, fallback));
    const asks = [{}, ...(fallback !== null && !fallbackHeld ? [{ channelId: fallback }] : [])];
    let planned = true;
    // A quota backlog the plan left for later (waves ahead still to go, past the last wave): looked at
    // again when a plan can take it, or it would stay failed with automatic rounds left.
    let againAt = fallbackHeld ? now + GUARD_WAIT_MS : null;
    const onUnplanned = (at: number) => {
      againAt = againAt === null ? at : Math.min(againAt, at);
    };
    for (const ask of asks) {
      try {
        await resendFailed(db, ws, broadcast.id, { when: 'auto', ...ask }, now, { automatic: true, onUnplanned });
      } catch (error) {
        // Nothing a re-send can help (or all of it already planned), or nothing more on a channel
        // disconnected since (only its fallback may take them): done with this ask. Anything else: the
        // lease's end brings it back.
        // A text the fallback cannot take in one message (SMS after a long WhatsApp text) is done too:
        // asking again would only be refused again.
        const done =
          error instanceof ApiError &&
          (error.code === 'resend_nothing' ||
            error.code === 'resend_channel_disconnected' ||
            error.code === 'broadcast_text_too_long');
        if (!done) {
          log(`broadcast ${broadcast.id}: automatic re-send not planned`, error);
          planned = false;
          break;
        }
      }
    }
    if (!planned) continue;
    // Its own lease only: a failure reported meanwhile moved the time on (lateFailure), to be planned then.
    await db.run(sql`UPDATE broadcasts SET recovery_due_at = ${againAt}, recovery_late = 0
      WHERE id = ${broadcast.id} AND recovery_due_at = ${now + LEASE_MS}`);
    handled++;
  }
  return handled;
}
