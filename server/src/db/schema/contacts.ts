/** Contacts, their addresses on channels, tags and segments. */

import type { PhoneProblem } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { channels } from './channels';
import { createdAt, updatedAt } from './columns';
import { workspaces } from './workspaces';

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
    /** When its phone, e-mail or a channel identifier last changed, by triggers (migration 0032); null: never since. */
    identityChangedAt: integer('identity_changed_at'),
    /**
     * The names and custom fields folded (segments/fold.ts), for a segment's "contains" (migration 0040):
     * written with the text by every contact writer. Custom values as a JSON object, kept as text (never
     * parsed on a read); null when no writer folded the contact yet.
     */
    firstFolded: text('first_folded'),
    lastFolded: text('last_folded'),
    customFolded: text('custom_folded'),
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
