/**
 * Imports under hostile or unlucky conditions: files from Excel on Windows (Windows-1252 punctuation,
 * phones in scientific notation), NUL bytes, counts in both languages, one running import per workspace
 * with the others queued in order, and an import whose process is killed in the middle of its write.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareContactImport } from '../src/csv/import';
import { setCustomFieldKeyCap } from '../src/services/contacts';
import { IMPORT_OWNER, MAX_QUEUED_IMPORTS } from '../src/services/import-jobs';
import { startTestServer } from './helpers';
import { portForChild } from './ports';

const server = await startTestServer({ bodyLimitBytes: 64 * 1024 * 1024 });
const { client } = server.database;
const SERVER_DIR = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

async function upload(
  baseUrl: string,
  token: string,
  file: string | Uint8Array,
  fields: Record<string, string> = {},
  language = 'es',
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([file]), 'contactos.csv');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const res = await fetch(`${baseUrl}/api/v1/imports/contacts`, {
    method: 'POST',
    body: form,
    headers: { Authorization: `Bearer ${token}`, 'Accept-Language': language },
  });
  return { status: res.status, body: await res.json() };
}

async function contactCount(workspaceId: number, db = client): Promise<number> {
  const rows = await db.execute({
    sql: 'SELECT count(*) AS n FROM contacts WHERE workspace_id = ?',
    args: [workspaceId],
  });
  return Number(rows.rows[0]?.n);
}

describe('CSV import: what Excel on Windows writes', () => {
  it('decodes Windows-1252 punctuation (smart quotes, en dash, euro) as Windows-1252, not as control characters', async () => {
    const ws = await server.workspace('Cp1252');
    // “Pepe” – 5 € ‘VIP’ in Windows-1252: 0x93 0x94 0x96 0x80 0x91 0x92.
    const header = Array.from('Teléfono;Nombre;Nota\r\n+5491155550301;', (c) => c.charCodeAt(0));
    const name = [0x93, ...Array.from('Pepe', (c) => c.charCodeAt(0)), 0x94];
    const note = [0x96, 0x20, 0x35, 0x20, 0x80, 0x20, 0x91, 0x56, 0x49, 0x50, 0x92, 0x0d, 0x0a];
    const res = await upload(server.baseUrl, ws.tokens.agent, Uint8Array.from([...header, ...name, 0x3b, ...note]));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', encoding: 'windows-1252', created: 1 });
    const list = await server.request('GET', '/api/v1/contacts', { token: ws.tokens.agent });
    expect(list.body.data[0].firstName).toBe('“Pepe”');
    expect(list.body.data[0].customFields).toEqual({ Nota: '– 5 € ‘VIP’' });
  });

  it('says a NUL byte is a NUL byte, with its line; real binaries are still called binary', async () => {
    const ws = await server.workspace('Nul');
    const bytes = new TextEncoder().encode('Email,Nombre\na@example.com,Ana\nb@example.com,B\u0000b\n');
    const es = await upload(server.baseUrl, ws.tokens.agent, bytes);
    expect(es.status).toBe(422);
    expect(es.body.error.code).toBe('import_nul_byte');
    expect(es.body.error.message).toContain('línea 3');
    const en = await upload(server.baseUrl, ws.tokens.agent, bytes, {}, 'en');
    expect(en.body.error.message).toContain('line 3');
    const pdf = new TextEncoder().encode('%PDF-1.7\nEmail\n');
    expect((await upload(server.baseUrl, ws.tokens.agent, pdf)).body.error.code).toBe('import_not_csv');
    expect(await contactCount(ws.id)).toBe(0);
  });

  it('explains a phone Excel turned into scientific notation, naming the row', async () => {
    const ws = await server.workspace('Scientific');
    const csv = 'Teléfono,Nombre\n+5491155550401,Ana\n5.49115E+12,Beto\n';
    const es = await upload(server.baseUrl, ws.tokens.agent, csv);
    expect(es.body).toMatchObject({ status: 'failed', rejected: 1 });
    expect(es.body.rejectedRows[0]).toMatchObject({ row: 3, code: 'phone_scientific' });
    expect(es.body.rejectedRows[0].reason).toContain('Línea 3');
    expect(es.body.rejectedRows[0].reason).toContain(
      'Excel convirtió el número en notación científica: dé formato de texto a la columna y vuelva a exportar',
    );
    const en = await server.request('GET', `/api/v1/imports/${es.body.id}`, { token: ws.tokens.agent, language: 'en' });
    expect(en.body.rejectedRows[0].reason).toContain('Excel turned the number into scientific notation');
    expect(await contactCount(ws.id)).toBe(0);
  });

  it('counts in both languages: one row is singular, thousands are grouped the Spanish way', async () => {
    const ws = await server.workspace('Plurals');
    const csv = 'Email,Idioma\na@example.com,es\nno-es-correo,es\n';
    const es = await upload(server.baseUrl, ws.tokens.agent, csv);
    expect(es.body.error.message).toMatch(/^Se rechazó 1 fila y no se importó nada/);
    const en = await server.request('GET', `/api/v1/imports/${es.body.id}`, { token: ws.tokens.agent, language: 'en' });
    expect(en.body.error.message).toMatch(/^1 row was rejected and nothing was imported/);
    const wide = await upload(server.baseUrl, ws.tokens.agent, `Email,Nota\na@example.com,${'x'.repeat(70_000)}\n`);
    expect(wide.body.rejectedRows[0].reason).toContain('70.000 caracteres; el máximo es 65.536');
  });
});

describe('CSV import: one running import per workspace, the others queued in order', () => {
  it('a file queued while another brought "Plan" writes its "plan" column to "Plan": one field, not two', async () => {
    const ws = await server.workspace('Plan en cola');
    const running = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, claimed_by, heartbeat_at, created_at)
            VALUES (?, 'running', '{}', 10, ?, ?, ?) RETURNING id`,
      args: [ws.id, IMPORT_OWNER, Date.now(), Date.now()],
    });
    // Scanned now, when no contact has the field in any case.
    const queued = await upload(server.baseUrl, ws.tokens.agent, 'Email,plan\nq@example.com,basic\n');
    expect(queued.body).toMatchObject({ status: 'queued' });
    // Meanwhile the one ahead (here, the API) writes it as "Plan".
    const first = await server.request('POST', '/api/v1/contacts', {
      token: ws.tokens.agent,
      body: { email: 'p@example.com', customFields: { Plan: 'pro' } },
    });
    expect(first.status).toBe(201);
    await client.execute({
      sql: "UPDATE imports SET status = 'completed' WHERE id = ?",
      args: [Number(running.rows[0]?.id)],
    });
    for (let i = 0; i < 200; i++) {
      const res = await server.request('GET', `/api/v1/imports/${queued.body.id}`, { token: ws.tokens.agent });
      if (res.body.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const keys = await client.execute({
      sql: 'SELECT DISTINCT j.key FROM contacts c, json_each(c.custom_fields) j WHERE c.workspace_id = ? ORDER BY 1',
      args: [ws.id],
    });
    expect(keys.rows.map((r) => r.key)).toEqual(['Plan']);
  });

  it('queues behind a running import (202, status queued, position), runs each in turn, and never touches another workspace', async () => {
    const ws = await server.workspace('Queue');
    const other = await server.workspace('Elsewhere');
    // A running import of this workspace held by this (live) process.
    const running = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, claimed_by, heartbeat_at, created_at)
            VALUES (?, 'running', '{}', 10, ?, ?, ?) RETURNING id`,
      args: [ws.id, IMPORT_OWNER, Date.now(), Date.now()],
    });
    const runningId = Number(running.rows[0]?.id);
    const first = await upload(server.baseUrl, ws.tokens.agent, 'Email\nq1@example.com\n');
    const second = await upload(server.baseUrl, ws.tokens.agent, 'Email\nq2@example.com\n');
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(second.body).toMatchObject({ status: 'queued', queuePosition: 2 });
    // Another workspace's import is not held up.
    const elsewhere = await upload(server.baseUrl, other.tokens.agent, 'Email\nelse@example.com\n');
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.status).toBe('completed');
    // Still queued while the running one runs: nothing of theirs is written.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const still = await server.request('GET', `/api/v1/imports/${second.body.id}`, { token: ws.tokens.agent });
    expect(still.body).toMatchObject({ status: 'queued', queuePosition: 2 });
    expect(await contactCount(ws.id)).toBe(0);

    await client.execute({ sql: "UPDATE imports SET status = 'completed' WHERE id = ?", args: [runningId] });
    const done = async (id: number) => {
      for (let i = 0; i < 200; i++) {
        const res = await server.request('GET', `/api/v1/imports/${id}`, { token: ws.tokens.agent });
        if (res.body.status !== 'queued' && res.body.status !== 'running') return res.body;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`import ${id} never finished`);
    };
    const [a, b] = [await done(first.body.id), await done(second.body.id)];
    expect(a).toMatchObject({ status: 'completed', created: 1, queuePosition: null });
    expect(b).toMatchObject({ status: 'completed', created: 1 });
    expect(new Date(a.finishedAt).getTime()).toBeLessThanOrEqual(new Date(b.finishedAt).getTime());
    expect(await contactCount(ws.id)).toBe(2);
  });

  it('refuses an import past the queue of 10, before storing its upload, and takes it once one has run', async () => {
    const ws = await server.workspace('Full queue');
    const running = await client.execute({
      sql: `INSERT INTO imports (workspace_id, status, options, total_rows, claimed_by, heartbeat_at, created_at)
            VALUES (?, 'running', '{}', 10, ?, ?, ?) RETURNING id`,
      args: [ws.id, IMPORT_OWNER, Date.now(), Date.now()],
    });
    for (let i = 0; i < MAX_QUEUED_IMPORTS; i++)
      expect((await upload(server.baseUrl, ws.tokens.agent, `Email\nfull${i}@example.com\n`)).status).toBe(202);
    const form = new FormData();
    form.append('file', new Blob(['Email\nover@example.com\n']), 'contactos.csv');
    const refused = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
      method: 'POST',
      body: form,
      headers: { Authorization: `Bearer ${ws.tokens.agent}`, 'Accept-Language': 'es' },
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_queued_imports');
    expect(body.error.message).toContain('ya tiene 10 importaciones esperando su turno');
    const rows = await client.execute({
      sql: 'SELECT count(*) AS n FROM imports WHERE workspace_id = ?',
      args: [ws.id],
    });
    expect(Number(rows.rows[0]?.n)).toBe(MAX_QUEUED_IMPORTS + 1);

    // The running one ends, the queue drains, and the next upload is taken.
    await client.execute({
      sql: "UPDATE imports SET status = 'completed' WHERE id = ?",
      args: [Number(running.rows[0]?.id)],
    });
    let again = { status: 429, body: {} as { status?: string } };
    for (let i = 0; i < 200 && again.status === 429; i++) {
      again = await upload(server.baseUrl, ws.tokens.agent, 'Email\nover@example.com\n');
      if (again.status === 429) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect([201, 202]).toContain(again.status);
    for (let i = 0; i < 200 && (await contactCount(ws.id)) < MAX_QUEUED_IMPORTS + 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await contactCount(ws.id)).toBe(MAX_QUEUED_IMPORTS + 1);
  });

  it('lets uploads that passed the check together fill the queue to 10, not past it', async () => {
    // One running and nine waiting: each of eight uploads at once sees room for one more before it
    // stores its file. Only one may join; the others are refused when they meet at the queue.
    const ws = await server.workspace('Queue race');
    const queue = async (status: string) =>
      client.execute({
        sql: `INSERT INTO imports (workspace_id, status, options, total_rows, claimed_by, heartbeat_at, created_at)
              VALUES (?, ?, '{}', 1, ?, ?, ?)`,
        args: [ws.id, status, IMPORT_OWNER, Date.now(), Date.now()],
      });
    await queue('running');
    for (let i = 0; i < MAX_QUEUED_IMPORTS - 1; i++) await queue('queued');
    // Four per token at once (the heavy-work limit): an agent's and a manager's, eight in all.
    const tokens = [ws.tokens.agent, ws.tokens.manager];
    const answers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const form = new FormData();
        form.append('file', new Blob([`Email\nrace${i}@example.com\n`]), 'contactos.csv');
        const res = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
          method: 'POST',
          body: form,
          headers: { Authorization: `Bearer ${tokens[i % 2]}`, 'Accept-Language': 'es' },
        });
        const body = (await res.json()) as { error?: { code: string } };
        return { status: res.status, code: body.error?.code, retryAfter: Number(res.headers.get('Retry-After')) };
      }),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused.map((a) => [a.status, a.code])).toEqual(Array(7).fill([429, 'too_many_queued_imports']));
    // Told when to ask again, as a refusal before the upload is.
    expect(refused.every((a) => a.retryAfter > 0)).toBe(true);
    const rows = await client.execute({
      sql: "SELECT count(*) AS n FROM imports WHERE workspace_id = ? AND status = 'queued'",
      args: [ws.id],
    });
    expect(Number(rows.rows[0]?.n)).toBe(MAX_QUEUED_IMPORTS);
  });

  it("settles another process's import only when its heartbeat stopped, with the localized message", async () => {
    const ws = await server.workspace('Owners');
    const insert = async (owner: string, heartbeat: number) => {
      const row = await client.execute({
        sql: `INSERT INTO imports (workspace_id, status, options, total_rows, claimed_by, heartbeat_at, created_at)
              VALUES (?, 'running', '{}', 10, ?, ?, ?) RETURNING id`,
        args: [ws.id, owner, heartbeat, Date.now()],
      });
      return Number(row.rows[0]?.id);
    };
    // A process on another machine that beat a second ago is alive: its import keeps running.
    const live = await insert('other-host:4242:abcd', Date.now() - 1000);
    const liveView = await server.request('GET', `/api/v1/imports/${live}`, { token: ws.tokens.agent });
    expect(liveView.body.status).toBe('running');
    await client.execute({
      sql: 'UPDATE imports SET heartbeat_at = ? WHERE id = ?',
      args: [Date.now() - 61_000, live],
    });
    const es = await server.request('GET', `/api/v1/imports/${live}`, { token: ws.tokens.agent, language: 'es' });
    expect(es.body).toMatchObject({ status: 'failed', created: 0, updated: 0 });
    expect(es.body.error).toMatchObject({ code: 'import_interrupted' });
    expect(es.body.error.message).toContain('interrumpida: no se importó nada');
    const en = await server.request('GET', `/api/v1/imports/${live}`, { token: ws.tokens.agent, language: 'en' });
    expect(en.body.error.message).toContain('interrupted: nothing was imported');
  });
});

describe('CSV import: a process killed in the middle of the write', () => {
  it('what it had written is undone at the next start: updated contacts as they were, created ones and its tag gone', async () => {
    const ws = await server.workspace('Killed');
    // 5,000 contacts there before, tagged vip; the file renames them and adds 55,000 new ones.
    const EXISTING = 5000;
    const phone = (i: number) => `+54911${70_000_000 + i}`;
    await client.execute({
      sql: "INSERT INTO tags (workspace_id, name, key, created_at) VALUES (?, 'vip', 'vip', 0)",
      args: [ws.id],
    });
    await client.execute({
      sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
            SELECT ?, 'Antes ' || value, '+54911' || (70000000 + value), 1, 'antes' || value || '@example.com',
                   '{"plan":"oro"}', 1000, 2000 + value
            FROM generate_series(0, ${EXISTING - 1})`,
      args: [ws.id],
    });
    await client.execute({
      sql: `INSERT INTO contact_tags (tag_id, contact_id) SELECT t.id, c.id FROM tags t, contacts c
            WHERE t.workspace_id = ? AND t.name = 'vip' AND c.workspace_id = t.workspace_id`,
      args: [ws.id],
    });
    const snapshot = async () =>
      (
        await client.execute({
          sql: `SELECT c.id, c.first_name, c.last_name, c.phone, c.phone_valid, c.phone_problem, c.email, c.language,
                  c.custom_fields, c.updated_at, (SELECT group_concat(t.name) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
                  WHERE ct.contact_id = c.id) AS tags
                FROM contacts c WHERE c.workspace_id = ? ORDER BY c.id`,
          args: [ws.id],
        })
      ).rows.map((row) => ({ ...row }));
    const before = await snapshot();
    expect(before).toHaveLength(EXISTING);

    const file = join(server.dir, 'killed.csv');
    const lines = ['Phone,First Name,Email,plan'];
    for (let i = 0; i < 60_000; i++) lines.push(`${phone(i)},Después ${i},k${i}@example.com,plata`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const databaseUrl = `file:${join(server.dir, 'test.db')}`;
    // A real import in its own process, over the same libSQL file.
    const script = `
      import { openDatabase } from ${JSON.stringify(join(SERVER_DIR, 'src/db/client.ts'))};
      import { runContactImport } from ${JSON.stringify(join(SERVER_DIR, 'src/csv/import.ts'))};
      const { db } = await openDatabase({ url: ${JSON.stringify(databaseUrl)} });
      await runContactImport(db, { workspaceId: ${ws.id}, defaultCountry: 'AR' }, {
        fileName: 'killed.csv', path: ${JSON.stringify(file)}, language: 'es',
        options: { mode: 'upsert', tags: ['killed'], dryRun: false, allOrNothing: true },
      });
      console.log('finished');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: SERVER_DIR,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    // Killed once its writes show: the existing contacts renamed, and some new ones created.
    let written = 0;
    for (let i = 0; i < 3000 && written <= EXISTING; i++) {
      expect(output, 'the import finished before it could be killed').not.toContain('finished');
      written = await contactCount(ws.id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(written).toBeGreaterThan(EXISTING);
    expect(await contactCount(ws.id)).toBeLessThan(EXISTING + 55_000);

    // The server starts as `npm start` starts it, over that database.
    const port = await portForChild();
    const main = spawn(process.execPath, ['--import', 'tsx', join(SERVER_DIR, 'src/main.ts')], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, ENGINE: 'off', DEMO: 'off' },
      cwd: SERVER_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(main);
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const read = (chunk: Buffer) => {
        text += chunk;
        if (text.includes('Ctrl+C stops it.')) resolve();
      };
      main.stdout?.on('data', read);
      main.stderr?.on('data', read);
      main.once('exit', (code) => reject(new Error(`server exited with ${code}: ${text}`)));
    });
    const [row] = (await client.execute({ sql: 'SELECT id FROM imports WHERE workspace_id = ?', args: [ws.id] })).rows;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/imports/${row?.id}`, {
      headers: { Authorization: `Bearer ${ws.tokens.agent}`, 'Accept-Language': 'es' },
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
    const body = (await res.json()) as any;
    main.kill('SIGTERM');
    expect(body).toMatchObject({ status: 'failed', created: 0, updated: 0, error: { code: 'import_interrupted' } });
    expect(body.error.message).toContain('interrumpida: no se importó nada');
    // Exactly as before: names, e-mails, custom fields, dates of change and tags; nothing created stays.
    expect(await snapshot()).toEqual(before);
    const tags = await client.execute({ sql: "SELECT count(*) AS n FROM tags WHERE name = 'killed'", args: [] });
    expect(Number(tags.rows[0]?.n)).toBe(0);
    const notes = await client.execute({ sql: 'SELECT count(*) AS n FROM import_undo', args: [] });
    expect(Number(notes.rows[0]?.n)).toBe(0);
  }, 120_000);
});

describe('CSV import: what the form and the workspace allow', () => {
  it('a form field sent as a file is refused, never dropped (a dropped dryRun would import for real)', async () => {
    const ws = await server.workspace('Campo archivo');
    const form = new FormData();
    form.append('file', new Blob(['phone,firstName\n+5491155550401,Ana\n']), 'contactos.csv');
    form.append('dryRun', new Blob(['true']), 'dryRun.txt');
    const res = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
      method: 'POST',
      body: form,
      headers: { Authorization: `Bearer ${ws.tokens.agent}`, 'Accept-Language': 'es' },
    });
    const body = (await res.json()) as { error: { details: unknown } };
    expect(res.status).toBe(422);
    expect(body.error.details).toEqual([
      { path: 'form.dryRun', message: 'Envíe «dryRun» como campo de texto, no como archivo.' },
    ]);
    expect(await contactCount(ws.id)).toBe(0);
  });

  it('a file whose columns would take the workspace past its custom-field cap is refused before anything is written', async () => {
    const ws = await server.workspace('Tope campos');
    setCustomFieldKeyCap(3);
    try {
      const fits = await upload(server.baseUrl, ws.tokens.agent, 'phone,custom.a,custom.b\n+5491155550501,1,2\n');
      expect(fits.status, JSON.stringify(fits.body)).toBe(201);
      const over = await upload(
        server.baseUrl,
        ws.tokens.agent,
        'phone,custom.a,custom.c,custom.d\n+5491155550502,1,2,3\n',
        {},
        'en',
      );
      expect(over.status).toBe(422);
      expect(over.body.error.code).toBe('custom_field_keys_limit');
      expect(await contactCount(ws.id)).toBe(1);
      const imports = await client.execute({
        sql: 'SELECT count(*) AS n FROM imports WHERE workspace_id = ?',
        args: [ws.id],
      });
      expect(Number(imports.rows[0]?.n)).toBe(1);
    } finally {
      setCustomFieldKeyCap(200);
    }
  });

  it('keys added while a file waited its turn count when it writes: the cap holds, and it fails saying why', async () => {
    const ws = await server.workspace('Tope en cola');
    setCustomFieldKeyCap(3);
    try {
      const { db } = server.database;
      const workspace = { workspaceId: ws.id, defaultCountry: 'AR' };
      // Checked and queued with room for its two keys ...
      const queued = await prepareContactImport(db, workspace, {
        fileName: 'cola.csv',
        bytes: new TextEncoder().encode('phone,custom.b,custom.c\n+5491155550601,1,2\n'),
        language: 'es',
        options: { mode: 'upsert', tags: [], dryRun: false, allOrNothing: true },
      });
      // ... which an agent's contact takes before its turn comes.
      const made = await server.request('POST', '/api/v1/contacts', {
        token: ws.tokens.agent,
        body: { firstName: 'Ana', customFields: { x: 1, y: 2 } },
      });
      expect(made.status).toBe(201);
      const done = await queued.execute();
      expect(done).toMatchObject({ status: 'failed', errorCode: 'custom_field_keys_limit', created: 0 });
      // Said in each reader's language, not only in the uploader's.
      const read = await server.request('GET', `/api/v1/imports/${done.id}`, {
        token: ws.tokens.agent,
        language: 'en',
      });
      expect(read.body.error.message).toMatch(
        /^The workspace already has 2 distinct custom fields and the maximum is 3/,
      );
      // A dry run queued the same way says so too, rather than that it would import.
      const dry = await prepareContactImport(db, workspace, {
        fileName: 'prueba.csv',
        bytes: new TextEncoder().encode('phone,custom.z\n+5491155550602,1\n'),
        language: 'es',
        options: { mode: 'upsert', tags: [], dryRun: true, allOrNothing: true },
      });
      await server.request('POST', '/api/v1/contacts', {
        token: ws.tokens.agent,
        body: { firstName: 'Bea', customFields: { w: 1 } },
      });
      expect(await dry.execute()).toMatchObject({ status: 'failed', errorCode: 'custom_field_keys_limit' });
      expect(await contactCount(ws.id)).toBe(2);
      const keys = await client.execute({
        sql: 'SELECT DISTINCT j.key FROM contacts c, json_each(c.custom_fields) j WHERE c.workspace_id = ?',
        args: [ws.id],
      });
      expect(keys.rows.map((r) => r.key).sort()).toEqual(['w', 'x', 'y']);
    } finally {
      setCustomFieldKeyCap(200);
    }
  });
});
