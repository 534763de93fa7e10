/**
 * The one schema module. Times are epoch milliseconds. Every row that belongs to a workspace carries
 * workspace_id, and every query filters on it: that is what keeps workspaces apart.
 */

import type {
  BROADCAST_STATUSES,
  BroadcastContent,
  ChannelType,
  FailureReason,
  GuardSettings,
  Language,
  Pause,
  PhoneProblem,
  PriceTable,
  RECIPIENT_STATES,
  Role,
} from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const createdAt = () =>
  integer('created_at', { mode: 'timestamp_ms' })
    .notNull()
    .$defaultFn(() => new Date());
const updatedAt = () =>
  integer('updated_at', { mode: 'timestamp_ms' })
    .notNull()
    .$defaultFn(() => new Date());

export const workspaces = sqliteTable('workspaces', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  language: text('language').$type<Language>().notNull().default('es'),
  /** ISO 3166 alpha-2 country used to read phone numbers written without +. */
  defaultCountry: text('default_country').notNull().default('AR'),
  /** IANA time zone: what "a day" means in filters and how times read to agents. Null: the country's. */
  timeZone: text('time_zone'),
  /** Automatic re-sends a new broadcast gets unless it says otherwise (0: none). */
  autoRecovery: integer('auto_recovery').notNull().default(0),
  createdAt: createdAt(),
});

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    role: text('role').$type<Role>().notNull(),
    /** SHA-256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash), index('api_tokens_workspace_idx').on(t.workspaceId)],
);

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
    dailyQuota: integer('daily_quota'),
    messagesPerSecond: real('messages_per_second').notNull(),
    pairRatePerRecipientSeconds: real('pair_rate_per_recipient_seconds'),
    /** WhatsApp business portfolio whose one rolling 24 h limit this number shares (null: its own limit). */
    portfolioId: integer('portfolio_id'),
    /** The quality guard's settings changed from the defaults (null: none changed). */
    guard: text('guard', { mode: 'json' }).$type<Partial<GuardSettings>>(),
    /** Its own prices over the defaults (null: none set). */
    prices: text('prices', { mode: 'json' }).$type<Partial<PriceTable>>(),
    /** Where automatic recovery re-sends the contacts this channel cannot reach (null: nowhere). */
    fallbackChannelId: integer('fallback_channel_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('channels_workspace_idx').on(t.workspaceId)],
);

export const contacts = sqliteTable(
  'contacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    firstName: text('first_name'),
    lastName: text('last_name'),
    /** E.164 when the number parsed, otherwise the text as given (never dropped). */
    phone: text('phone'),
    phoneValid: integer('phone_valid', { mode: 'boolean' }),
    phoneProblem: text('phone_problem').$type<PhoneProblem>(),
    /** Trimmed and lower-cased. */
    email: text('email'),
    language: text('language'),
    customFields: text('custom_fields', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('contacts_workspace_idx').on(t.workspaceId),
    index('contacts_phone_idx').on(t.workspaceId, t.phone),
    index('contacts_email_idx').on(t.workspaceId, t.email),
  ],
);

/** A contact's address on channels that do not use the phone: Messenger PSID, Telegram chat ID, ... */
export const contactIdentifiers = sqliteTable(
  'contact_identifiers',
  {
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    identifier: text('identifier').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.contactId, t.channelId] }),
    uniqueIndex('contact_identifiers_channel_idx').on(t.channelId, t.identifier),
  ],
);

export const tags = sqliteTable(
  'tags',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Lower-cased name: "VIP" and "vip" are one tag. */
    key: text('key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('tags_workspace_key_idx').on(t.workspaceId, t.key)],
);

export const contactTags = sqliteTable(
  'contact_tags',
  {
    tagId: integer('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
    contactId: integer('contact_id')
      .notNull()
      .references(() => contacts.id, { onDelete: 'cascade' }),
  },
  // Tag-first key: segment filters go from tags to contacts; the second index serves a contact's page.
  (t) => [primaryKey({ columns: [t.tagId, t.contactId] }), index('contact_tags_contact_idx').on(t.contactId)],
);

export const segments = sqliteTable(
  'segments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Lower-cased name, unique among live segments of a workspace. */
    nameKey: text('name_key').notNull(),
    filter: text('filter', { mode: 'json' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Kept after deletion so a broadcast can say its target segment was deleted after scheduling. */
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('segments_workspace_name_idx').on(t.workspaceId, t.nameKey).where(sql`deleted_at IS NULL`),
    index('segments_workspace_idx').on(t.workspaceId),
  ],
);

/**
 * Recipient states the failed-message log shows: failed, left out, and unconfirmed (the request may
 * have reached the provider; no answer or delivery report says so). The partial indexes below cover
 * exactly these, and queries use this same expression, so the planner sees that they imply it.
 * Written as ORs, not IN: SQLite evaluates a partial index's condition on every write of a message
 * row, and a three-value IN list cost that much more than two that it halved the engine's send rate.
 */
export const LOGGED_STATES_SQL = sql`(state = 'failed' OR state = 'excluded' OR state = 'uncertain')`;

// The statuses and recipient states are the API's own (shared/src/schemas/broadcasts.ts).
export type BroadcastStatus = (typeof BROADCAST_STATUSES)[number];

export const broadcasts = sqliteTable(
  'broadcasts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    channelId: integer('channel_id')
      .notNull()
      .references(() => channels.id),
    segmentId: integer('segment_id').references(() => segments.id),
    content: text('content', { mode: 'json' }).$type<BroadcastContent>().notNull(),
    /** Messages per second asked for this broadcast; the channel's own limit still applies. */
    sendRate: real('send_rate'),
    status: text('status').$type<BroadcastStatus>().notNull().default('draft'),
    /** A broadcast-level failure (apiErrors code), e.g. broadcast_empty_target. */
    errorCode: text('error_code'),
    /** With broadcast_all_failed: the failure reason every recipient (or most) failed for. */
    errorReason: text('error_reason').$type<FailureReason>(),
    /** Why it is paused (status 'paused'); null otherwise. */
    pause: text('pause', { mode: 'json' }).$type<Pause>(),
    scheduledAt: integer('scheduled_at', { mode: 'timestamp_ms' }),
    /** Recipients in the segment when the broadcast was scheduled. */
    targetCount: integer('target_count'),
    reconciliation: text('reconciliation', { mode: 'json' }).$type<Reconciliation>(),
    resendOfId: integer('resend_of_id'),
    /** A re-send still being written by that resend_plans row: hidden from every list, route and engine. */
    writingPlan: integer('writing_plan'),
    /** How many re-sends Rebound schedules by itself for this broadcast's failures (0: none). */
    autoRecovery: integer('auto_recovery').notNull().default(0),
    /** Which re-send this is in its lineage: 0 for a first send, 1 for a re-send of it, and so on. */
    recoveryAttempt: integer('recovery_attempt').notNull().default(0),
    /** When Rebound's own next re-send of its failures is due (engine/recovery.ts); null: none. */
    recoveryDueAt: integer('recovery_due_at'),
    /** A re-send: the failures it took, by reason (the lineage subtracts them from what is left). */
    resendReasons: text('resend_reasons', { mode: 'json' }).$type<Record<string, number>>(),
    /** Its recipients by country when it started: what the cost so far is priced by. */
    countryMix: text('country_mix', { mode: 'json' }).$type<Record<string, number>>(),
    /** Whether its messages' reads are recorded (false: made before migration 0011, its reads unknown). */
    readsKept: integer('reads_kept', { mode: 'boolean' }).notNull().default(true),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('broadcasts_workspace_idx').on(t.workspaceId, t.id),
    index('broadcasts_status_idx').on(t.status, t.scheduledAt),
    // What needs an agent (migration 0007): one status of a workspace, newest first, and whether a
    // re-send of a broadcast exists.
    index('broadcasts_attention_idx').on(t.workspaceId, t.status, t.id),
    index('broadcasts_resend_of_idx').on(t.resendOfId),
    index('broadcasts_writing_plan_idx').on(t.writingPlan).where(sql`writing_plan IS NOT NULL`),
    index('broadcasts_recovery_due_idx').on(t.recoveryDueAt).where(sql`recovery_due_at IS NOT NULL`),
  ],
);

export interface Reconciliation {
  /** In the segment at scheduling. */
  target: number;
  entered: number;
  left: number;
  duplicates: number;
  invalidIdentifiers: number;
  noIdentifier: number;
  /** Recipients the broadcast went to: target + entered - left - the three exclusions. */
  completed: number;
}

/** The segment's contacts when a broadcast was scheduled, to explain later who entered or left. */
export const broadcastTargets = sqliteTable(
  'broadcast_targets',
  {
    broadcastId: integer('broadcast_id')
      .notNull()
      .references(() => broadcasts.id, { onDelete: 'cascade' }),
    contactId: integer('contact_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.contactId] })],
);

export type MessageState = (typeof RECIPIENT_STATES)[number];

/** One row per recipient of a broadcast: its state, its reason, and the provider's word. */
export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id').notNull(),
    broadcastId: integer('broadcast_id')
      .notNull()
      .references(() => broadcasts.id, { onDelete: 'cascade' }),
    channelId: integer('channel_id').notNull(),
    contactId: integer('contact_id'),
    /** The address used on the channel: E.164 phone, PSID, chat ID (as given when invalid). */
    identifier: text('identifier'),
    state: text('state').$type<MessageState>().notNull(),
    reason: text('reason').$type<FailureReason>(),
    providerCode: text('provider_code'),
    providerMessage: text('provider_message'),
    providerMessageId: text('provider_message_id'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: integer('lease_until'),
    /** Set just before the request goes out: after a crash, dispatched means "may have reached the provider". */
    dispatchedAt: integer('dispatched_at'),
    useTemplate: integer('use_template', { mode: 'boolean' }).notNull().default(false),
    /** When a re-send could succeed (the quota frees, the provider's wait ends). */
    retryAfterAt: integer('retry_after_at'),
    sentAt: integer('sent_at'),
    deliveredAt: integer('delivered_at'),
    /** When the provider reported it read (WhatsApp, Messenger): the state stays 'delivered'. */
    readAt: integer('read_at'),
    failedAt: integer('failed_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // Partial indexes keep a recipient's trip (queued → sending → sent) to a few index writes:
    // claims walk one broadcast's queued recipients in id order,
    index('messages_queued_idx').on(t.broadcastId, t.id, t.nextAttemptAt).where(sql`state = 'queued'`),
    // lease recovery only looks at recipients being sent,
    index('messages_sending_idx').on(t.leaseUntil).where(sql`state = 'sending'`),
    // the failed-message log only reads failed and left-out recipients: newest first, by reason, by
    // broadcast, and counted by channel and reason for the summary,
    index('messages_failed_idx').on(t.workspaceId, t.failedAt).where(LOGGED_STATES_SQL),
    index('messages_failed_reason_idx').on(t.workspaceId, t.reason, t.failedAt).where(LOGGED_STATES_SQL),
    index('messages_failed_broadcast_idx').on(t.broadcastId, t.failedAt).where(LOGGED_STATES_SQL),
    index('messages_failed_broadcast_reason_idx').on(t.broadcastId, t.reason, t.failedAt).where(LOGGED_STATES_SQL),
    index('messages_failed_summary_idx').on(t.workspaceId, t.channelId, t.reason).where(LOGGED_STATES_SQL),
    // and counts read one broadcast's rows.
    index('messages_broadcast_idx').on(t.broadcastId),
    index('messages_provider_idx').on(t.channelId, t.providerMessageId),
    index('messages_contact_idx').on(t.contactId),
  ],
);

/**
 * Failed and excluded messages counted by broadcast, channel and reason, kept exact by triggers on
 * messages (migration 0003): the failure summary reads these few rows instead of every failure.
 * reason '' stands for none.
 */
export const failureCounts = sqliteTable(
  'failure_counts',
  {
    workspaceId: integer('workspace_id').notNull(),
    broadcastId: integer('broadcast_id').notNull(),
    channelId: integer('channel_id').notNull(),
    reason: text('reason').notNull(),
    count: integer('n').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.broadcastId, t.channelId, t.reason] }),
    index('failure_counts_workspace_idx').on(t.workspaceId, t.channelId),
  ],
);

/**
 * Every broadcast's recipients counted by state and reason, kept exact by triggers on messages
 * (migration 0007) in the same transaction as the change: a broadcast's counts are these few rows,
 * never a GROUP BY over its recipients. reason '' stands for none; a count that fell to 0 stays as a
 * row with n = 0.
 */
export const broadcastCounts = sqliteTable(
  'broadcast_counts',
  {
    broadcastId: integer('broadcast_id').notNull(),
    state: text('state').$type<MessageState>().notNull(),
    reason: text('reason').notNull(),
    count: integer('n').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.state, t.reason] })],
);

/** How many of each broadcast's messages were reported read (migration 0011's trigger keeps it). */
export const broadcastReads = sqliteTable('broadcast_reads', {
  broadcastId: integer('broadcast_id').primaryKey(),
  count: integer('n').notNull(),
});

/**
 * The exact recipients of a re-send: the original's failed message rows it was asked for. A re-send
 * is frozen from these, never from a segment, so it can never reach anyone else.
 */
export const resendTargets = sqliteTable(
  'resend_targets',
  {
    broadcastId: integer('broadcast_id')
      .notNull()
      .references(() => broadcasts.id, { onDelete: 'cascade' }),
    /** The failed message row of the original broadcast. */
    messageId: integer('message_id').notNull(),
    contactId: integer('contact_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.messageId] }), index('resend_targets_message_idx').on(t.messageId)],
);

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

/** Last business-initiated message per recipient and channel: the rolling 24 h quota and the pair rate. */
export const quotaLedger = sqliteTable(
  'quota_ledger',
  {
    channelId: integer('channel_id').notNull(),
    identifier: text('identifier').notNull(),
    lastSentAt: integer('last_sent_at').notNull(),
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
  },
  (t) => [primaryKey({ columns: [t.channelId, t.identifier] })],
);

/** CSV imports: progress while they run, and what they did. */
export const imports = sqliteTable(
  'imports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    status: text('status').$type<'queued' | 'running' | 'completed' | 'failed'>().notNull(),
    options: text('options', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** The process that holds the uploaded file and runs the import (host:pid:random, see import-jobs.ts). */
    claimedBy: text('claimed_by'),
    /** When that process last said it is alive (ms); a queued or running import whose beat stopped is settled. */
    heartbeatAt: integer('heartbeat_at'),
    fileName: text('file_name'),
    totalRows: integer('total_rows').notNull().default(0),
    processedRows: integer('processed_rows').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    /** Rejected rows with their reason, kept for the downloadable report. */
    rejectedRows: text('rejected_rows', { mode: 'json' }).$type<Record<string, unknown>[]>().notNull().default([]),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: createdAt(),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('imports_workspace_idx').on(t.workspaceId),
    // One running import per workspace, whichever process runs it: the claim is this index's insert.
    uniqueIndex('imports_one_running_idx').on(t.workspaceId).where(sql`status = 'running'`),
    index('imports_live_idx').on(t.workspaceId, t.id).where(sql`status IN ('queued', 'running')`),
  ],
);

/**
 * A broadcast being started: its audience is frozen a chunk per transaction under this lease (one
 * process freezes it; if it dies, another goes on from the cursor once the lease ran out).
 */
export const broadcastStarts = sqliteTable('broadcast_starts', {
  broadcastId: integer('broadcast_id').primaryKey(),
  owner: text('owner').notNull(),
  leaseUntil: integer('lease_until').notNull(),
  phase: text('phase').$type<'identified' | 'unidentified' | 'done'>().notNull(),
  afterIdentifier: text('after_identifier'),
  afterContactId: integer('after_contact_id').notNull(),
});

/**
 * What a running import changed, so that it can be undone: it writes in short transactions (a
 * libSQL server takes a write lock back after 5 s, and every other writer waits meanwhile), yet lands
 * whole or not at all. kind 'created': a contact it created (before is null); 'updated': a contact
 * it changed, with its columns before and the import's tags it did not have; 'tag': a tag it created.
 * Rows of a finished import are deleted.
 */
export const importUndo = sqliteTable(
  'import_undo',
  {
    importId: integer('import_id').notNull(),
    kind: text('kind').$type<'created' | 'updated' | 'tag'>().notNull(),
    id: integer('id').notNull(),
    before: text('before'),
  },
  (t) => [primaryKey({ columns: [t.importId, t.kind, t.id] })],
);

/**
 * A re-send being written (services/resend-writer.ts): one per original broadcast at a time, owned by
 * a process that beats while it writes; what it created is noted here (the tag, the segment) and in
 * resend_plan_tagged (contacts it tagged), so that a failure or a crash part-way is undone.
 */
export const resendPlans = sqliteTable(
  'resend_plans',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id').notNull(),
    originalId: integer('original_id').notNull(),
    owner: text('owner').notNull(),
    heartbeatAt: integer('heartbeat_at').notNull(),
    tagId: integer('tag_id'),
    tagCreated: integer('tag_created').notNull().default(0),
    segmentId: integer('segment_id'),
    segmentCreated: integer('segment_created').notNull().default(0),
  },
  (t) => [uniqueIndex('resend_plans_original_idx').on(t.originalId)],
);

/** Contacts a re-send plan tagged that lacked its tag: one note per transaction, the ids as JSON. */
export const resendPlanTagged = sqliteTable(
  'resend_plan_tagged',
  {
    planId: integer('plan_id').notNull(),
    firstId: integer('first_id').notNull(),
    ids: text('ids').notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.firstId] })],
);

/** Everything that happened, in order, for the event stream and notifications. */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id').notNull(),
    type: text('type').notNull(),
    broadcastId: integer('broadcast_id'),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('events_workspace_idx').on(t.workspaceId, t.id)],
);
