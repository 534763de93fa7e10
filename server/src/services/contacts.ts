import type { Contact, ContactCreate, ContactDetail, ContactUpdate } from '@rebound/shared';
import { channelCapabilities } from '@rebound/shared';
import { and, eq, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client';
import { channels, contactIdentifiers, contacts, contactTags, tags } from '../db/schema';
import type { AuthContext } from '../lib/env';
import { ApiError, fieldIssue, notFound } from '../lib/errors';
import { contactValues, normalizeEmail, phoneColumns } from './contact-input';
import { type ContactSearch, findContactsPage } from './contact-search';
import { foldUnfolded, insertContacts, linkTags, updateContacts } from './contact-store';
import { assertCustomKeysWithinCap, respell } from './custom-field-keys';
import { contactAddressOn, optOutsForContact, removeOptOut } from './opt-outs';
import { planBeingWritten } from './resend-writer';
import { ensureTags, tagContacts, tagNamesByContact } from './tags';

type ContactRow = typeof contacts.$inferSelect;
type Workspace = Pick<AuthContext, 'workspaceId' | 'defaultCountry'>;

// Normalizing and the custom-field cap belong to the one contact writer's parts; these names stay importable here.
export { normalizeEmail, phoneColumns } from './contact-input';
export type { ContactSearch } from './contact-search';
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
    if (!channel) throw notFound('channel', { path: 'body.identifiers', channelId });
    const kind = channelCapabilities[channel.type].identifier;
    if (kind === 'phone' || kind === 'email') {
      throw new ApiError(422, 'contact_identifier_channel', { channelId }, [
        fieldIssue('body.identifiers', kind === 'phone' ? 'channelUsesPhone' : 'channelUsesEmail', { channelId }),
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
    throw new ApiError(422, 'contact_needs_identity', {}, [fieldIssue('body', 'contactNeedsIdentity')]);
  }
  return db.transaction(async (tx) => {
    const spelling = await assertCustomKeysWithinCap(db, ws.workspaceId, addedKeys(input.customFields));
    const spelled = input.customFields ? { ...input, customFields: respell(input.customFields, spelling) } : input;
    const [id] = await insertContacts(tx, ws.workspaceId, [contactValues(spelled, ws.defaultCountry)]);
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
    // A key removed (null) in another case removes the workspace's spelling of it too.
    const removed = Object.entries(patch.customFields ?? {}).flatMap(([key, value]) => (value === null ? [key] : []));
    const spelling = patch.customFields
      ? await assertCustomKeysWithinCap(db, ws.workspaceId, addedKeys(patch.customFields), undefined, removed)
      : new Map<string, string>();
    const spelled = patch.customFields ? { ...patch, customFields: respell(patch.customFields, spelling) } : patch;
    await updateContacts(tx, ws.workspaceId, [{ id: current.id, data: contactValues(spelled, ws.defaultCountry) }]);
    if (patch.identifiers) await writeIdentifiers(tx, ws, current.id, patch.identifiers);
    return getContact(tx, ws, current.id);
  });
}

export async function addTags(db: Database, ws: Workspace, ref: string, names: string[]): Promise<Contact> {
  return db.transaction(async (tx) => {
    const contact = await resolveContactRef(tx, ws, ref);
    await tagContacts(tx, [contact.id], await ensureTags(tx, ws.workspaceId, names));
    await touched(tx, contact.id);
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
    await touched(tx, contact.id);
    return getContact(tx, ws, contact.id);
  });
}

/**
 * An agent's change to a contact's tags is a change to the contact: an import failing meanwhile keeps it
 * (services/import-undo.ts knows a contact changed since by its updated_at).
 */
async function touched(tx: Pick<Database, 'run'>, contactId: number): Promise<void> {
  await tx.run(sql`UPDATE contacts SET updated_at = ${Date.now()} WHERE id = ${contactId}`);
}

/** A page of the workspace's contacts, newest first, as the API gives them (contact-search.ts finds which). */
export async function searchContacts(db: Database, ws: Workspace, search: ContactSearch) {
  const { rows, nextCursor } = await findContactsPage(db, ws, search);
  return { data: await toContacts(db, rows), nextCursor };
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
  // Not while a re-send's plan of this workspace is being written: it read its contacts before writing
  // them (tags, targets), and a contact merged meanwhile would be gone from under it. A plan takes
  // seconds; the merge waits for it, as a second click waits for the first (claimPlan).
  const deadline = Date.now() + MERGE_WAITS_FOR_PLAN_MS;
  for (;;) {
    try {
      return await mergeNow(db, ws, keepRef, mergeRef);
    } catch (error) {
      if (!(error instanceof WaitsForPlan)) throw error;
      if (Date.now() > deadline) throw new ApiError(409, 'contact_merge_resend_planning');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** How long a merge waits for the workspace's re-send plans being written, before it answers 409. */
const MERGE_WAITS_FOR_PLAN_MS = 15_000;

class WaitsForPlan extends Error {}

async function mergeNow(db: Database, ws: Workspace, keepRef: string | number, mergeRef: string | number) {
  return db.transaction(async (tx) => {
    // Checked under the write lock: a plan claimed after this commit reads the merged contacts.
    if (await planBeingWritten(tx, ws.workspaceId)) throw new WaitsForPlan();
    const keep = await resolveContactRef(tx, ws, keepRef);
    const merge = await resolveContactRef(tx, ws, mergeRef);
    if (keep.id === merge.id)
      throw new ApiError(422, 'merge_same_contact', {}, [fieldIssue('body.merge', 'sameContactAsKeep')]);
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
    // Text it changed left the contact unfolded (trigger contacts_folded_stale, migration 0040): folded again.
    await foldUnfolded(tx, [keep.id]);
    // Message history follows the person: failed messages, re-sends and reconciliations stay whole.
    await tx.run(sql`UPDATE messages SET contact_id = ${keep.id} WHERE contact_id = ${merge.id}`);
    await tx.run(sql`INSERT OR IGNORE INTO broadcast_targets (broadcast_id, contact_id)
      SELECT broadcast_id, ${keep.id} FROM broadcast_targets WHERE contact_id = ${merge.id}`);
    await tx.run(sql`DELETE FROM broadcast_targets WHERE contact_id = ${merge.id}`);
    // A scheduled re-send's audience is its targets' contacts: the merged one's failure goes to the kept one.
    await tx.run(sql`UPDATE resend_targets SET contact_id = ${keep.id} WHERE contact_id = ${merge.id}`);
    await tx.delete(contacts).where(eq(contacts.id, merge.id));
    return getContact(tx, ws, keep.id);
  });
}
