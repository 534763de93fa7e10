/**
 * A refused request says what is wrong in the request's language: the 422's details, not only its
 * message, follow Accept-Language (or the workspace's language without one), for query parameters,
 * JSON bodies (validated by the route or read as an optional body) and checks of our own (the cursor).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
let broadcastId: number;

async function details(method: string, path: string, language: 'es' | 'en' | undefined, body?: unknown) {
  const res = await server.request(method, path, {
    token: ws.tokens.manager,
    ...(language && { language }),
    ...(body !== undefined && { body }),
  });
  expect(res.status, res.text).toBe(422);
  expect(res.body.error.code).toBe('validation_failed');
  return res.body.error.details as { path: string; message: string }[];
}

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace('Validación', 'AR');
  const post = async (path: string, body: unknown) => {
    const res = await server.request('POST', path, { token: ws.tokens.manager, body });
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${res.text}`);
    return res.body;
  };
  const channel = await post('/api/v1/channels', { type: 'sandbox', name: 'Pruebas' });
  const segment = await post('/api/v1/segments', {
    name: 'Todos',
    filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['x'] }] }] },
  });
  broadcastId = (
    await post('/api/v1/broadcasts', {
      name: 'Prueba',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    })
  ).id;
});

describe('validation details in the request language', () => {
  it('a date with no day after it (9999-12-31) or before any failure is refused, not a 500 or a broken CSV', async () => {
    const refused = {
      path: 'query.to',
      message: 'Use una fecha entre 1970 y 9998, o déjela vacía para no poner límite',
    };
    for (const path of [
      '/api/v1/failed-messages?to=9999-12-31',
      '/api/v1/failed-messages/summary?to=9999-12-31',
      '/api/v1/exports/failed-messages.csv?to=9999-12-31',
    ])
      expect(await details('GET', path, 'es')).toEqual([refused]);
    expect(await details('GET', '/api/v1/failed-messages?from=0050-01-01', 'en')).toEqual([
      { path: 'query.from', message: 'Use a date between 1970 and 9998, or leave it out for no limit' },
    ]);
    const open = await server.request('GET', '/api/v1/failed-messages?to=9998-12-31', { token: ws.tokens.manager });
    expect(open.status).toBe(200);
  });

  it('dates typed the wrong way round are refused with what to do, not answered with an empty log', async () => {
    for (const path of [
      '/api/v1/failed-messages?from=2026-11-30&to=2026-11-01',
      '/api/v1/failed-messages/summary?from=2026-11-30&to=2026-11-01',
      '/api/v1/exports/failed-messages.csv?from=2026-11-30&to=2026-11-01',
      '/api/v1/failed-messages?from=2026-11-30T12:00:00Z&to=2026-11-30T12:00:00Z',
    ]) {
      const res = await server.request('GET', path, { token: ws.tokens.manager, language: 'es' });
      expect(res.status, path).toBe(422);
      expect(res.body.error.code).toBe('failures_range_reversed');
      expect(res.body.error.message).toMatch(/^La fecha "desde" \(2026-11-30.*inviértalas/);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'query.from' })]);
    }
    // One day, from and to: that whole day.
    const day = await server.request('GET', '/api/v1/failed-messages?from=2026-11-30&to=2026-11-30', {
      token: ws.tokens.manager,
    });
    expect(day.status).toBe(200);
  });

  it('query parameters of the failed log, in Spanish', async () => {
    expect(await details('GET', '/api/v1/failed-messages?limit=0', 'es')).toEqual([
      { path: 'query.limit', message: 'Debe ser 1 o más.' },
    ]);
    expect(await details('GET', '/api/v1/failed-messages?limit=1000', 'es')).toEqual([
      { path: 'query.limit', message: 'Debe ser 500 o menos.' },
    ]);
    expect(await details('GET', '/api/v1/failed-messages?limit=muchos', 'es')).toEqual([
      { path: 'query.limit', message: 'Use un número entero escrito solo con dígitos, por ejemplo 50' },
    ]);
    const [reason] = await details('GET', '/api/v1/failed-messages?reason=mala_suerte', 'es');
    expect(reason?.path).toBe('query.reason');
    expect(reason?.message).toMatch(/^Use uno de estos valores: "quota_reached", "throttled", /);
    expect(await details('GET', '/api/v1/failed-messages?from=ayer', 'es')).toEqual([
      {
        path: 'query.from',
        message: 'Use un día como 2026-12-01 o una fecha y hora ISO 8601 como 2026-12-01T09:00:00-03:00',
      },
    ]);
    expect(await details('GET', '/api/v1/failed-messages?cursor=nada', 'es')).toEqual([
      { path: 'query.cursor', message: 'No es un cursor de esta API; vuelva a empezar sin él' },
    ]);
    expect(await details('GET', '/api/v1/exports/failed-messages.csv?channelId=-3', 'es')).toEqual([
      {
        path: 'query.channelId',
        message:
          'Use un ID escrito solo con dígitos, por ejemplo 42 (sin signo, espacios, ceros a la izquierda ni exponente)',
      },
    ]);
  });

  it('the same requests in English keep English details', async () => {
    const [limit] = await details('GET', '/api/v1/failed-messages?limit=0', 'en');
    expect(limit).toEqual({ path: 'query.limit', message: 'Too small: expected number to be >=1' });
    expect(await details('GET', '/api/v1/failed-messages?cursor=nada', 'en')).toEqual([
      { path: 'query.cursor', message: 'Not a cursor from this API; start again without it' },
    ]);
  });

  it("without Accept-Language, the workspace's language (Spanish here)", async () => {
    expect(await details('GET', '/api/v1/failed-messages?limit=0', undefined)).toEqual([
      { path: 'query.limit', message: 'Debe ser 1 o más.' },
    ]);
  });

  it('JSON bodies: zod messages and the schemas own, in Spanish', async () => {
    const contact = await details('POST', '/api/v1/contacts', 'es', { firstName: 7, tags: ['  '] });
    expect(contact).toEqual(
      expect.arrayContaining([
        { path: 'body.firstName', message: 'Se esperaba un texto.' },
        { path: 'body.tags.0', message: 'Una etiqueta necesita al menos un carácter' },
      ]),
    );
    // An optional body read by the route itself (schedule: empty means now).
    expect(await details('POST', `/api/v1/broadcasts/${broadcastId}/schedule`, 'es', { at: 'mañana' })).toEqual([
      { path: 'body.at', message: 'Use una fecha y hora ISO 8601, por ejemplo 2026-12-01T09:00:00-03:00.' },
    ]);
    const [english] = await details('POST', `/api/v1/broadcasts/${broadcastId}/schedule`, 'en', { at: 'tomorrow' });
    expect(english).toEqual({ path: 'body.at', message: 'Invalid ISO datetime' });
  });

  it("the API's own checks say their details in the request's language too, as their message does", async () => {
    const refuse = async (method: string, path: string, language: 'es' | 'en' | 'pt-BR', body?: unknown) => {
      const res = await server.request(method, path, {
        token: ws.tokens.manager,
        language,
        ...(body !== undefined && { body }),
      });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      return res.body.error.details as { path: string; message: string }[];
    };
    const cursor = 'No es un cursor de esta API; vuelva a empezar sin él';
    expect(await refuse('GET', '/api/v1/broadcasts?cursor=nada', 'es')).toEqual([
      { path: 'query.cursor', message: cursor },
    ]);
    expect(await refuse('GET', '/api/v1/contacts?cursor=nada', 'es')).toEqual([
      { path: 'query.cursor', message: cursor },
    ]);
    expect(await refuse('GET', '/api/v1/contacts?q=ab', 'es')).toEqual([
      { path: 'query.q', message: 'Escriba al menos 3 caracteres' },
    ]);
    const segment = {
      name: 'Todos',
      filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['x'] }] }] },
    };
    expect(await refuse('POST', '/api/v1/segments', 'es', segment)).toEqual([
      { path: 'body.name', message: 'Ya está en uso: elija otro nombre' },
    ]);
    expect(await refuse('POST', '/api/v1/segments', 'pt-BR', segment)).toEqual([
      { path: 'body.name', message: 'Já está em uso: escolha outro nome' },
    ]);
    expect(
      await refuse('POST', `/api/v1/broadcasts/${broadcastId}/schedule`, 'es', { at: '2020-01-01T00:00:00Z' }),
    ).toEqual([{ path: 'body.at', message: 'Ya pasó: elija un momento futuro' }]);
    expect(await refuse('GET', '/api/v1/failed-messages?from=2026-12-05&to=2026-12-01', 'es')).toEqual([
      { path: 'query.from', message: 'Debe ser anterior a query.to' },
    ]);
    expect(await refuse('POST', '/api/v1/contacts', 'es', { tags: ['x'] })).toEqual([
      { path: 'body', message: 'Indique al menos uno de firstName, phone, email o identifiers' },
    ]);
    // English readers keep English.
    expect(await refuse('GET', '/api/v1/contacts?q=ab', 'en')).toEqual([
      { path: 'query.q', message: 'Type at least 3 characters' },
    ]);
  });
});
