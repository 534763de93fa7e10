import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { contactTags, tags } from '../db/schema';

/** What tagging needs: the database, one of its transactions, or a writer given only these. */
type TagWriter = Pick<Database, 'select' | 'insert' | 'delete'>;

export const tagKey = (name: string) => name.trim().toLowerCase();

/** Deduplicates names case-insensitively, keeping the first spelling. */
export function uniqueTagNames(names: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const name of names) {
    const trimmed = name.trim();
    if (trimmed && !seen.has(tagKey(trimmed))) seen.set(tagKey(trimmed), trimmed);
  }
  return [...seen.values()];
}

/** Returns the ids of the named tags, creating the ones the workspace does not have yet. */
export async function ensureTags(db: TagWriter, workspaceId: number, names: readonly string[]): Promise<number[]> {
  const unique = uniqueTagNames(names);
  if (unique.length === 0) return [];
  await db
    .insert(tags)
    .values(unique.map((name) => ({ workspaceId, name, key: tagKey(name) })))
    .onConflictDoNothing();
  const rows = await db
    .select({ id: tags.id })
    .from(tags)
    .where(and(eq(tags.workspaceId, workspaceId), inArray(tags.key, unique.map(tagKey))));
  return rows.map((row) => row.id);
}

/** Ids of the named tags that exist; unknown names are simply absent. */
export async function findTagIds(db: TagWriter, workspaceId: number, names: readonly string[]): Promise<number[]> {
  const keys = uniqueTagNames(names).map(tagKey);
  if (keys.length === 0) return [];
  const rows = await db
    .select({ id: tags.id })
    .from(tags)
    .where(and(eq(tags.workspaceId, workspaceId), inArray(tags.key, keys)));
  return rows.map((row) => row.id);
}

export async function tagContacts(
  db: TagWriter,
  contactIds: readonly number[],
  tagIds: readonly number[],
): Promise<void> {
  const rows = contactIds.flatMap((contactId) => tagIds.map((tagId) => ({ contactId, tagId })));
  // Chunks keep the bound parameters far below SQLite's limit.
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insert(contactTags)
      .values(rows.slice(i, i + 1000))
      .onConflictDoNothing();
  }
}

export async function untagContact(db: TagWriter, contactId: number, tagIds: readonly number[]): Promise<void> {
  if (tagIds.length === 0) return;
  await db.delete(contactTags).where(and(eq(contactTags.contactId, contactId), inArray(contactTags.tagId, tagIds)));
}

/** Tag names per contact, in one query for a whole page of contacts. */
export async function tagNamesByContact(db: TagWriter, contactIds: readonly number[]): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  if (contactIds.length === 0) return result;
  const rows = await db
    .select({ contactId: contactTags.contactId, name: tags.name })
    .from(contactTags)
    .innerJoin(tags, eq(tags.id, contactTags.tagId))
    .where(inArray(contactTags.contactId, [...contactIds]))
    .orderBy(sql`${tags.key}`);
  for (const row of rows) {
    const list = result.get(row.contactId) ?? [];
    list.push(row.name);
    result.set(row.contactId, list);
  }
  return result;
}
