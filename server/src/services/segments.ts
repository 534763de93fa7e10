import type { Segment, SegmentFilter } from '@rebound/shared';
import { MAX_SEGMENTS_PER_WORKSPACE, SegmentFilterSchema } from '@rebound/shared';
import { and, count, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { channels, segments } from '../db/schema';
import type { AuthContext } from '../lib/env';
import { ApiError, fieldIssue } from '../lib/errors';
import { countSegment, sampleSegment } from '../segments/compile';
import { workspaceSpelling } from './custom-field-keys';

type SegmentRow = typeof segments.$inferSelect;
type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

const nameKey = (name: string) => name.trim().toLowerCase();

function toSegment(row: SegmentRow): Segment {
  return {
    id: row.id,
    name: row.name,
    // As stored: a filter written before a limit tightened (a re-send's tag over 100 characters) is still
    // read back, rather than failing the whole list of segments.
    filter: (SegmentFilterSchema.safeParse(row.filter).data ?? row.filter) as Segment['filter'],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A live segment of the workspace, or the reference page's "Contact segment not found". */
export async function getSegmentRow(db: Database | Tx, workspaceId: number, id: number): Promise<SegmentRow> {
  const [row] = await db
    .select()
    .from(segments)
    .where(and(eq(segments.id, id), eq(segments.workspaceId, workspaceId), isNull(segments.deletedAt)));
  if (!row) throw new ApiError(404, 'segment_not_found', {}, { id });
  return row;
}

export async function getSegment(db: Database, workspaceId: number, id: number): Promise<Segment> {
  return toSegment(await getSegmentRow(db, workspaceId, id));
}

export async function listSegments(db: Database, workspaceId: number): Promise<Segment[]> {
  const rows = await db
    .select()
    .from(segments)
    .where(and(eq(segments.workspaceId, workspaceId), isNull(segments.deletedAt)))
    .orderBy(segments.id);
  return rows.map(toSegment);
}

async function assertNameFree(tx: Tx, workspaceId: number, name: string, exceptId?: number) {
  const [taken] = await tx
    .select({ id: segments.id })
    .from(segments)
    .where(
      and(
        eq(segments.workspaceId, workspaceId),
        eq(segments.nameKey, nameKey(name)),
        isNull(segments.deletedAt),
        exceptId === undefined ? undefined : ne(segments.id, exceptId),
      ),
    );
  if (taken) throw new ApiError(409, 'segment_name_taken', {}, [fieldIssue('body.name', 'nameTaken')]);
}

/** Conditions may only name channels of this workspace (tags may be ones nobody has yet). */
async function assertChannelsExist(tx: Tx, workspaceId: number, filter: SegmentFilter) {
  const ids = [
    ...new Set(filter.groups.flatMap((g) => g.conditions.flatMap((c) => (c.type === 'channel' ? [c.channelId] : [])))),
  ];
  if (ids.length === 0) return;
  const rows = await tx
    .select({ id: channels.id, type: channels.type })
    .from(channels)
    .where(and(eq(channels.workspaceId, workspaceId), inArray(channels.id, ids), isNull(channels.deletedAt)));
  const found = new Set(rows.map((row) => row.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) {
    throw new ApiError(422, 'segment_filter_channel', { channelId: missing }, [
      fieldIssue('body.filter', 'unknownChannel', { channelId: missing }),
    ]);
  }
}

/** Creates a segment; the 500 cap and the unique name are checked inside the write transaction. */
export async function createSegment(db: Database, workspaceId: number, input: { name: string; filter: SegmentFilter }) {
  return db.transaction(async (tx) => {
    // The segments re-sends make for their tags ("transmisión fallida … (#42)", one per re-sent broadcast
    // and per automatic round) are the record of a recovery, not a manager's: they never use up the cap.
    const [live] = await tx
      .select({ n: count() })
      .from(segments)
      .where(
        and(
          eq(segments.workspaceId, workspaceId),
          isNull(segments.deletedAt),
          sql`${segments.id} NOT IN (SELECT segment_id FROM broadcasts WHERE workspace_id = ${workspaceId}
            AND resend_of_id IS NOT NULL AND segment_id IS NOT NULL)`,
        ),
      );
    if ((live?.n ?? 0) >= MAX_SEGMENTS_PER_WORKSPACE) throw new ApiError(409, 'segment_limit_reached');
    await assertNameFree(tx, workspaceId, input.name);
    await assertChannelsExist(tx, workspaceId, input.filter);
    const filter = await spelledFilter(db, workspaceId, input.filter);
    const [row] = await tx
      .insert(segments)
      .values({ workspaceId, name: input.name, nameKey: nameKey(input.name), filter })
      .returning();
    if (!row) throw new Error('segment insert returned nothing');
    return toSegment(row);
  });
}

export async function updateSegment(
  db: Database,
  workspaceId: number,
  id: number,
  patch: { name?: string | undefined; filter?: SegmentFilter | undefined },
) {
  return db.transaction(async (tx) => {
    const current = await getSegmentRow(tx, workspaceId, id);
    if (patch.name !== undefined) await assertNameFree(tx, workspaceId, patch.name, current.id);
    if (patch.filter) await assertChannelsExist(tx, workspaceId, patch.filter);
    const [row] = await tx
      .update(segments)
      .set({
        ...(patch.name !== undefined && { name: patch.name, nameKey: nameKey(patch.name) }),
        ...(patch.filter && { filter: await spelledFilter(db, workspaceId, patch.filter) }),
        updatedAt: new Date(),
      })
      .where(eq(segments.id, current.id))
      .returning();
    if (!row) throw new ApiError(404, 'segment_not_found');
    return toSegment(row);
  });
}

/**
 * The filter with its custom fields spelled as the workspace's contacts spell them: "custom.plan" where
 * they hold "Plan" reads "Plan" (a JSON path is exact about case, and would find nobody).
 */
async function spelledFilter(db: Database, workspaceId: number, filter: SegmentFilter): Promise<SegmentFilter> {
  const keys = filter.groups.flatMap((g) =>
    g.conditions.flatMap((c) => (c.type === 'field' && c.field.startsWith('custom.') ? [c.field.slice(7)] : [])),
  );
  const spelling = await workspaceSpelling(db, workspaceId, keys);
  if (spelling.size === 0) return filter;
  return {
    ...filter,
    groups: filter.groups.map((g) => ({
      ...g,
      conditions: g.conditions.map((c) =>
        c.type === 'field' && spelling.has(c.field.slice(7)) && c.field.startsWith('custom.')
          ? { ...c, field: `custom.${spelling.get(c.field.slice(7))}` }
          : c,
      ),
    })),
  };
}

/** Soft delete, so a broadcast scheduled on it can say "target segment not found" later. */
export async function deleteSegment(db: Database, workspaceId: number, id: number): Promise<void> {
  const current = await getSegmentRow(db, workspaceId, id);
  await db.update(segments).set({ deletedAt: new Date() }).where(eq(segments.id, current.id));
}

export async function previewSegment(db: Database, ws: Workspace, id: number, sampleSize: number) {
  const segment = await getSegment(db, ws.workspaceId, id);
  const [total, sample] = await Promise.all([
    countSegment(db, ws, segment.filter),
    sampleSegment(db, ws, segment.filter, sampleSize),
  ]);
  return { count: total, sample };
}
