/**
 * The quality guard's storage and action: samples of outcomes in, a window out, and the pause. The rule
 * itself (which failures hurt the number, when a window trips) is shared/src/quality-guard.ts.
 *
 * Samples, not recipients: the engine writes one row per group of outcomes it writes down (how many,
 * how many hurt), a delivery report that brings such a failure one more; a window is the sum of a
 * broadcast's (or a channel's) latest rows, a few dozen, whatever the broadcast's size.
 */
import {
  type ChannelType,
  type GuardSettings,
  type GuardWindow,
  guardSettings,
  guardTripped,
  type Pause,
} from '@rebound/shared';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { broadcasts, channels, qualitySamples } from '../db/schema';
import { assertTransition } from './broadcast-state';
import { recordEvent } from './events';

/** Samples older than this are pruned: a window is about the latest sends, never last week's. */
const SAMPLE_TTL_MS = 2 * 24 * 3_600_000;

export interface QualitySample {
  channelId: number;
  broadcastId: number;
  at: number;
  outcomes: number;
  harmful: number;
}

/** The statement that records a sample: run alone, or batched with the outcomes it counts. */
export function sampleInsert(db: Queryable, sample: QualitySample) {
  return db.insert(qualitySamples).values(sample);
}

/**
 * The latest `size` outcomes of a broadcast or a channel. A sample that straddles the edge counts in
 * proportion; a sample of late failures (outcomes 0) inside the window counts whole.
 */
export async function qualityWindow(
  db: Queryable,
  scope: { broadcastId: number } | { channelId: number },
  size: number,
): Promise<GuardWindow> {
  const where =
    'broadcastId' in scope
      ? eq(qualitySamples.broadcastId, scope.broadcastId)
      : eq(qualitySamples.channelId, scope.channelId);
  // Groups hold 1 to about 1,000 outcomes: `size` rows always cover `size` outcomes.
  const rows = await db
    .select({ outcomes: qualitySamples.outcomes, harmful: qualitySamples.harmful })
    .from(qualitySamples)
    .where(where)
    .orderBy(sql`${qualitySamples.id} DESC`)
    .limit(Math.min(size, 2_000));
  let outcomes = 0;
  let harmful = 0;
  for (const row of rows) {
    if (outcomes >= size) break;
    const share = row.outcomes === 0 ? 1 : Math.min(1, (size - outcomes) / row.outcomes);
    outcomes += Math.round(row.outcomes * share);
    harmful += row.harmful * share;
  }
  return { outcomes, harmful: Math.round(harmful) };
}

async function settingsOf(db: Queryable, channelId: number): Promise<GuardSettings> {
  const [channel] = await db.select({ guard: channels.guard }).from(channels).where(eq(channels.id, channelId));
  return guardSettings(channel?.guard);
}

/**
 * Judges a broadcast after outcomes that hurt the number were written: its own window, then its
 * channel's (several broadcasts at once can hurt a number none of them would alone). Returns the
 * broadcasts it paused. Called only when the group had such outcomes: outcomes that did not hurt
 * only lower a window's share, they never trip it.
 */
export async function judgeQuality(
  db: Database,
  target: { broadcastId: number; channelId: number },
  now: number,
): Promise<number[]> {
  const settings = await settingsOf(db, target.channelId);
  if (!settings.enabled) return [];
  const own = await qualityWindow(db, { broadcastId: target.broadcastId }, settings.window);
  if (guardTripped(own, settings))
    return pauseBroadcasts(db, [target.broadcastId], { kind: 'quality', scope: 'broadcast', at: now, ...own }, now);
  const channel = await qualityWindow(db, { channelId: target.channelId }, settings.window);
  if (!guardTripped(channel, settings)) return [];
  return holdNumber(db, target.channelId, { kind: 'quality', scope: 'channel', at: now, ...channel }, now);
}

/**
 * The broadcasts a channel is sending or will send: what a pause of the whole channel stops. The
 * scheduled ones too (a re-send planned for tomorrow, an automatic round): the number is in trouble
 * now, and they would start on it unseen; a manager resumes them once it is weighed.
 */
export async function liveOn(db: Queryable, channelId: number): Promise<number[]> {
  const rows = await db
    .select({ id: broadcasts.id })
    .from(broadcasts)
    .where(and(eq(broadcasts.channelId, channelId), inArray(broadcasts.status, ['sending', 'scheduled'])));
  return rows.map((b) => b.id);
}

/**
 * Pauses broadcasts that are sending (or scheduled and not being started: a start half-frozen is left
 * to finish its freeze), with the reason and an event each. Returns the ones it paused.
 */
export async function pauseBroadcasts(db: Database, ids: number[], pause: Pause, now: number): Promise<number[]> {
  if (ids.length === 0) return [];
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({
        id: broadcasts.id,
        name: broadcasts.name,
        status: broadcasts.status,
        workspaceId: broadcasts.workspaceId,
      })
      .from(broadcasts)
      .where(
        and(
          inArray(broadcasts.id, ids),
          sql`(${broadcasts.status} = 'sending' OR (${broadcasts.status} = 'scheduled'
            AND NOT EXISTS (SELECT 1 FROM broadcast_starts s WHERE s.broadcast_id = ${broadcasts.id})))`,
        ),
      );
    for (const row of rows) {
      assertTransition(row.status, 'paused');
      await tx
        .update(broadcasts)
        .set({ status: 'paused', pause, updatedAt: new Date(now) })
        .where(and(eq(broadcasts.id, row.id), eq(broadcasts.status, row.status)));
      await recordEvent(tx, {
        workspaceId: row.workspaceId,
        type: 'broadcast.paused',
        broadcastId: row.id,
        data: { name: row.name, previous: row.status, pause },
        at: now,
      });
    }
    return rows.map((r) => r.id);
  });
}

/**
 * Forgets the window that tripped, so that a resumed broadcast is judged on what it sends from now on
 * (otherwise the next group would pause it again on the very outcomes a manager has already weighed).
 */
export async function forgetWindow(db: Queryable, pause: Pause, target: { broadcastId: number; channelId: number }) {
  if (pause.kind !== 'quality') return;
  await db
    .delete(qualitySamples)
    .where(
      pause.scope === 'channel'
        ? eq(qualitySamples.channelId, target.channelId)
        : eq(qualitySamples.broadcastId, target.broadcastId),
    );
}

/** Drops samples too old to be in any window. */
export async function pruneQualitySamples(db: Queryable, now: number) {
  await db.delete(qualitySamples).where(sql`${qualitySamples.at} < ${now - SAMPLE_TTL_MS}`);
}

/**
 * Holds the number: the guard's channel window tripped, or Meta flagged it. Written on the channel first
 * (a start racing this sees it), whether or not anything is live on it now, then everything live on it
 * pauses. The first hold stays until a manager lifts it (liftHold). Returns the broadcasts it paused.
 */
export async function holdNumber(db: Database, channelId: number, pause: Pause, now: number): Promise<number[]> {
  await db.run(sql`UPDATE channels SET hold = ${JSON.stringify(pause)} WHERE id = ${channelId} AND hold IS NULL`);
  return pauseBroadcasts(db, await liveOn(db, channelId), pause, now);
}

/** Whether a pause is about the number itself (what holds it), not one broadcast's audience or template. */
export function pausesNumber(pause: Pause): boolean {
  return pause.kind === 'number_quality' || (pause.kind === 'quality' && pause.scope === 'channel');
}

/**
 * A manager weighed the number (resumed it): new broadcasts may start on it again. With `only`, the hold
 * is lifted only when it is that pause (the one a resumed broadcast was paused for). Returns what it lifted.
 */
export async function liftHold(db: Queryable, channelId: number, only?: Pause): Promise<Pause | undefined> {
  const hold = await numberHold(db, channelId);
  if (!hold || (only && (hold.kind !== only.kind || hold.at !== only.at))) return undefined;
  await db.run(sql`UPDATE channels SET hold = NULL WHERE id = ${channelId}`);
  return hold;
}

/** What holds the channel's number, if anything: nothing new starts on it until a manager lifts it. */
export async function numberHold(db: Queryable, channelId: number): Promise<Pause | undefined> {
  const row = await first<{ hold: string | null }>(db, sql`SELECT hold FROM channels WHERE id = ${channelId}`);
  return row?.hold ? (JSON.parse(row.hold) as Pause) : undefined;
}

/**
 * Whether the number is held (numberHold): automatic recovery waits, a re-send or a new broadcast on it
 * is refused.
 */
export async function guardHolds(db: Queryable, channelId: number): Promise<boolean> {
  return (await numberHold(db, channelId)) !== undefined;
}

/**
 * The hold on the number of a due broadcast, if any: one scheduled before the number was held (a re-send
 * planned for tomorrow), or written while the hold tripped, waits paused the same way until a manager
 * lifts it. Not one whose start is under way (its audience half frozen): that start finishes, paused.
 */
export async function pauseHoldingStart(db: Queryable, broadcastId: number): Promise<Pause | undefined> {
  const row = await first<{ hold: string }>(
    db,
    sql`SELECT c.hold AS hold FROM broadcasts b JOIN channels c ON c.id = b.channel_id
    WHERE b.id = ${broadcastId} AND c.hold IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM broadcast_starts s WHERE s.broadcast_id = b.id)`,
  );
  return row ? (JSON.parse(row.hold) as Pause) : undefined;
}

/** Meta's template events that stop a template from going out: its broadcasts pause. */
const TEMPLATE_PAUSES = new Set(['PAUSED', 'DISABLED']);

/** WhatsApp's refusals of a send for its template's standing, named as Meta's template events name them. */
const TEMPLATE_REFUSALS = new Map<string, 'PAUSED' | 'DISABLED'>([
  ['132015', 'PAUSED'],
  ['132016', 'DISABLED'],
]);

/** The template event a failure's code stands for (132015: paused, 132016: disabled), if any. */
export function templateRefusal(
  type: ChannelType,
  providerCode: string | undefined,
): 'PAUSED' | 'DISABLED' | undefined {
  return type === 'whatsapp' && providerCode ? TEMPLATE_REFUSALS.get(providerCode) : undefined;
}

/**
 * A template Meta paused or disabled (its event, or a send refused with 132015 or 132016): every broadcast
 * of this number that sends it (or is scheduled to) pauses, rather than fail each recipient in turn.
 * Returns the broadcasts paused.
 */
export async function pauseForTemplate(
  db: Database,
  channelId: number,
  template: { name: string; language?: string; event: string },
  now: number,
): Promise<number[]> {
  if (!TEMPLATE_PAUSES.has(template.event)) return [];
  // Only the paused language's: the same name in another language is another template to Meta.
  const using = await db.all<{ id: number }>(
    sql`SELECT id FROM broadcasts WHERE channel_id = ${channelId} AND status IN ('sending', 'scheduled')
      AND content ->> '$.template.name' = ${template.name}
      ${template.language ? sql`AND content ->> '$.template.language' = ${template.language}` : sql``}`,
  );
  return pauseBroadcasts(
    db,
    using.map((r) => r.id),
    { kind: 'template', scope: 'broadcast', at: now, template: template.name, event: template.event },
    now,
  );
}
