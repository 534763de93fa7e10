import type { Contact, ContactCreate, ContactDetail, ContactUpdate } from '@rebound/shared';
import { channelCapabilities } from '@rebound/shared';
import { and, desc, eq, inArray, isNotNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { first } from '../db/first';
import { channels, contactIdentifiers, contacts, contactTags, tags } from '../db/schema';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { normalizePhone } from '../lib/phone';
import { contactValues, normalizeEmail, phoneColumns } from './contact-input';
import { insertContacts, linkTags, updateContacts } from './contact-store';
import { assertCustomKeysWithinCap } from './custom-field-keys';
import { contactAddressOn, optOutsForContact, removeOptOut } from './opt-outs';
import { ensureTags, tagContacts, tagNamesByContact } from './tags';

type ContactRow = typeof contacts.$inferSelect;
type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

// Normalizing and the custom-field cap belong to the one contact writer's parts; these names stay importable here.
export { normalizeEmail, phoneColumns } from './contact-input';
export { assertCustomKeysWithinCap, getCustomFieldKeyCap, setCustomFieldKeyCap } from './custom-field-keys';

/** The keys a change writes a value to (null removes a key, so it never adds one). */
const addedKeys = (changes: Record<string, unknown> | undefined) =>
  Object.entries(changes ?? {}).flatMap(([key, value]) => (value === null ? [] : [key]));

/**
 * Finds a contact by ID, phone:<number> or email:<address>, only inside the workspace.
 * When duplicates share a phone or e-mail, the oldest contact answers.
 */
export async function resolveContactRef(db: Database | Tx, ws: Workspace, ref: string | number): Promise<ContactRow> {
  let where: SQL | undefined;
  const text = String(ref);
  if (/^\d+$/.test(text)) where = eq(contacts.id, Number(text));
  else if (text.startsWith('phone:')) {
    const phone = phoneColumns(text.slice('phone:'.length), ws.defaultCountry).phone;
    where = phone ? eq(contacts.phone, phone) : undefined;
  } else if (text.startsWith('email:')) where = eq(contacts.email, normalizeEmail(text.slice('email:'.length)));
  if (!where) throw notFound('contact', { ref: text });
  const [row] = await db
    .select()
    .from(contacts)
    .where(and(eq(contacts.workspaceId, ws.workspaceId), where))
    .orderBy(contacts.id)
    .limit(1);
  if (!row) throw notFound('contact', { ref: text });
  return row;
}

/** Checks identifiers against the workspace's channels and against other contacts. */
async function writeIdentifiers(
  tx: Tx,
  ws: Workspace,
  contactId: number,
  identifiers: NonNullable<ContactCreate['identifiers']>,
): Promise<void> {
  for (const { channelId, identifier } of identifiers) {
    const [channel] = await tx
      .select({ type: channels.type })
      .from(channels)
      .where(
        and(eq(channels.id, channelId), eq(channels.workspaceId, ws.workspaceId), sql`${channels.deletedAt} IS NULL`),
      );
    if (!channel) throw notFound('channel', { path: 'identifiers', channelId });
    const kind = channelCapabilities[channel.type].identifier;
    if (kind === 'phone' || kind === 'email') {
      throw new ApiError(422, 'contact_identifier_channel', { channelId }, [
        { path: 'identifiers', message: `channel ${channelId} uses the contact's ${kind}` },
      ]);
    }
    const [owner] = await tx
      .select({ contactId: contactIdentifiers.contactId })
      .from(contactIdentifiers)
      .where(and(eq(contactIdentifiers.channelId, channelId), eq(contactIdentifiers.identifier, identifier)));
    if (owner && owner.contactId !== contactId) {
      throw new ApiError(409, 'contact_identifier_taken', { identifier, channelId, contactId: owner.contactId });
    }
    await tx
      .insert(contactIdentifiers)
      .values({ contactId, channelId, identifier })
      .onConflictDoUpdate({
        target: [contactIdentifiers.contactId, contactIdentifiers.channelId],
        set: { identifier },
      });
  }
}

export async function toContacts(db: Database | Tx, rows: ContactRow[]): Promise<Contact[]> {
  const ids = rows.map((row) => row.id);
  const tagMap = await tagNamesByContact(db, ids);
  const identifierRows = ids.length
    ? await db
        .select()
        .from(contactIdentifiers)
        .where(inArray(contactIdentifiers.contactId, ids))
        .orderBy(contactIdentifiers.channelId)
    : [];
  return rows.map((row) => ({
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    phone: row.phone,
    phoneValid: row.phoneValid,
    phoneProblem: row.phoneProblem,
    email: row.email,
    language: row.language,
    customFields: row.customFields,
    identifiers: identifierRows
      .filter((identifier) => identifier.contactId === row.id)
      .map(({ channelId, identifier }) => ({ channelId, identifier })),
    tags: tagMap.get(row.id) ?? [],
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }));
}

export async function getContact(db: Database | Tx, ws: Workspace, ref: string | number): Promise<Contact> {
  const [contact] = await toContacts(db, [await resolveContactRef(db, ws, ref)]);
  if (!contact) throw notFound('contact');
  return contact;
}

/** The contact's page: the contact and the channels it opted out of. */
export async function getContactDetail(db: Database, ws: Workspace, ref: string | number): Promise<ContactDetail> {
  const contact = await getContact(db, ws, ref);
  return { ...contact, optOuts: await optOutsForContact(db, ws.workspaceId, contact.id) };
}

/**
 * A manager lifts the contact's opt-out on one channel, with a note saying why (kept in an audit
 * event). Another workspace's contact or channel is "not found", exactly like one that never existed.
 */
export async function removeContactOptOut(
  db: Database,
  auth: Pick<AuthContext, 'workspaceId' | 'defaultCountry' | 'tokenId' | 'tokenName' | 'role'>,
  ref: string,
  channelId: number,
  note: string,
): Promise<ContactDetail> {
  const contact = await resolveContactRef(db, auth, ref);
  const { identifier } = await contactAddressOn(db, auth.workspaceId, contact.id, channelId);
  const name = [contact.firstName, contact.lastName].filter(Boolean).join(' ') || null;
  const removed =
    identifier === null
      ? undefined
      : await removeOptOut(db, auth.workspaceId, channelId, identifier, {
          note,
          by: { tokenId: auth.tokenId, tokenName: auth.tokenName, role: auth.role },
          contact: { id: contact.id, name },
        });
  if (!removed) throw new ApiError(404, 'opt_out_not_found', { channelId });
  return getContactDetail(db, auth, contact.id);
}

/** A new contact, written by the contact writer (a batch of one); the API never matches it to another. */
export async function createContact(db: Database, ws: Workspace, input: ContactCreate): Promise<Contact> {
  if (!input.firstName && !input.phone && !input.email && !input.identifiers?.length) {
    throw new ApiError(422, 'contact_needs_identity', {}, [
      { path: '', message: 'firstName, phone, email or identifiers' },
    ]);
  }
  return db.transaction(async (tx) => {
    await assertCustomKeysWithinCap(db, ws.workspaceId, addedKeys(input.customFields));
    const [id] = await insertContacts(tx, ws.workspaceId, [contactValues(input, ws.defaultCountry)]);
    if (id === undefined) throw new Error('contact insert returned nothing');
    if (input.identifiers?.length) await writeIdentifiers(tx, ws, id, input.identifiers);
    if (input.tags?.length) await linkTags(tx, [id], await ensureTags(tx, ws.workspaceId, input.tags));
    return getContact(tx, ws, id);
  });
}

/** Only what is sent changes, null clears; written by the contact writer (a batch of one). */
export async function updateContact(db: Database, ws: Workspace, ref: string, patch: ContactUpdate): Promise<Contact> {
  return db.transaction(async (tx) => {
    const current = await resolveContactRef(tx, ws, ref);
    if (patch.customFields) await assertCustomKeysWithinCap(db, ws.workspaceId, addedKeys(patch.customFields));
    await updateContacts(tx, ws.workspaceId, [{ id: current.id, data: contactValues(patch, ws.defaultCountry) }]);
    if (patch.identifiers) await writeIdentifiers(tx, ws, current.id, patch.identifiers);
    return getContact(tx, ws, current.id);
  });
}

export async function addTags(db: Database, ws: Workspace, ref: string, names: string[]): Promise<Contact> {
  return db.transaction(async (tx) => {
    const contact = await resolveContactRef(tx, ws, ref);
    await tagContacts(tx, [contact.id], await ensureTags(tx, ws.workspaceId, names));
    return getContact(tx, ws, contact.id);
  });
}

export async function removeTags(db: Database, ws: Workspace, ref: string, names: string[]): Promise<Contact> {
  return db.transaction(async (tx) => {
    const contact = await resolveContactRef(tx, ws, ref);
    const keys = names.map((name) => name.trim().toLowerCase());
    await tx.delete(contactTags).where(
      and(
        eq(contactTags.contactId, contact.id),
        inArray(
          contactTags.tagId,
          tx
            .select({ id: tags.id })
            .from(tags)
            .where(and(eq(tags.workspaceId, ws.workspaceId), inArray(tags.key, keys))),
        ),
      ),
    );
    return getContact(tx, ws, contact.id);
  });
}

export interface ContactSearch {
  q?: string | undefined;
  tag?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** The index holds trigrams: a shorter query could only be answered by reading every contact. */
const SEARCH_MIN_CHARACTERS = 3;
/**
 * Candidates one page may check at most. The index knows which contacts hold each trigram, not where,
 * so a few hold them all without the query as written; past this many checked, the page ends early with a
 * cursor to go on, rather than holding a heavy thread over the whole workspace.
 */
const SEARCH_MAX_CANDIDATES = 5000;
/**
 * Trigrams asked of the index per query. Overlapping ones narrow little (who holds "gon" mostly holds
 * "onz") and every term is a doclist to merge; each candidate is checked against the full text anyway.
 */
const SEARCH_MAX_TRIGRAMS = 8;
/** Index keys are workspace_id * 2^32 + contact id (migration 0006): a workspace is one range of keys. */
const WORKSPACE_KEY_SPAN = 4_294_967_296;
/** Only digits and what people write between them: "+54 9 11", "11 5500-12", "(011) 4". */
const PHONE_LIKE = /^[\d\s+\-()./]+$/;

/** Case and accents folded for the check: "José Núñez" → "jose nunez". Plain ASCII (most e-mails) skips the Unicode work. */
const folded = (text: string) =>
  /^[\x20-\x7e]*$/.test(text) ? text.toLowerCase() : text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const digitsOf = (text: string) => text.replace(/\D/g, '');

interface ParsedSearch {
  /** What a name, e-mail or phone must contain, folded. */
  text: string;
  /** Digit strings a phone may contain instead (the query's digits, and its E.164 form when it is a whole number). */
  digits: string[];
  /** The FTS5 query: every string quoted, so the agent's text is never FTS5 syntax. */
  match: string;
}

/** The index query the text's trigrams answer: side by side, not overlapping, and the last one. */
function trigramQuery(text: string): string {
  const characters = Array.from(text);
  const starts = [...characters.keys()].filter((i) => i % 3 === 0 && i + 3 <= characters.length);
  if (starts.at(-1) !== characters.length - 3) starts.push(characters.length - 3);
  const picked =
    starts.length <= SEARCH_MAX_TRIGRAMS
      ? starts
      : Array.from(
          { length: SEARCH_MAX_TRIGRAMS },
          (_, i) => starts[Math.round((i * (starts.length - 1)) / (SEARCH_MAX_TRIGRAMS - 1))] as number,
        );
  const trigrams = new Set(picked.map((i) => characters.slice(i, i + 3).join('')));
  return `(${[...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ')})`;
}

function parseSearch(q: string, defaultCountry: string): ParsedSearch {
  // Control characters never match and a NUL would end the FTS5 string early; the tokenizer folds case
  // and precomposed accents itself, so the index gets the text composed and lower-cased.
  const typed = q
    .replace(/\p{Cc}/gu, ' ')
    .normalize('NFC')
    .toLowerCase()
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  const text = folded(typed);
  if (Array.from(text).length < SEARCH_MIN_CHARACTERS) {
    throw new ApiError(422, 'search_too_short', { min: SEARCH_MIN_CHARACTERS }, [
      { path: 'q', message: `at least ${SEARCH_MIN_CHARACTERS} characters` },
    ]);
  }
  const digits: string[] = [];
  if (PHONE_LIKE.test(typed) && digitsOf(typed).length >= SEARCH_MIN_CHARACTERS) {
    digits.push(digitsOf(typed));
    // "011 15 5555-1234" is stored as +5491155551234: a whole local number also matches its E.164 digits.
    const phone = normalizePhone(typed, defaultCountry);
    if (phone.valid && !digits.includes(digitsOf(phone.e164))) digits.push(digitsOf(phone.e164));
  }
  const match = [typed, ...digits.filter((d) => d !== typed)].map(trigramQuery).join(' OR ');
  return { text, digits, match };
}

interface SearchCandidate {
  id: number;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
}

/** Whether the contact holds the query as written (case and accents aside), not only its trigrams. */
function holds(search: ParsedSearch, contact: SearchCandidate): boolean {
  const name = `${contact.firstName ?? ''} ${contact.lastName ?? ''}`.trim();
  const phone = contact.phone ?? '';
  return (
    search.digits.some((digits) => digitsOf(phone).includes(digits)) ||
    folded(name).includes(search.text) ||
    folded(contact.email ?? '').includes(search.text) ||
    folded(phone).includes(search.text)
  );
}

/**
 * Newest first, one page at a time. With q, the contact_search index (migration 0006, kept by triggers)
 * yields the workspace's candidates newest first and each is checked against the query as written.
 */
export async function searchContacts(db: Database, ws: Workspace, search: ContactSearch) {
  const after = decodeCursor(search.cursor);
  if (after !== undefined && Number.isNaN(after))
    throw new ApiError(422, 'validation_failed', {}, [
      { path: 'cursor', message: 'Not a cursor from this API; start again without it' },
    ]);
  if (search.q) return searchContactsByText(db, ws, search, search.q, after);
  const conditions: SQL[] = [eq(contacts.workspaceId, ws.workspaceId)];
  if (after !== undefined) conditions.push(lt(contacts.id, after));
  if (search.tag) {
    conditions.push(
      inArray(
        contacts.id,
        db
          .select({ id: contactTags.contactId })
          .from(contactTags)
          .innerJoin(tags, eq(tags.id, contactTags.tagId))
          .where(and(eq(tags.workspaceId, ws.workspaceId), eq(tags.key, search.tag.trim().toLowerCase()))),
      ),
    );
  }
  const rows = await db
    .select()
    .from(contacts)
    .where(and(...conditions))
    .orderBy(desc(contacts.id))
    .limit(search.limit + 1);
  const page = rows.slice(0, search.limit);
  const last = page.at(-1);
  return {
    data: await toContacts(db, page),
    nextCursor: rows.length > search.limit && last ? encodeCursor(last.id) : null,
  };
}

async function searchContactsByText(
  db: Database,
  ws: Workspace,
  search: ContactSearch,
  q: string,
  after: number | undefined,
) {
  const parsed = parseSearch(q, ws.defaultCountry);
  let tagged = sql``;
  if (search.tag) {
    const tag = await first<{ id: number }>(
      db,
      sql`SELECT id FROM tags WHERE workspace_id = ${ws.workspaceId} AND key = ${search.tag.trim().toLowerCase()}`,
    );
    if (!tag) return { data: [], nextCursor: null };
    tagged = sql`AND EXISTS (SELECT 1 FROM contact_tags WHERE tag_id = ${tag.id} AND contact_id = c.id)`;
  }
  const found: number[] = [];
  let before = after;
  let checked = 0;
  let more = true;
  // Growing rounds: most pages need one; a query many contacts nearly match reads on in bigger steps.
  for (let round = 0; found.length <= search.limit && more && checked < SEARCH_MAX_CANDIDATES; round++) {
    const size = Math.min(1000, (search.limit + 1) * 2 ** (round + 1));
    // CROSS JOIN keeps the index as the outer loop, so it hands rows over newest first and LIMIT stops it;
    // the key range is the workspace (and the cursor), so other workspaces' contacts are never read.
    // Integer arithmetic in SQL: keys pass 2^53, and the driver binds numbers as floats.
    const base = sql`(CAST(${ws.workspaceId} AS INTEGER) * ${sql.raw(String(WORKSPACE_KEY_SPAN))})`;
    const candidates = await db.all<SearchCandidate>(sql`SELECT c.id AS id, c.first_name AS firstName,
        c.last_name AS lastName, c.email AS email, c.phone AS phone
      FROM contact_search CROSS JOIN contacts c ON c.id = contact_search.rowid - ${base}
      WHERE contact_search MATCH ${parsed.match}
        AND contact_search.rowid >= ${base}
        AND contact_search.rowid < ${base} + CAST(${Math.min(before ?? WORKSPACE_KEY_SPAN, WORKSPACE_KEY_SPAN)} AS INTEGER)
        AND c.workspace_id = ${ws.workspaceId} ${tagged}
      ORDER BY contact_search.rowid DESC LIMIT ${size}`);
    for (const candidate of candidates) {
      if (holds(parsed, candidate)) found.push(candidate.id);
      if (found.length > search.limit) break;
    }
    checked += candidates.length;
    more = candidates.length === size;
    before = candidates.at(-1)?.id ?? before;
  }
  const ids = found.slice(0, search.limit);
  const rows = ids.length
    ? await db.select().from(contacts).where(inArray(contacts.id, ids)).orderBy(desc(contacts.id))
    : [];
  // A full page continues after its last contact; a page cut short by the budget after the last candidate checked.
  const next = found.length > search.limit ? ids.at(-1) : more ? before : undefined;
  return { data: await toContacts(db, rows), nextCursor: next === undefined ? null : encodeCursor(next) };
}

/** Contacts sharing a normalized phone (valid numbers only) or an e-mail. */
export async function findDuplicates(db: Database, ws: Workspace) {
  const groups: { by: 'phone' | 'email'; value: string; contactIds: number[] }[] = [];
  for (const by of ['phone', 'email'] as const) {
    const column = by === 'phone' ? contacts.phone : contacts.email;
    const extra = by === 'phone' ? eq(contacts.phoneValid, true) : isNotNull(contacts.email);
    const rows = await db
      .select({ value: column, ids: sql<string>`group_concat(${contacts.id})` })
      .from(contacts)
      .where(and(eq(contacts.workspaceId, ws.workspaceId), isNotNull(column), extra))
      .groupBy(column)
      .having(sql`count(*) > 1`)
      .orderBy(column)
      .limit(1000);
    for (const row of rows) {
      if (row.value === null) continue;
      groups.push({
        by,
        value: row.value,
        contactIds: row.ids
          .split(',')
          .map(Number)
          .sort((a, b) => a - b),
      });
    }
  }
  return { data: groups };
}

/**
 * Merges one contact into another: the kept contact gains the other's tags, channel identifiers,
 * custom fields, message history and any details it lacks; then the merged contact is removed.
 * All or nothing.
 */
export async function mergeContacts(db: Database, ws: Workspace, keepRef: string | number, mergeRef: string | number) {
  return db.transaction(async (tx) => {
    const keep = await resolveContactRef(tx, ws, keepRef);
    const merge = await resolveContactRef(tx, ws, mergeRef);
    if (keep.id === merge.id)
      throw new ApiError(422, 'merge_same_contact', {}, [{ path: 'merge', message: 'same contact as keep' }]);
    await tx.run(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
      SELECT tag_id, ${keep.id} FROM contact_tags WHERE contact_id = ${merge.id}`);
    // An identifier on a channel where the kept contact has none moves over; a clash keeps the kept one.
    await tx.run(sql`UPDATE contact_identifiers SET contact_id = ${keep.id}
      WHERE contact_id = ${merge.id}
        AND channel_id NOT IN (SELECT channel_id FROM contact_identifiers WHERE contact_id = ${keep.id})`);
    const takeMergePhone = merge.phone !== null && (keep.phone === null || (!keep.phoneValid && merge.phoneValid));
    await tx
      .update(contacts)
      .set({
        firstName: keep.firstName ?? merge.firstName,
        lastName: keep.lastName ?? merge.lastName,
        ...(takeMergePhone
          ? { phone: merge.phone, phoneValid: merge.phoneValid, phoneProblem: merge.phoneProblem }
          : {}),
        email: keep.email ?? merge.email,
        language: keep.language ?? merge.language,
        customFields: { ...merge.customFields, ...keep.customFields },
        updatedAt: new Date(),
      })
      .where(eq(contacts.id, keep.id));
    // Message history follows the person: failed messages, re-sends and reconciliations stay whole.
    await tx.run(sql`UPDATE messages SET contact_id = ${keep.id} WHERE contact_id = ${merge.id}`);
    await tx.run(sql`INSERT OR IGNORE INTO broadcast_targets (broadcast_id, contact_id)
      SELECT broadcast_id, ${keep.id} FROM broadcast_targets WHERE contact_id = ${merge.id}`);
    await tx.run(sql`DELETE FROM broadcast_targets WHERE contact_id = ${merge.id}`);
    await tx.delete(contacts).where(eq(contacts.id, merge.id));
    return getContact(tx, ws, keep.id);
  });
}
