/** Workspaces and the API tokens that act in them. */

import type { Language, Role } from '@rebound/shared';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';

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
