/**
 * WhatsApp business portfolios: one rolling 24 h limit shared by several numbers. The engine, the
 * pre-flight and the broadcast detail read the shared limit through `quotaScope` (engine/limits.ts);
 * this module only keeps the portfolios and which numbers belong to them.
 */
import {
  MAX_PORTFOLIOS_PER_WORKSPACE,
  type Portfolio,
  type PortfolioCreate,
  type PortfolioUpdate,
  tierOf,
  tierQuota,
} from '@rebound/shared';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { channels, portfolios } from '../db/schema';
import { quotaUsage } from '../engine/limits';
import { ApiError, notFound } from '../lib/errors';

type PortfolioRow = typeof portfolios.$inferSelect;

async function row(db: Database | Tx, workspaceId: number, id: number): Promise<PortfolioRow> {
  const [found] = await db
    .select()
    .from(portfolios)
    .where(and(eq(portfolios.id, id), eq(portfolios.workspaceId, workspaceId)));
  if (!found) throw notFound('portfolio', { id });
  return found;
}

async function toPortfolio(db: Database, found: PortfolioRow, now = Date.now()): Promise<Portfolio> {
  const members = await db
    .select({ id: channels.id, deletedAt: channels.deletedAt })
    .from(channels)
    .where(eq(channels.portfolioId, found.id))
    .orderBy(channels.id);
  // The numbers shown are the connected ones; the usage counts the disconnected too (engine/limits.ts).
  const channelIds = members.filter((m) => m.deletedAt === null).map((m) => m.id);
  const counted = { limit: found.dailyQuota, channelIds: members.map((m) => m.id), portfolioId: found.id };
  const usage = await quotaUsage(db, counted, now);
  return {
    id: found.id,
    name: found.name,
    tier: tierOf(found.dailyQuota),
    dailyQuota: found.dailyQuota,
    channelIds,
    usage: {
      used: usage.used,
      remaining: usage.remaining,
      capacityFreesAt: usage.capacityFreesAt === null ? null : new Date(usage.capacityFreesAt).toISOString(),
    },
    createdAt: found.createdAt.toISOString(),
  };
}

/** The limit a create or update asks for: a tier, a custom number, or (undefined) no change. */
function askedQuota(body: { tier?: PortfolioCreate['tier']; dailyQuota?: number | null }): number | null | undefined {
  if (body.tier !== undefined) return tierQuota(body.tier);
  return body.dailyQuota;
}

/**
 * Makes `channelIds` exactly the portfolio's numbers. Each must be one of the workspace's WhatsApp
 * channels: only WhatsApp numbers share a portfolio's limit. A number leaves any other portfolio.
 */
async function setMembers(tx: Tx, workspaceId: number, portfolioId: number, channelIds: number[]) {
  const wanted = [...new Set(channelIds)];
  if (wanted.length > 0) {
    const found = await tx
      .select({ id: channels.id, type: channels.type })
      .from(channels)
      .where(and(eq(channels.workspaceId, workspaceId), inArray(channels.id, wanted), isNull(channels.deletedAt)));
    for (const id of wanted) {
      const channel = found.find((c) => c.id === id);
      if (!channel) throw notFound('channel', { id });
      if (channel.type !== 'whatsapp')
        throw new ApiError(422, 'portfolio_channel_not_whatsapp', { channelId: id, type: channel.type });
    }
  }
  // A channel that joins or leaves counts its limit elsewhere from now: its edit time moves, so a
  // broadcast sending on it claims its next batch under the new limit (engine/claim.ts).
  // A disconnected number stays: what it sent still counts against the portfolio (engine/limits.ts).
  await tx
    .update(channels)
    .set({ portfolioId: null, updatedAt: new Date() })
    .where(
      and(
        eq(channels.portfolioId, portfolioId),
        isNull(channels.deletedAt),
        wanted.length ? sql`${channels.id} NOT IN (SELECT value FROM json_each(${JSON.stringify(wanted)}))` : sql`1`,
      ),
    );
  if (wanted.length)
    await tx
      .update(channels)
      .set({ portfolioId, updatedAt: new Date() })
      .where(and(inArray(channels.id, wanted), sql`${channels.portfolioId} IS NOT ${portfolioId}`));
}

export async function listPortfolios(db: Database, workspaceId: number): Promise<Portfolio[]> {
  const rows = await db.select().from(portfolios).where(eq(portfolios.workspaceId, workspaceId)).orderBy(portfolios.id);
  return Promise.all(rows.map((r) => toPortfolio(db, r)));
}

export async function getPortfolio(db: Database, workspaceId: number, id: number): Promise<Portfolio> {
  return toPortfolio(db, await row(db, workspaceId, id));
}

export async function createPortfolio(db: Database, workspaceId: number, body: PortfolioCreate): Promise<Portfolio> {
  const id = await db.transaction(async (tx) => {
    // Counted in the write transaction that inserts; listing them reads each one's use, so they are bounded.
    const [live] = await tx.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM portfolios WHERE workspace_id = ${workspaceId}`,
    );
    if (Number(live?.n ?? 0) >= MAX_PORTFOLIOS_PER_WORKSPACE)
      throw new ApiError(409, 'portfolio_limit_reached', { max: MAX_PORTFOLIOS_PER_WORKSPACE });
    const [created] = await tx
      .insert(portfolios)
      .values({
        workspaceId,
        name: body.name,
        // A new portfolio starts at Meta's lowest tier.
        dailyQuota: askedQuota(body) === undefined ? 250 : (askedQuota(body) ?? null),
      })
      .returning({ id: portfolios.id });
    if (!created) throw new Error('portfolio insert returned nothing');
    if (body.channelIds) await setMembers(tx, workspaceId, created.id, body.channelIds);
    return created.id;
  });
  return getPortfolio(db, workspaceId, id);
}

export async function updatePortfolio(
  db: Database,
  workspaceId: number,
  id: number,
  body: PortfolioUpdate,
): Promise<Portfolio> {
  await db.transaction(async (tx) => {
    await row(tx, workspaceId, id);
    const quota = askedQuota(body);
    const changes = {
      ...(body.name !== undefined && { name: body.name }),
      ...(quota !== undefined && { dailyQuota: quota }),
    };
    if (Object.keys(changes).length) await tx.update(portfolios).set(changes).where(eq(portfolios.id, id));
    if (body.channelIds) await setMembers(tx, workspaceId, id, body.channelIds);
  });
  return getPortfolio(db, workspaceId, id);
}

/** Its numbers go back to their own limits; what they sent stays in their own ledgers. */
export async function deletePortfolio(db: Database, workspaceId: number, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await row(tx, workspaceId, id);
    await tx.update(channels).set({ portfolioId: null, updatedAt: new Date() }).where(eq(channels.portfolioId, id));
    await tx.delete(portfolios).where(eq(portfolios.id, id));
  });
}
