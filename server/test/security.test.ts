import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared';
import { EXTENSION_ORIGIN } from '@rebound/shared/extension';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let a: TestWorkspace;
let b: TestWorkspace;
const bIds = { contact: 0, channel: 0, segment: 0, token: 0, broadcast: 0, import: 0, portfolio: 0 };

/** Everything workspace B can see of itself, to prove that nothing changed. */
async function snapshotB() {
  const get = async (path: string) => (await server.request('GET', path, { token: b.tokens.owner })).body;
  return {
    contacts: await get('/api/v1/contacts?limit=200'),
    channels: await get('/api/v1/channels'),
    segments: await get('/api/v1/segments'),
    broadcasts: await get('/api/v1/broadcasts'),
    tokens: (await get('/api/v1/tokens')).data.map((t: { id: number }) => t.id),
    duplicates: await get('/api/v1/contacts/duplicates'),
    portfolios: await get('/api/v1/portfolios'),
  };
}

beforeAll(async () => {
  server = await startTestServer({ bodyLimitBytes: 64 * 1024, corsOrigins: ['https://app.helpdesk.example'] });
  a = await server.workspace('A');
  b = await server.workspace('B');
  const post = async (token: string, path: string, body: unknown) =>
    (await server.request('POST', path, { token, body })).body;
  bIds.channel = (await post(b.tokens.owner, '/api/v1/channels', { type: 'telegram', name: 'B telegram' })).id;
  bIds.contact = (
    await post(b.tokens.owner, '/api/v1/contacts', {
      firstName: 'Secreto',
      phone: '+5491166667777',
      email: 'secreto@b.example',
      tags: ['b-only'],
      identifiers: [{ channelId: bIds.channel, identifier: '4242' }],
    })
  ).id;
  await post(b.tokens.owner, '/api/v1/contacts', { firstName: 'Dup', email: 'secreto@b.example' });
  bIds.segment = (await post(b.tokens.owner, '/api/v1/segments', { name: 'B segment', filter: { groups: [] } })).id;
  bIds.portfolio = (await post(b.tokens.owner, '/api/v1/portfolios', { name: 'B portfolio' })).id;
  bIds.token = (await post(b.tokens.owner, '/api/v1/tokens', { name: 'B extra', role: 'agent' })).id;
  bIds.broadcast = (
    await post(b.tokens.owner, '/api/v1/broadcasts', {
      name: 'B broadcast',
      channelId: bIds.channel,
      segmentId: bIds.segment,
      content: { text: 'Hola' },
    })
  ).id;
  const form = new FormData();
  form.append('file', new Blob([`Contact ID,First Name\n${bIds.contact},Secreto\n`]), 'b.csv');
  form.append('dryRun', 'true');
  const imported = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
    method: 'POST',
    body: form,
    headers: { Authorization: `Bearer ${b.tokens.owner}` },
  });
  bIds.import = ((await imported.json()) as { id: number }).id;
  // A has a contact of its own to use as the "other side" of a merge.
  await post(a.tokens.owner, '/api/v1/contacts', { firstName: 'Propio' });
});

describe('tokens and roles', () => {
  it('401 without a token, with a malformed or unknown token, in the language asked', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer' },
      { Authorization: 'Basic abc' },
      { Authorization: 'Bearer rb_unknown' },
      { Authorization: 'Bearer ???' },
    ];
    for (const headers of attempts) {
      const res = await server.request('GET', '/api/v1/me', { headers, language: 'es' });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.body.error.message).toMatch(/token de API/);
      expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
  });

  it('a revoked token stops working at once', async () => {
    const created = await server.request('POST', '/api/v1/tokens', {
      token: a.tokens.owner,
      body: { name: 'temp', role: 'agent' },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^rb_/);
    expect((await server.request('GET', '/api/v1/me', { token: created.body.token })).status).toBe(200);
    const listed = await server.request('GET', '/api/v1/tokens', { token: a.tokens.owner });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect(
      (await server.request('DELETE', `/api/v1/tokens/${created.body.id}`, { token: a.tokens.owner })).status,
    ).toBe(200);
    expect((await server.request('GET', '/api/v1/me', { token: created.body.token })).status).toBe(401);
  });

  it('stores only a hash of each token', async () => {
    const { client } = server.database;
    const rows = await client.execute('SELECT token_hash, prefix FROM api_tokens');
    const stored = JSON.stringify(rows.rows);
    for (const token of Object.values(a.tokens)) expect(stored).not.toContain(token);
  });

  it('follows the permission table: agents read, tag and cannot configure; managers configure; owners manage tokens', async () => {
    const cases: [string, string, unknown, Record<'agent' | 'manager' | 'owner', number>][] = [
      ['GET', '/api/v1/channels', undefined, { agent: 200, manager: 200, owner: 200 }],
      ['POST', '/api/v1/channels', { type: 'sandbox', name: 'x' }, { agent: 403, manager: 201, owner: 201 }],
      [
        'POST',
        '/api/v1/segments',
        { name: `s-${Math.random()}`, filter: { groups: [] } },
        { agent: 403, manager: 201, owner: 201 },
      ],
      ['GET', '/api/v1/segments', undefined, { agent: 200, manager: 200, owner: 200 }],
      ['POST', '/api/v1/contacts', { firstName: 'x' }, { agent: 201, manager: 201, owner: 201 }],
      ['GET', '/api/v1/tokens', undefined, { agent: 403, manager: 403, owner: 200 }],
      ['POST', '/api/v1/tokens', { name: 't', role: 'agent' }, { agent: 403, manager: 403, owner: 201 }],
    ];
    for (const [method, path, body, expected] of cases) {
      for (const role of ['agent', 'manager', 'owner'] as const) {
        const res = await server.request(method, path, {
          token: a.tokens[role],
          body: body && path === '/api/v1/segments' ? { ...body, name: `s-${role}-${Math.random()}` } : body,
          language: 'en',
        });
        expect(res.status, `${role} ${method} ${path}`).toBe(expected[role]);
        if (res.status === 403) expect(res.body.error.message).toMatch(new RegExp(`Your role \\(${role}\\)`));
      }
    }
  });

  it('/me tells the workspace and role', async () => {
    const res = await server.request('GET', '/api/v1/me', { token: a.tokens.agent });
    expect(res.body).toMatchObject({ workspace: { name: 'A', language: 'es', defaultCountry: 'AR' }, role: 'agent' });
  });
});

describe('workspace isolation over every route of the OpenAPI document', () => {
  // A valid request for each operation that names a resource, so that only the workspace check can refuse it.
  const requests: Record<string, (id: Record<keyof typeof bIds, number | string>) => { path: string; body?: unknown }> =
    {
      'GET /api/v1/contacts/{ref}': (id) => ({ path: `/api/v1/contacts/${id.contact}` }),
      'PATCH /api/v1/contacts/{ref}': (id) => ({
        path: `/api/v1/contacts/${id.contact}`,
        body: { firstName: 'Hacked' },
      }),
      'POST /api/v1/contacts/{ref}/tags': (id) => ({
        path: `/api/v1/contacts/${id.contact}/tags`,
        body: { tags: ['hacked'] },
      }),
      'DELETE /api/v1/contacts/{ref}/opt-outs/{channelId}': (id) => ({
        path: `/api/v1/contacts/${id.contact}/opt-outs/${id.channel}`,
        body: { note: 'hacked' },
      }),
      'DELETE /api/v1/contacts/{ref}/tags': (id) => ({
        path: `/api/v1/contacts/${id.contact}/tags`,
        body: { tags: ['b-only'] },
      }),
      'GET /api/v1/channels/{id}': (id) => ({ path: `/api/v1/channels/${id.channel}` }),
      'PATCH /api/v1/channels/{id}': (id) => ({ path: `/api/v1/channels/${id.channel}`, body: { name: 'Hacked' } }),
      'DELETE /api/v1/channels/{id}': (id) => ({ path: `/api/v1/channels/${id.channel}` }),
      'POST /api/v1/channels/{id}/resume': (id) => ({ path: `/api/v1/channels/${id.channel}/resume` }),
      'GET /api/v1/portfolios/{id}': (id) => ({ path: `/api/v1/portfolios/${id.portfolio}` }),
      'PATCH /api/v1/portfolios/{id}': (id) => ({
        path: `/api/v1/portfolios/${id.portfolio}`,
        body: { tier: 'unlimited' },
      }),
      'DELETE /api/v1/portfolios/{id}': (id) => ({ path: `/api/v1/portfolios/${id.portfolio}` }),
      'GET /api/v1/segments/{id}': (id) => ({ path: `/api/v1/segments/${id.segment}` }),
      'PATCH /api/v1/segments/{id}': (id) => ({ path: `/api/v1/segments/${id.segment}`, body: { name: 'Hacked' } }),
      'DELETE /api/v1/segments/{id}': (id) => ({ path: `/api/v1/segments/${id.segment}` }),
      'GET /api/v1/segments/{id}/preview': (id) => ({ path: `/api/v1/segments/${id.segment}/preview` }),
      'DELETE /api/v1/tokens/{id}': (id) => ({ path: `/api/v1/tokens/${id.token}` }),
      'GET /api/v1/broadcasts/{id}': (id) => ({ path: `/api/v1/broadcasts/${id.broadcast}` }),
      'PATCH /api/v1/broadcasts/{id}': (id) => ({
        path: `/api/v1/broadcasts/${id.broadcast}`,
        body: { name: 'Hacked' },
      }),
      'POST /api/v1/broadcasts/{id}/schedule': (id) => ({
        path: `/api/v1/broadcasts/${id.broadcast}/schedule`,
        body: {},
      }),
      'POST /api/v1/broadcasts/{id}/cancel': (id) => ({ path: `/api/v1/broadcasts/${id.broadcast}/cancel` }),
      'POST /api/v1/broadcasts/{id}/resume': (id) => ({ path: `/api/v1/broadcasts/${id.broadcast}/resume` }),
      'GET /api/v1/broadcasts/{id}/preflight': (id) => ({ path: `/api/v1/broadcasts/${id.broadcast}/preflight` }),
      'POST /api/v1/broadcasts/{id}/resend': (id) => ({ path: `/api/v1/broadcasts/${id.broadcast}/resend`, body: {} }),
      'POST /api/v1/broadcasts/{id}/resend/cancel': (id) => ({
        path: `/api/v1/broadcasts/${id.broadcast}/resend/cancel`,
      }),
      'GET /api/v1/imports/{id}': (id) => ({ path: `/api/v1/imports/${id.import}` }),
      'GET /api/v1/imports/{id}/rejected.csv': (id) => ({ path: `/api/v1/imports/${id.import}/rejected.csv` }),
    };

  it('covers every operation with a path parameter', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      path.includes('{') ? Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`) : [],
    );
    expect(operations.length).toBeGreaterThan(0);
    expect(Object.keys(requests).sort()).toEqual(operations.sort());
  });

  it("A's owner gets 404 for every B resource, by ID or by identifier, and B is unchanged", async () => {
    const before = await snapshotB();
    const refs = [bIds, { ...bIds, contact: 'phone:+5491166667777' }, { ...bIds, contact: 'email:secreto@b.example' }];
    for (const [operation, build] of Object.entries(requests)) {
      for (const id of refs) {
        const [method = 'GET'] = operation.split(' ');
        const { path, body } = build(id);
        const res = await server.request(method, path, { token: a.tokens.owner, body, language: 'en' });
        expect(res.status, `${operation} ${path}`).toBe(404);
        expect(res.text).not.toContain('Secreto');
      }
    }
    // Merge and segment filters that reach for B's IDs.
    const merge = await server.request('POST', '/api/v1/contacts/merge', {
      token: a.tokens.owner,
      body: { keep: 1, merge: bIds.contact },
    });
    expect(merge.status).toBe(404);
    const identifier = await server.request('POST', '/api/v1/contacts', {
      token: a.tokens.owner,
      body: { firstName: 'x', identifiers: [{ channelId: bIds.channel, identifier: '1' }] },
    });
    expect(identifier.status).toBe(404);
    const filter = await server.request('POST', '/api/v1/segments', {
      token: a.tokens.owner,
      body: { name: 'reach', filter: { groups: [{ conditions: [{ type: 'channel', channelId: bIds.channel }] }] } },
    });
    expect(filter.status).toBe(422);
    // A's lists never show B's rows.
    const list = await server.request('GET', '/api/v1/contacts?q=secreto', { token: a.tokens.owner });
    expect(list.body.data).toEqual([]);
    const tagged = await server.request('GET', '/api/v1/contacts?tag=b-only', { token: a.tokens.owner });
    expect(tagged.body.data).toEqual([]);
    expect(await snapshotB()).toEqual(before);
  });
});

describe('bad input', () => {
  it('malformed JSON is a 400 that says what to fix', async () => {
    const res = await server.request('POST', '/api/v1/contacts', {
      token: a.tokens.agent,
      body: '{"firstName": "Ana",',
      language: 'en',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_json', message: expect.stringMatching(/not valid JSON/) });
  });

  it('a body without a JSON content type is a 415', async () => {
    const res = await server.request('POST', '/api/v1/contacts', {
      token: a.tokens.agent,
      body: '{"firstName":"Ana"}',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('wrong types are a 422 with the path of each field', async () => {
    const res = await server.request('POST', '/api/v1/contacts', {
      token: a.tokens.agent,
      body: { firstName: 42, email: 'not-an-email', tags: 'vip', customFields: { plan: { nested: true } } },
    });
    expect(res.status).toBe(422);
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['body.customFields.plan', 'body.email', 'body.firstName', 'body.tags']);
  });

  it('a bad path or query parameter is a 422 too', async () => {
    expect((await server.request('GET', '/api/v1/channels/abc', { token: a.tokens.agent })).status).toBe(422);
    expect((await server.request('GET', '/api/v1/contacts?limit=5000', { token: a.tokens.agent })).status).toBe(422);
    expect((await server.request('GET', '/api/v1/contacts/sms:123', { token: a.tokens.agent })).status).toBe(422);
  });

  it('an oversized body is a 413 and nothing is written', async () => {
    const res = await server.request('POST', '/api/v1/contacts', {
      token: a.tokens.agent,
      body: {
        firstName: 'Grande',
        customFields: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'x'.repeat(1900)])),
      },
      language: 'es',
    });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/supera el límite de 64 KB/);
    const search = await server.request('GET', '/api/v1/contacts?q=Grande', { token: a.tokens.agent });
    expect(search.body.data).toEqual([]);
  });

  it('an unknown route answers in the same error shape', async () => {
    const res = await server.request('GET', '/api/v1/nothing-here', { token: a.tokens.agent, language: 'en' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('route_not_found');
  });

  it('without Accept-Language, messages follow the workspace language', async () => {
    const res = await server.request('GET', '/api/v1/contacts/999999', { token: a.tokens.agent });
    expect(res.body.error.message).toBe('No se encontró el contacto.');
    const en = await server.request('GET', '/api/v1/contacts/999999', {
      token: a.tokens.agent,
      headers: { 'Accept-Language': 'en-US,en;q=0.9,es;q=0.8' },
    });
    expect(en.body.error.message).toBe('Contact was not found.');
  });
});

describe('CORS: only the extension and the configured helpdesk origins', () => {
  const preflight = (origin: string) =>
    fetch(`${server.baseUrl}/api/v1/broadcasts`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });

  it('the extension and a configured helpdesk may call the API from a browser', async () => {
    for (const origin of [EXTENSION_ORIGIN, 'https://app.helpdesk.example']) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
      const get = await server.request('GET', '/api/v1/me', { token: a.tokens.agent, headers: { Origin: origin } });
      expect(get.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('any other origin gets no CORS headers, so the browser withholds the answer', async () => {
    for (const origin of ['https://evil.example', 'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'null']) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const get = await server.request('GET', '/api/v1/me', { token: a.tokens.agent, headers: { Origin: origin } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('a 401 still carries the header for an allowed origin, so the extension can show why', async () => {
    const res = await server.request('GET', '/api/v1/me', { token: 'rb_wrong', headers: { Origin: EXTENSION_ORIGIN } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(EXTENSION_ORIGIN);
  });

  it("every answer, a refusal included, carries the API's level, readable from the extension", async () => {
    const ok = await server.request('GET', '/api/v1/me', {
      token: a.tokens.agent,
      headers: { Origin: EXTENSION_ORIGIN },
    });
    const refused = await server.request('GET', '/api/v1/me', { token: 'rb_wrong' });
    for (const res of [ok, refused]) expect(res.headers.get(API_LEVEL_HEADER)).toBe(String(API_LEVEL));
    expect(ok.headers.get('access-control-expose-headers')).toContain(API_LEVEL_HEADER);
  });
});
