import { readFileSync } from 'node:fs';
import type { Role } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { upsertContacts } from '../src/services/contact-writer';
import { searchContacts } from '../src/services/contacts';
import { createWorkspace } from '../src/services/workspaces';
import { startTestServer, startThreadedServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace('Buscador', 'AR');
});

const create = async (body: Record<string, unknown>, workspace = ws) => {
  const res = await server.request('POST', '/api/v1/contacts', { token: workspace.tokens.agent, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; firstName: string | null };
};

const search = (q: string, workspace = ws, extra = '') =>
  server.request('GET', `/api/v1/contacts?q=${encodeURIComponent(q)}${extra}`, { token: workspace.tokens.agent });

/** The IDs a search answers, newest first; fails the test on anything but 200. */
async function ids(q: string, workspace = ws, extra = ''): Promise<number[]> {
  const res = await search(q, workspace, extra);
  expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body.data.map((c: { id: number }) => c.id);
}

describe('finds contacts by fragments of what agents know', () => {
  let ramona: number;
  let jose: number;
  let nunez: number;

  beforeAll(async () => {
    ramona = (
      await create({
        firstName: 'Ramona',
        lastName: 'Quiroga',
        phone: '+54 9 11 5500-1234',
        email: 'Ramona.Q@Correo.com.ar',
      })
    ).id;
    jose = (await create({ firstName: 'José', lastName: 'Pérez', phone: '+52 1 55 1234 5678' })).id;
    nunez = (await create({ firstName: 'JUANA', lastName: 'Nuñez' })).id;
  });

  it('name fragments, across first and last name, in any case', async () => {
    expect(await ids('quirog')).toEqual([ramona]);
    expect(await ids('mona qui')).toEqual([ramona]);
    expect(await ids('RAMONA QUIROGA')).toEqual([ramona]);
    expect(await ids('  ramona   quiroga ')).toEqual([ramona]);
  });

  it('accents and case aside, both ways', async () => {
    expect(await ids('jose perez')).toEqual([jose]);
    expect(await ids('JOSE')).toEqual([jose]);
    expect(await ids('pérez')).toEqual([jose]);
    expect(await ids('juana núñez')).toEqual([nunez]);
    expect(await ids('NUNEZ')).toEqual([nunez]);
    // A decomposed accent (e + U+0301), as some keyboards and pasted text send it.
    expect(await ids('Jose\u0301')).toEqual([jose]);
  });

  it('phone digits, however the agent writes them', async () => {
    for (const q of ['+54 9 11', '1155', '11 5500', '5500-12', '(11) 5500', '5491155001234', '+54-9-11-5500-1234']) {
      expect(await ids(q), q).toEqual([ramona]);
    }
    expect(await ids('55 1234 5678')).toEqual([jose]);
    // The whole number as dialled locally is found by its E.164 form.
    expect(await ids('011 15 5500-1234')).toEqual([ramona]);
  });

  it('e-mail fragments', async () => {
    for (const q of ['ramona.q@', '@correo.com', 'RAMONA.Q@CORREO', 'com.ar']) {
      expect(await ids(q), q).toEqual([ramona]);
    }
  });

  it('names however they were spaced: two spaces, or a non-breaking space pasted from a spreadsheet', async () => {
    const workspace = await server.workspace('Espacios');
    const maria = await create({ firstName: 'Ana  María', lastName: 'del  Valle' }, workspace);
    const rocio = await create({ firstName: 'Rocío\u00a0Belén', lastName: 'Sosa' }, workspace);
    const lukasz = await create({ firstName: 'Łukasz', lastName: '\u00a0Søren' }, workspace);
    expect(await ids('ana maría', workspace)).toEqual([maria.id]);
    expect(await ids('maria del valle', workspace)).toEqual([maria.id]);
    expect(await ids('rocío belén', workspace)).toEqual([rocio.id]);
    expect(await ids('rocio belen sosa', workspace)).toEqual([rocio.id]);
    expect(await ids('łukasz søren', workspace)).toEqual([lukasz.id]);
    // Still the words in their order, not just somewhere in the name.
    expect(await ids('belen rocio', workspace)).toEqual([]);
  });

  it('only contacts that hold the query as written, not only its pieces', async () => {
    // "Ana Nascimento" holds the trigrams of "anas" (ana, nas) but not "anas".
    const workspace = await server.workspace('Piezas');
    const ana = await create({ firstName: 'Ana', lastName: 'Nascimento' }, workspace);
    const anastasia = await create({ firstName: 'Anastasia' }, workspace);
    expect(await ids('anas', workspace)).toEqual([anastasia.id]);
    expect(await ids('ana nas', workspace)).toEqual([ana.id]);
    expect(await ids('nada que ver', workspace)).toEqual([]);
  });
});

describe('the index follows every write', () => {
  it('a renamed contact is found by its new name and not the old; a new phone or e-mail likewise', async () => {
    const workspace = await server.workspace('Cambios');
    const c = await create({ firstName: 'Florencia', phone: '+54 9 11 4000-1111', email: 'flor@viejo.com' }, workspace);
    expect(await ids('florencia', workspace)).toEqual([c.id]);
    const patch = await server.request('PATCH', `/api/v1/contacts/${c.id}`, {
      token: workspace.tokens.agent,
      body: { firstName: 'Valentina', phone: '+54 9 11 4999-2222', email: 'vale@nuevo.com' },
    });
    expect(patch.status).toBe(200);
    expect(await ids('valentina', workspace)).toEqual([c.id]);
    expect(await ids('florencia', workspace)).toEqual([]);
    expect(await ids('4999-22', workspace)).toEqual([c.id]);
    expect(await ids('4000-11', workspace)).toEqual([]);
    expect(await ids('nuevo.com', workspace)).toEqual([c.id]);
    expect(await ids('viejo', workspace)).toEqual([]);
    // A change that leaves the searched text alone (tags, language) keeps it findable.
    await server.request('PATCH', `/api/v1/contacts/${c.id}`, {
      token: workspace.tokens.agent,
      body: { language: 'es', customFields: { plan: 'pro' } },
    });
    expect(await ids('valentina', workspace)).toEqual([c.id]);
  });

  it('a deleted or merged-away contact is no longer found', async () => {
    const workspace = await server.workspace('Bajas');
    const keep = await create({ firstName: 'Marta', phone: '+54 9 11 4444-1111' }, workspace);
    const merged = await create({ firstName: 'Martina', email: 'martina@example.com' }, workspace);
    const gone = await create({ firstName: 'Martiniano' }, workspace);
    expect(await ids('marti', workspace)).toEqual([gone.id, merged.id]);
    const merge = await server.request('POST', '/api/v1/contacts/merge', {
      token: workspace.tokens.manager,
      body: { keep: keep.id, merge: merged.id },
    });
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);
    // Any writer, raw SQL included: the trigger is in the database, not in the service.
    await server.database.client.execute({ sql: 'DELETE FROM contacts WHERE id = ?', args: [gone.id] });
    expect(await ids('marti', workspace)).toEqual([keep.id]);
    // The kept contact took the merged one's e-mail: found by it now.
    expect(await ids('martina@', workspace)).toEqual([keep.id]);
  });

  it('a write that fails leaves nothing in the index', async () => {
    const workspace = await server.workspace('Fallida');
    const channel = (
      await server.request('POST', '/api/v1/channels', {
        token: workspace.tokens.manager,
        body: { type: 'messenger', name: 'FB' },
      })
    ).body.id;
    await create({ firstName: 'Primera', identifiers: [{ channelId: channel, identifier: 'psid-1' }] }, workspace);
    const clash = await server.request('POST', '/api/v1/contacts', {
      token: workspace.tokens.agent,
      body: { firstName: 'Fantasma', identifiers: [{ channelId: channel, identifier: 'psid-1' }] },
    });
    expect(clash.status).toBe(409);
    expect(await ids('fantasma', workspace)).toEqual([]);
    const ghosts = await server.database.client.execute(
      `SELECT count(*) AS n FROM contact_search WHERE contact_search MATCH '"fan" AND "ant" AND "tas"'`,
    );
    expect(Number(ghosts.rows[0]?.n)).toBe(0);
  });

  it('bulk upserts are searchable, and their updates move the index', async () => {
    const workspace = await server.workspace('Masivo');
    const scope = { workspaceId: workspace.id, defaultCountry: 'AR' };
    await upsertContacts(
      server.database.db,
      scope,
      [
        { firstName: 'Bautista', phone: '011 15 5555-0001' },
        { firstName: 'Benjamín', phone: '+54 9 11 5555-0002' },
      ],
      { by: 'phone', mode: 'upsert' },
    );
    expect((await ids('bautista', workspace)).length).toBe(1);
    expect((await ids('benjamin', workspace)).length).toBe(1);
    await upsertContacts(server.database.db, scope, [{ firstName: 'Bruno', phone: '+5491155550001' }], {
      by: 'phone',
      mode: 'update',
    });
    expect(await ids('bautista', workspace)).toEqual([]);
    expect((await ids('bruno', workspace)).length).toBe(1);
  });
});

describe('scoping, filters and pages', () => {
  it("another workspace's contacts never appear, however many match", async () => {
    const mine = await server.workspace('Mio');
    const theirs = await server.workspace('Ajeno');
    const own = await create({ firstName: 'Secreto', lastName: 'Propio', phone: '+54 9 11 6000-0001' }, mine);
    // Newer and more numerous than the one that belongs here: they must not crowd it out of the page.
    for (let i = 0; i < 5; i++) {
      await create({ firstName: 'Secreto', lastName: `Ajeno ${i}`, phone: `+54 9 11 6000-000${i + 2}` }, theirs);
    }
    expect(await ids('secreto', mine, '&limit=1')).toEqual([own.id]);
    expect(await ids('6000-000', mine)).toEqual([own.id]);
    expect((await ids('secreto', theirs)).length).toBe(5);
    expect(await ids('secreto ajeno', mine)).toEqual([]);
    const direct = await searchContacts(
      server.database.db,
      { workspaceId: mine.id, defaultCountry: 'AR' },
      { q: 'secreto', limit: 50 },
    );
    expect(direct.data.map((c) => c.id)).toEqual([own.id]);
  });

  it('workspaces are told apart in the index whatever their IDs', async () => {
    // Index keys are workspace_id * 2^32 + contact id, past 2^53 for these: float arithmetic would mix them up.
    const { client, db } = server.database;
    const workspaceIds = [2 ** 22 + 1, 2 ** 22 + 2, 2 ** 30 + 1];
    for (const id of workspaceIds) {
      await client.execute({
        sql: "INSERT INTO workspaces (id, name, created_at) VALUES (?, 'Grande', 0)",
        args: [id],
      });
      await client.execute({
        sql: `INSERT INTO contacts (workspace_id, first_name, custom_fields, created_at, updated_at)
              VALUES (?, ?, '{}', 0, 0)`,
        args: [id, `Ximena ${id}`],
      });
    }
    for (const id of workspaceIds) {
      const page = await searchContacts(db, { workspaceId: id, defaultCountry: 'AR' }, { q: 'ximena', limit: 50 });
      expect(page.data.map((c) => c.firstName)).toEqual([`Ximena ${id}`]);
    }
  });

  it('the tag filter works together with q', async () => {
    const workspace = await server.workspace('Etiquetas');
    const vip = await create({ firstName: 'Camila', lastName: 'Sosa', tags: ['VIP'] }, workspace);
    await create({ firstName: 'Camila', lastName: 'Romero' }, workspace);
    await create({ firstName: 'Diego', tags: ['vip'] }, workspace);
    expect(await ids('camila', workspace, '&tag=vip')).toEqual([vip.id]);
    expect(await ids('camila', workspace, '&tag=nadie')).toEqual([]);
    expect((await ids('camila', workspace)).length).toBe(2);
  });

  it('pages newest first with the cursor, the same as without q', async () => {
    const workspace = await server.workspace('Paginado');
    const made: number[] = [];
    for (let i = 0; i < 7; i++) {
      made.push((await create({ firstName: `Cliente ${i}`, lastName: i % 2 ? 'Impar' : 'Par' }, workspace)).id);
      await create({ firstName: `Otro ${i}` }, workspace);
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { data: { id: number }[]; nextCursor: string | null } } = await search(
        'cliente',
        workspace,
        `&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((c) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
    expect(pages).toBe(3);
    const bad = await search('cliente', workspace, '&cursor=garbage');
    expect(bad.status).toBe(422);
    // A made-up cursor past any contact ID or below zero reads no other workspace's keys.
    const far = Buffer.from(JSON.stringify({ id: 2 ** 40 })).toString('base64url');
    expect(await ids('cliente', workspace, `&cursor=${far}`)).toEqual([...made].reverse());
    const negative = Buffer.from(JSON.stringify({ id: -5 })).toString('base64url');
    expect(await ids('cliente', workspace, `&cursor=${negative}`)).toEqual([]);
  });

  it('a query many contacts nearly match ends the page early with a cursor, and following it finds the rest', async () => {
    const workspace = await server.workspace('Casi');
    const anastasia = await create({ firstName: 'Anastasia' }, workspace);
    // 25,000 newer contacts holding "ana" and "nas" but not "anas": more than one page may check.
    await server.database.db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
      INSERT INTO contacts (workspace_id, first_name, last_name, custom_fields, created_at, updated_at)
      SELECT ${workspace.id}, 'Ana', 'Nascimento ' || i, '{}', 0, 0 FROM n`);
    const found: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { data: { id: number }[]; nextCursor: string | null } } = await search(
        'anas',
        workspace,
        cursor ? `&cursor=${cursor}` : '',
      );
      expect(res.status).toBe(200);
      found.push(...res.body.data.map((c) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(found).toEqual([anastasia.id]);
    expect(pages).toBeGreaterThan(1);
  }, 60_000);
});

describe('short and hostile queries', () => {
  it('asks for at least 3 characters, in the agent’s language', async () => {
    for (const q of ['a', 'ab', '  ab  ', 'é', '+5']) {
      const res = await server.request('GET', `/api/v1/contacts?q=${encodeURIComponent(q)}`, {
        token: ws.tokens.agent,
        language: 'es',
      });
      expect(res.status, q).toBe(422);
      expect(res.body.error.code).toBe('search_too_short');
      expect(res.body.error.message).toBe(
        'Escriba al menos 3 caracteres para buscar: parte del nombre, del teléfono o del correo.',
      );
      expect(res.body.error.details).toEqual([{ path: 'query.q', message: 'Escriba al menos 3 caracteres' }]);
    }
    const en = await server.request('GET', '/api/v1/contacts?q=ab', { token: ws.tokens.agent, language: 'en' });
    expect(en.body.error.message).toBe(
      'Type at least 3 characters to search: part of the name, the phone or the e-mail.',
    );
    // Three characters, accents or not, are enough; an empty q lists everyone as before.
    expect((await search('ana')).status).toBe(200);
    expect((await search('ñez')).status).toBe(200);
    expect((await search('')).status).toBe(200);
  });

  it('FTS5 syntax in the query is text, never an operator, and never a 500', async () => {
    const workspace = await server.workspace('Hostil');
    const odd = await create({ firstName: 'O"Brien*', lastName: 'NEAR(x) OR -y' }, workspace);
    const plain = await create({ firstName: 'Pedro', lastName: 'Or' }, workspace);
    const hostile = [
      '"""',
      '"brien*',
      '***',
      'ped*',
      'ped OR xyz',
      'AND',
      'NOT pedro',
      'NEAR(',
      'NEAR(pedro or)',
      '-pedro',
      'pedro -or',
      '^pedro',
      'name: pedro',
      '{name}: pedro',
      'pedro + or',
      "'; DROP TABLE contacts; --",
      '%_%',
      '\\\\\\',
      '()()',
      '🙂🙂🙂',
      'x'.repeat(200),
      'ab"c'.repeat(50),
    ];
    for (const q of hostile) {
      const res = await search(q, workspace);
      expect(res.status, `${q}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    // Too short to search, operator or not: the same clear 422 as any two characters.
    for (const q of ['"', '""', '*', '-', 'OR', '("']) {
      const res = await search(q, workspace);
      expect(res.status, q).toBe(422);
      expect(res.body.error.code).toBe('search_too_short');
    }
    expect(await ids('"brien*', workspace)).toEqual([odd.id]);
    expect(await ids('near(x) or -y', workspace)).toEqual([odd.id]);
    expect(await ids('pedro or', workspace)).toEqual([plain.id]);
    expect(await ids('ped OR xyz', workspace)).toEqual([]);
    expect(await ids('***', workspace)).toEqual([]);
    // Control characters: the API refuses them with its usual 422; the service itself treats them as spaces.
    for (const q of ['pe\u0000dro', 'pedro\u0001', '\u0007\u0008\u001b']) {
      const res = await search(q, workspace);
      expect(res.status, JSON.stringify(q)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const scope = { workspaceId: workspace.id, defaultCountry: 'AR' };
    const direct = await searchContacts(server.database.db, scope, { q: 'pedro\u0000\u0001or', limit: 50 });
    expect(direct.data.map((c) => c.id)).toEqual([plain.id]);
    await expect(searchContacts(server.database.db, scope, { q: '\u0000\u0000x', limit: 50 })).rejects.toMatchObject({
      code: 'search_too_short',
    });
  });
});

describe('the migration', () => {
  it('indexes the contacts that existed before it', async () => {
    const workspace = await server.workspace('Anteriores');
    const { client } = server.database;
    // Back to the schema before 0006, with contacts written then; then 0006 as the migrator runs it.
    const statements = readFileSync(new URL('../drizzle/0006_contact_search.sql', import.meta.url), 'utf8').split(
      '--> statement-breakpoint',
    );
    await client.executeMultiple(`DROP TRIGGER contacts_search_insert; DROP TRIGGER contacts_search_update;
      DROP TRIGGER contacts_search_delete; DROP TABLE contact_search;`);
    try {
      await client.execute({
        sql: `INSERT INTO contacts (workspace_id, first_name, last_name, phone, email, custom_fields, created_at, updated_at)
              VALUES (?, 'Agustina', 'Benítez', '+5491170001234', 'agus@example.com', '{}', 0, 0)`,
        args: [workspace.id],
      });
    } finally {
      await client.migrate(statements);
    }
    expect((await ids('agustina benitez', workspace)).length).toBe(1);
    expect((await ids('7000-12', workspace)).length).toBe(1);
    expect((await ids('agus@', workspace)).length).toBe(1);
    // The triggers are back too.
    const later = await create({ firstName: 'Agustín' }, workspace);
    expect((await ids('agusti', workspace))[0]).toBe(later.id);
  });
});

describe('with heavy threads, as npm start runs it', () => {
  let base: string;
  let tokens: Record<Role, string>;

  beforeAll(async () => {
    const threaded = await startThreadedServer({ threads: 1 });
    base = threaded.base;
    const made = await createWorkspace(threaded.database.db, { name: 'Importado', defaultCountry: 'AR' }, ['agent']);
    tokens = Object.fromEntries(made.tokens.map((t) => [t.role, t.token])) as Record<Role, string>;
  }, 60_000);

  it('rows of a CSV import are searchable afterwards', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob(['First name,Last name,Phone,Email\nMicaela,Giménez,011 15 4321-8765,mica@importada.com\n']),
      'contactos.csv',
    );
    const imported = await fetch(`${base}/api/v1/imports/contacts`, {
      method: 'POST',
      body: form,
      headers: { Authorization: `Bearer ${tokens.agent}` },
    });
    expect(imported.status, await imported.clone().text()).toBe(201);
    for (const q of ['micaela gimenez', '4321-87', 'importada']) {
      const res = await fetch(`${base}/api/v1/contacts?q=${encodeURIComponent(q)}`, {
        headers: { Authorization: `Bearer ${tokens.agent}` },
      });
      const body = (await res.json()) as { data: { firstName: string }[] };
      expect(res.status).toBe(200);
      expect(
        body.data.map((c) => c.firstName),
        q,
      ).toEqual(['Micaela']);
    }
  });
});
