/**
 * WhatsApp business portfolios: since October 2025 Meta sets the messaging limit (unique recipients
 * per rolling 24 h) on the business portfolio, shared by every number in it (../shared/channels.md).
 */
import { z } from 'zod';
import { cleanText, IdSchema, TimestampSchema } from './common';

/** Meta's tiers for a portfolio, lowest first; "unlimited" has no daily limit. */
export const PORTFOLIO_TIERS = ['250', '2000', '10000', '100000', 'unlimited'] as const;
export type PortfolioTier = (typeof PORTFOLIO_TIERS)[number];

/** The daily limit a tier means (null: unlimited). */
export function tierQuota(tier: PortfolioTier): number | null {
  return tier === 'unlimited' ? null : Number(tier);
}

/** The tier a limit is, or "custom" (e.g. the reference page's 1,000 of the older per-number model). */
export function tierOf(dailyQuota: number | null): PortfolioTier | 'custom' {
  if (dailyQuota === null) return 'unlimited';
  return (PORTFOLIO_TIERS as readonly string[]).includes(String(dailyQuota))
    ? (String(dailyQuota) as PortfolioTier)
    : 'custom';
}

const name = cleanText().trim().min(1).max(100);
const dailyQuota = z.number().int().positive().max(100_000_000).nullable().meta({
  description: "A limit that is not one of Meta's tiers (e.g. 1,000); null: unlimited. Give `tier` or this.",
});
const tier = z.enum(PORTFOLIO_TIERS).meta({ description: "Meta's messaging tier: 250 for a new portfolio." });
const channelIds = z.array(IdSchema).max(100).meta({
  description: "The WhatsApp channels (numbers) that share the portfolio's limit; replaces the list.",
});

export const PortfolioSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  tier: z.enum([...PORTFOLIO_TIERS, 'custom']),
  dailyQuota: z.number().int().nullable(),
  channelIds: z.array(z.number().int()),
  usage: z
    .object({
      used: z.number().int(),
      remaining: z.number().int().nullable(),
      capacityFreesAt: TimestampSchema.nullable(),
    })
    .meta({ description: 'Unique recipients messaged by any of its numbers in the last 24 h.' }),
  createdAt: TimestampSchema,
});
export type Portfolio = z.infer<typeof PortfolioSchema>;
export const PortfolioListSchema = z.object({ data: z.array(PortfolioSchema) });

/** Portfolios a workspace keeps: as many as it may have channels (each groups at least one to count). */
export const MAX_PORTFOLIOS_PER_WORKSPACE = 200;

export const PortfolioCreateSchema = z
  .object({ name, tier: tier.optional(), dailyQuota: dailyQuota.optional(), channelIds: channelIds.optional() })
  .strict()
  .refine((body) => body.tier === undefined || body.dailyQuota === undefined, {
    message: 'Give tier or dailyQuota, not both.',
    path: ['dailyQuota'],
  });

export const PortfolioUpdateSchema = z
  .object({
    name: name.optional(),
    tier: tier.optional(),
    dailyQuota: dailyQuota.optional(),
    channelIds: channelIds.optional(),
  })
  .strict()
  .refine((body) => body.tier === undefined || body.dailyQuota === undefined, {
    message: 'Give tier or dailyQuota, not both.',
    path: ['dailyQuota'],
  });
export type PortfolioCreate = z.infer<typeof PortfolioCreateSchema>;
export type PortfolioUpdate = z.infer<typeof PortfolioUpdateSchema>;
