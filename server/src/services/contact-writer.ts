/**
 * The one contact writer. The CSV import, the API's create and update, and the benchmark write contacts
 * through here, so a phone, an e-mail or a match means the same on every path: phones normalized to
 * E.164 with the workspace's country (libphonenumber-js), e-mails trimmed and lower-cased, existing
 * contacts matched by contact ID, phone or e-mail (the oldest answers when several share one), batches
 * written as multi-row statements whose values travel as one JSON parameter, tags linked in one
 * statement per batch, and the workspace's cap on distinct custom-field keys.
 */
import type { ImportField, ImportIdentifier, ImportMode, ImportRowReason, PhoneProblem } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { contacts } from '../db/schema';
import { ApiError } from '../lib/errors';
import { normalizePhone } from '../lib/phone';
import { noteBeforeUpdate, noteCreated } from './import-undo';
import { ensureTags } from './tags';

/** The database or a transaction of it: every statement here runs on either. */
type Db = Pick<Database, 'all' | 'run'>;

// ---------------------------------------------------------------------------------------------------
// Normalizing what a row says

/** The columns a phone turns into: E.164 when it parses, the text as given and the problem otherwise. */
export interface PhoneColumns {
  phone: string | null;
  phoneValid: boolean | null;
  phoneProblem: PhoneProblem | null;
}

const NO_PHONE: Readonly<PhoneColumns> = Object.freeze({ phone: null, phoneValid: null, phoneProblem: null });

/**
 * Phones already normalized, by country and text as given. Parsing a number with libphonenumber still
 * costs some 15 µs (lib/phone.ts): a number on many rows of a file, or a list imported again while the
 * thread lives, is parsed once. Bounded: when full it starts over, so memory stays flat whatever the
 * files. (Not one oldest entry out per new one: a Map emptied from its front keeps the holes, and
 * finding its first live key got slower with every eviction; a second 100,000-row import took 40 %
 * longer than the first.)
 */
const phoneCache = new Map<string, Readonly<PhoneColumns>>();
export const PHONE_CACHE_SIZE = 50_000;

export function phoneColumns(phone: string | null | undefined, defaultCountry: string): Readonly<PhoneColumns> {
  if (phone == null) return NO_PHONE;
  const key = `${defaultCountry} ${phone}`;
  const known = phoneCache.get(key);
  if (known) return known;
  const result = normalizePhone(phone, defaultCountry);
  const columns: Readonly<PhoneColumns> = Object.freeze(
    result.valid
      ? { phone: result.e164, phoneValid: true, phoneProblem: null }
      : { phone: result.raw, phoneValid: false, phoneProblem: result.problem },
  );
  if (phoneCache.size >= PHONE_CACHE_SIZE) phoneCache.clear();
  phoneCache.set(key, columns);
  return columns;
}

/** Empties the phone cache: the benchmark measures each pass with normalization cold. */
export const forgetNormalizedPhones = () => phoneCache.clear();

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * What a write sets on a contact. An absent field keeps what the contact has; null clears it (the API's
 * PATCH; an import never clears). Custom fields merge key by key, a null value removing the key.
 */
export interface ContactValues {
  firstName?: string | null;
  lastName?: string | null;
  phone?: Readonly<PhoneColumns>;
  email?: string | null;
  language?: string | null;
  customFields?: Record<string, string | null>;
}

/** A contact as the API gives it (create or PATCH): custom values are kept as text. */
export interface ContactFieldsInput {
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  language?: string | null | undefined;
  customFields?: Record<string, string | number | boolean | null> | undefined;
}

/** The API's fields as the writer's values: only what is given, normalized. */
export function contactValues(input: ContactFieldsInput, defaultCountry: string): ContactValues {
  const values: ContactValues = {};
  if (input.firstName !== undefined) values.firstName = input.firstName;
  if (input.lastName !== undefined) values.lastName = input.lastName;
  if (input.phone !== undefined) values.phone = phoneColumns(input.phone, defaultCountry);
  if (input.email !== undefined) values.email = input.email === null ? null : normalizeEmail(input.email);
  if (input.language !== undefined) values.language = input.language;
  if (input.customFields) {
    values.customFields = Object.fromEntries(
      Object.entries(input.customFields).map(([key, value]) => [key, value === null ? null : String(value)]),
    );
  }
  return values;
}

/** Why a row cannot be written, as a code and its parameters (rendered in each reader's language). */
export interface Rejection {
  code: ImportRowReason;
  params: Record<string, string | number>;
}

/** One row to write: its normalized identifier and values, or why not. */
export interface ContactRow {
  /** Where the row comes from: the file's line where it starts, or the index in a batch. */
  line: number;
  /** The identifier as written (for the report). */
  identifierValue: string | null;
  /** The identifier, normalized: a contact ID, an E.164 phone or a lower-cased e-mail. */
  key?: string;
  data: ContactValues;
  rejection?: Rejection;
}

const MAX_LENGTH: Partial<Record<ImportField, number>> = { firstName: 100, lastName: 100, phone: 40 };
const MAX_CUSTOM_VALUE = 2000;
const emailSchema = z.email().max(254);
const languagePattern = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;

const refuse = (row: ContactRow, code: ImportRowReason, params: Record<string, string | number>): Rejection => ({
  code,
  params: { line: row.line, ...params },
});

/**
 * Reads one field of a row into it: checked, normalized, and the row's key when it is the identifier.
 * The value is trimmed already; `column` names it in a rejection. Returns why the row cannot be written.
 */
export function readContactField(
  row: ContactRow,
  field: Exclude<ImportField, 'ignore'>,
  value: string,
  identifier: ImportIdentifier,
  defaultCountry: string,
  column: string,
): Rejection | undefined {
  // No closure per call: this runs for every field of every row.
  if (field === identifier && !value) return refuse(row, 'identifier_missing', { identifier });
  if (!value) return undefined;
  const max = field.startsWith('custom.') ? MAX_CUSTOM_VALUE : MAX_LENGTH[field];
  if (max !== undefined && value.length > max)
    return refuse(row, 'value_too_long', { column, size: value.length, max });
  switch (field) {
    case 'contactId':
      if (identifier !== 'contactId') break;
      if (!/^\d{1,15}$/.test(value) || Number(value) === 0) return refuse(row, 'contact_id_invalid', { value });
      row.key = String(Number(value));
      break;
    case 'firstName':
      row.data.firstName = value;
      break;
    case 'lastName':
      row.data.lastName = value;
      break;
    case 'phone': {
      // "5.49115E+12": Excel showed a long number in scientific notation and saved it so; the digits are lost.
      if (/^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$/i.test(value)) return refuse(row, 'phone_scientific', { value });
      const phone = phoneColumns(value, defaultCountry);
      if (identifier === 'phone') {
        if (!phone.phoneValid)
          return refuse(row, 'phone_invalid', { value, problem: phone.phoneProblem ?? 'invalid_number' });
        row.key = phone.phone ?? undefined;
      }
      row.data.phone = phone;
      break;
    }
    case 'email': {
      const email = normalizeEmail(value);
      if (!emailSchema.safeParse(email).success) return refuse(row, 'email_invalid', { value });
      if (identifier === 'email') row.key = email;
      row.data.email = email;
      break;
    }
    case 'language':
      if (!languagePattern.test(value) || value.length > 10) return refuse(row, 'language_invalid', { value });
      row.data.language = value;
      break;
    default: {
      const key = field.slice('custom.'.length);
      row.data.customFields = { ...row.data.customFields, [key]: value };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The workspace's cap on distinct custom-field keys

let customFieldKeyCap = 200;
/** The app sets the cap at start-up from CUSTOM_FIELD_KEYS_MAX (lib/create-app.ts). */
export function setCustomFieldKeyCap(max: number): void {
  customFieldKeyCap = max;
}
export const getCustomFieldKeyCap = () => customFieldKeyCap;

/**
 * Keys each workspace held at the last scan, per database: a write that only uses those adds no new key,
 * so it skips the scan of every contact's fields. Every scan replaces the set, so the cap is exact within
 * one process; another API process's writes are seen at this process's next scan.
 */
const knownKeys = new WeakMap<Database, Map<number, Set<string>>>();

/**
 * Refuses (422) a write that would take the workspace past the cap of distinct custom-field keys, so
 * exports and segment filters stay bounded. Call it inside the write's transaction with the database
 * (not the transaction): writes of one process are serialized, and its read sees every committed key.
 */
export async function assertCustomKeysWithinCap(
  db: Database,
  workspaceId: number,
  keys: Iterable<string>,
  max = customFieldKeyCap,
): Promise<void> {
  const wanted = new Set(keys);
  if (wanted.size === 0) return;
  const byWorkspace = knownKeys.get(db) ?? new Map<number, Set<string>>();
  const cached = byWorkspace.get(workspaceId);
  if (cached && [...wanted].every((key) => cached.has(key))) return;
  const rows = await db.all<{ key: string }>(sql`SELECT DISTINCT j.key AS key
    FROM contacts c, json_each(c.custom_fields) j
    WHERE c.workspace_id = ${workspaceId} AND json_valid(c.custom_fields)`);
  const existing = new Set(rows.map((row) => row.key));
  if (existing.size <= max * 2) {
    byWorkspace.set(workspaceId, existing);
    knownKeys.set(db, byWorkspace);
  }
  const added = [...wanted].filter((key) => !existing.has(key)).sort();
  if (added.length > 0 && existing.size + added.length > max) {
    const shown = added.slice(0, 10).join(', ') + (added.length > 10 ? ', …' : '');
    throw new ApiError(422, 'custom_field_keys_limit', { count: existing.size, max, keys: shown }, [
      { path: 'customFields', message: `new keys: ${added.join(', ')}` },
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Statements

/** A batch's values travel as one JSON parameter: a short statement, prepared fast, whatever the batch size. */
const jsonRows = (rows: unknown[]) => JSON.stringify(rows);

/**
 * Contact ids by normalized identifier, for the given keys, inside the workspace only. Raw rows, not
 * drizzle's select: mapping each row back was half the time of a look-up.
 */
export async function findContactIds(
  db: Db,
  workspaceId: number,
  identifier: ImportIdentifier,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  if (identifier === 'contactId') {
    // The unary + keeps SQLite on the primary key instead of scanning the workspace index.
    const rows = await db.all<{ id: number }>(sql`SELECT ${contacts.id} AS id FROM ${contacts}
      WHERE +${contacts.workspaceId} = ${workspaceId}
        AND ${contacts.id} IN (SELECT value FROM json_each(${jsonRows(keys.map(Number))}))`);
    for (const { id } of rows) found.set(String(id), Number(id));
    return found;
  }
  // When duplicates share a phone or e-mail, the oldest contact answers, as everywhere else.
  const column = identifier === 'phone' ? contacts.phone : contacts.email;
  const rows = await db.all<{ key: string | null; id: number }>(sql`SELECT ${column} AS key, min(${contacts.id}) AS id
    FROM ${contacts}
    WHERE ${contacts.workspaceId} = ${workspaceId} AND ${column} IN (SELECT value FROM json_each(${jsonRows([...keys])}))
    GROUP BY ${column}`);
  for (const { key, id } of rows) if (key !== null) found.set(key, Number(id));
  return found;
}

/** Bits of the first column of an update row: which fields it sets (absent ones keep the contact's). */
const SETS = { firstName: 1, lastName: 2, phone: 4, email: 8, language: 16 } as const;

/** A contact's columns as an array, in the order the statements below read them. */
function columnsOf(data: ContactValues, custom: Record<string, string | null> | undefined): unknown[] {
  const phone = data.phone;
  let sets = 0;
  for (const field of ['firstName', 'lastName', 'phone', 'email', 'language'] as const) {
    if (data[field] !== undefined) sets |= SETS[field];
  }
  return [
    sets,
    data.firstName ?? null,
    data.lastName ?? null,
    phone?.phone ?? null,
    phone?.phoneValid == null ? null : phone.phoneValid ? 1 : 0,
    phone?.phoneProblem ?? null,
    data.email ?? null,
    data.language ?? null,
    custom ?? null,
  ];
}

/** A new contact's custom fields: a null (remove) has nothing to remove. */
function newCustomFields(fields: Record<string, string | null> | undefined) {
  if (!fields) return undefined;
  for (const value of Object.values(fields)) {
    if (value === null) return Object.fromEntries(Object.entries(fields).filter(([, kept]) => kept !== null));
  }
  return fields;
}

/** Creates contacts in one multi-row INSERT; their ids come back (in no particular order). */
export async function insertContacts(tx: Db, workspaceId: number, rows: readonly ContactValues[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const now = Date.now();
  const created = await tx.all<{ id: number }>(sql`INSERT INTO contacts
      (workspace_id, first_name, last_name, phone, phone_valid, phone_problem, email, language, custom_fields, created_at, updated_at)
    SELECT ${workspaceId}, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6,
      j.value ->> 7, coalesce(j.value ->> 8, '{}'), ${now}, ${now}
    FROM json_each(${jsonRows(rows.map((data) => columnsOf(data, newCustomFields(data.customFields))))}) AS j
    RETURNING id`);
  return created.map((row) => Number(row.id));
}

export interface ContactUpdate {
  id: number;
  data: ContactValues;
}

/**
 * Updates contacts by id in one UPDATE ... FROM: a field a row leaves out keeps what the contact has,
 * custom fields merge (json_patch: a null removes its key). Returns the ids that were really there. The
 * unary + keeps SQLite looking contacts up by primary key, one per row, rather than walking the
 * workspace index. Each id must appear once: UPDATE ... FROM applies only one row per contact.
 */
export async function updateContacts(
  tx: Db,
  workspaceId: number,
  updates: readonly ContactUpdate[],
): Promise<Set<number>> {
  if (updates.length === 0) return new Set();
  const payload = jsonRows(updates.map(({ id, data }) => [id, ...columnsOf(data, data.customFields)]));
  const result = await tx.run(sql`UPDATE contacts SET
      first_name = CASE WHEN v.sets & 1 THEN v.first_name ELSE contacts.first_name END,
      last_name = CASE WHEN v.sets & 2 THEN v.last_name ELSE contacts.last_name END,
      phone = CASE WHEN v.sets & 4 THEN v.phone ELSE contacts.phone END,
      phone_valid = CASE WHEN v.sets & 4 THEN v.phone_valid ELSE contacts.phone_valid END,
      phone_problem = CASE WHEN v.sets & 4 THEN v.phone_problem ELSE contacts.phone_problem END,
      email = CASE WHEN v.sets & 8 THEN v.email ELSE contacts.email END,
      language = CASE WHEN v.sets & 16 THEN v.language ELSE contacts.language END,
      custom_fields = CASE WHEN v.custom IS NULL THEN contacts.custom_fields ELSE json_patch(contacts.custom_fields, v.custom) END,
      updated_at = ${Date.now()}
    FROM (
      SELECT j.value ->> 0 AS id, j.value ->> 1 AS sets, j.value ->> 2 AS first_name, j.value ->> 3 AS last_name,
        j.value ->> 4 AS phone, j.value ->> 5 AS phone_valid, j.value ->> 6 AS phone_problem, j.value ->> 7 AS email,
        j.value ->> 8 AS language, j.value ->> 9 AS custom
      FROM json_each(${payload}) AS j
    ) AS v
    WHERE contacts.id = v.id AND +contacts.workspace_id = ${workspaceId}`);
  const ids = new Set(updates.map(({ id }) => id));
  // Every contact there: the usual case, told by the count alone (RETURNING would build a row per contact).
  if (result.rowsAffected === ids.size) return ids;
  const present = await tx.all<{ id: number }>(sql`SELECT ${contacts.id} AS id FROM ${contacts}
    WHERE +${contacts.workspaceId} = ${workspaceId}
      AND ${contacts.id} IN (SELECT value FROM json_each(${jsonRows([...ids])}))`);
  return new Set(present.map((row) => Number(row.id)));
}

/** Every contact gets every tag; a link it already has stays as it is. */
export async function linkTags(tx: Db, contactIds: readonly number[], tagIds: readonly number[]): Promise<void> {
  if (contactIds.length === 0 || tagIds.length === 0) return;
  await tx.run(sql`INSERT OR IGNORE INTO contact_tags (tag_id, contact_id)
    SELECT t.value, c.value FROM json_each(${jsonRows([...tagIds])}) AS t, json_each(${jsonRows([...contactIds])}) AS c`);
}

// ---------------------------------------------------------------------------------------------------
// Planning a batch: the mode's rules, and a contact written by several rows merged into one write

/** One contact a batch writes, with every row that goes to it. */
export interface ContactTarget {
  id?: number | undefined;
  key: string;
  data: ContactValues;
  lines: number[];
  identifierValue: string | null;
}

/** What a batch writes: contacts to create, and to update by id or by key. */
export interface PlannedBatch {
  create: ContactTarget[];
  update: ContactTarget[];
  /** Later rows of a contact this plan creates: its id exists only once the write has created it. */
  updateByKey: ContactTarget[];
}

/** A later row of the same contact wins field by field; custom fields merge key by key. */
function merge(into: ContactValues, from: ContactValues): void {
  for (const field of ['firstName', 'lastName', 'phone', 'email', 'language'] as const) {
    if (from[field] !== undefined) (into as Record<string, unknown>)[field] = from[field];
  }
  if (from.customFields) into.customFields = { ...into.customFields, ...from.customFields };
}

export type RejectRow = (
  row: Pick<ContactRow, 'line' | 'identifierValue'>,
  code: ImportRowReason,
  params?: Record<string, string | number>,
) => void;

/**
 * Plans batches of rows in order, matching each on the identifier: a contact found is updated (refused
 * in add mode), one not found is created (refused in update mode, and always by contact ID). The same
 * contact on several rows is one write; in add mode a later row of a contact the plan creates is a
 * duplicate. Reads only: the write comes later (writeBatch), in the caller's transaction.
 */
export class ContactPlanner {
  /** Contacts this plan creates, by key, with the line that creates them; the one map kept whole. */
  readonly #creating = new Map<string, number>();
  created = 0;
  updated = 0;

  constructor(
    private readonly db: Db,
    private readonly workspaceId: number,
    private readonly identifier: ImportIdentifier,
    private readonly mode: ImportMode,
  ) {}

  async plan(rows: readonly ContactRow[], reject: RejectRow): Promise<PlannedBatch> {
    const { identifier, mode } = this;
    const creating = this.#creating;
    const keys = [
      ...new Set(rows.flatMap((row) => (row.rejection || !row.key || creating.has(row.key) ? [] : [row.key]))),
    ];
    const known = await findContactIds(this.db, this.workspaceId, identifier, keys);
    const creates = new Map<string, ContactTarget>();
    const updates = new Map<number, ContactTarget>();
    const byKey = new Map<string, ContactTarget>();
    const add = <K>(
      into: Map<K, ContactTarget>,
      key: K,
      row: ContactRow,
      target: Omit<ContactTarget, 'data' | 'lines'>,
    ) => {
      const pending = into.get(key);
      if (pending) {
        merge(pending.data, row.data);
        pending.lines.push(row.line);
      } else {
        // The row's values become the target's, not a copy: a row is planned once and never read again.
        into.set(key, { ...target, data: row.data, lines: [row.line] });
      }
    };
    for (const row of rows) {
      if (row.rejection) {
        reject(row, row.rejection.code, row.rejection.params);
        continue;
      }
      const key = row.key as string;
      const value = { identifier, value: row.identifierValue ?? '' };
      const firstLine = creating.get(key);
      if (firstLine !== undefined) {
        if (mode === 'add') {
          reject(row, 'duplicate_row', { ...value, firstLine });
          continue;
        }
        if (creates.has(key)) add(creates, key, row, { key, identifierValue: row.identifierValue });
        else add(byKey, key, row, { key, identifierValue: row.identifierValue });
        this.updated++;
        continue;
      }
      const id = known.get(key);
      if (id !== undefined) {
        if (mode === 'add') {
          reject(row, 'already_exists', { ...value, contactId: id });
          continue;
        }
        add(updates, id, row, { id, key, identifierValue: row.identifierValue });
        this.updated++;
        continue;
      }
      // Unknown: a contact ID of another workspace reads the same as one that never existed.
      if (mode === 'update' || identifier === 'contactId') {
        reject(row, 'not_found', value);
        continue;
      }
      creating.set(key, row.line);
      add(creates, key, row, { key, identifierValue: row.identifierValue });
      this.created++;
    }
    return { create: [...creates.values()], update: [...updates.values()], updateByKey: [...byKey.values()] };
  }
}

/**
 * Writes a planned batch in the caller's transaction and tags every contact it touches. A contact to
 * update that is gone by now (deleted between plan and write) comes back as vanished.
 */
export async function writeBatch(
  tx: Db,
  workspaceId: number,
  identifier: ImportIdentifier,
  batch: PlannedBatch,
  tagIds: readonly number[],
  /** The import whose undo log notes what this writes (services/import-undo.ts). */
  importId?: number,
): Promise<{ touched: number[]; vanished: ContactTarget[] }> {
  const touched = await insertContacts(
    tx,
    workspaceId,
    batch.create.map((target) => target.data),
  );
  if (importId !== undefined) await noteCreated(tx, importId, touched);
  if (batch.updateByKey.length) {
    const ids = await findContactIds(
      tx,
      workspaceId,
      identifier,
      batch.updateByKey.map((target) => target.key),
    );
    for (const target of batch.updateByKey) target.id = ids.get(target.key);
  }
  const vanished: ContactTarget[] = [];
  const updates = [...batch.update, ...batch.updateByKey];
  if (updates.length) {
    // Only `update` was there before the import: `updateByKey` are contacts this import created.
    if (importId !== undefined)
      await noteBeforeUpdate(
        tx,
        importId,
        workspaceId,
        batch.update.map(({ id }) => id as number),
        tagIds,
      );
    const present = await updateContacts(
      tx,
      workspaceId,
      updates.flatMap(({ id, data }) => (id === undefined ? [] : [{ id, data }])),
    );
    for (const target of updates) {
      if (target.id !== undefined && present.has(target.id)) touched.push(target.id);
      else vanished.push(target);
    }
  }
  await linkTags(tx, touched, tagIds);
  return { touched, vanished };
}

/**
 * Contacts written per statement. The contact_search index (FTS5) writes its pending changes to disk
 * whenever the next write statement of the transaction begins, and each such flush is a segment to merge
 * later: renaming 100,000 contacts took about 1.6 times as long in 500-row statements as in 10,000-row ones.
 * Larger ones gain a little more but cost memory: six concurrent 200,000-row imports peaked at 603 MB
 * with 20,000-row statements, 505-509 MB with 2,000 to 10,000. The values travel as one JSON parameter,
 * so SQLite's limit on bound values does not apply.
 */
export const WRITE_ROWS = 10_000;

/**
 * Writes planned batches in statements of up to WRITE_ROWS contacts, in the caller's transaction, in
 * plan order. Batches planned separately may name the same contact again (a key on rows far apart):
 * those are merged here too, since one UPDATE ... FROM applies only one of two rows for a contact.
 */
export class BatchedWriter {
  /** Contacts to update that were gone when written (deleted between plan and write). */
  readonly vanished: ContactTarget[] = [];
  #batch: PlannedBatch = { create: [], update: [], updateByKey: [] };
  #byId = new Map<number, ContactTarget>();
  #byKey = new Map<string, ContactTarget>();
  #rows = 0;

  constructor(
    private readonly tx: Db,
    private readonly workspaceId: number,
    private readonly identifier: ImportIdentifier,
    private readonly tagIds: readonly number[],
    private readonly onTouched: (ids: readonly number[]) => void = () => undefined,
    /** An import writing in several transactions: what it writes is noted in its undo log. */
    private readonly importId?: number,
  ) {}

  /** Adds a planned batch, and writes once WRITE_ROWS contacts wait. Whether it wrote. */
  async add(batch: PlannedBatch): Promise<boolean> {
    const pending = this.#batch;
    pending.create.push(...batch.create);
    for (const target of batch.update) this.#merge(this.#byId, pending.update, target.id as number, target);
    for (const target of batch.updateByKey) this.#merge(this.#byKey, pending.updateByKey, target.key, target);
    this.#rows += batch.create.length + batch.update.length + batch.updateByKey.length;
    if (this.#rows < WRITE_ROWS) return false;
    await this.flush();
    return true;
  }

  /** Writes what waits. */
  async flush(): Promise<void> {
    if (this.#rows === 0) return;
    const batch = this.#batch;
    this.#batch = { create: [], update: [], updateByKey: [] };
    this.#byId.clear();
    this.#byKey.clear();
    this.#rows = 0;
    const { touched, vanished } = await writeBatch(
      this.tx,
      this.workspaceId,
      this.identifier,
      batch,
      this.tagIds,
      this.importId,
    );
    this.vanished.push(...vanished);
    this.onTouched(touched);
  }

  #merge<K>(index: Map<K, ContactTarget>, list: ContactTarget[], key: K, target: ContactTarget): void {
    const pending = index.get(key);
    if (pending) {
      merge(pending.data, target.data);
      pending.lines.push(...target.lines);
      return;
    }
    index.set(key, target);
    list.push(target);
  }
}

// ---------------------------------------------------------------------------------------------------
// A batch in memory, start to end

/** Rows checked and looked up together (one look-up statement each). */
export const PLAN_ROWS = 2000;

/** A contact as text fields, the way a CSV row gives them. */
export interface ContactInput {
  contactId?: string | number | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  language?: string | undefined;
  customFields?: Record<string, string> | undefined;
}

export interface UpsertOptions {
  /** Which identifier matches an existing contact. */
  by: ImportIdentifier;
  mode: ImportMode;
  /** Tags given to every created or updated contact. */
  tags?: readonly string[];
}

export interface UpsertResult {
  created: number;
  updated: number;
  /** Rows not written, by index in the input, with why. */
  rejected: { index: number; code: ImportRowReason; params: Record<string, string | number> }[];
  /** Every contact written, once. */
  contactIds: number[];
}

const STANDARD_FIELDS = ['contactId', 'firstName', 'lastName', 'phone', 'email', 'language'] as const;

/** Checks and normalizes one input row exactly as a CSV row is (csv/import-parse.ts reads its cells here too). */
export function readContactInput(
  input: ContactInput,
  line: number,
  identifier: ImportIdentifier,
  defaultCountry: string,
): ContactRow {
  const identifierValue = input[identifier];
  const row: ContactRow = {
    line,
    identifierValue: identifierValue == null ? null : String(identifierValue).trim().slice(0, 200) || null,
    data: {},
  };
  for (const field of STANDARD_FIELDS) {
    const given = input[field];
    if (given === undefined && field !== identifier) continue;
    const rejection = readContactField(row, field, String(given ?? '').trim(), identifier, defaultCountry, field);
    if (rejection) {
      row.rejection = rejection;
      return row;
    }
  }
  for (const [key, given] of Object.entries(input.customFields ?? {})) {
    const rejection = readContactField(row, `custom.${key}`, given.trim(), identifier, defaultCountry, key);
    if (rejection) {
      row.rejection = rejection;
      return row;
    }
  }
  return row;
}

/**
 * Creates or updates many contacts in one transaction, the import's way: each row checked and
 * normalized, matched on the identifier, planned by the mode's rules and written in batches of
 * multi-row statements. Rows that cannot be written are reported, not written; the rest lands whole
 * or not at all.
 */
export async function upsertContacts(
  db: Database,
  ws: { workspaceId: number; defaultCountry: string },
  inputs: readonly ContactInput[],
  options: UpsertOptions,
): Promise<UpsertResult> {
  const customKeys = new Set<string>();
  for (const input of inputs) for (const key of Object.keys(input.customFields ?? {})) customKeys.add(key);
  return db.transaction(async (tx) => {
    await assertCustomKeysWithinCap(db, ws.workspaceId, customKeys);
    const tagIds = options.tags?.length ? await ensureTags(tx, ws.workspaceId, options.tags) : [];
    const planner = new ContactPlanner(tx, ws.workspaceId, options.by, options.mode);
    const result: UpsertResult = { created: 0, updated: 0, rejected: [], contactIds: [] };
    const written = new Set<number>();
    const reject: RejectRow = (row, code, params = {}) => result.rejected.push({ index: row.line, code, params });
    // Planned and written in the same transaction: nothing can vanish in between.
    const writer = new BatchedWriter(tx, ws.workspaceId, options.by, tagIds, (ids) => {
      for (const id of ids) written.add(id);
    });
    for (let start = 0; start < inputs.length; start += PLAN_ROWS) {
      const rows = inputs
        .slice(start, start + PLAN_ROWS)
        .map((input, offset) => readContactInput(input, start + offset, options.by, ws.defaultCountry));
      await writer.add(await planner.plan(rows, reject));
    }
    await writer.flush();
    result.created = planner.created;
    result.updated = planner.updated;
    result.contactIds = [...written];
    return result;
  });
}
