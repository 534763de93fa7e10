/**
 * Tag and re-send: the reference page's manual recovery (export, re-import with a tag, segment
 * "contact tag has any of <tag>", send again) as one call. Every step is idempotent, so asking twice,
 * or again after a failure half-way, never tags twice or creates a second re-send.
 */
import { type FailureReason, type Language, resendableReasons } from '@rebound/shared';
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { broadcasts, channels, segments, workspaces } from '../db/schema';
import { recordEvent } from '../engine/events';
import { capacityAvailableAt } from '../engine/limits';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { createBroadcast, scheduleBroadcast } from './broadcasts';
import { createSegment } from './segments';
import { ensureTags, tagKey } from './tags';

export interface ResendRequest {
  tag?: string | undefined;
  reasons?: FailureReason[] | undefined;
  when?: string | undefined;
  tagOnly?: boolean | undefined;
}

const TAG_WORDS: Record<Language, string> = { es: 'transmisión fallida', en: 'failed broadcast' };
const RESEND_WORDS: Record<Language, string> = { es: 'reenvío', en: 're-send' };

/** "transmisión fallida 112526 (#42)": the reference page's tag, made unique per broadcast. */
export function defaultResendTag(
  language: Language,
  broadcast: { id: number; startedAt: Date | null; createdAt: Date },
) {
  const day = broadcast.startedAt ?? broadcast.createdAt;
  const mmddyy = [day.getUTCMonth() + 1, day.getUTCDate(), day.getUTCFullYear() % 100]
    .map((n) => String(n).padStart(2, '0'))
    .join('');
  return `${TAG_WORDS[language]} ${mmddyy} (#${broadcast.id})`;
}

export async function resendFailed(
  db: Database,
  ws: Pick<AuthContext, 'workspaceId' | 'defaultCountry'>,
  broadcastId: number,
  request: ResendRequest,
  now = Date.now(),
) {
  const [original] = await db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.id, broadcastId), eq(broadcasts.workspaceId, ws.workspaceId)));
  if (!original) throw notFound('broadcast', { id: broadcastId });
  if (original.status === 'draft' || original.status === 'scheduled' || original.status === 'sending') {
    throw new ApiError(409, 'resend_not_finished', { status: original.status });
  }
  const [workspace] = await db.select().from(workspaces).where(eq(workspaces.id, ws.workspaceId));
  const language = workspace?.language ?? 'es';
  const reasons = request.reasons ?? resendableReasons();
  const tag = request.tag ?? defaultResendTag(language, original);

  // 1. Tag: one statement, and a contact already tagged is left alone.
  const [tagId] = await ensureTags(db, ws.workspaceId, [tag]);
  const failed = await db.all<{ reason: string | null; n: number }>(sql`SELECT reason, count(*) AS n FROM messages
    WHERE broadcast_id = ${broadcastId} AND state IN ('failed', 'excluded') GROUP BY reason`);
  const skipped: Record<string, number> = {};
  for (const { reason, n } of failed)
    if (!reason || !reasons.includes(reason as FailureReason)) skipped[reason ?? 'provider_error'] = n;
  const tagged = await db.all<{ contact_id: number }>(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
    SELECT DISTINCT ${tagId}, m.contact_id FROM messages m JOIN contacts c ON c.id = m.contact_id
    WHERE m.broadcast_id = ${broadcastId} AND m.state IN ('failed', 'excluded') AND m.reason IN ${reasons}
    RETURNING contact_id`);
  const [{ n: carrying = 0 } = {}] = await db.all<{
    n: number;
  }>(sql`SELECT count(DISTINCT m.contact_id) AS n FROM messages m
    JOIN contact_tags ct ON ct.contact_id = m.contact_id AND ct.tag_id = ${tagId}
    WHERE m.broadcast_id = ${broadcastId} AND m.state IN ('failed', 'excluded') AND m.reason IN ${reasons}`);
  const result = {
    tag,
    tagged: carrying,
    newlyTagged: tagged.length,
    skipped,
    segmentId: null as number | null,
    broadcastId: null as number | null,
    scheduledAt: null as string | null,
    reused: false,
  };
  if (request.tagOnly) return result;
  if (carrying === 0) throw new ApiError(422, 'resend_nothing', {}, { skipped });

  // 2. The segment "contact tag has any of <tag>", reused when it exists (within the 500 cap otherwise).
  const [existingSegment] = await db
    .select()
    .from(segments)
    .where(
      and(
        eq(segments.workspaceId, ws.workspaceId),
        eq(segments.nameKey, tagKey(tag)),
        sql`${segments.deletedAt} IS NULL`,
      ),
    );
  const segmentId =
    existingSegment?.id ??
    (
      await createSegment(db, ws.workspaceId, {
        name: tag,
        filter: {
          match: 'all',
          groups: [{ match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [tag] }] }],
        },
      })
    ).id;

  // 3. One re-send per broadcast: an earlier one (not cancelled) is reused.
  const [earlier] = await db
    .select()
    .from(broadcasts)
    .where(and(eq(broadcasts.resendOfId, broadcastId), ne(broadcasts.status, 'cancelled')));
  const resend =
    earlier ??
    (await createBroadcast(db, ws.workspaceId, {
      name: `${original.name} (${RESEND_WORDS[language]})`,
      channelId: original.channelId,
      segmentId,
      content: original.content,
      sendRate: original.sendRate,
      resendOfId: broadcastId,
    }));

  // 4. When: now, at a time, or when the rolling quota has room for all of them (never into the wall).
  let scheduledAt = resend.scheduledAt;
  if (resend.status === 'draft') {
    const quotaWasAReason = reasons.includes('quota_reached') && failed.some((f) => f.reason === 'quota_reached');
    const when = request.when ?? (quotaWasAReason ? 'capacity' : 'now');
    let at = now;
    if (when === 'capacity') {
      const [channel] = await db.select().from(channels).where(eq(channels.id, original.channelId));
      const needed = Math.min(carrying, channel?.dailyQuota ?? carrying);
      at = (await capacityAvailableAt(db, original.channelId, channel?.dailyQuota ?? null, needed, now)) ?? now;
    } else if (when !== 'now') at = Date.parse(when);
    const scheduled = await scheduleBroadcast(db, ws, resend.id, new Date(Math.max(at, now)), now);
    scheduledAt = scheduled.scheduledAt;
    await recordEvent(db, {
      workspaceId: ws.workspaceId,
      type: 'resend.scheduled',
      broadcastId: resend.id,
      data: {
        name: resend.name,
        originalId: broadcastId,
        originalName: original.name,
        tagged: carrying,
        at: scheduledAt?.toISOString(),
      },
      at: now,
    });
  }
  return {
    ...result,
    segmentId,
    broadcastId: resend.id,
    scheduledAt: scheduledAt?.toISOString() ?? null,
    reused: earlier !== undefined,
  };
}
