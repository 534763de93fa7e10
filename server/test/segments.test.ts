import type { SegmentConditionInput, SegmentFilterInput } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
const ids: Record<string, number> = {};
let whatsapp: number;
let messenger: number;
let telegram: number;
let segmentNumber = 0;

/** Creates the segment through the API and returns the IDs its preview lists (and checks count agrees). */
async function members(filter: SegmentFilterInput): Promise<string[]> {
  const created = await server.request('POST', '/api/v1/segments', {
    token: ws.tokens.manager,
    body: { name: `segment ${++segmentNumber}`, filter },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const preview = await server.request('GET', `/api/v1/segments/${created.body.id}/preview?sample=50`, {
    token: ws.tokens.agent,
  });
  expect(preview.status).toBe(200);
  expect(preview.body.count).toBe(preview.body.sample.length);
  const byId = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
  return preview.body.sample.map((c: { id: number }) => byId.get(c.id)).sort();
}

const one = (condition: SegmentConditionInput | Record<string, unknown>) => ({
  groups: [{ conditions: [condition as SegmentConditionInput] }],
});

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace();
  const channel = async (type: string) =>
    (await server.request('POST', '/api/v1/channels', { token: ws.tokens.manager, body: { type, name: type } })).body
      .id as number;
  whatsapp = await channel('whatsapp');
  messenger = await channel('messenger');
  telegram = await channel('telegram');
  const people = {
    ana: {
      firstName: 'Ana',
      lastName: 'Pérez',
      phone: '+5491155551234',
      email: 'ana@example.com',
      tags: ['vip', 'cliente'],
      customFields: { plan: 'pro', city: 'Córdoba' },
    },
    bruno: { firstName: 'Bruno', phone: '11 5555-0000', tags: ['cliente'], customFields: { plan: 'free' } },
    carla: {
      firstName: 'Carla',
      email: 'carla@example.com',
      tags: ['vip'],
      identifiers: [{ channelId: messenger, identifier: 'psid-carla' }],
    },
    diego: {
      firstName: 'Diego',
      lastName: 'Gómez',
      tags: ['lead'],
      identifiers: [{ channelId: telegram, identifier: '777' }],
    },
    elena: { firstName: 'Elena', phone: 'not a phone', customFields: { plan: '' } },
  };
  for (const [key, body] of Object.entries(people)) {
    const res = await server.request('POST', '/api/v1/contacts', { token: ws.tokens.agent, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[key] = res.body.id;
  }
  // A contact of another workspace with the same tags never shows up in this workspace's segments.
  const other = await server.workspace('Other');
  await server.request('POST', '/api/v1/contacts', {
    token: other.tokens.agent,
    body: { firstName: 'Zoe', tags: ['vip'] },
  });
});

describe('tag conditions', () => {
  it('has any of', async () => {
    expect(await members(one({ type: 'tag', operator: 'hasAnyOf', tags: ['vip'] }))).toEqual(['ana', 'carla']);
    expect(await members(one({ type: 'tag', operator: 'hasAnyOf', tags: ['VIP', 'lead'] }))).toEqual([
      'ana',
      'carla',
      'diego',
    ]);
    expect(await members(one({ type: 'tag', operator: 'hasAnyOf', tags: ['nobody-has-this'] }))).toEqual([]);
  });
  it('has all of', async () => {
    expect(await members(one({ type: 'tag', operator: 'hasAllOf', tags: ['vip', 'cliente'] }))).toEqual(['ana']);
    expect(await members(one({ type: 'tag', operator: 'hasAllOf', tags: ['vip'] }))).toEqual(['ana', 'carla']);
    expect(await members(one({ type: 'tag', operator: 'hasAllOf', tags: ['vip', 'nobody-has-this'] }))).toEqual([]);
  });
  it('has none of', async () => {
    expect(await members(one({ type: 'tag', operator: 'hasNoneOf', tags: ['vip'] }))).toEqual([
      'bruno',
      'diego',
      'elena',
    ]);
    expect(await members(one({ type: 'tag', operator: 'hasNoneOf', tags: ['nobody-has-this'] }))).toEqual([
      'ana',
      'bruno',
      'carla',
      'diego',
      'elena',
    ]);
  });
});

describe('field conditions', () => {
  it('is and is not, ignoring case, on standard and custom fields', async () => {
    expect(await members(one({ type: 'field', field: 'firstName', operator: 'is', value: 'ana' }))).toEqual(['ana']);
    expect(await members(one({ type: 'field', field: 'custom.plan', operator: 'is', value: 'PRO' }))).toEqual(['ana']);
    expect(await members(one({ type: 'field', field: 'custom.plan', operator: 'isNot', value: 'pro' }))).toEqual([
      'bruno',
      'carla',
      'diego',
      'elena',
    ]);
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'isNot', value: 'Pérez' }))).toEqual([
      'bruno',
      'carla',
      'diego',
      'elena',
    ]);
  });
  it('folds case and accents on names and custom fields, as agents type them ("gomez" is Gómez, "CORDOBA" is Córdoba)', async () => {
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'is', value: 'GOMEZ' }))).toEqual(['diego']);
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'is', value: 'PÉREZ' }))).toEqual(['ana']);
    expect(await members(one({ type: 'field', field: 'custom.city', operator: 'is', value: 'CORDOBA' }))).toEqual([
      'ana',
    ]);
    // A decomposed "é" (e and a combining accent, as some keyboards send it) is the same letter.
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'contains', value: 'pe\u0301r' }))).toEqual([
      'ana',
    ]);
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'contains', value: 'OMEZ' }))).toEqual([
      'diego',
    ]);
    expect(await members(one({ type: 'field', field: 'lastName', operator: 'isNot', value: 'gómez' }))).toEqual([
      'ana',
      'bruno',
      'carla',
      'elena',
    ]);
  });
  it('a name sent decomposed (o + combining accent, as a Mac or a CRM may send it) is kept as one letter, and matches', async () => {
    const mac = await server.workspace('Mac');
    const post = (path: string, body: unknown) => server.request('POST', path, { token: mac.tokens.manager, body });
    const made = await post('/api/v1/contacts', { firstName: 'Andre\u0301s', lastName: 'Go\u0301mez' });
    expect(made.status).toBe(201);
    expect(made.body.lastName).toBe('G\u00f3mez');
    // A contact stored decomposed before this (written straight to the table) still matches its own text.
    await server.database.db.run(
      sql`INSERT INTO contacts (workspace_id, first_name, custom_fields, created_at, updated_at)
        VALUES (${mac.id}, ${'Jose\u0301'}, '{}', 0, 0)`,
    );
    const count = async (condition: Record<string, unknown>) => {
      const created = await post('/api/v1/segments', {
        name: `mac ${++segmentNumber}`,
        filter: { groups: [{ conditions: [condition] }] },
      });
      const preview = await server.request('GET', `/api/v1/segments/${created.body.id}/preview`, {
        token: mac.tokens.agent,
      });
      return preview.body.count as number;
    };
    expect(await count({ type: 'field', field: 'lastName', operator: 'is', value: 'gomez' })).toBe(1);
    expect(await count({ type: 'field', field: 'firstName', operator: 'contains', value: 'ANDRÉS' })).toBe(1);
    expect(await count({ type: 'field', field: 'firstName', operator: 'is', value: 'Jose\u0301' })).toBe(1);
  });

  it('is on the phone compares normalized numbers', async () => {
    expect(await members(one({ type: 'field', field: 'phone', operator: 'is', value: '011 15 5555-1234' }))).toEqual([
      'ana',
    ]);
  });
  it('contains', async () => {
    expect(await members(one({ type: 'field', field: 'email', operator: 'contains', value: 'EXAMPLE.com' }))).toEqual([
      'ana',
      'carla',
    ]);
    expect(await members(one({ type: 'field', field: 'custom.city', operator: 'contains', value: 'córd' }))).toEqual([
      'ana',
    ]);
    // % and _ are plain characters, not wildcards.
    expect(await members(one({ type: 'field', field: 'firstName', operator: 'contains', value: '%' }))).toEqual([]);
  });
  it('exists and does not exist (an empty value counts as missing)', async () => {
    expect(await members(one({ type: 'field', field: 'phone', operator: 'exists' }))).toEqual([
      'ana',
      'bruno',
      'elena',
    ]);
    expect(await members(one({ type: 'field', field: 'email', operator: 'notExists' }))).toEqual([
      'bruno',
      'diego',
      'elena',
    ]);
    expect(await members(one({ type: 'field', field: 'custom.plan', operator: 'exists' }))).toEqual(['ana', 'bruno']);
    expect(await members(one({ type: 'field', field: 'custom.plan', operator: 'notExists' }))).toEqual([
      'carla',
      'diego',
      'elena',
    ]);
  });
});

describe('channel conditions', () => {
  it('has an identifier on a channel: the phone for WhatsApp, the PSID or chat ID for the others', async () => {
    expect(await members(one({ type: 'channel', channelId: whatsapp }))).toEqual(['ana', 'bruno', 'elena']);
    expect(await members(one({ type: 'channel', channelId: messenger }))).toEqual(['carla']);
    expect(await members(one({ type: 'channel', channelId: telegram, operator: 'hasIdentifier' }))).toEqual(['diego']);
    expect(await members(one({ type: 'channel', channelId: telegram, operator: 'hasNoIdentifier' }))).toEqual([
      'ana',
      'bruno',
      'carla',
      'elena',
    ]);
  });
  it('refuses a channel of no workspace or another workspace', async () => {
    const res = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      language: 'en',
      body: { name: 'bad channel', filter: one({ type: 'channel', channelId: 99999 }) },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('99999');
  });
});

describe('combinations', () => {
  it('AND inside a group, OR between groups', async () => {
    const filter: SegmentFilterInput = {
      match: 'any',
      groups: [
        {
          match: 'all',
          conditions: [
            { type: 'tag', operator: 'hasAnyOf', tags: ['vip'] },
            { type: 'field', field: 'phone', operator: 'exists' },
          ],
        },
        { match: 'all', conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['lead'] }] },
      ],
    };
    expect(await members(filter)).toEqual(['ana', 'diego']);
  });
  it('OR inside a group, AND between groups', async () => {
    const filter: SegmentFilterInput = {
      match: 'all',
      groups: [
        {
          match: 'any',
          conditions: [
            { type: 'tag', operator: 'hasAnyOf', tags: ['vip'] },
            { type: 'tag', operator: 'hasAnyOf', tags: ['lead'] },
          ],
        },
        {
          match: 'any',
          conditions: [
            { type: 'field', field: 'email', operator: 'notExists' },
            { type: 'channel', operator: 'hasIdentifier', channelId: messenger },
          ],
        },
      ],
    };
    expect(await members(filter)).toEqual(['carla', 'diego']);
  });
  it('no groups means every contact of the workspace', async () => {
    expect(await members({ groups: [] })).toEqual(['ana', 'bruno', 'carla', 'diego', 'elena']);
  });
  it('is dynamic: a contact tagged later enters the segment', async () => {
    const created = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      body: { name: 'dynamic leads', filter: one({ type: 'tag', operator: 'hasAnyOf', tags: ['lead'] }) },
    });
    const count = async () =>
      (await server.request('GET', `/api/v1/segments/${created.body.id}/preview`, { token: ws.tokens.agent })).body
        .count;
    expect(await count()).toBe(1);
    await server.request('POST', `/api/v1/contacts/${ids.bruno}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['lead'] },
    });
    expect(await count()).toBe(2);
    await server.request('DELETE', `/api/v1/contacts/${ids.bruno}/tags`, {
      token: ws.tokens.agent,
      body: { tags: ['LEAD'] },
    });
    expect(await count()).toBe(1);
  });
});

describe('segment names and the 500 cap', () => {
  it('refuses a duplicate name (ignoring case) with the reference wording in Spanish and English', async () => {
    const body = { name: 'Clientes VIP', filter: { groups: [] } };
    expect((await server.request('POST', '/api/v1/segments', { token: ws.tokens.manager, body })).status).toBe(201);
    const es = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      language: 'es',
      body: { ...body, name: 'clientes vip' },
    });
    expect(es.status).toBe(409);
    expect(es.body.error).toMatchObject({
      code: 'segment_name_taken',
      message: 'El nombre del segmento de contacto debe ser único.',
    });
    const en = await server.request('POST', '/api/v1/segments', { token: ws.tokens.manager, language: 'en', body });
    expect(en.body.error.message).toBe('Contact segment name must be unique.');
  });

  it('a renamed or deleted segment frees its name', async () => {
    const a = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      body: { name: 'Temporal', filter: { groups: [] } },
    });
    const clash = await server.request('PATCH', `/api/v1/segments/${a.body.id}`, {
      token: ws.tokens.manager,
      body: { name: 'Clientes VIP' },
    });
    expect(clash.status).toBe(409);
    expect((await server.request('DELETE', `/api/v1/segments/${a.body.id}`, { token: ws.tokens.manager })).status).toBe(
      200,
    );
    const gone = await server.request('GET', `/api/v1/segments/${a.body.id}`, {
      token: ws.tokens.agent,
      language: 'es',
    });
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toBe('Segmento de contacto no encontrado');
    const again = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      body: { name: 'Temporal', filter: { groups: [] } },
    });
    expect(again.status).toBe(201);
  });

  it('stops at 500 segments with the reference message, and allows one more after a deletion', async () => {
    const capped = await server.workspace('Capped');
    const { db } = server.database;
    const { segments } = await import('../src/db/schema');
    await db.insert(segments).values(
      Array.from({ length: 499 }, (_, i) => ({
        workspaceId: capped.id,
        name: `s${i}`,
        nameKey: `s${i}`,
        filter: { match: 'all', groups: [] },
      })),
    );
    const body = (name: string) => ({ name, filter: { groups: [] } });
    const last = await server.request('POST', '/api/v1/segments', {
      token: capped.tokens.manager,
      body: body('number 500'),
    });
    expect(last.status).toBe(201);
    const over = await server.request('POST', '/api/v1/segments', {
      token: capped.tokens.manager,
      language: 'es',
      body: body('number 501'),
    });
    expect(over.status).toBe(409);
    expect(over.body.error.message).toBe(
      'Límite alcanzado: la cantidad máxima de segmentos en un espacio de trabajo es 500. Elimine un segmento antes de crear uno nuevo.',
    );
    const overEn = await server.request('POST', '/api/v1/segments', {
      token: capped.tokens.manager,
      language: 'en',
      body: body('number 501'),
    });
    expect(overEn.body.error.message).toBe(
      'Limit reached: the maximum number of segments in a workspace is 500. Delete a segment before creating a new one.',
    );
    await server.request('DELETE', `/api/v1/segments/${last.body.id}`, { token: capped.tokens.manager });
    expect(
      (await server.request('POST', '/api/v1/segments', { token: capped.tokens.manager, body: body('number 501') }))
        .status,
    ).toBe(201);
    // The cap is per workspace: the first workspace still creates segments.
    expect(
      (await server.request('POST', '/api/v1/segments', { token: ws.tokens.manager, body: body('still fine') })).status,
    ).toBe(201);
  });

  it("the segments re-sends make for their tags do not use up a manager's 500", async () => {
    const busy = await server.workspace('Busy recoveries');
    const { client } = server.database;
    const channel = await server.request('POST', '/api/v1/channels', {
      token: busy.tokens.manager,
      body: { type: 'sandbox', name: 'Sandbox' },
    });
    // 499 of the manager's segments, and 30 more that 30 re-sends of one broadcast went to.
    for (let i = 0; i < 529; i++)
      await client.execute({
        sql: `INSERT INTO segments (workspace_id, name, name_key, filter, created_at, updated_at)
          VALUES (?, ?, ?, '{"match":"all","groups":[]}', 0, 0)`,
        args: [busy.id, `b${i}`, `b${i}`],
      });
    const original = await client.execute({
      sql: `INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at)
        VALUES (?, 'Navidad', ?, '{"text":"Hola"}', 'partially_failed', 0, 0) RETURNING id`,
      args: [busy.id, channel.body.id],
    });
    const originalId = Number(original.rows[0]?.id);
    await client.execute({
      sql: `INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, segment_id, resend_of_id, created_at, updated_at)
        SELECT ?, 'Navidad (reenvío)', ?, '{"text":"Hola"}', 'completed', id, ?, 0, 0 FROM segments
        WHERE workspace_id = ? ORDER BY id DESC LIMIT 30`,
      args: [busy.id, channel.body.id, originalId, busy.id],
    });
    const body = (name: string) => ({ name, filter: { groups: [] } });
    const create = (name: string) =>
      server.request('POST', '/api/v1/segments', { token: busy.tokens.manager, body: body(name) });
    expect((await create('number 500')).status).toBe(201);
    expect((await create('number 501')).status).toBe(409);
  });
});

describe('filter validation', () => {
  it('lists the field path of every mistake', async () => {
    const res = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      language: 'en',
      body: { name: '', filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasSomeOf', tags: [] }] }] } },
    });
    expect(res.status).toBe(422);
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toContain('body.name');
    expect(paths.some((p: string) => p.startsWith('body.filter.groups.0.conditions.0'))).toBe(true);
  });
  it('refuses custom field keys that could escape the JSON path', async () => {
    const res = await server.request('POST', '/api/v1/segments', {
      token: ws.tokens.manager,
      body: { name: 'injection', filter: one({ type: 'field', field: 'custom.a"]) OR 1=1 --', operator: 'exists' }) },
    });
    expect(res.status).toBe(422);
  });
});

describe('a segment stored before a limit tightened', () => {
  it('is read back, and the list of segments does not fail for it', async () => {
    const legacy = await server.workspace('Segmento viejo');
    const tag = `${'x'.repeat(100)} (#7)`;
    const filter = JSON.stringify({ groups: [{ conditions: [{ type: 'tag', operator: 'hasSomeOf', tags: [tag] }] }] });
    await server.database.client.execute({
      sql: 'INSERT INTO segments (workspace_id, name, name_key, filter, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)',
      args: [legacy.id, tag, tag, filter],
    });
    const list = await server.request('GET', '/api/v1/segments', { token: legacy.tokens.agent });
    expect(list.status).toBe(200);
    expect(list.body.data[0].filter.groups[0].conditions[0].tags).toEqual([tag]);
  });
});
