import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared/api-level';
import { describe, expect, it } from 'vitest';
import { createApi, normalizeBackendUrl } from '../../lib/api';

describe('the server URL the agent types', () => {
  it('is kept as origin and path, without a trailing slash', () => {
    expect(normalizeBackendUrl(' http://127.0.0.1:8787/ ')).toBe('http://127.0.0.1:8787');
    expect(normalizeBackendUrl('https://rebound.example.com/tienda/')).toBe('https://rebound.example.com/tienda');
  });

  it('must be http or https', () => {
    expect(() => normalizeBackendUrl('ftp://example.com')).toThrow();
    expect(() => normalizeBackendUrl('127.0.0.1:8787')).toThrow();
  });
});

describe('a server older than the extension', () => {
  const api = (headers: Record<string, string>) =>
    createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async () =>
        new Response(JSON.stringify({ data: [], hasMore: false }), {
          status: 200,
          headers: { 'Content-Type': 'application/json', ...headers },
        }),
    });

  it('is said to be out of date (no level, or a lower one), never read as if it answered', async () => {
    await expect(api({}).attention()).rejects.toMatchObject({ code: 'server_outdated' });
    await expect(api({ [API_LEVEL_HEADER]: String(API_LEVEL - 1) }).attention()).rejects.toMatchObject({
      code: 'server_outdated',
    });
    await expect(api({ [API_LEVEL_HEADER]: String(API_LEVEL) }).attention()).resolves.toEqual({
      data: [],
      hasMore: false,
    });
  });
});
