/**
 * Turns a segment filter into one SQL condition on `contacts`, so a segment is counted and listed by
 * the database, never by loading contacts into memory. Tag names and channels are looked up first,
 * which keeps the SQL to index lookups with bound parameters.
 */
import type { SegmentCondition, SegmentFilter } from '@rebound/shared';
import { channelCapabilities } from '@rebound/shared';
import { and, eq, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client';
import { channels, contacts, tags } from '../db/schema';
import { phoneColumns } from '../services/contacts';
import { tagKey } from '../services/tags';
import { foldedContains, foldPattern } from './fold';

const TRUE = sql`1`;
const FALSE = sql`0`;

const standardColumns = {
  firstName: contacts.firstName,
  lastName: contacts.lastName,
  phone: contacts.phone,
  email: contacts.email,
  language: contacts.language,
} as const;

interface Lookups {
  tagIds: Map<string, number>;
  channelTypes: Map<number, (typeof channels.$inferSelect)['type']>;
  defaultCountry: string;
}

export interface SegmentScope {
  workspaceId: number;
  defaultCountry: string;
}

export async function compileSegmentFilter(db: Queryable, scope: SegmentScope, filter: SegmentFilter): Promise<SQL> {
  const conditions = filter.groups.flatMap((group) => group.conditions);
  const tagNames = conditions.flatMap((c) => (c.type === 'tag' ? c.tags : []));
  const channelIds = conditions.flatMap((c) => (c.type === 'channel' ? [c.channelId] : []));
  const tagRows = tagNames.length
    ? await db
        .select({ id: tags.id, key: tags.key })
        .from(tags)
        .where(and(eq(tags.workspaceId, scope.workspaceId), inArray(tags.key, tagNames.map(tagKey))))
    : [];
  const channelRows = channelIds.length
    ? await db
        .select({ id: channels.id, type: channels.type })
        .from(channels)
        .where(
          and(
            eq(channels.workspaceId, scope.workspaceId),
            inArray(channels.id, channelIds),
            isNull(channels.deletedAt),
          ),
        )
    : [];
  const lookups: Lookups = {
    tagIds: new Map(tagRows.map((row) => [row.key, row.id])),
    channelTypes: new Map(channelRows.map((row) => [row.id, row.type])),
    defaultCountry: scope.defaultCountry,
  };
  const groups = filter.groups.map((group) =>
    join(
      group.match,
      group.conditions.map((condition) => compileCondition(condition, lookups)),
    ),
  );
  return and(eq(contacts.workspaceId, scope.workspaceId), join(filter.match, groups)) as SQL;
}

function join(match: 'all' | 'any', parts: SQL[]): SQL {
  if (parts.length === 0) return TRUE;
  return (match === 'all' ? and(...parts) : or(...parts)) as SQL;
}

function compileCondition(condition: SegmentCondition, lookups: Lookups): SQL {
  switch (condition.type) {
    case 'tag':
      return compileTag(condition.operator, condition.tags, lookups);
    case 'field':
      return compileField(condition, lookups);
    case 'channel': {
      const has = compileHasIdentifier(condition.channelId, lookups);
      return condition.operator === 'hasIdentifier' ? has : sql`NOT (${has})`;
    }
  }
}

function compileTag(operator: 'hasAnyOf' | 'hasAllOf' | 'hasNoneOf', names: string[], lookups: Lookups): SQL {
  const keys = [...new Set(names.map(tagKey))];
  const ids = keys.flatMap((key) => {
    const id = lookups.tagIds.get(key);
    return id === undefined ? [] : [id];
  });
  const tagged = sql`SELECT contact_id FROM contact_tags WHERE tag_id IN ${ids}`;
  switch (operator) {
    case 'hasAnyOf':
      return ids.length ? sql`${contacts.id} IN (${tagged})` : FALSE;
    case 'hasNoneOf':
      return ids.length ? sql`${contacts.id} NOT IN (${tagged})` : TRUE;
    case 'hasAllOf':
      // A tag nobody has yet cannot be held by anyone.
      if (ids.length < keys.length) return FALSE;
      return ids.length === 1
        ? sql`${contacts.id} IN (${tagged})`
        : sql`${contacts.id} IN (${tagged} GROUP BY contact_id HAVING count(*) = ${ids.length})`;
  }
}

/** Names and custom fields are words people write with accents; phones, e-mails and languages are not. */
const foldsAccents = (field: string) => field === 'firstName' || field === 'lastName' || field.startsWith('custom.');

function compileField(condition: Extract<SegmentCondition, { type: 'field' }>, lookups: Lookups): SQL {
  const column = condition.field.startsWith('custom.')
    ? // The key is restricted to letters, digits, spaces, _ and -, so it is safe inside a quoted JSON path.
      sql`json_extract(${contacts.customFields}, ${`$."${condition.field.slice('custom.'.length)}"`})`
    : sql`${standardColumns[condition.field as keyof typeof standardColumns]}`;
  switch (condition.operator) {
    case 'exists':
      return sql`coalesce(${column}, '') <> ''`;
    case 'notExists':
      return sql`coalesce(${column}, '') = ''`;
    case 'contains': {
      if (!foldsAccents(condition.field))
        return sql`instr(lower(coalesce(${column}, '')), lower(${condition.value})) > 0`;
      const folded = condition.field.startsWith('custom.')
        ? sql`json_extract(${contacts.customFolded}, ${`$."${condition.field.slice('custom.'.length)}"`})`
        : sql`${condition.field === 'firstName' ? contacts.firstFolded : contacts.lastFolded}`;
      const known = sql`${contacts.customFolded} IS NOT NULL`;
      // Or as typed: a value stored decomposed before contacts were kept NFC still matches itself.
      return sql`(${foldedContains(known, folded, column, condition.value)} OR instr(coalesce(${column}, ''), ${condition.value}) > 0)`;
    }
    case 'is':
    case 'isNot': {
      // A phone is compared in E.164, so "11 5555-1234" finds +5491155551234 in an Argentine workspace.
      const value =
        condition.field === 'phone'
          ? (phoneColumns(condition.value, lookups.defaultCountry).phone ?? condition.value)
          : condition.value;
      const equal = foldsAccents(condition.field)
        ? sql`(${column} GLOB ${foldPattern(value, false)} OR ${column} = ${value})`
        : sql`${column} = ${value} COLLATE NOCASE`;
      return condition.operator === 'is' ? equal : sql`(${column} IS NULL OR NOT (${equal}))`;
    }
  }
}

function compileHasIdentifier(channelId: number, lookups: Lookups): SQL {
  const type = lookups.channelTypes.get(channelId);
  if (!type) return FALSE;
  switch (channelCapabilities[type].identifier) {
    case 'phone':
      return sql`${contacts.phone} IS NOT NULL`;
    case 'email':
      return sql`${contacts.email} IS NOT NULL`;
    default:
      return sql`EXISTS (SELECT 1 FROM contact_identifiers ci WHERE ci.contact_id = ${contacts.id} AND ci.channel_id = ${channelId})`;
  }
}

export async function countSegment(db: Queryable, scope: SegmentScope, filter: SegmentFilter): Promise<number> {
  const where = await compileSegmentFilter(db, scope, filter);
  const [row] = await db.select({ count: sql<number>`count(*)` }).from(contacts).where(where);
  return row?.count ?? 0;
}

export async function sampleSegment(db: Queryable, scope: SegmentScope, filter: SegmentFilter, size: number) {
  if (size === 0) return [];
  const where = await compileSegmentFilter(db, scope, filter);
  return db
    .select({
      id: contacts.id,
      firstName: contacts.firstName,
      lastName: contacts.lastName,
      phone: contacts.phone,
      email: contacts.email,
    })
    .from(contacts)
    .where(where)
    .orderBy(contacts.id)
    .limit(size);
}
