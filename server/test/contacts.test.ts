import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
let messenger: number;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace('Tienda', 'AR');
  messenger = (
    await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'messenger', name: 'FB' },
    })
  ).body.id;
});

const create = (body: unknown) => server.request('POST', '/api/v1/contacts', { token: ws.tokens.agent, body });

describe('create, get and update', () => {
  it('normalizes the phone with the workspace country and finds the contact by any identifier', async () => {
    const res = await create({
      firstName: 'Ana',
      phone: '011 15 5555-1234',
      email: ' Ana@Example.COM ',
      customFields: { plan: 'pro', seats: 3, active: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      phone: '+5491155551234',
      phoneValid: true,
      phoneProblem: null,
      email: 'ana@example.com',
    });
    expect(res.body.customFields).toEqual({ plan: 'pro', seats: '3', active: 'true' });
    for (const ref of [
      String(res.body.id),
      'phone:+5491155551234',
      'phone:+54 9 11 5555-1234',
      'email:ANA@example.com',
    ]) {
      const got = await server.request('GET', `/api/v1/contacts/${encodeURIComponent(ref)}`, {
        token: ws.tokens.agent,
      });
      expect(got.status, ref).toBe(200);
      expect(got.body.id).toBe(res.body.id);
    }
  });

  it('keeps a number that does not parse, flagged with the problem', async () => {
    const res = await create({ firstName: 'Mal', phone: '12345' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ phone: '12345', phoneValid: false, phoneProblem: 'too_short' });
  });

  it('updates only what is sent, null clears, custom fields merge', async () => {
    const { body: c } = await create({
      firstName: 'Luis',
      lastName: 'Soto',
      customFields: { plan: 'free', city: 'Lima' },
    });
    const res = await server.request('PATCH', `/api/v1/contacts/${c.id}`, {
      token: ws.tokens.agent,
      body: { lastName: null, phone: '+52 1 55 1234 5678', customFields: { plan: 'pro', city: null } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      firstName: 'Luis',
      lastName: null,
      phone: '+525512345678',
      customFields: { plan: 'pro' },
    });
    const byPhone = await server.request('PATCH', '/api/v1/contacts/phone:+525512345678', {
      token: ws.tokens.agent,
      body: { email: 'luis@example.com' },
    });
    expect(byPhone.body).toMatchObject({ id: c.id, email: 'luis@example.com' });
  });

  it('stores channel identifiers and refuses one that belongs to another contact', async () => {
    const a = await create({ firstName: 'Pía', identifiers: [{ channelId: messenger, identifier: 'psid-1' }] });
    expect(a.body.identifiers).toEqual([{ channelId: messenger, identifier: 'psid-1' }]);
    const b = await create({ firstName: 'Otro', identifiers: [{ channelId: messenger, identifier: 'psid-1' }] });
    expect(b.status).toBe(409);
    expect(b.body.error.code).toBe('contact_identifier_taken');
    // Nothing half-written: the second contact was not created.
    const search = await server.request('GET', '/api/v1/contacts?q=Otro', { token: ws.tokens.agent });
    expect(search.body.data).toEqual([]);
  });

  it("notes when a contact's phone, e-mail or channel identifier changes (what a freezing broadcast looks up), not a name", async () => {
    const changedAt = async (id: number) =>
      Number(
        (
          await server.database.client.execute({
            sql: 'SELECT identity_changed_at AS at FROM contacts WHERE id = ?',
            args: [id],
          })
        ).rows[0]?.at ?? 0,
      );
    const made = await create({ firstName: 'Remo', identifiers: [{ channelId: messenger, identifier: 'psid-remo' }] });
    const first = await changedAt(made.body.id);
    expect(first).toBeGreaterThan(0);
    const patch = (body: unknown) =>
      server.request('PATCH', `/api/v1/contacts/${made.body.id}`, { token: ws.tokens.agent, body });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await patch({ firstName: 'Remo II' });
    expect(await changedAt(made.body.id)).toBe(first);
    await patch({ identifiers: [{ channelId: messenger, identifier: 'psid-remo-2' }] });
    const second = await changedAt(made.body.id);
    expect(second).toBeGreaterThan(first);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await patch({ phone: '+5491155559876' });
    expect(await changedAt(made.body.id)).toBeGreaterThan(second);
  });

  it('needs at least a name, phone, e-mail or identifier', async () => {
    const res = await create({ lastName: 'Solo' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('contact_needs_identity');
  });

  it('answers 404 for an unknown ID or identifier', async () => {
    for (const ref of ['999999', 'phone:+5491100000000', 'email:nadie@example.com']) {
      const res = await server.request('GET', `/api/v1/contacts/${ref}`, { token: ws.tokens.agent, language: 'es' });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe('No se encontró el contacto.');
    }
  });
});

describe('tags', () => {
  it('adds tags once (ignoring case) and removes them', async () => {
    const { body: c } = await create({ firstName: 'Tina' });
    const add = await server.request('POST', `/api/v1/contacts/${c.id}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['VIP', 'vip', 'failed broadcast 110122'] },
    });
    expect(add.body.tags).toEqual(['failed broadcast 110122', 'VIP']);
    const again = await server.request('POST', `/api/v1/contacts/${c.id}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['vip'] },
    });
    expect(again.body.tags).toEqual(['failed broadcast 110122', 'VIP']);
    const del = await server.request('DELETE', `/api/v1/contacts/${c.id}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['Vip'] },
    });
    expect(del.body.tags).toEqual(['failed broadcast 110122']);
  });
});

describe('search and pagination', () => {
  it('pages newest first with a cursor until the end', async () => {
    const page = await server.workspace('Paginas');
    const made: number[] = [];
    for (let i = 0; i < 7; i++) {
      made.push(
        (
          await server.request('POST', '/api/v1/contacts', {
            token: page.tokens.agent,
            body: { firstName: `P${i}`, tags: i % 2 ? ['odd'] : [] },
          })
        ).body.id,
      );
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: { id: number }[]; nextCursor: string | null } } = await server.request(
        'GET',
        `/api/v1/contacts?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { token: page.tokens.agent },
      );
      seen.push(...res.body.data.map((c) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
    const odd = await server.request('GET', '/api/v1/contacts?tag=ODD', { token: page.tokens.agent });
    expect(odd.body.data.map((c: { firstName: string }) => c.firstName)).toEqual(['P5', 'P3', 'P1']);
    const bad = await server.request('GET', '/api/v1/contacts?cursor=garbage', { token: page.tokens.agent });
    expect(bad.status).toBe(422);
  });

  it('finds by name, e-mail or digits of the phone', async () => {
    await create({ firstName: 'Ramona', lastName: 'Quiroga', phone: '+57 300 123 4567', email: 'rq@correo.co' });
    for (const q of ['ramona quiroga', 'RQ@correo', '3001234567', '300 123']) {
      const res = await server.request('GET', `/api/v1/contacts?q=${encodeURIComponent(q)}`, {
        token: ws.tokens.agent,
      });
      expect(
        res.body.data.map((c: { firstName: string }) => c.firstName),
        q,
      ).toEqual(['Ramona']);
    }
  });
});

describe('duplicates and merge', () => {
  it('finds contacts sharing a normalized phone or e-mail and merges them', async () => {
    const dup = await server.workspace('Duplicados');
    const post = (body: unknown) => server.request('POST', '/api/v1/contacts', { token: dup.tokens.manager, body });
    const channel = (
      await server.request('POST', '/api/v1/channels', {
        token: dup.tokens.manager,
        body: { type: 'telegram', name: 'TG' },
      })
    ).body.id;
    const keep = (await post({ firstName: 'Marta', phone: '+54 9 11 4444-1111', tags: ['vip'] })).body;
    const merge = (
      await post({
        lastName: 'Ríos',
        phone: '011 15 4444-1111',
        email: 'marta@example.com',
        tags: ['cliente'],
        customFields: { plan: 'pro' },
        identifiers: [{ channelId: channel, identifier: '555' }],
      })
    ).body;
    const third = (await post({ firstName: 'M', email: 'MARTA@example.com' })).body;

    const groups = (await server.request('GET', '/api/v1/contacts/duplicates', { token: dup.tokens.agent })).body.data;
    expect(groups).toEqual([
      { by: 'phone', value: '+5491144441111', contactIds: [keep.id, merge.id] },
      { by: 'email', value: 'marta@example.com', contactIds: [merge.id, third.id] },
    ]);

    const agentTry = await server.request('POST', '/api/v1/contacts/merge', {
      token: dup.tokens.agent,
      body: { keep: keep.id, merge: merge.id },
    });
    expect(agentTry.status).toBe(403);
    const merged = await server.request('POST', '/api/v1/contacts/merge', {
      token: dup.tokens.manager,
      body: { keep: keep.id, merge: merge.id },
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      id: keep.id,
      firstName: 'Marta',
      lastName: 'Ríos',
      email: 'marta@example.com',
      tags: ['cliente', 'vip'],
      customFields: { plan: 'pro' },
      identifiers: [{ channelId: channel, identifier: '555' }],
    });
    expect((await server.request('GET', `/api/v1/contacts/${merge.id}`, { token: dup.tokens.agent })).status).toBe(404);
    const self = await server.request('POST', '/api/v1/contacts/merge', {
      token: dup.tokens.manager,
      body: { keep: keep.id, merge: `phone:+5491144441111` },
    });
    expect(self.status).toBe(422);
  });
});
