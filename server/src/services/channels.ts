import type { Channel, ChannelCreate, ChannelLimits, ChannelUpdate } from '@rebound/shared';
import { channelCapabilities } from '@rebound/shared';
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client';
import { channels } from '../db/schema';
import { quotaScope, quotaUsage } from '../engine/limits';
import { notFound } from '../lib/errors';

type ChannelRow = typeof channels.$inferSelect;

export async function getChannelRow(db: Database, workspaceId: number, id: number): Promise<ChannelRow> {
  const [row] = await db
    .select()
    .from(channels)
    .where(and(eq(channels.id, id), eq(channels.workspaceId, workspaceId), isNull(channels.deletedAt)));
  if (!row) throw notFound('channel', { id });
  return row;
}

/** The channel as the API shows it, with its limit use right now. */
export async function toChannel(db: Database, row: ChannelRow, now = Date.now()): Promise<Channel> {
  const usage = await quotaUsage(db, await quotaScope(db, row), now);
  return {
    ...describeChannel(row),
    usage: {
      quotaUsed: usage.used,
      quotaRemaining: usage.remaining,
      capacityFreesAt: usage.capacityFreesAt === null ? null : new Date(usage.capacityFreesAt).toISOString(),
    },
  };
}

function describeChannel(row: ChannelRow): Omit<Channel, 'usage'> {
  const capability = channelCapabilities[row.type];
  const set = Object.keys(row.credentials).filter((key) => row.credentials[key] !== '');
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    canBroadcast: capability.canBroadcast,
    limits: {
      dailyQuota: row.dailyQuota,
      messagesPerSecond: row.messagesPerSecond,
      pairRatePerRecipientSeconds: row.pairRatePerRecipientSeconds,
    },
    credentialsSet: set.sort(),
    credentialsMissing: capability.credentialKeys.filter((key) => !set.includes(key)),
    baseUrl: row.baseUrl,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listChannels(db: Database, workspaceId: number): Promise<Channel[]> {
  const rows = await db
    .select()
    .from(channels)
    .where(and(eq(channels.workspaceId, workspaceId), isNull(channels.deletedAt)))
    .orderBy(channels.id);
  return Promise.all(rows.map((row) => toChannel(db, row)));
}

export async function createChannel(db: Database, workspaceId: number, input: ChannelCreate): Promise<Channel> {
  const limits: ChannelLimits = { ...channelCapabilities[input.type].defaultLimits, ...input.limits };
  const [row] = await db
    .insert(channels)
    .values({
      workspaceId,
      type: input.type,
      name: input.name,
      credentials: input.credentials ?? {},
      baseUrl: input.baseUrl ?? null,
      ...limits,
    })
    .returning();
  if (!row) throw new Error('channel insert returned nothing');
  return toChannel(db, row);
}

export async function updateChannel(
  db: Database,
  workspaceId: number,
  id: number,
  patch: ChannelUpdate,
): Promise<Channel> {
  const current = await getChannelRow(db, workspaceId, id);
  const [row] = await db
    .update(channels)
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.baseUrl !== undefined && { baseUrl: patch.baseUrl }),
      // Credentials merge key by key, so a patch can rotate one secret without resending the others.
      ...(patch.credentials && { credentials: { ...current.credentials, ...patch.credentials } }),
      ...patch.limits,
      updatedAt: new Date(),
    })
    .where(eq(channels.id, current.id))
    .returning();
  if (!row) throw notFound('channel', { id });
  return toChannel(db, row);
}

/** Soft delete: failed messages and exports keep naming the channel they went through. */
export async function deleteChannel(db: Database, workspaceId: number, id: number): Promise<void> {
  const current = await getChannelRow(db, workspaceId, id);
  await db.update(channels).set({ deletedAt: new Date() }).where(eq(channels.id, current.id));
}
