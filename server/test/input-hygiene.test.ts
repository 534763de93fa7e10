/**
 * Issue #11 items 5 (rates), 6 (control characters in JSON) and 7 (strict IDs), as a client meets them:
 * what is refused, with which 422 details, and that nothing was stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { refuseControlCharacters } from '../src/lib/body';
import { ApiError } from '../src/lib/errors';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
let channelId: number;
let segmentId: number;
let contactId: number;
let broadcastId: number;

const owner = (method: string, path: string, body?: unknown, language: 'es' | 'en' = 'es') =>
  server.request(method, path, { token: ws.tokens.owner, body, language });

const count = async (table: string) =>
  Number((await server.database.client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace();
  channelId = (await owner('POST', '/api/v1/channels', { type: 'sandbox', name: 'Sandbox' })).body.id;
  contactId = (await owner('POST', '/api/v1/contacts', { firstName: 'Ana', phone: '+5491155551234', tags: ['vip'] }))
    .body.id;
  segmentId = (
    await owner('POST', '/api/v1/segments', {
      name: 'VIP',
      filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['vip'] }] }] },
    })
  ).body.id;
  const broadcast = await owner('POST', '/api/v1/broadcasts', {
    name: 'Promo',
    channelId,
    segmentId,
    content: { text: 'Hola' },
  });
  expect(broadcast.status, JSON.stringify(broadcast.body)).toBe(201);
  broadcastId = broadcast.body.id;
});

describe('control characters in JSON', () => {
  it('a NUL in a name is refused with the field named, in Spanish and English, and nothing is stored', async () => {
    const before = await count('contacts');
    const es = await owner('POST', '/api/v1/contacts', { firstName: 'a\u0000b' });
    expect(es.status).toBe(422);
    expect(es.body.error.details).toEqual([
      { path: 'body.firstName', message: 'Quite los caracteres de control (U+0000) del campo «firstName»' },
    ]);
    const en = await owner('POST', '/api/v1/contacts', { firstName: 'a\u0000b' }, 'en');
    expect(en.body.error.details).toEqual([
      { path: 'body.firstName', message: 'Remove the control characters (U+0000) from the field "firstName"' },
    ]);
    expect(await count('contacts')).toBe(before);
  });

  it('segments "dup\\u0000a", "dup\\u0000b" and "dup" cannot all exist: only "dup" is created', async () => {
    const filter = { groups: [] };
    expect((await owner('POST', '/api/v1/segments', { name: 'dup\u0000a', filter })).status).toBe(422);
    expect((await owner('POST', '/api/v1/segments', { name: 'dup\u0000b', filter })).status).toBe(422);
    expect((await owner('POST', '/api/v1/segments', { name: 'dup', filter })).status).toBe(201);
    const renamed = await owner('PATCH', `/api/v1/segments/${segmentId}`, { name: 'dup\u0000' });
    expect(renamed.status).toBe(422);
    const names = (await owner('GET', '/api/v1/segments')).body.data.map((s: { name: string }) => s.name);
    expect(names.filter((name: string) => name.startsWith('dup'))).toEqual(['dup']);
  });

  it('nested fields: custom fields, tags, segment values, identifiers, credentials, search and CSV mapping', async () => {
    const refused: [string, string, unknown, string][] = [
      ['PATCH', `/api/v1/contacts/${contactId}`, { customFields: { plan: 'pro\u0000' } }, 'body.customFields.plan'],
      ['POST', `/api/v1/contacts/${contactId}/tags`, { tags: ['ok', 'v\u0007ip'] }, 'body.tags.1'],
      ['POST', '/api/v1/contacts', { firstName: 'Ana\tMaría' }, 'body.firstName'],
      ['POST', '/api/v1/contacts', { email: 'ana@example.com\n' }, 'body.email'],
      [
        'POST',
        '/api/v1/contacts',
        { identifiers: [{ channelId, identifier: 'x\u001fy' }] },
        'body.identifiers.0.identifier',
      ],
      [
        'PATCH',
        `/api/v1/segments/${segmentId}`,
        {
          filter: {
            groups: [{ conditions: [{ type: 'field', field: 'firstName', operator: 'is', value: 'A\u0000' }] }],
          },
        },
        'body.filter.groups.0.conditions.0.value',
      ],
      ['PATCH', `/api/v1/channels/${channelId}`, { credentials: { token: 'abc\u0000' } }, 'body.credentials.token'],
      ['PATCH', `/api/v1/broadcasts/${broadcastId}`, { content: { text: 'Hola\u0000' } }, 'body.content.text'],
      ['POST', `/api/v1/broadcasts/${broadcastId}/resend`, { tag: 'x\u007f' }, 'body.tag'],
      ['GET', '/api/v1/contacts?q=a%00b', undefined, 'query.q'],
      ['GET', '/api/v1/failed-messages?q=a%00b', undefined, 'query.q'],
      ['GET', '/api/v1/contacts/phone:%2B54%00', undefined, 'param.ref'],
    ];
    const before = await server.database.client.execute('SELECT count(*) AS n, max(updated_at) AS at FROM contacts');
    for (const [method, path, body, field] of refused) {
      const res = await owner(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(422);
      expect(
        res.body.error.details.map((d: { path: string }) => d.path),
        `${method} ${path}`,
      ).toContain(field);
    }
    const after = await server.database.client.execute('SELECT count(*) AS n, max(updated_at) AS at FROM contacts');
    expect(after.rows).toEqual(before.rows);

    const form = new FormData();
    form.set('file', new Blob(['phone\n+5491155550000\n'], { type: 'text/csv' }), 'c.csv');
    form.set('mapping', JSON.stringify({ 'pho\u0000ne': 'phone' }));
    const upload = await fetch(`${server.baseUrl}/api/v1/imports/contacts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ws.tokens.owner}`, 'Accept-Language': 'es' },
      body: form,
    });
    expect(upload.status).toBe(422);
    expect(JSON.stringify(await upload.json())).toContain('form.mapping');
    expect(await count('imports')).toBe(0);
  });

  it('message text keeps its tabs and line breaks, and reads back exactly', async () => {
    const text = 'Hola\tAna,\r\nsu pedido\nllegó.';
    const res = await owner('PATCH', `/api/v1/broadcasts/${broadcastId}`, { content: { text } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await owner('GET', `/api/v1/broadcasts/${broadcastId}`)).body.content.text).toBe(text);
    const ok = await owner('POST', '/api/v1/contacts', { firstName: 'Ana María' });
    expect(ok.status).toBe(201);
  });

  it('a custom field keeps its line breaks through the API as the import keeps them; a name refuses a reversed text and C1', async () => {
    const address = 'Av. Corrientes 1234\r\nPiso 3, depto. B\tCABA';
    const patched = await owner('PATCH', `/api/v1/contacts/${contactId}`, { customFields: { direccion: address } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const read = await owner('GET', `/api/v1/contacts/${contactId}`);
    expect(read.body.customFields.direccion).toBe(address);
    // Sent back unchanged (a CRM's sync), it is accepted.
    expect(
      (await owner('PATCH', `/api/v1/contacts/${contactId}`, { customFields: read.body.customFields })).status,
    ).toBe(200);

    const before = await count('contacts');
    const reversed = await owner('POST', '/api/v1/contacts', { firstName: 'Ana\u202Eodarepse' });
    expect(reversed.status).toBe(422);
    expect(reversed.body.error.details).toEqual([
      { path: 'body.firstName', message: 'Quite los caracteres de control (U+202E) del campo «firstName»' },
    ]);
    // C1 (a file read in the wrong encoding leaves them) nowhere, not in message text either.
    const c1 = await owner('POST', '/api/v1/contacts', { firstName: 'Jos\u0081e' });
    expect(c1.body.error.details).toEqual([
      { path: 'body.firstName', message: 'Quite los caracteres de control (U+0081) del campo «firstName»' },
    ]);
    const text = await owner('PATCH', `/api/v1/broadcasts/${broadcastId}`, { content: { text: 'Hola\u0085Ana' } });
    expect(text.status).toBe(422);
    expect(await count('contacts')).toBe(before);
  });

  it('the net behind the schemas refuses a NUL in any string or key of any depth', () => {
    const attempt = () =>
      refuseControlCharacters(
        { a: [{ b: 'ok' }, { c: 'x\u0000' }], 'k\u0001': 1, text: 'tab\tand\nlines' },
        'body',
        'es',
      );
    expect(attempt).toThrow(ApiError);
    try {
      attempt();
    } catch (error) {
      expect((error as ApiError).details).toEqual([
        { path: 'body', message: 'Quite los caracteres de control (U+0001) del campo «cuerpo»' },
        { path: 'body.a.1.c', message: 'Quite los caracteres de control (U+0000) del campo «a.1.c»' },
      ]);
    }
  });
});

describe('path and query IDs are digits only', () => {
  it('aliases of an existing ID are refused with 422 naming the parameter; the ID itself works', async () => {
    const hex = `0x${broadcastId.toString(16)}`;
    const aliases = [
      hex,
      `${broadcastId}e0`,
      `%2B${broadcastId}`,
      `%20${broadcastId}`,
      `0${broadcastId}`,
      `${broadcastId}.0`,
    ];
    for (const alias of aliases) {
      const res = await owner('GET', `/api/v1/broadcasts/${alias}`);
      expect(res.status, alias).toBe(422);
      expect(res.body.error.details[0].path).toBe('param.id');
      expect(res.body.error.details[0].message).toBe(
        'Use un ID escrito solo con dígitos, por ejemplo 42 (sin signo, espacios, ceros a la izquierda ni exponente)',
      );
    }
    expect((await owner('GET', `/api/v1/broadcasts/${broadcastId}`)).status).toBe(200);
    expect((await owner('GET', '/api/v1/broadcasts/1e3')).status).toBe(422);
    expect((await owner('GET', '/api/v1/channels/0x10')).status).toBe(422);
    expect((await owner('GET', `/api/v1/contacts/0${contactId}`)).status).toBe(422);
    expect((await owner('GET', `/api/v1/contacts/0x${contactId.toString(16)}`)).status).toBe(422);
    expect((await owner('GET', `/api/v1/contacts/${contactId}`)).status).toBe(200);
    expect((await owner('GET', `/api/v1/failed-messages?channelId=0x${channelId.toString(16)}`)).status).toBe(422);
    expect((await owner('GET', `/api/v1/failed-messages?broadcastId=1&broadcastId=%2B1`)).status).toBe(422);
    expect((await owner('GET', '/api/v1/broadcasts?limit=1e1')).status).toBe(422);
  });

  it('IDs in JSON bodies are JSON integers, not strings', async () => {
    const res = await owner('POST', '/api/v1/broadcasts', {
      name: 'x',
      channelId: String(channelId),
      segmentId: `0x${segmentId.toString(16)}`,
      content: { text: 'x' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['body.channelId', 'body.segmentId']);
    const merge = await owner('POST', '/api/v1/contacts/merge', { keep: `0${contactId}`, merge: contactId });
    expect(merge.status).toBe(422);
  });

  it('a webhook for /0x<id> is not the channel <id>', async () => {
    const twilio = await owner('POST', '/api/v1/channels', {
      type: 'twilio_sms',
      name: 'SMS',
      credentials: { accountSid: 'AC1', authToken: 't', from: '+15005550006' },
    });
    const res = await server.request('POST', `/webhooks/twilio/0x${twilio.body.id.toString(16)}`, {
      body: 'MessageSid=SM1&MessageStatus=delivered',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      language: 'en',
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('rates and numeric limits', () => {
  it('a channel rate below 0.01 msg/s or above its type ceiling is refused; the ceiling is named', async () => {
    const before = await count('channels');
    const create = (limits: Record<string, unknown>, type = 'whatsapp') =>
      owner('POST', '/api/v1/channels', { type, name: 'WA', limits });
    for (const messagesPerSecond of [1e-300, 0.001, 0, -5, 1e300, 10_001]) {
      const res = await create({ messagesPerSecond });
      expect(res.status, String(messagesPerSecond)).toBe(422);
      expect(res.body.error.details[0].path).toBe('body.limits.messagesPerSecond');
    }
    expect((await create({ messagesPerSecond: 20_000 })).body.error.details[0].message).toBe(
      'Debe ser 10.000 o menos.',
    );
    expect((await create({ messagesPerSecond: 0.001 })).body.error.details[0].message).toBe('Debe ser 0,01 o más.');
    for (const limits of [
      { dailyQuota: 1e300 },
      { dailyQuota: -1 },
      { dailyQuota: 1.5 },
      { dailyQuota: '1000' },
      { pairRatePerRecipientSeconds: 1e-300 },
      { pairRatePerRecipientSeconds: 0.5 },
      { pairRatePerRecipientSeconds: 1e9 },
    ]) {
      expect((await create(limits)).status, JSON.stringify(limits)).toBe(422);
    }
    expect(await count('channels')).toBe(before);
    // The bounds themselves are fine; the sandbox, which sends nothing, goes to 1,000,000.
    expect((await create({ messagesPerSecond: 0.01 })).status).toBe(201);
    expect((await create({ messagesPerSecond: 10_000 })).status).toBe(201);
    expect((await create({ messagesPerSecond: 1_000_000 }, 'sandbox')).status).toBe(201);
    expect((await create({ messagesPerSecond: 1_000_001 }, 'sandbox')).status).toBe(422);
  });

  it('changing limits or a broadcast rate to an extreme is refused and leaves the stored value', async () => {
    for (const messagesPerSecond of [1e-300, 1e300]) {
      const res = await owner('PATCH', `/api/v1/channels/${channelId}`, { limits: { messagesPerSecond } });
      expect(res.status).toBe(422);
    }
    expect((await owner('GET', `/api/v1/channels/${channelId}`)).body.limits.messagesPerSecond).toBe(1_000_000);
    // A provider channel's own ceiling holds on a change too (the patch does not carry the type).
    const wa = await owner('POST', '/api/v1/channels', { type: 'whatsapp', name: 'WA techo', limits: {} });
    const above = await owner('PATCH', `/api/v1/channels/${wa.body.id}`, { limits: { messagesPerSecond: 20_000 } });
    expect(above.status).toBe(422);
    expect(above.body.error.details).toEqual([
      { path: 'body.limits.messagesPerSecond', message: 'Debe ser 10.000 o menos.' },
    ]);
    expect((await owner('GET', `/api/v1/channels/${wa.body.id}`)).body.limits.messagesPerSecond).toBe(80);
    for (const sendRate of [1e-300, 0.001, -1, 1e300, '20']) {
      const res = await owner('PATCH', `/api/v1/broadcasts/${broadcastId}`, { sendRate });
      expect(res.status, String(sendRate)).toBe(422);
      expect(res.body.error.details[0].path).toBe('body.sendRate');
    }
    expect((await owner('GET', `/api/v1/broadcasts/${broadcastId}`)).body.sendRate).toBeNull();
    expect((await owner('PATCH', `/api/v1/broadcasts/${broadcastId}`, { sendRate: 0.01 })).body.sendRate).toBe(0.01);
  });
});
