import type {
  Channel,
  ChannelCreate,
  ChannelLimits,
  ChannelUpdate,
  GuardSettings,
  Language,
  Role,
} from '@rebound/shared';
import {
  CredentialsSchema,
  channelCapabilities,
  guardSettings,
  MAX_CHANNELS_PER_WORKSPACE,
  parseId,
  priceTable,
} from '@rebound/shared';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { WEBHOOK_PATHS } from '../channels';
import type { ChannelConfig } from '../channels/types';
import { providerUrlAllowlistFromEnv } from '../config';
import type { Database, Queryable } from '../db/client';
import { type ChannelRow, channels } from '../db/schema';
import { forgetWindow, liftHold } from '../engine/guard';
import { quotaScope, quotaUsage, resetSendSlot } from '../engine/limits';
import { validationDetails } from '../lib/body';
import { ApiError, notFound } from '../lib/errors';
import { checkProviderUrl } from '../lib/provider-url';

/**
 * How long a disconnected channel still takes its provider's callbacks, still signed with its stored
 * secrets: the delivery reports, late failures and opt-outs of what it sent before (Meta retries a
 * webhook for up to 7 days).
 */
const DISCONNECTED_REPORTS_MS = 7 * 24 * 3_600_000;

/**
 * The channel a delivery callback's path names (/webhooks/<provider>/<id>): a live channel of that
 * provider, or "not found" (a callback for another provider's channel is as good as no channel).
 */
export async function webhookChannel(db: Database, provider: string, id: string): Promise<ChannelConfig> {
  // Digits only, as every path ID: /webhooks/twilio/0x10 is not channel 16.
  const channelId = parseId(id);
  if (channelId === undefined) throw notFound('channel');
  const [row] = await db
    .select()
    .from(channels)
    .where(
      and(
        eq(channels.id, channelId),
        or(isNull(channels.deletedAt), gt(channels.deletedAt, new Date(Date.now() - DISCONNECTED_REPORTS_MS))),
      ),
    );
  if (!row || WEBHOOK_PATHS[row.type] !== provider) throw notFound('channel');
  return channelConfig(row);
}

/** What a callback's parser and applyWebhook need of a channel. */
function channelConfig(row: ChannelRow): ChannelConfig {
  return {
    id: row.id,
    type: row.type,
    credentials: row.credentials,
    baseUrl: row.baseUrl,
    displayNumber: row.displayNumber,
    businessAccount: row.businessAccount,
  };
}

/**
 * The workspace's other channels of the same Meta app (its app secret) and type: Meta posts every number's
 * (or Page's) events to the one callback URL an app has, so a callback to one of them carries theirs too.
 * Only Meta's channels; disconnected ones within the same window as webhookChannel.
 */
export async function sameAppChannels(db: Database, channel: ChannelConfig): Promise<ChannelConfig[]> {
  const secret = channel.credentials.appSecret;
  if (!secret || (channel.type !== 'whatsapp' && channel.type !== 'messenger')) return [];
  const rows = await db
    .select()
    .from(channels)
    .where(
      and(
        eq(channels.type, channel.type),
        sql`${channels.id} != ${channel.id}`,
        sql`${channels.workspaceId} = (SELECT workspace_id FROM channels WHERE id = ${channel.id})`,
        sql`json_extract(${channels.credentials}, '$.appSecret') = ${secret}`,
        or(isNull(channels.deletedAt), gt(channels.deletedAt, new Date(Date.now() - DISCONNECTED_REPORTS_MS))),
      ),
    );
  return rows.map(channelConfig);
}

/**
 * A manager's resume of the number itself: lifts its hold (what the guard or Meta's flag set, even with
 * no broadcast paused for it), and forgets the channel's window, so that what was weighed does not trip
 * it again. Its paused broadcasts stay paused: each is resumed on its own.
 */
export async function resumeChannel(db: Database, workspaceId: number, id: number): Promise<Channel> {
  await db.transaction(async (tx) => {
    await getChannelRow(tx, workspaceId, id);
    const hold = await liftHold(tx, id);
    if (hold) await forgetWindow(tx, hold, { broadcastId: 0, channelId: id });
  });
  return toChannel(db, await getChannelRow(db, workspaceId, id));
}

export async function getChannelRow(db: Queryable, workspaceId: number, id: number): Promise<ChannelRow> {
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
    portfolioId: row.portfolioId,
    guard: guardSettings(row.guard),
    prices: priceTable(row.prices),
    fallbackChannelId: row.fallbackChannelId,
    hold: row.hold ?? null,
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

/** 422 when a base URL leads into Rebound's own network (lib/provider-url.ts): nothing is written. */
async function assertProviderUrl(baseUrl: string | null | undefined, allowlist: readonly string[]): Promise<void> {
  if (!baseUrl) return;
  const refusal = await checkProviderUrl(baseUrl, allowlist);
  if (refusal) {
    // Never the address a name resolved to: the answer would map Rebound's own network for the caller.
    throw new ApiError(422, 'channel_base_url_internal', { host: refusal.host }, [
      { path: 'body.baseUrl', reason: refusal.reason, host: refusal.host },
    ]);
  }
}

export async function createChannel(
  db: Database,
  workspaceId: number,
  input: ChannelCreate,
  providerUrlAllowlist: readonly string[] = providerUrlAllowlistFromEnv(),
): Promise<Channel> {
  await assertProviderUrl(input.baseUrl, providerUrlAllowlist);
  assertGuard(guardSettings(input.guard), input);
  const limits: ChannelLimits = { ...channelCapabilities[input.type].defaultLimits, ...input.limits };
  // Counted in the write transaction that inserts: two creates at once cannot both take the last place.
  const row = await db.transaction(async (tx) => {
    const [live] = await tx.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM channels WHERE workspace_id = ${workspaceId} AND deleted_at IS NULL`,
    );
    if (Number(live?.n ?? 0) >= MAX_CHANNELS_PER_WORKSPACE)
      throw new ApiError(409, 'channel_limit_reached', { max: MAX_CHANNELS_PER_WORKSPACE });
    const [inserted] = await tx
      .insert(channels)
      .values({
        workspaceId,
        type: input.type,
        name: input.name,
        credentials: input.credentials ?? {},
        baseUrl: input.baseUrl ?? null,
        guard: input.guard ?? null,
        prices: input.prices ?? null,
        ...limits,
      })
      .returning();
    return inserted;
  });
  if (!row) throw new Error('channel insert returned nothing');
  return toChannel(db, row);
}

/** Who is changing a channel, and where its requests may go. */
export interface ChannelWriter {
  role: Role;
  providerUrlAllowlist: readonly string[];
  language?: Language;
}

/**
 * A new rate above the stored type's ceiling: the same 422 the create body gets (the schema knows the
 * type there; a patch does not carry it).
 */
function assertRateWithinCeiling(type: ChannelRow['type'], patch: ChannelUpdate, language: Language = 'en') {
  const rate = patch.limits?.messagesPerSecond;
  if (rate === undefined) return;
  const ceiling = z.object({
    limits: z.object({ messagesPerSecond: z.number().max(channelCapabilities[type].maxMessagesPerSecond) }),
  });
  const checked = ceiling.safeParse({ limits: { messagesPerSecond: rate } });
  if (!checked.success)
    throw new ApiError(422, 'validation_failed', {}, validationDetails(checked.error.issues, patch, 'body', language));
}

/** A guard asking for more events than its window holds would never pause anything: 422, as zod says it. */
function assertGuard(guard: GuardSettings, body: unknown, language: Language = 'en') {
  const fits = z.object({ minEvents: z.number().max(guard.window) });
  const checked = fits.safeParse({ minEvents: guard.minEvents });
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => ({ ...issue, path: ['guard', ...issue.path] }));
    throw new ApiError(422, 'validation_failed', {}, validationDetails(issues, body, 'body', language));
  }
}

/** A fallback is another channel of the same workspace that can broadcast (422 otherwise, nothing written). */
async function assertFallback(db: Queryable, channel: ChannelRow, fallbackId: number) {
  const [fallback] = await db
    .select({ type: channels.type })
    .from(channels)
    .where(and(eq(channels.id, fallbackId), eq(channels.workspaceId, channel.workspaceId), isNull(channels.deletedAt)));
  if (fallbackId === channel.id || !fallback || !channelCapabilities[fallback.type].canBroadcast)
    throw new ApiError(422, 'channel_fallback_invalid', {}, [{ path: 'body.fallbackChannelId', value: fallbackId }]);
}

export async function updateChannel(
  db: Database,
  workspaceId: number,
  id: number,
  patch: ChannelUpdate,
  writer: ChannelWriter,
): Promise<Channel> {
  const current = await getChannelRow(db, workspaceId, id);
  assertRateWithinCeiling(current.type, patch, writer.language);
  const guard = patch.guard && { ...(current.guard ?? {}), ...patch.guard };
  if (patch.fallbackChannelId != null) await assertFallback(db, current, patch.fallbackChannelId);
  // Prices merge country by country: a patch for Brazil keeps Argentina's. A new currency starts its
  // table afresh: figures in the old one would read as the new one's.
  const newCurrency =
    patch.prices?.currency !== undefined && patch.prices.currency !== (current.prices?.currency ?? 'USD');
  const kept = newCurrency ? {} : (current.prices ?? {});
  const prices = patch.prices && {
    ...kept,
    ...patch.prices,
    whatsapp: { ...(kept.whatsapp ?? {}), ...(patch.prices.whatsapp ?? {}) },
    smsPerSegment: { ...(kept.smsPerSegment ?? {}), ...(patch.prices.smsPerSegment ?? {}) },
  };
  if (guard) assertGuard(guardSettings(guard), patch, writer.language);
  // The base URL decides where the stored credentials are sent: only the owner may move it, and a move
  // forgets them (a channel's type cannot change at all). Sending the same URL again changes nothing.
  const moving = patch.baseUrl !== undefined && (patch.baseUrl ?? null) !== current.baseUrl;
  // Credentials merge key by key (below): the cap on keys holds for what is stored, not for each patch
  // alone, or patches of 20 new keys each would grow the row (read by every send and webhook) without end.
  // Only a patch that adds keys is counted (a rotation of a stored secret always goes through, also on a
  // channel stored past the cap), and only the count: the patch's values were checked at the edge.
  const added =
    patch.credentials && !moving ? Object.keys(patch.credentials).filter((key) => !(key in current.credentials)) : [];
  if (added.length > 0) {
    const keys = Object.fromEntries([...Object.keys(current.credentials), ...added].map((key) => [key, '']));
    const merged = CredentialsSchema.safeParse(keys);
    if (!merged.success) {
      const issues = merged.error.issues.map((issue) => ({ ...issue, path: ['credentials', ...issue.path] }));
      throw new ApiError(
        422,
        'validation_failed',
        {},
        validationDetails(issues, patch, 'body', writer.language ?? 'en'),
      );
    }
  }
  if (moving && writer.role !== 'owner') throw new ApiError(403, 'channel_owner_only', { role: writer.role });
  if (moving) await assertProviderUrl(patch.baseUrl, writer.providerUrlAllowlist);
  // A new rate paces from the next send: slots reserved at the old rate are forgotten with the change.
  // What was learned for this number (its display form, its business account) is another number's once its ID changes.
  const newNumber =
    moving ||
    (patch.credentials?.phoneNumberId !== undefined &&
      patch.credentials.phoneNumberId !== current.credentials.phoneNumberId);
  const newRate =
    patch.limits?.messagesPerSecond !== undefined && patch.limits.messagesPerSecond !== current.messagesPerSecond;
  const row = await db.transaction(async (tx) => {
    if (newRate) await resetSendSlot(tx, current.id);
    const [updated] = await tx
      .update(channels)
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(moving && { baseUrl: patch.baseUrl ?? null, credentials: patch.credentials ?? {} }),
        // Credentials merge key by key, so a patch can rotate one secret without resending the others.
        ...(!moving && patch.credentials && { credentials: { ...current.credentials, ...patch.credentials } }),
        ...(newNumber && { displayNumber: null, businessAccount: null }),
        ...patch.limits,
        ...(guard && { guard }),
        ...(prices && { prices }),
        ...(patch.fallbackChannelId !== undefined && { fallbackChannelId: patch.fallbackChannelId }),
        updatedAt: new Date(),
      })
      // Only over the row as it was read: what is merged above (credentials, guard, prices) came from that
      // read, and an owner's move of the base URL meanwhile must not get the old secrets back.
      .where(and(eq(channels.id, current.id), eq(channels.updatedAt, current.updatedAt)))
      .returning();
    return updated;
  });
  if (!row) throw new ApiError(409, 'channel_changed');
  return toChannel(db, row);
}

/**
 * Soft delete: failed messages and exports keep naming the channel they went through. Refused while a
 * broadcast on it is unfinished (scheduled, sending or paused): a disconnected channel went on sending
 * with its stored credentials. The manager cancels those first, or waits for them to finish.
 */
export async function deleteChannel(db: Database, workspaceId: number, id: number, now = Date.now()): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await getChannelRow(tx, workspaceId, id);
    const [unfinished] = await tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM broadcasts
      WHERE channel_id = ${current.id} AND status IN ('scheduled', 'sending', 'paused')`);
    if (Number(unfinished?.n) > 0) throw new ApiError(409, 'channel_in_use', { count: Number(unfinished?.n) });
    await tx
      .update(channels)
      .set({ deletedAt: new Date(now) })
      .where(eq(channels.id, current.id));
    // Channels that fell back to it fall back to nothing: recovery would otherwise plan on a gone channel.
    await tx
      .update(channels)
      .set({ fallbackChannelId: null, updatedAt: new Date(now) })
      .where(and(eq(channels.workspaceId, workspaceId), eq(channels.fallbackChannelId, current.id)));
  });
}
