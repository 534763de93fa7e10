/** Re-sends: the exact recipients of each, and the plans being written (undone if a writer fails). */

import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { broadcasts } from './broadcasts';

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
