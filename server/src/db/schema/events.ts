/** The event log. */

import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
