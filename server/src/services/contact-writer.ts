/**
 * The one contact writer. The CSV import, the API's create and update, and the benchmark write contacts
 * through here, so a phone, an e-mail or a match means the same on every path. Its parts, by role:
 * - contact-input.ts: what a row says, checked and normalized (phones to E.164, e-mails lower-cased);
 * - custom-field-keys.ts: the workspace's cap on distinct custom-field keys;
 * - contact-store.ts: the statements (look-ups, multi-row INSERT and UPDATE, tag links);
 * - here: the mode's rules over batches of rows, a contact written by several rows merged into one write,
 *   and writes gathered into large statements, in the caller's transaction.
 */
import type { ImportIdentifier, ImportMode, ImportRowReason } from '@rebound/shared';
import type { Database } from '../db/client';
import { type ContactInput, type ContactRow, type ContactValues, readContactInput } from './contact-input';
import { type Db, findContactIds, insertContacts, linkTags, updateContacts } from './contact-store';
import { assertCustomKeysWithinCap, respell } from './custom-field-keys';
import { changedSinceWritten, noteBeforeUpdate, noteCreated, noteWritten } from './import-undo';
import { ensureTags } from './tags';

// What a row means stays importable from the writer's module, where the import, tests and the benchmark look.
export {
  type ContactInput,
  type ContactRow,
  type ContactValues,
  forgetNormalizedPhones,
  phoneColumns,
  type Rejection,
  readContactField,
  readContactInput,
} from './contact-input';

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
  // One time for everything this batch writes: an import's undo knows its own writes by it.
  const writtenAt = Date.now();
  if (importId !== undefined) await noteWritten(tx, importId, writtenAt);
  const touched = await insertContacts(
    tx,
    workspaceId,
    batch.create.map((target) => target.data),
    writtenAt,
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
    // Only `update` was there before the import: `updateByKey` are contacts this import created, noted
    // only when someone changed one since the import wrote it.
    if (importId !== undefined)
      await noteBeforeUpdate(
        tx,
        importId,
        workspaceId,
        [
          ...batch.update.map(({ id }) => id as number),
          ...(await changedSinceWritten(
            tx,
            importId,
            batch.updateByKey.flatMap(({ id }) => (id === undefined ? [] : [id])),
          )),
        ],
        tagIds,
      );
    const present = await updateContacts(
      tx,
      workspaceId,
      updates.flatMap(({ id, data }) => (id === undefined ? [] : [{ id, data }])),
      writtenAt,
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
    const spelling = await assertCustomKeysWithinCap(db, ws.workspaceId, customKeys);
    const spelled = spelling.size
      ? inputs.map((input) =>
          input.customFields ? { ...input, customFields: respell(input.customFields, spelling) } : input,
        )
      : inputs;
    const tagIds = options.tags?.length ? await ensureTags(tx, ws.workspaceId, options.tags) : [];
    const planner = new ContactPlanner(tx, ws.workspaceId, options.by, options.mode);
    const result: UpsertResult = { created: 0, updated: 0, rejected: [], contactIds: [] };
    const written = new Set<number>();
    const reject: RejectRow = (row, code, params = {}) => result.rejected.push({ index: row.line, code, params });
    // Planned and written in the same transaction: nothing can vanish in between.
    const writer = new BatchedWriter(tx, ws.workspaceId, options.by, tagIds, (ids) => {
      for (const id of ids) written.add(id);
    });
    for (let start = 0; start < spelled.length; start += PLAN_ROWS) {
      const rows = spelled
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
