import { describe, expect, it } from 'vitest';
import {
  BatchedWriter,
  type ContactInput,
  ContactPlanner,
  phoneColumns,
  readContactInput,
  upsertContacts,
} from '../src/services/contact-writer';
import { startTestServer, type TestWorkspace } from './helpers';

const server = await startTestServer();
const { db, client } = server.database;

/** A CSV import through the API, waited for. */
async function importCsv(ws: TestWorkspace, csv: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'contacts.csv');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const res = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
    method: 'POST',
    body: form,
    headers: { Authorization: `Bearer ${ws.tokens.agent}` },
  });
  const body = (await res.json()) as { status: string; created: number; updated: number; rejected: number };
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.status, JSON.stringify(body)).toBe('completed');
  return body;
}

async function contactsOf(ws: TestWorkspace) {
  const res = await server.request('GET', '/api/v1/contacts?limit=100', { token: ws.tokens.agent });
  expect(res.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON
  return res.body.data as any[];
}

describe('one contact writer: the API, the import and the in-memory batch follow the same rules', () => {
  it('a phone written one way in the API and another in a CSV is the same contact: the import updates it', async () => {
    const ws = await server.workspace('Same phone', 'AR');
    const created = await server.request('POST', '/api/v1/contacts', {
      token: ws.tokens.agent,
      body: { firstName: 'Ana', phone: '011 15 5555-0001', email: ' Ana@Example.COM ', customFields: { seats: 3 } },
    });
    expect(created.status).toBe(201);

    // The same number in international form, a last name, a custom field and a tag.
    const byPhone = await importCsv(ws, 'Phone,Last Name,plan\n+54 9 11 5555-0001,Pérez,pro\n', { tags: 'vip' });
    expect(byPhone).toMatchObject({ created: 0, updated: 1, rejected: 0 });
    // The same e-mail written differently again matches it, now by e-mail.
    const byEmail = await importCsv(ws, 'Email,Language\nANA@example.com ,es\n', { identifier: 'email' });
    expect(byEmail).toMatchObject({ created: 0, updated: 1, rejected: 0 });

    const all = await contactsOf(ws);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      id: created.body.id,
      firstName: 'Ana',
      lastName: 'Pérez',
      phone: '+5491155550001',
      email: 'ana@example.com',
      language: 'es',
      customFields: { seats: '3', plan: 'pro' },
      tags: ['vip'],
    });
  });

  it('a contact the import created is found and updated by the API, and by an in-memory batch, with other spellings', async () => {
    const ws = await server.workspace('Same contact', 'AR');
    const first = await importCsv(ws, 'First Name,Phone,Email\nBeto,(011) 15-5555-0002, Beto@Example.com\n');
    expect(first).toMatchObject({ created: 1, updated: 0 });
    const [imported] = await contactsOf(ws);
    expect(imported).toMatchObject({ phone: '+5491155550002', phoneValid: true, email: 'beto@example.com' });

    for (const ref of ['phone:+54 9 11 5555 0002', 'phone:011 15 5555-0002', 'email:BETO@example.com']) {
      const got = await server.request('GET', `/api/v1/contacts/${encodeURIComponent(ref)}`, {
        token: ws.tokens.agent,
      });
      expect(got.status, ref).toBe(200);
      expect(got.body.id).toBe(imported.id);
    }
    const patched = await server.request('PATCH', `/api/v1/contacts/${encodeURIComponent('phone:11 15 5555 0002')}`, {
      token: ws.tokens.agent,
      body: { lastName: 'Gómez', customFields: { city: 'Rosario', plan: null } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: imported.id, lastName: 'Gómez', customFields: { city: 'Rosario' } });

    const batch = await upsertContacts(
      db,
      { workspaceId: ws.id, defaultCountry: 'AR' },
      [{ phone: '+5491155550002', customFields: { plan: 'free' } }],
      { by: 'phone', mode: 'upsert', tags: ['batch'] },
    );
    expect(batch).toMatchObject({ created: 0, updated: 1, rejected: [], contactIds: [imported.id] });
    const all = await contactsOf(ws);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      firstName: 'Beto',
      lastName: 'Gómez',
      customFields: { city: 'Rosario', plan: 'free' },
      tags: ['batch'],
    });
  });

  it('a custom field written "Plan", "plan" and "PLAN" by the API, a CSV and a batch is one field; a segment of "plan" finds them all', async () => {
    const ws = await server.workspace('Plan', 'AR');
    const post = (body: Record<string, unknown>) =>
      server.request('POST', '/api/v1/contacts', { token: ws.tokens.agent, body });
    const ana = await post({ firstName: 'Ana', phone: '+5491155551001', customFields: { Plan: 'pro' } });
    // A CRM writes the same field in lower case, through the API.
    const beto = await post({ firstName: 'Beto', phone: '+5491155551002', customFields: { plan: 'basic' } });
    expect(beto.body.customFields).toEqual({ Plan: 'basic' });
    // A spreadsheet with the header in capitals.
    expect(await importCsv(ws, 'Phone,First Name,PLAN\n+5491155551003,Caro,basic\n')).toMatchObject({ created: 1 });
    // The benchmark's and the importer's in-memory batch.
    await upsertContacts(
      db,
      { workspaceId: ws.id, defaultCountry: 'AR' },
      [{ firstName: 'Dani', phone: '+5491155551004', customFields: { pLaN: 'basic' } }],
      { by: 'phone', mode: 'upsert' },
    );
    const fields = (await contactsOf(ws)).map((c) => c.customFields);
    expect(fields.map((f) => Object.keys(f))).toEqual([['Plan'], ['Plan'], ['Plan'], ['Plan']]);
    // Exported, it is one column; the keys count once against the workspace's cap.
    const keys = await client.execute({
      sql: 'SELECT DISTINCT j.key FROM contacts c, json_each(c.custom_fields) j WHERE c.workspace_id = ?',
      args: [ws.id],
    });
    expect(keys.rows.map((r) => r.key)).toEqual(['Plan']);
    // A segment typed "plan" reads the workspace's "Plan".
    const segment = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      body: {
        name: 'Básicos',
        filter: { groups: [{ conditions: [{ type: 'field', field: 'custom.plan', operator: 'is', value: 'basic' }] }] },
      },
    });
    expect(segment.status, segment.text).toBe(201);
    const preview = await server.request('GET', `/api/v1/segments/${segment.body.id}/preview`, {
      token: ws.tokens.agent,
    });
    expect(preview.body.count).toBe(3);
    // Removing "plan" removes the workspace's "Plan".
    const removed = await server.request('PATCH', `/api/v1/contacts/${ana.body.id}`, {
      token: ws.tokens.agent,
      body: { customFields: { plan: null } },
    });
    expect(removed.body.customFields).toEqual({});
  });

  it('the API never matches: a second POST with the same phone is a second contact, as before', async () => {
    const ws = await server.workspace('API duplicates', 'AR');
    for (const phone of ['011 15 5555-0003', '+5491155550003']) {
      const res = await server.request('POST', '/api/v1/contacts', { token: ws.tokens.agent, body: { phone } });
      expect(res.status).toBe(201);
    }
    const duplicates = await server.request('GET', '/api/v1/contacts/duplicates', { token: ws.tokens.agent });
    expect(duplicates.body.data).toEqual([expect.objectContaining({ by: 'phone', value: '+5491155550003' })]);
    // The import matches the oldest of the two, as every look-up does.
    expect(await importCsv(ws, 'Phone,First Name\n+5491155550003,Carla\n')).toMatchObject({ created: 0, updated: 1 });
    const names = (await contactsOf(ws)).map((c) => [c.id, c.firstName]).sort((a, b) => a[0] - b[0]);
    expect(names.map(([, name]) => name)).toEqual(['Carla', null]);
  });
});

describe('in-memory batches', () => {
  it('creates, updates and rejects by normalized phone, tags every contact written, all in one go', async () => {
    const ws = await server.workspace('Bulk');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    const first = await upsertContacts(
      db,
      scope,
      [
        { firstName: 'Ana', phone: '011 15 5555-0001' },
        { firstName: 'Ana again', phone: '+54 9 11 5555-0001' },
        { firstName: 'Sin teléfono' },
        { firstName: 'Beto', phone: '+5491155550002', customFields: { plan: 'free' } },
      ],
      { by: 'phone', mode: 'upsert', tags: ['importado'] },
    );
    // The second Ana row is the same contact: one write, counted as an update, the later row winning.
    expect(first).toMatchObject({ created: 2, updated: 1 });
    expect(first.rejected).toEqual([
      { index: 2, code: 'identifier_missing', params: { line: 2, identifier: 'phone' } },
    ]);
    const second = await upsertContacts(
      db,
      scope,
      [
        { lastName: 'Pérez', phone: '+5491155550001' },
        { phone: '+5491155550002', customFields: { city: 'Rosario' } },
        { firstName: 'Nuevo', phone: '+5491155550003' },
      ],
      { by: 'phone', mode: 'update', tags: ['failed broadcast 110122'] },
    );
    expect(second).toMatchObject({ created: 0, updated: 2 });
    expect(second.rejected.map((r) => r.code)).toEqual(['not_found']);
    const list = await server.request('GET', '/api/v1/contacts?tag=failed%20broadcast%20110122', {
      token: ws.tokens.agent,
    });
    const byName = Object.fromEntries(list.body.data.map((c: { firstName: string }) => [c.firstName, c]));
    expect(byName['Ana again']).toMatchObject({ lastName: 'Pérez', tags: ['failed broadcast 110122', 'importado'] });
    expect(byName.Beto.customFields).toEqual({ plan: 'free', city: 'Rosario' });
    const added = await upsertContacts(db, scope, [{ firstName: 'X', phone: '+5491155550001' }], {
      by: 'phone',
      mode: 'add',
    });
    expect(added).toMatchObject({ created: 0, updated: 0 });
    expect(added.rejected.map((r) => r.code)).toEqual(['already_exists']);
  });

  it('an error part-way leaves nothing behind', async () => {
    const ws = await server.workspace('Atomic');
    const rows = Array.from({ length: 1200 }, (_, i) => ({ firstName: `C${i}`, email: `c${i}@example.com` }));
    // The database refuses a row of the third batch (a trigger stands in for a constraint or a full disk).
    await client.execute(
      "CREATE TRIGGER refuse_boom BEFORE INSERT ON contacts WHEN NEW.first_name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    rows.push({ firstName: 'boom', email: 'boom@example.com' });
    await expect(
      upsertContacts(db, { workspaceId: ws.id, defaultCountry: 'AR' }, rows, { by: 'email', mode: 'upsert' }),
    ).rejects.toThrow(/boom/);
    await client.execute('DROP TRIGGER refuse_boom');
    expect(await contactsOf(ws)).toEqual([]);
  });

  it('keeps names and custom values as one letter per accented letter (NFC), from a CSV as from the API', () => {
    const row = readContactInput(
      {
        firstName: 'Andre\u0301s',
        lastName: 'Go\u0301mez',
        phone: '11 5555-0009',
        customFields: { ciudad: 'Sa\u0303o Paulo' },
      },
      2,
      'phone',
      'AR',
    );
    // Counted once composed: 60 accented letters sent decomposed (120 code units) fit a 100-character name.
    const long = readContactInput({ firstName: 'e\u0301'.repeat(60), phone: '11 5555-0010' }, 3, 'phone', 'AR');
    expect(long.rejection).toBeUndefined();
    expect(long.data.firstName).toBe('\u00e9'.repeat(60));
    expect(row.data).toMatchObject({
      firstName: 'Andr\u00e9s',
      lastName: 'G\u00f3mez',
      customFields: { ciudad: 'S\u00e3o Paulo' },
    });
  });

  it('normalizes a phone once per country and text: the same answer as the first time', () => {
    const first = phoneColumns('11 5555-0004', 'AR');
    expect(phoneColumns('11 5555-0004', 'AR')).toEqual(first);
    expect(first).toEqual({ phone: '+541155550004', phoneValid: true, phoneProblem: null });
    // Another country reads the same text differently.
    expect(phoneColumns('11 5555-0004', 'MX')).not.toEqual(first);
    expect(phoneColumns('12345', 'AR')).toEqual({ phone: '12345', phoneValid: false, phoneProblem: 'too_short' });
  });

  it('one write per contact across planned batches; a contact deleted between plan and write comes back as vanished', async () => {
    const ws = await server.workspace('Plan and write');
    const scope = { workspaceId: ws.id, defaultCountry: 'AR' };
    const seeded = await upsertContacts(
      db,
      scope,
      [
        { firstName: 'Uno', email: 'uno@example.com' },
        { firstName: 'Dos', email: 'dos@example.com' },
      ],
      { by: 'email', mode: 'upsert' },
    );
    expect(seeded.created).toBe(2);
    const planner = new ContactPlanner(db, ws.id, 'email', 'update');
    const reject = () => {
      throw new Error('no row is refused here');
    };
    const read = (rows: ContactInput[], first: number) =>
      rows.map((row, i) => readContactInput(row, first + i, 'email', 'AR'));
    // Planned apart (as an import's chunks are), the same contact in both, each row with a field of its
    // own: one UPDATE ... FROM applies only one row per contact, so the writer must merge them.
    const first = await planner.plan(read([{ lastName: 'Primero', email: 'uno@example.com' }], 1), reject);
    const second = await planner.plan(
      read(
        [
          { firstName: 'Uno B', email: 'UNO@example.com' },
          { firstName: 'Dos B', email: 'dos@example.com' },
        ],
        2,
      ),
      reject,
    );
    const dos = await first_id('dos@example.com');
    await client.execute({ sql: 'DELETE FROM contacts WHERE id = ?', args: [dos] });
    const vanished = await db.transaction(async (tx) => {
      const writer = new BatchedWriter(tx, ws.id, 'email', []);
      await writer.add(first);
      await writer.add(second);
      await writer.flush();
      return writer.vanished;
    });
    expect(vanished.map((target) => [target.id, target.lines])).toEqual([[dos, [3]]]);
    expect((await contactsOf(ws)).map((c) => [c.firstName, c.lastName])).toEqual([['Uno B', 'Primero']]);

    async function first_id(email: string) {
      const found = await client.execute({ sql: 'SELECT id FROM contacts WHERE email = ?', args: [email] });
      return Number(found.rows[0]?.id);
    }
  });
});
