/**
 * An import writes in short transactions and notes what each changed (services/import-undo.ts); undoing
 * it puts the workspace back exactly as it was: updated contacts' columns and tags, created contacts
 * and tags gone, the notes forgotten. The path an all-or-nothing import takes when a row fails late.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchedWriter,
  type ContactInput,
  ContactPlanner,
  readContactInput,
  upsertContacts,
} from '../src/services/contact-writer';
import { ensureImportTags, undoImport } from '../src/services/import-undo';
import { startTestServer } from './helpers';

const server = await startTestServer();
const { db, client } = server.database;

/** The import's write transactions, each as the CSV import writes one (rows by e-mail, from line `first`). */
function importWrites(workspaceId: number, importId: number) {
  const planner = new ContactPlanner(db, workspaceId, 'email', 'upsert');
  return (rows: ContactInput[], first: number) =>
    db.transaction(async (tx) => {
      const writer = new BatchedWriter(tx, workspaceId, 'email', [], undefined, importId);
      const read = rows.map((row, i) => readContactInput(row, first + i, 'email', 'AR'));
      await writer.add(
        await planner.plan(read, () => {
          throw new Error('no row is refused here');
        }),
      );
      await writer.flush();
    });
}

describe('undoing an import written in several transactions', () => {
  it('restores what it updated (the first state it saw), removes what it created, and forgets its notes', async () => {
    const ws = await server.workspace('Deshacer');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    await upsertContacts(
      db,
      scope,
      [
        { firstName: 'Ana', email: 'ana@example.com', customFields: { plan: 'oro' } },
        { firstName: 'Beto', lastName: 'Paz', email: 'beto@example.com', phone: '+5491155550101' },
      ],
      { by: 'email', mode: 'upsert', tags: ['vip'] },
    );
    await upsertContacts(db, scope, [{ firstName: 'Caro', email: 'caro@example.com' }], {
      by: 'email',
      mode: 'upsert',
    });
    // Every column as it was, but when an identifier last changed: the undo changed Beto's phone back, and
    // that moment is kept (a broadcast freezing meanwhile must see it, engine/audience.ts).
    const snapshot = async () =>
      (
        await client.execute({
          sql: `SELECT c.*, (SELECT group_concat(t.name) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                  WHERE ct.contact_id = c.id) AS tags
                FROM contacts c WHERE c.workspace_id = ? ORDER BY c.id`,
          args: [ws.id],
        })
      ).rows.map(({ identity_changed_at: _, ...row }) => ({ ...row }));
    const tagNames = async () =>
      (
        await client.execute({ sql: 'SELECT name FROM tags WHERE workspace_id = ? ORDER BY name', args: [ws.id] })
      ).rows.map((row) => row.name);
    const before = await snapshot();
    expect(await tagNames()).toEqual(['vip']);
    const imported = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, created_at) VALUES (?, 'running', '{}', 5, 0) RETURNING id`,
      args: [ws.id],
    });
    const importId = Number(imported.rows[0]?.id);

    const planner = new ContactPlanner(db, ws.id, 'email', 'upsert');
    const reject = () => {
      throw new Error('no row is refused here');
    };
    const read = (rows: ContactInput[], first: number) =>
      rows.map((row, i) => readContactInput(row, first + i, 'email', 'AR'));
    const tagIds = await db.transaction((tx) => ensureImportTags(tx, importId, ws.id, ['vip', 'nuevo']));
    // Two transactions, as an import's chunks: Ana changed in both (the note keeps her first state).
    const write = (rows: ContactInput[], first: number) =>
      db.transaction(async (tx) => {
        const writer = new BatchedWriter(tx, ws.id, 'email', tagIds, undefined, importId);
        await writer.add(await planner.plan(read(rows, first), reject));
        await writer.flush();
      });
    await write(
      [
        { firstName: 'Ana María', email: 'ana@example.com', customFields: { plan: 'plata', zona: 'sur' } },
        { firstName: 'Dora', email: 'dora@example.com' },
      ],
      1,
    );
    await write(
      [
        { lastName: 'Gómez', email: 'ana@example.com', language: 'en' },
        { firstName: 'Beto', lastName: 'Ríos', email: 'beto@example.com', phone: '+5491155550199' },
        { firstName: 'Eva', email: 'eva@example.com' },
      ],
      3,
    );
    const during = await snapshot();
    expect(during).toHaveLength(5);
    expect(during.find((c) => c.email === 'ana@example.com')).toMatchObject({
      first_name: 'Ana María',
      last_name: 'Gómez',
      tags: expect.stringContaining('nuevo'),
    });
    expect(await tagNames()).toEqual(['nuevo', 'vip']);

    const undone = await undoImport(db, importId, ws.id);
    expect(undone).toEqual({ restored: 2, changedSince: 0, removed: 2, kept: 0 });
    expect(await snapshot()).toEqual(before);
    expect(await tagNames()).toEqual(['vip']);
    const notes = await client.execute({
      sql: 'SELECT count(*) AS n FROM import_undo WHERE import_id = ?',
      args: [importId],
    });
    expect(notes.rows[0]?.n).toBe(0);
  });

  it("keeps an agent's change made after the import wrote a contact (one it updated or one it created), and undoes the rest", async () => {
    const ws = await server.workspace('Deshacer con cambios');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    await upsertContacts(
      db,
      scope,
      [
        { firstName: 'Gabi', email: 'gabi@example.com', phone: '+5491155550301' },
        { firstName: 'Hugo', email: 'hugo@example.com' },
      ],
      { by: 'email', mode: 'upsert' },
    );
    const imported = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, created_at) VALUES (?, 'running', '{}', 2, 0) RETURNING id`,
      args: [ws.id],
    });
    const importId = Number(imported.rows[0]?.id);
    const planner = new ContactPlanner(db, ws.id, 'email', 'upsert');
    const rows: ContactInput[] = [
      { firstName: 'Gabriela', email: 'gabi@example.com' },
      { firstName: 'Hugo Luis', email: 'hugo@example.com' },
      // Two new ones: Iris gets edited by an agent before the undo, Juan does not.
      { firstName: 'Iris', email: 'iris@example.com' },
      { firstName: 'Juan', email: 'juan@example.com' },
    ];
    await db.transaction(async (tx) => {
      const writer = new BatchedWriter(tx, ws.id, 'email', [], undefined, importId);
      const read = rows.map((row, i) => readContactInput(row, i + 1, 'email', 'AR'));
      await writer.add(
        await planner.plan(read, () => {
          throw new Error('no row is refused here');
        }),
      );
      await writer.flush();
    });
    // Between the import's transactions, an agent corrects Gabi's phone.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const gabi = Number(
      (await client.execute({ sql: "SELECT id FROM contacts WHERE email = 'gabi@example.com'", args: [] })).rows[0]?.id,
    );
    const edit = await server.request('PATCH', `/api/v1/contacts/${gabi}`, {
      token: ws.tokens.agent,
      body: { phone: '+54 9 11 4444-0000' },
    });
    expect(edit.status, edit.text).toBe(200);
    const iris = Number(
      (await client.execute({ sql: "SELECT id FROM contacts WHERE email = 'iris@example.com'", args: [] })).rows[0]?.id,
    );
    const irisEdit = await server.request('PATCH', `/api/v1/contacts/${iris}`, {
      token: ws.tokens.agent,
      body: { phone: '+54 9 11 4444-0001' },
    });
    expect(irisEdit.status, irisEdit.text).toBe(200);

    const undone = await undoImport(db, importId, ws.id);
    expect(undone).toEqual({ restored: 1, changedSince: 2, removed: 1, kept: 0 });
    const names = await client.execute({
      sql: 'SELECT first_name, phone FROM contacts WHERE workspace_id = ? ORDER BY id',
      args: [ws.id],
    });
    expect(names.rows.map((row) => ({ ...row }))).toEqual([
      // Her change is kept, with what the import wrote under it: the agent saw that and edited it.
      { first_name: 'Gabriela', phone: '+5491144440000' },
      { first_name: 'Hugo', phone: null },
      // Iris, whom the import created, stays with the agent's work on her; Juan is gone.
      { first_name: 'Iris', phone: '+5491144440001' },
    ]);
  });

  it("keeps a created contact an agent tagged, or changed between two of the import's writes of it", async () => {
    const ws = await server.workspace('Deshacer entre escrituras');
    const imported = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, created_at) VALUES (?, 'running', '{}', 3, 0) RETURNING id`,
      args: [ws.id],
    });
    const importId = Number(imported.rows[0]?.id);
    const write = importWrites(ws.id, importId);
    const idOf = async (email: string) =>
      Number((await client.execute({ sql: 'SELECT id FROM contacts WHERE email = ?', args: [email] })).rows[0]?.id);
    await write(
      [
        { firstName: 'Kara', email: 'kara@example.com' },
        { firstName: 'Lu', email: 'lu@example.com' },
      ],
      1,
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Between the import's writes: an agent gives Kara a phone, and tags Lu.
    const kara = await server.request('PATCH', `/api/v1/contacts/${await idOf('kara@example.com')}`, {
      token: ws.tokens.agent,
      body: { phone: '+54 9 11 4444-0002' },
    });
    expect(kara.status, kara.text).toBe(200);
    const lu = await server.request('POST', `/api/v1/contacts/${await idOf('lu@example.com')}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['llamar'] },
    });
    expect(lu.status, lu.text).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The same file names Kara again further down.
    await write([{ lastName: 'Ruiz', email: 'kara@example.com' }], 3);

    const undone = await undoImport(db, importId, ws.id);
    expect(undone.removed).toBe(0);
    const left = await client.execute({
      sql: `SELECT first_name, last_name, phone, (SELECT group_concat(t.name) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
              WHERE ct.contact_id = c.id) AS tags FROM contacts c WHERE workspace_id = ? ORDER BY id`,
      args: [ws.id],
    });
    expect(left.rows.map((row) => ({ ...row }))).toEqual([
      // As the agent left her: the import's later write of her is undone, her phone is not.
      { first_name: 'Kara', last_name: null, phone: '+5491144440002', tags: null },
      { first_name: 'Lu', last_name: null, phone: null, tags: 'llamar' },
    ]);
  });

  it("puts back an agent's change to a contact that was there before, made between two of the import's writes of it", async () => {
    const ws = await server.workspace('Deshacer existente entre escrituras');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    await upsertContacts(db, scope, [{ firstName: 'Mora', email: 'mora@example.com' }], {
      by: 'email',
      mode: 'upsert',
    });
    const imported = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, created_at) VALUES (?, 'running', '{}', 2, 0) RETURNING id`,
      args: [ws.id],
    });
    const importId = Number(imported.rows[0]?.id);
    const write = importWrites(ws.id, importId);
    await write([{ firstName: 'Mora Inés', email: 'mora@example.com' }], 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Between the import's writes, an agent gives Mora a phone; the same file names her again further down.
    const mora = Number(
      (await client.execute({ sql: "SELECT id FROM contacts WHERE email = 'mora@example.com'", args: [] })).rows[0]?.id,
    );
    const edit = await server.request('PATCH', `/api/v1/contacts/${mora}`, {
      token: ws.tokens.agent,
      body: { phone: '+54 9 11 4444-0003' },
    });
    expect(edit.status, edit.text).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await write([{ lastName: 'Sosa', email: 'mora@example.com' }], 2);

    await undoImport(db, importId, ws.id);
    const left = await client.execute({
      sql: 'SELECT first_name, last_name, phone FROM contacts WHERE workspace_id = ?',
      args: [ws.id],
    });
    // As the agent left her (with what the import wrote under the agent's eyes): the later write undone.
    expect(left.rows.map((row) => ({ ...row }))).toEqual([
      { first_name: 'Mora Inés', last_name: null, phone: '+5491144440003' },
    ]);
  });
});
