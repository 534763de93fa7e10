/** Broadcasts, their recipients (messages), the counts triggers keep of them, and their start leases. */

import type { BROADCAST_STATUSES, BroadcastContent, FailureReason, Pause, RECIPIENT_STATES } from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { channels } from './channels';
import { createdAt, updatedAt } from './columns';
import { segments } from './contacts';
import { workspaces } from './workspaces';

/**
 * Recipient states the failed-message log shows: failed, left out, and unconfirmed (the request may
 * have reached the provider; no answer or delivery report says so). The partial indexes below cover
 * exactly these, and queries use this same expression, so the planner sees that they imply it.
 * Written as ORs, not IN: SQLite evaluates a partial index's condition on every write of a message
 * row, and a three-value IN list cost that much more than two that it halved the engine's send rate.
 */
export const LOGGED_STATES_SQL = sql`(state = 'failed' OR state = 'excluded' OR state = 'uncertain')`;

/**
 * What the provider-ID index keeps of a recipient's provider message ID: its last 16 characters, where
 * the IDs of every provider Rebound sends through are random (a WhatsApp wamid's own hex ID, a Twilio
 * SID, a UUID) or whole (Telegram's `chat:message`). IDs arrive in random order, so each send writes its
 * index entry at a random place, and the whole ID (a wamid is about 50 characters) made that index most
 * of what a broadcast writes. Lookups compare the whole ID too (`providerIdMatch`), so IDs sharing a tail
 * never mix up recipients. Migration 0017 builds the index on this same expression (its 16 written out);
 * the planner only uses it for a query that writes the expression the same way.
 */
export const PROVIDER_ID_TAIL = tailOf(sql`provider_message_id`);

function tailOf(id: SQL): SQL {
  return sql`substr(${id}, -16)`;
}

/** The messages of a channel with this provider message ID, found through messages_provider_tail_idx. */
export function providerIdMatch(channelId: number, providerMessageId: string) {
  return sql`channel_id = ${channelId} AND ${PROVIDER_ID_TAIL} = ${tailOf(sql`${providerMessageId}`)} AND provider_message_id = ${providerMessageId}`;
}

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
    /** 1 while the round due was brought by a failure reported late (lateFailure), until it is planned. */
    recoveryLate: integer('recovery_late').notNull().default(0),
    /** A re-send: the failures it took, by reason (the lineage subtracts them from what is left). */
    resendReasons: text('resend_reasons', { mode: 'json' }).$type<Record<string, number>>(),
    /** Its recipients by country when it started: what the cost so far is priced by. */
    countryMix: text('country_mix', { mode: 'json' }).$type<Record<string, number>>(),
    /** Whether its messages' reads are recorded (false: made before migration 0011, its reads unknown). */
    readsKept: integer('reads_kept', { mode: 'boolean' }).notNull().default(true),
    /** Its unconfirmed recipients (no answer, or a final "unknown" report), kept by a trigger on messages (migration 0022). */
    unconfirmed: integer('unconfirmed').notNull().default(0),
    /** When the latest of them became unconfirmed (its failed_at; never moves back), by the same trigger. */
    unconfirmedAt: integer('unconfirmed_at'),
    /** Its recipients delivered a template (what Meta bills on WhatsApp), kept by triggers on messages (migration 0030). */
    templatesDelivered: integer('templates_delivered').notNull().default(0),
    /**
     * When a delivery report last brought a failure a re-send can help after it finished (engine/recovery.ts,
     * lateFailure); cleared when a re-send of it is written: until then it needs an agent again, even
     * with an earlier re-send (migration 0024).
     */
    lateFailedAt: integer('late_failed_at'),
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
    // Finished broadcasts with unconfirmed recipients, for the attention list's wait-over rule.
    index('broadcasts_unconfirmed_idx')
      .on(t.workspaceId, t.id)
      .where(sql`status IN ('completed', 'partially_failed', 'failed') AND unconfirmed > 0`),
    index('broadcasts_late_failed_idx').on(t.workspaceId, t.id).where(sql`late_failed_at IS NOT NULL`),
  ],
);
/** A row of broadcasts as read. */
export type BroadcastRow = typeof broadcasts.$inferSelect;

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
    // a status callback finds its message by the provider's ID, which a recipient only has once sent
    // (by its tail: see PROVIDER_ID_TAIL),
    index('messages_provider_tail_idx').on(t.channelId, PROVIDER_ID_TAIL).where(sql`provider_message_id IS NOT NULL`),
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
