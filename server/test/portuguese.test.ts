/**
 * A Brazilian agent (Accept-Language: pt-BR, or a workspace whose language is pt) reads the API in
 * Portuguese: errors, validation details (zod's own and the schemas'), the failure catalog, event
 * sentences and the re-send plan, with numbers as Brazil writes them.
 */
import { apiErrors, failureReasons, schemaMessages } from '@rebound/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace } from '../src/services/workspaces';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
let ws: TestWorkspace;
let broadcastId: number;

beforeAll(async () => {
  server = await startTestServer();
  ws = await server.workspace('Loja Centro', 'BR');
  const post = async (path: string, body: unknown) => {
    const res = await server.request('POST', path, { token: ws.tokens.manager, body, language: 'pt-BR' });
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${res.text}`);
    return res.body;
  };
  const channel = await post('/api/v1/channels', { type: 'sandbox', name: 'Testes' });
  const segment = await post('/api/v1/segments', {
    name: 'Todos',
    filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['x'] }] }] },
  });
  broadcastId = (
    await post('/api/v1/broadcasts', {
      name: 'Liquidação',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Olá' },
    })
  ).id;
});

describe('the API in Brazilian Portuguese', () => {
  it('a refused token is explained in Portuguese', async () => {
    const res = await server.request('GET', '/api/v1/broadcasts', { token: 'not-a-token', language: 'pt-BR' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe(apiErrors.unauthorized.pt);
    expect(res.body.error.message).not.toBe(apiErrors.unauthorized.es);
  });

  it("validation details: zod's own messages and the schemas' in Portuguese", async () => {
    const details = async (query: string) => {
      const res = await server.request('GET', `/api/v1/failed-messages${query}`, {
        token: ws.tokens.manager,
        language: 'pt-BR',
      });
      expect(res.status, res.text).toBe(422);
      return res.body.error.details as { path: string; message: string }[];
    };
    expect(await details('?limit=0')).toEqual([{ path: 'query.limit', message: 'Deve ser 1 ou mais.' }]);
    expect(await details('?limit=1000')).toEqual([{ path: 'query.limit', message: 'Deve ser 500 ou menos.' }]);
    expect(await details('?limit=muitos')).toEqual([{ path: 'query.limit', message: schemaMessages.wholeNumber.pt }]);
    const [reason] = await details('?reason=azar');
    expect(reason?.message).toMatch(/^Use um destes valores: "quota_reached", "throttled", /);
  });

  it('the failure catalog in Portuguese', async () => {
    const res = await server.request('GET', '/api/v1/failure-reasons', { token: ws.tokens.agent, language: 'pt-BR' });
    expect(res.status).toBe(200);
    const quota = res.body.data.find((r: { code: string }) => r.code === 'quota_reached');
    expect(quota.title).toBe(failureReasons.quota_reached.title.pt);
    expect(quota.action).toBe(failureReasons.quota_reached.action.pt);
  });

  it('a workspace whose language is Portuguese answers in it without the header, and its events say it', async () => {
    const { tokens } = await createWorkspace(
      server.database.db,
      { name: 'Loja Sul', defaultCountry: 'BR', language: 'pt' },
      ['manager'],
    );
    const manager = tokens.find((t) => t.role === 'manager')?.token;
    const res = await server.request('GET', '/api/v1/broadcasts/987654', { token: manager });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('Não foi possível encontrar a transmissão.');

    const scheduled = await server.request('POST', `/api/v1/broadcasts/${broadcastId}/schedule`, {
      token: ws.tokens.manager,
      language: 'pt-BR',
      body: { at: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    });
    expect(scheduled.status, scheduled.text).toBeLessThan(300);
    const events = await server.request('GET', '/api/v1/events?wait=0', { token: ws.tokens.agent, language: 'pt-BR' });
    const event = events.body.data.find((e: { type: string }) => e.type === 'broadcast.scheduled');
    expect(event.message).toMatch(/^Liquidação: agendada para \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(0 contatos\)$/);
  });
});
