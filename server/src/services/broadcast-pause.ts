/**
 * A manager's answer to a paused broadcast: resume it. (Cancelling is the ordinary cancel.) The pause
 * itself is the guard's (engine/guard.ts) or Meta's (engine/delivery.ts).
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { broadcasts } from '../db/schema';
import { assertTransition } from '../engine/broadcast-state';
import { recordEvent } from '../engine/events';
import { forgetWindow, liftHold, pausesNumber } from '../engine/guard';
import type { AuthContext } from '../lib/env';
import { ApiError } from '../lib/errors';
import { getRow } from './broadcasts';

/**
 * Resumes a paused broadcast where it was: sending again from the recipients still queued (none is sent
 * twice: what went out is no longer queued), or scheduled if it paused before it started.
 */
export async function resumeBroadcast(
  db: Database,
  auth: Pick<AuthContext, 'workspaceId' | 'tokenId' | 'tokenName' | 'role'>,
  id: number,
  now = Date.now(),
) {
  return db.transaction(async (tx) => {
    const current = await getRow(tx, auth.workspaceId, id);
    if (current.status !== 'paused') throw new ApiError(409, 'broadcast_not_paused', { status: current.status });
    const to = current.startedAt ? 'sending' : 'scheduled';
    assertTransition(current.status, to);
    const [row] = await tx
      .update(broadcasts)
      .set({ status: to, pause: null, updatedAt: new Date(now) })
      .where(and(eq(broadcasts.id, id), eq(broadcasts.status, 'paused')))
      .returning();
    if (!row) throw new ApiError(409, 'broadcast_not_paused', { status: current.status });
    if (current.pause) await forgetWindow(tx, current.pause, { broadcastId: id, channelId: current.channelId });
    // A pause about the number itself: the manager weighed the number, which takes new broadcasts again;
    // only the hold this broadcast was paused for (a later one, the guard's say, is weighed on its own).
    if (current.pause && pausesNumber(current.pause)) await liftHold(tx, current.channelId, current.pause);
    await recordEvent(tx, {
      workspaceId: auth.workspaceId,
      type: 'broadcast.resumed',
      broadcastId: id,
      data: { name: current.name, by: { tokenId: auth.tokenId, tokenName: auth.tokenName, role: auth.role } },
      at: now,
    });
    return row;
  });
}
