/**
 * A segment's "contains" on names and custom fields reads the folded copies its contacts' writers keep
 * (migration 0040) with instr(), in time linear in the text: it finds exactly what the GLOB of folding
 * classes found (accents, capitals, GLOB's own characters, a decomposed value as typed), the copies stay
 * in step through every writer (create, edit, bulk, merge, an import and its undo), contacts written
 * before the migration keep the GLOB until foldContacts folds them, and a segment a manager crafted
 * against notes of 2,000 "a" is previewed at once (under the GLOB: 40 ms a contact).
 */
import type { SegmentConditionInput } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { foldCustom, foldName } from '../src/segments/fold';
import { foldContacts } from '../src/services/contact-store';
import { upsertContacts } from '../src/services/contact-writer';
import { startTestServer, type TestWorkspace } from './helpers';

const server = await startTestServer();
const { db } = server.database;

const PEOPLE: [first: string | null, last: string | null, note: string | null][] = [
  ['José', 'Gómez', 'Vive en Córdoba'],
  ['ÁNGEL', 'Muñoz', 'prefiere SÃO PAULO'],
  ['Ÿves', null, 'nota [a]*?'],
  ['Jose\u0301', 'Pérez', null],
  [null, 'García', 'cliente ñandú'],
  ['Ana', 'aaaa', 'a'.repeat(30)],
];

const TYPED = [
  'jose',
  'JOSÉ',
  'gomez',
  'angel',
  'Ángel',
  'munoz',
  'MUÑ',
  'sao',
  'são paulo',
  'cordoba',
  'yves',
  'ÿ',
  '[a]',
  '*',
  '?',
  'a]*',
  'Jose\u0301',
  'ñandu',
  'aaa',
  'a'.repeat(31),
  'pe\u0301r',
  'zz',
];

/** A segment of one "contains" condition, previewed: how many contacts it holds. */
async function count(ws: TestWorkspace, condition: SegmentConditionInput): Promise<number> {
  const created = await server.request('POST', '/api/v1/segments', {
    token: ws.tokens.manager,
    body: { name: `s ${Math.random()}`, filter: { groups: [{ conditions: [condition] }] } },
  });
  expect(created.status, created.text).toBe(201);
  const preview = await server.request('GET', `/api/v1/segments/${created.body.id}/preview`, {
    token: ws.tokens.agent,
  });
  expect(preview.status, preview.text).toBe(200);
  return preview.body.count;
}

async function counts(ws: TestWorkspace) {
  const found: Record<string, number[]> = {};
  for (const value of TYPED)
    found[value] = [
      await count(ws, { type: 'field', field: 'firstName', operator: 'contains', value }),
      await count(ws, { type: 'field', field: 'lastName', operator: 'contains', value }),
      await count(ws, { type: 'field', field: 'custom.nota', operator: 'contains', value }),
    ];
  return found;
}

/** Contacts whose folded copies are not what their text folds to (none, when every writer keeps them in step). */
async function outOfStep(workspaceId: number) {
  const rows = await db.all<{
    id: number;
    first: string | null;
    last: string | null;
    custom: string;
    ff: string | null;
    lf: string | null;
    cf: string | null;
  }>(sql`SELECT id, first_name AS first, last_name AS last, custom_fields AS custom, first_folded AS ff,
      last_folded AS lf, custom_folded AS cf FROM contacts WHERE workspace_id = ${workspaceId} ORDER BY id`);
  return rows.filter(
    (r) =>
      r.cf === null ||
      r.ff !== foldName(r.first) ||
      r.lf !== foldName(r.last) ||
      JSON.stringify(JSON.parse(r.cf)) !== JSON.stringify(foldCustom(JSON.parse(r.custom) ?? {})),
  );
}

describe('a segment\'s "contains" on folded copies', () => {
  it('finds what the GLOB found, before and after the contacts written by hand are folded', async () => {
    // The same people written by Rebound's writer (folded) and straight into the table (not folded: the GLOB).
    const written = await server.workspace('Escritos');
    await upsertContacts(
      db,
      { workspaceId: written.id, defaultCountry: 'AR' },
      PEOPLE.map(([firstName, lastName, note], i) => ({
        ...(firstName !== null && { firstName }),
        ...(lastName !== null && { lastName }),
        email: `p${i}@example.com`,
        ...(note !== null && { customFields: { nota: note } }),
      })),
      { by: 'email', mode: 'upsert' },
    );
    expect(await outOfStep(written.id)).toEqual([]);
    const byHand = await server.workspace('A mano');
    await db.run(sql`INSERT INTO contacts (workspace_id, first_name, last_name, custom_fields, created_at, updated_at)
      SELECT ${byHand.id}, value ->> 0, value ->> 1, CASE WHEN value ->> 2 IS NULL THEN '{}' ELSE json_object('nota', value ->> 2) END, 0, 0
      FROM json_each(${JSON.stringify(PEOPLE)})`);
    const [unfolded] = await db.all<{ n: number }>(
      sql`SELECT count(*) AS n FROM contacts WHERE workspace_id = ${byHand.id} AND custom_folded IS NULL`,
    );
    expect(unfolded?.n).toBe(PEOPLE.length);

    const glob = await counts(byHand);
    expect(await counts(written)).toEqual(glob);
    // Not a comparison of two empty answers: most values find someone.
    expect(Object.values(glob).filter((n) => n.some((c) => c > 0)).length).toBeGreaterThan(TYPED.length - 3);
    expect(glob.zz).toEqual([0, 0, 0]);

    // Folded afterwards (as the server does at start), the same answers from the copies.
    expect(await foldContacts(db)).toBeGreaterThanOrEqual(PEOPLE.length);
    expect(await outOfStep(byHand.id)).toEqual([]);
    expect(await counts(byHand)).toEqual(glob);
  });

  it('keeps the copies in step through an edit, a bulk update, a merge, and a contact renamed while it is folded', async () => {
    const ws = await server.workspace('En paso');
    const post = (path: string, body: unknown) => server.request('POST', path, { token: ws.tokens.manager, body });
    const ana = await post('/api/v1/contacts', {
      firstName: 'Ána',
      email: 'ana@example.com',
      customFields: { nota: 'Sí' },
    });
    const bea = await post('/api/v1/contacts', {
      lastName: 'Núñez',
      phone: '+5491155550001',
      customFields: { n: 'x' },
    });
    expect([ana.status, bea.status]).toEqual([201, 201]);
    const patch = await server.request('PATCH', `/api/v1/contacts/${ana.body.id}`, {
      token: ws.tokens.manager,
      body: { lastName: 'ÉCIJA', customFields: { nota: null, otra: 'Ñu' } },
    });
    expect(patch.status, patch.text).toBe(200);
    await upsertContacts(
      db,
      { workspaceId: ws.id, defaultCountry: 'AR' },
      [{ email: 'ana@example.com', firstName: 'Anabél', customFields: { tercera: 'ÓK' } }],
      { by: 'email', mode: 'upsert' },
    );
    const merged = await post('/api/v1/contacts/merge', { keep: bea.body.id, merge: ana.body.id });
    expect(merged.status, merged.text).toBe(200);
    expect(await outOfStep(ws.id)).toEqual([]);
    expect(await count(ws, { type: 'field', field: 'firstName', operator: 'contains', value: 'anabel' })).toBe(1);
    expect(await count(ws, { type: 'field', field: 'custom.otra', operator: 'contains', value: 'nu' })).toBe(1);

    // A contact not folded yet, renamed by hand between foldContacts' read and its write: no copy of the
    // old name, and the next pass folds it as it is now.
    const [late] = await db.all<{ id: number }>(sql`INSERT INTO contacts (workspace_id, first_name, custom_fields,
        created_at, updated_at) VALUES (${ws.id}, 'Viejo', '{}', 0, 0) RETURNING id`);
    const racing = {
      all: db.all.bind(db),
      run: async (query: Parameters<typeof db.run>[0]) => {
        await db.run(sql`UPDATE contacts SET first_name = 'Nuevo' WHERE id = ${late?.id}`);
        return db.run(query);
      },
    } as Parameters<typeof foldContacts>[0];
    await foldContacts(racing);
    const folded = async (id: number | undefined) =>
      (
        await db.all<{ first: string; folded: string | null; custom: string | null }>(
          sql`SELECT first_name AS first, first_folded AS folded, custom_folded AS custom FROM contacts WHERE id = ${id}`,
        )
      )[0];
    expect(await folded(late?.id)).toEqual({ first: 'Nuevo', folded: null, custom: null });
    await foldContacts(db);
    expect(await folded(late?.id)).toEqual({ first: 'Nuevo', folded: 'nuevo', custom: '{}' });

    // A contact not folded yet that a writer updates is folded by that write, all three copies.
    const [old] = await db.all<{ id: number }>(sql`INSERT INTO contacts (workspace_id, first_name, last_name,
        custom_fields, created_at, updated_at) VALUES (${ws.id}, 'Íñigo', 'Ruiz', '{"ciudad":"Bogotá"}', 0, 0) RETURNING id`);
    const edit = await server.request('PATCH', `/api/v1/contacts/${old?.id}`, {
      token: ws.tokens.manager,
      body: { lastName: 'RUÍZ' },
    });
    expect(edit.status, edit.text).toBe(200);
    expect(await folded(old?.id)).toEqual({ first: 'Íñigo', folded: 'inigo', custom: '{"ciudad":"bogota"}' });
    // Only capitals changed (the same copy): still folded after the write.
    const capitals = await server.request('PATCH', `/api/v1/contacts/${old?.id}`, {
      token: ws.tokens.manager,
      body: { firstName: 'ÍÑIGO', customFields: { ciudad: 'BOGOTÁ' } },
    });
    expect(capitals.status, capitals.text).toBe(200);
    expect(await folded(old?.id)).toEqual({ first: 'ÍÑIGO', folded: 'inigo', custom: '{"ciudad":"bogota"}' });
    expect(await outOfStep(ws.id)).toEqual([]);

    // Changed by hand (or by a process of an older version), the copy of the old text is not kept: the
    // contact goes back to the GLOB, which finds it by its new name, until it is folded again.
    await db.run(sql`UPDATE contacts SET first_name = 'Ñoño' WHERE id = ${old?.id}`);
    expect(await folded(old?.id)).toEqual({ first: 'Ñoño', folded: null, custom: null });
    expect(await count(ws, { type: 'field', field: 'firstName', operator: 'contains', value: 'inigo' })).toBe(0);
    expect(await count(ws, { type: 'field', field: 'firstName', operator: 'contains', value: 'nono' })).toBe(1);
    await foldContacts(db);
    expect(await outOfStep(ws.id)).toEqual([]);
  });

  it('folds at start without holding the event loop, past contacts whose custom fields are not an object', async () => {
    const ws = await server.workspace('Al inicio');
    // 3,000 contacts of 1 kB of notes written by hand (about 3 MB of text: three writes), one of them with
    // custom fields that are not an object.
    await db.run(sql`INSERT INTO contacts (workspace_id, first_name, custom_fields, created_at, updated_at)
      SELECT ${ws.id}, 'Cliente ' || value, CASE WHEN value = 5 THEN 'null' ELSE json_object('nota', 'Ñ' || ${'x'.repeat(1000)}) END, 0, 0
      FROM generate_series(1, 3000)`);
    let turns = 0;
    const tick = setInterval(() => turns++, 0);
    try {
      expect(await foldContacts(db)).toBe(3000);
    } finally {
      clearInterval(tick);
    }
    // The API's timers and requests had turns while it folded.
    expect(turns).toBeGreaterThan(0);
    expect(await outOfStep(ws.id)).toEqual([]);
    // (Segments read a workspace's custom-field keys, which such a contact breaks: it goes first.)
    await db.run(sql`DELETE FROM contacts WHERE workspace_id = ${ws.id} AND custom_fields = 'null'`);
    expect(await count(ws, { type: 'field', field: 'custom.nota', operator: 'contains', value: 'nx' })).toBe(2999);
  });

  it('previews a segment crafted against notes of 2,000 "a" at once', async () => {
    const ws = await server.workspace('Notas largas');
    await upsertContacts(
      db,
      { workspaceId: ws.id, defaultCountry: 'AR' },
      Array.from({ length: 500 }, (_, i) => ({ email: `n${i}@example.com`, customFields: { nota: 'a'.repeat(2000) } })),
      { by: 'email', mode: 'upsert' },
    );
    // Under the GLOB each contact cost about 40 ms for this value, twice a preview (count and sample): 40 s.
    const value = `${'a'.repeat(199)}e`;
    expect(await count(ws, { type: 'field', field: 'custom.nota', operator: 'contains', value })).toBe(0);
    expect(await count(ws, { type: 'field', field: 'custom.nota', operator: 'contains', value: 'Á'.repeat(500) })).toBe(
      500,
    );
  }, 5_000);
});
