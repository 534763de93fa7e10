/** Channels and what limits them: portfolios, the quota ledger, send slots, windows, opt-outs, the guard's samples. */

import type { ChannelType, GuardSettings, Pause, PriceTable } from '@rebound/shared';
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';
import { workspaces } from './workspaces';

export const channels = sqliteTable(
  'channels',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    type: text('type').$type<ChannelType>().notNull(),
    name: text('name').notNull(),
    /** JSON object of provider credentials; never returned by the API. */
    credentials: text('credentials', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    baseUrl: text('base_url'),
    /** WhatsApp: its display number's digits as Meta's webhooks for its phone_number_id name it (learned). */
    displayNumber: text('display_number'),
    /** WhatsApp: its business account (WABA) ID as Meta's webhooks for its phone_number_id name it (learned). */
    businessAccount: text('business_account'),
    dailyQuota: integer('daily_quota'),
    messagesPerSecond: real('messages_per_second').notNull(),
    pairRatePerRecipientSeconds: real('pair_rate_per_recipient_seconds'),
    /** WhatsApp business portfolio whose one rolling 24 h limit this number shares (null: its own limit). */
    portfolioId: integer('portfolio_id'),
    /** The quality guard's settings changed from the defaults (null: none changed). */
    guard: text('guard', { mode: 'json' }).$type<Partial<GuardSettings>>(),
    /** Its own prices over the defaults (null: none set). */
    prices: text('prices', { mode: 'json' }).$type<Partial<PriceTable>>(),
    /**
     * The number paused for its own sake (the guard's channel window, Meta's flag): nothing new starts on
     * it until a manager lifts it (a resume). Null: not held.
     */
    hold: text('hold', { mode: 'json' }).$type<Pause>(),
    /** Where automatic recovery re-sends the contacts this channel cannot reach (null: nowhere). */
    fallbackChannelId: integer('fallback_channel_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('channels_workspace_idx').on(t.workspaceId)],
);
/** A row of channels as read. */
export type ChannelRow = typeof channels.$inferSelect;

/** A WhatsApp business portfolio: its numbers share one rolling 24 h messaging limit (since October 2025). */
export const portfolios = sqliteTable(
  'portfolios',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Unique recipients per rolling 24 h over all the portfolio's numbers; null: unlimited. */
    dailyQuota: integer('daily_quota'),
    createdAt: createdAt(),
  },
  (t) => [index('portfolios_workspace_idx').on(t.workspaceId)],
);

/**
 * Per recipient and channel: the last business-initiated message (the rolling 24 h quota counts those;
 * 0 for none) and the last message of any kind, a reply inside the window included (the pair rate).
 */
export const quotaLedger = sqliteTable(
  'quota_ledger',
  {
    channelId: integer('channel_id').notNull(),
    identifier: text('identifier').notNull(),
    lastSentAt: integer('last_sent_at').notNull(),
    lastAnyAt: integer('last_any_at'),
  },
  (t) => [
    primaryKey({ columns: [t.channelId, t.identifier] }),
    index('quota_ledger_time_idx').on(t.channelId, t.lastSentAt),
  ],
);

/** What the quality guard judges: outcomes per written group, and how many hurt the number (migration 0012). */
export const qualitySamples = sqliteTable(
  'quality_samples',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channelId: integer('channel_id').notNull(),
    broadcastId: integer('broadcast_id').notNull(),
    at: integer('at').notNull(),
    outcomes: integer('outcomes').notNull(),
    harmful: integer('harmful').notNull(),
  },
  (t) => [
    index('quality_samples_broadcast_idx').on(t.broadcastId, t.id),
    index('quality_samples_channel_idx').on(t.channelId, t.id),
    index('quality_samples_at_idx').on(t.at),
  ],
);

/** The next free send slot per channel (and per rate-limited broadcast), shared by every engine process. */
export const sendSlots = sqliteTable('send_slots', {
  key: text('key').primaryKey(),
  nextSlotAt: real('next_slot_at').notNull(),
});

/** When each contact last wrote to us on a channel: the 24 h customer-service window. */
export const conversationWindows = sqliteTable(
  'conversation_windows',
  {
    channelId: integer('channel_id').notNull(),
    identifier: text('identifier').notNull(),
    lastInboundAt: integer('last_inbound_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.identifier] })],
);

/**
 * The latest moment a channel's own signal said a contact takes its messages again ("resume", START,
 * unblock): a channel signal of an opt-out from before it is stale (services/opt-outs.ts).
 */
export const optIns = sqliteTable(
  'opt_ins',
  {
    channelId: integer('channel_id').notNull(),
    identifier: text('identifier').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.identifier] })],
);

/**
 * The opt-outs and opt-ins a channel applied from signals with no time of their own, by the provider's
 * event (an inbound SMS's MessageSid, `failed:<message id>`): each is applied once, so a signed callback
 * captured and replayed later changes nothing (migration 0039, services/opt-outs.ts applySignalOnce).
 */
export const signalsApplied = sqliteTable(
  'signals_applied',
  {
    channelId: integer('channel_id').notNull(),
    eventId: text('event_id').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.eventId] })],
);

/** Recipients who blocked the business or opted out on a channel: when, and what said so. */
export const optOuts = sqliteTable(
  'opt_outs',
  {
    channelId: integer('channel_id').notNull(),
    identifier: text('identifier').notNull(),
    at: integer('at').notNull(),
    /** What told us: a provider error code, a webhook, an inbound word, a person. */
    source: text('source').$type<'provider_code' | 'webhook' | 'inbound_word' | 'manual' | 'import'>(),
    /** The code or word itself ("131050", "21610", "BAJA", "user_preferences: stop"). */
    detail: text('detail'),
    /** Stopped marketing only (WhatsApp's user_preferences, 131050): utility and authentication templates still go. */
    marketingOnly: integer('marketing_only', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.identifier] })],
);
