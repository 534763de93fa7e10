/**
 * What a broadcast costs: a channel's price table (the workspace's own figures over Rebound's defaults)
 * and the one estimate the pre-flight, a re-send and a broadcast's detail all compute with.
 *
 * WhatsApp bills a delivered template message by its category and the recipient's country (Meta's
 * per-message pricing since 1 July 2025); a failed message costs nothing. SMS bills each segment sent
 * (see sms.ts), by destination country. Telegram, Messenger and the sandbox cost nothing per message.
 *
 * Defaults (USD): WhatsApp rates of Meta's card effective 1 July 2025 for six Latin American countries
 * (source: Meta's rate card as copied in docs.sent.dm/docs/guides/whatsapp-pricing; read 4 Dec 2026).
 * Meta revises the card every quarter (Oct 2025: Mexico's marketing rate down, Argentina's utility
 * down, Colombia's utility up): set your own in the channel's `prices`. SMS has no default: its price
 * depends on the provider, the sender type and the contract, so an SMS estimate needs the workspace's
 * figure, and says which countries it has none for rather than guess.
 */
import { z } from 'zod';
import { type ChannelType, channelCapabilities, isSmsChannel } from './channels';
import type { BroadcastContent } from './schemas/broadcasts';
import { smsSegments } from './sms';

export const TEMPLATE_CATEGORIES = ['marketing', 'utility', 'authentication'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

const price = z.number().min(0).max(100);
const country = z.string().regex(/^[A-Z]{2}$/, 'ISO 3166 alpha-2, such as AR');

export const PriceTableSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .meta({ example: 'USD' }),
    whatsapp: z
      .record(country, z.object({ marketing: price, utility: price, authentication: price }))
      .refine((rows) => Object.keys(rows).length <= 250, 'at most 250 countries')
      .meta({ description: 'Per delivered template message, by recipient country and category.' }),
    smsPerSegment: z
      .record(country, price)
      .refine((rows) => Object.keys(rows).length <= 250, 'at most 250 countries')
      .meta({ description: 'Per SMS segment sent, by destination country.' }),
  })
  .meta({ description: 'Prices this channel is billed at; what is not set falls back to the defaults.' });
export type PriceTable = z.infer<typeof PriceTableSchema>;

export const DEFAULT_PRICES: PriceTable = Object.freeze({
  currency: 'USD',
  whatsapp: {
    AR: { marketing: 0.0618, utility: 0.0289, authentication: 0.0289 },
    BR: { marketing: 0.0625, utility: 0.0068, authentication: 0.0068 },
    MX: { marketing: 0.0305, utility: 0.0085, authentication: 0.0085 },
    CO: { marketing: 0.0125, utility: 0.0008, authentication: 0.0008 },
    CL: { marketing: 0.0889, utility: 0.02, authentication: 0.02 },
    PE: { marketing: 0.0703, utility: 0.02, authentication: 0.02 },
  },
  smsPerSegment: {},
});

/**
 * The channel's stored prices (null: none set) over the defaults, country by country; only in the
 * defaults' currency: USD figures under another currency's name would price Brazil at 0.06 ARS. In
 * another currency, a country with no figure of its own is unpriced (the estimate says so).
 */
export function priceTable(stored: Partial<PriceTable> | null | undefined): PriceTable {
  const currency = stored?.currency ?? DEFAULT_PRICES.currency;
  const defaults = currency === DEFAULT_PRICES.currency ? DEFAULT_PRICES : { whatsapp: {}, smsPerSegment: {} };
  return {
    currency,
    whatsapp: { ...defaults.whatsapp, ...(stored?.whatsapp ?? {}) },
    smsPerSegment: { ...defaults.smsPerSegment, ...(stored?.smsPerSegment ?? {}) },
  };
}

export const CostEstimateSchema = z.object({
  currency: z.string(),
  total: z.number().meta({ description: 'For the recipients priced; rounded to 4 decimals.' }),
  byCountry: z.array(
    z.object({
      country: z.string(),
      messages: z.number().int(),
      unitPrice: z.number().meta({ description: 'Per message (per template, or per SMS with its segments).' }),
      cost: z.number(),
    }),
  ),
  unpriced: z
    .record(z.string(), z.number().int())
    .meta({ description: 'Recipients by country with no price in the table: not in the total.' }),
  basis: z.string().meta({ description: 'What is billed: "template:marketing", "sms:2 segments UCS-2", "free".' }),
});
export type CostEstimate = z.infer<typeof CostEstimateSchema>;

/** WhatsApp's way: a template is billed once delivered, free-form text inside a window is free. */
const billedByTemplate = (type: ChannelType) => channelCapabilities[type].billedBy === 'template';

/** Of the messages a broadcast sends, those billed: on WhatsApp, free text inside an open window is free. */
export function billedSends(type: ChannelType, sends: number, freeInWindow: number): number {
  return billedByTemplate(type) ? Math.max(0, sends - freeInWindow) : sends;
}

/** What one message of this content costs in a country, or null when the table has no price for it. */
export function unitPrice(
  type: ChannelType,
  content: BroadcastContent,
  table: PriceTable,
  country: string,
): number | null {
  if (billedByTemplate(type)) {
    // Only templates are billed; free-form text goes inside an open window.
    if (!content.template) return 0;
    return table.whatsapp[country]?.[content.template.category ?? 'marketing'] ?? null;
  }
  if (isSmsChannel(type)) {
    const perSegment = table.smsPerSegment[country];
    return perSegment === undefined ? null : perSegment * smsSegments(content.text).segments;
  }
  return 0;
}

/** What billed means for this content on this channel, in a word the agent can check. */
export function costBasis(type: ChannelType, content: BroadcastContent): string {
  if (billedByTemplate(type)) return content.template ? `template:${content.template.category ?? 'marketing'}` : 'free';
  if (isSmsChannel(type)) {
    const sms = smsSegments(content.text);
    return `sms:${sms.segments} ${sms.segments === 1 ? 'segment' : 'segments'} ${sms.encoding}`;
  }
  return 'free';
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

/** The estimate for messages by recipient country (ISO; "??" for a number whose country is unknown). */
export function estimateCost(
  type: ChannelType,
  content: BroadcastContent,
  table: PriceTable,
  messagesByCountry: Record<string, number>,
): CostEstimate {
  const byCountry: CostEstimate['byCountry'] = [];
  const unpriced: Record<string, number> = {};
  let total = 0;
  for (const [country, messages] of Object.entries(messagesByCountry).sort((a, b) => b[1] - a[1])) {
    if (messages <= 0) continue;
    const unit = unitPrice(type, content, table, country);
    if (unit === null) {
      unpriced[country] = messages;
      continue;
    }
    const cost = unit * messages;
    total += cost;
    byCountry.push({ country, messages, unitPrice: round(unit), cost: round(cost) });
  }
  return { currency: table.currency, total: round(total), byCountry, unpriced, basis: costBasis(type, content) };
}

/**
 * Counts by country scaled to `total` (those the quota or the window leave out are not billed), whole
 * numbers by largest remainder, so they still add up to `total`.
 */
export function scaleCounts(counts: Record<string, number>, total: number): Record<string, number> {
  const sum = Object.values(counts).reduce((a, n) => a + n, 0);
  if (sum === total || sum === 0) return sum === 0 ? {} : { ...counts };
  const exact = Object.entries(counts).map(([country, n]) => [country, (n * total) / sum] as const);
  const scaled = Object.fromEntries(exact.map(([country, x]) => [country, Math.floor(x)]));
  let left = total - Object.values(scaled).reduce((a, n) => a + n, 0);
  for (const [country] of [...exact].sort((a, b) => (b[1] % 1) - (a[1] % 1))) {
    if (left-- <= 0) break;
    scaled[country] = (scaled[country] ?? 0) + 1;
  }
  return scaled;
}

/**
 * Messages billed so far from a broadcast's counts by recipient state: WhatsApp bills a template once
 * delivered (a failed one costs nothing), SMS once sent, the rest nothing.
 */
export function billedMessages(
  type: ChannelType,
  content: BroadcastContent,
  counts: Record<string, number>,
  templatesDelivered: number,
): number {
  // Meta bills a template when it is delivered; a free-form reply inside an open window is free.
  if (billedByTemplate(type)) return content.template ? templatesDelivered : 0;
  if (isSmsChannel(type)) return (counts.sent ?? 0) + (counts.delivered ?? 0);
  return 0;
}

/**
 * The cost so far: the messages billed, priced by the broadcast's country mix at its start (exact for
 * one country; with several, each is assumed to have been billed in its share of the mix).
 */
export function costSoFar(
  type: ChannelType,
  content: BroadcastContent,
  table: PriceTable,
  mix: Record<string, number>,
  billed: number,
): { currency: string; soFar: number; billed: number; approximate: boolean; unpricedCountries: string[] } {
  const total = Object.values(mix).reduce((a, n) => a + n, 0);
  const unpricedCountries: string[] = [];
  let soFar = 0;
  for (const [country, n] of Object.entries(mix)) {
    if (n <= 0 || total <= 0) continue;
    const unit = unitPrice(type, content, table, country);
    if (unit === null) unpricedCountries.push(country);
    else soFar += (billed * n * unit) / total;
  }
  const countries = Object.values(mix).filter((n) => n > 0).length;
  return { currency: table.currency, soFar: round(soFar), billed, approximate: countries > 1, unpricedCountries };
}
