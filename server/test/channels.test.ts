import { CHANNEL_TYPES, channelCapabilities } from '@rebound/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace();
});

describe('channels', () => {
  it('every channel type can be connected, with limits defaulted from the channel table', async () => {
    for (const type of CHANNEL_TYPES) {
      const res = await server.request('POST', '/api/v1/channels', {
        token: ws.tokens.manager,
        body: { type, name: `My ${type}` },
      });
      expect(res.status, type).toBe(201);
      expect(res.body.limits).toEqual(channelCapabilities[type].defaultLimits);
      expect(res.body.canBroadcast).toBe(channelCapabilities[type].canBroadcast);
    }
    const whatsapp = (await server.request('GET', '/api/v1/channels', { token: ws.tokens.agent })).body.data.find(
      (c: { type: string }) => c.type === 'whatsapp',
    );
    expect(whatsapp.limits).toEqual({ dailyQuota: 1000, messagesPerSecond: 80, pairRatePerRecipientSeconds: 6 });
    expect(whatsapp.canBroadcast).toBe(true);
    const instagram = (await server.request('GET', '/api/v1/channels', { token: ws.tokens.agent })).body.data.find(
      (c: { type: string }) => c.type === 'instagram',
    );
    expect(instagram.canBroadcast).toBe(false);
  });

  it('credentials are write-only: answers list which are set and which are missing', async () => {
    const res = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: {
        type: 'twilio_sms',
        name: 'Twilio',
        credentials: { accountSid: 'AC123', authToken: 'super-secret' },
        baseUrl: 'http://127.0.0.1:9999',
      },
    });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain('super-secret');
    expect(res.body).toMatchObject({
      credentialsSet: ['accountSid', 'authToken'],
      credentialsMissing: ['from'],
      baseUrl: 'http://127.0.0.1:9999',
    });
    const patched = await server.request('PATCH', `/api/v1/channels/${res.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { from: '+15005550006' }, limits: { messagesPerSecond: 10, dailyQuota: 250 } },
    });
    expect(patched.body).toMatchObject({ credentialsSet: ['accountSid', 'authToken', 'from'], credentialsMissing: [] });
    expect(patched.body.limits).toEqual({ dailyQuota: 250, messagesPerSecond: 10, pairRatePerRecipientSeconds: null });
  });

  it("a credential with an invisible or non-ASCII character pasted into it is refused in the user's language; spaces around it go", async () => {
    const pasted = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      language: 'es',
      body: { type: 'whatsapp', name: 'Pegado', credentials: { accessToken: 'EAAGtoken\u200b', phoneNumberId: '1' } },
    });
    expect(pasted.status).toBe(422);
    expect(pasted.body.error.details).toEqual([
      {
        path: 'body.credentials.accessToken',
        message:
          'Una credencial solo lleva letras, dígitos y signos ASCII visibles: quite cualquier carácter invisible o acentuado pegado con ella (como U+200B)',
      },
    ]);
    const created = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'whatsapp', name: 'Recortado', credentials: { accessToken: 'EAAGtoken', phoneNumberId: '1' } },
    });
    const accented = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { appSecret: 'contraseña' } },
    });
    expect(accented.status).toBe(422);
    const spaced = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { appSecret: '  s3cret \t' } },
    });
    expect(spaced.status).toBe(422);
    // A type sent with a change is refused, not silently kept as it was.
    const retyped = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.owner,
      language: 'es',
      body: { type: 'twilio_sms', name: 'SMS' },
    });
    expect(retyped.status).toBe(422);
    expect(retyped.body.error.details).toEqual([
      { path: 'body.type', message: 'El tipo de un canal no se puede cambiar: conecte un canal nuevo del otro tipo' },
    ]);
    const trimmed = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { appSecret: '  s3cret  ' } },
    });
    expect(trimmed.status).toBe(200);
    const [row] = await server.database.client
      .execute({ sql: 'SELECT credentials FROM channels WHERE id = ?', args: [created.body.id] })
      .then((r) => r.rows);
    expect(JSON.parse(String(row?.credentials)).appSecret).toBe('s3cret');
  });

  it('patches cannot grow the stored credentials past 20 keys, 20 new keys at a time', async () => {
    const created = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'whatsapp', name: 'Llaves', credentials: { accessToken: 'EAAGtoken', phoneNumberId: '1' } },
    });
    const keys = (from: number, count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`extra${from + i}`, 'x'.repeat(100)]));
    // 2 stored and 18 more: 20, the most a channel keeps.
    const fits = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: keys(0, 18) },
    });
    expect(fits.status).toBe(200);
    // A rotation of a stored key adds none: still taken.
    const rotated = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { accessToken: 'EAAGnew' } },
    });
    expect(rotated.status).toBe(200);
    const past = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      language: 'es',
      body: { credentials: keys(18, 20) },
    });
    expect(past.status).toBe(422);
    expect(past.body.error.details).toEqual([{ path: 'body.credentials', message: 'Como máximo 20 credenciales' }]);
    const [row] = await server.database.client
      .execute({ sql: 'SELECT credentials FROM channels WHERE id = ?', args: [created.body.id] })
      .then((r) => r.rows);
    expect(Object.keys(JSON.parse(String(row?.credentials)))).toHaveLength(20);
    // A channel stored past the cap (before it was counted) still rotates its secrets; it takes no new key.
    await server.database.client.execute({
      sql: 'UPDATE channels SET credentials = ? WHERE id = ?',
      args: [JSON.stringify({ ...JSON.parse(String(row?.credentials)), ...keys(100, 5) }), created.body.id],
    });
    const rotatedPast = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { accessToken: 'EAAGnewer' } },
    });
    expect(rotatedPast.status).toBe(200);
    const addedPast = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
      token: ws.tokens.manager,
      body: { credentials: { another: 'x' } },
    });
    expect(addedPast.status).toBe(422);
  });

  it('a workspace keeps at most 200 channels: the next is refused in its language, nothing written, until one is deleted', async () => {
    const full = await server.workspace('Llena');
    const make = (name: string) =>
      server.request('POST', '/api/v1/channels', {
        token: full.tokens.manager,
        language: 'es',
        body: { type: 'sandbox', name },
      });
    const first = await make('Canal 1');
    expect(first.status).toBe(201);
    // The other 199 as rows, as the API writes them (200 requests would only slow the test).
    await server.database.client.execute({
      sql: `INSERT INTO channels (workspace_id, type, name, credentials, daily_quota, messages_per_second, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        SELECT ?, 'sandbox', 'Canal ' || i, '{}', NULL, 100, 0, 0 FROM n`,
      args: [full.id],
    });
    const past = await make('Canal 201');
    expect(past.status).toBe(409);
    expect(past.body.error).toMatchObject({
      code: 'channel_limit_reached',
      message:
        'Límite alcanzado: un espacio de trabajo tiene como máximo 200 canales conectados. Elimine un canal que ya no use antes de conectar uno nuevo.',
    });
    const listed = await server.request('GET', '/api/v1/channels', { token: full.tokens.agent });
    expect(listed.body.data).toHaveLength(200);
    // Another workspace is not counted against it.
    expect(
      (
        await server.request('POST', '/api/v1/channels', {
          token: ws.tokens.manager,
          body: { type: 'sandbox', name: 'Otro' },
        })
      ).status,
    ).toBe(201);
    const deleted = await server.request('DELETE', `/api/v1/channels/${first.body.id}`, { token: full.tokens.manager });
    expect(deleted.status).toBeLessThan(300);
    expect((await make('Canal 201')).status).toBe(201);
  });

  it('a workspace keeps at most 200 portfolios: the next is refused in its language until one is deleted', async () => {
    const full = await server.workspace('Carteras');
    const make = (name: string) =>
      server.request('POST', '/api/v1/portfolios', { token: full.tokens.manager, language: 'es', body: { name } });
    const first = await make('Cartera 1');
    expect(first.status).toBe(201);
    await server.database.client.execute({
      sql: `INSERT INTO portfolios (workspace_id, name, daily_quota, created_at)
        WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 200) SELECT ?, 'Cartera ' || i, 250, 0 FROM n`,
      args: [full.id],
    });
    const past = await make('Cartera 201');
    expect(past.status).toBe(409);
    expect(past.body.error.code).toBe('portfolio_limit_reached');
    expect(past.body.error.message).toMatch(/^Límite alcanzado: .* como máximo 200 portafolios/);
    const deleted = await server.request('DELETE', `/api/v1/portfolios/${first.body.id}`, {
      token: full.tokens.manager,
    });
    expect(deleted.status).toBeLessThan(300);
    expect((await make('Cartera 201')).status).toBe(201);
  });

  it('limits take an unlimited quota and refuse nonsense', async () => {
    const { body } = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'whatsapp', name: 'WA big', limits: { dailyQuota: null } },
    });
    expect(body.limits.dailyQuota).toBeNull();
    const bad = await server.request('PATCH', `/api/v1/channels/${body.id}`, {
      token: ws.tokens.manager,
      body: { limits: { messagesPerSecond: -1, dailyQuota: 1.5 } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body.limits.dailyQuota',
      'body.limits.messagesPerSecond',
    ]);
    const badType = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'fax', name: 'x' },
    });
    expect(badType.status).toBe(422);
    const badUrl = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'telegram', name: 'x', baseUrl: 'javascript:alert(1)' },
    });
    expect(badUrl.status).toBe(422);
  });

  it('a deleted channel is gone from lists and lookups', async () => {
    const { body } = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: { type: 'sandbox', name: 'to delete' },
    });
    expect((await server.request('DELETE', `/api/v1/channels/${body.id}`, { token: ws.tokens.manager })).status).toBe(
      200,
    );
    expect((await server.request('GET', `/api/v1/channels/${body.id}`, { token: ws.tokens.agent })).status).toBe(404);
    const list = (await server.request('GET', '/api/v1/channels', { token: ws.tokens.agent })).body.data;
    expect(list.some((c: { id: number }) => c.id === body.id)).toBe(false);
  });
});
