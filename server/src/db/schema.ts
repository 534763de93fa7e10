/**
 * The one schema module. Times are epoch milliseconds. Every row that belongs to a workspace carries
 * workspace_id, and every query filters on it: that is what keeps workspaces apart.
 */

import type { ChannelType, Language, PhoneProblem, Role } from '@rebound/shared';
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
