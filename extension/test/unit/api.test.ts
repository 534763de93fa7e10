import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared/api-level';
import { describe, expect, it } from 'vitest';
import { createApi, normalizeBackendUrl, plainHttpElsewhere } from '../../lib/api';

describe('the server URL the agent types', () => {
  it('is kept as origin and path, without a trailing slash', () => {
    expect(normalizeBackendUrl(' http://127.0.0.1:8787/ ')).toBe('http://127.0.0.1:8787');
    expect(normalizeBackendUrl('https://rebound.example.com/tienda/')).toBe('https://rebound.example.com/tienda');
  });

  it('is https, unless the server is this computer: over http:// elsewhere the token travels readable', () => {
    expect(plainHttpElsewhere('http://rebound.oficina.lan:8787')).toBe(true);
    expect(plainHttpElsewhere('http://192.168.0.10')).toBe(true);
    expect(plainHttpElsewhere('https://rebound.example.com')).toBe(false);
    for (const local of ['http://127.0.0.1:8787', 'http://localhost:8787/', ' http://[::1]:8787'])
      expect(plainHttpElsewhere(local), local).toBe(false);
  });

  it('a server saved over plain http:// elsewhere before that was refused gets no request, and no token', async () => {
    const asked: string[] = [];
    const api = createApi({
      backendUrl: 'http://192.168.0.10:8787',
      token: 'secreto',
      language: 'es',
      fetch: async (input) => {
        asked.push(String(input));
        return new Response('{}');
      },
    });
    await expect(api.me()).rejects.toMatchObject({ code: 'insecure_url' });
    expect(asked).toEqual([]);
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

describe('a heavy read refused for the heavy limit', () => {
  const answers = (first: { status: number; code: string }) => {
    const calls: number[] = [];
    const api = createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async () => {
        calls.push(Date.now());
        const body =
          calls.length === 1
            ? { error: { code: first.code, message: 'Espere 1 s' } }
            : { tag: 'x', recipients: 3, plan: [], warnings: [] };
        return new Response(JSON.stringify(body), {
          status: calls.length === 1 ? first.status : 200,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '1', [API_LEVEL_HEADER]: String(API_LEVEL) },
        });
      },
    });
    return { api, calls };
  };

  it('is asked again after Retry-After, and the agent gets the answer, not the refusal', async () => {
    const { api, calls } = answers({ status: 429, code: 'too_many_heavy_operations' });
    await expect(api.resend(7, { dryRun: true })).resolves.toMatchObject({ recipients: 3 });
    expect(calls).toHaveLength(2);
    expect((calls[1] as number) - (calls[0] as number)).toBeGreaterThanOrEqual(990);
  });

  it('a refusal for bad tokens is not asked again', async () => {
    const { api, calls } = answers({ status: 429, code: 'too_many_auth_failures' });
    await expect(api.resend(7, { dryRun: true })).rejects.toMatchObject({ code: 'too_many_auth_failures' });
    expect(calls).toHaveLength(1);
  });
});

describe("an ID a content script sends (a page's script may have taken it over)", () => {
  it('reaches no other route: only a positive whole number goes into a path', async () => {
    const paths: string[] = [];
    const api = createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async (input) => {
        paths.push(new URL(String(input)).pathname);
        return new Response('{}', {
          status: 200,
          headers: { 'Content-Type': 'application/json', [API_LEVEL_HEADER]: String(API_LEVEL) },
        });
      },
    });
    const hostile = ['42/schedule?', '../tokens?', 0, -3, 1.5, Number.NaN] as unknown as number[];
    for (const id of hostile) {
      await expect(api.resume(id)).rejects.toMatchObject({ code: 'bad_id' });
      await expect(api.resend(id, { dryRun: true })).rejects.toMatchObject({ code: 'bad_id' });
      await expect(api.cancelResend(id, [1])).rejects.toMatchObject({ code: 'bad_id' });
      await expect(api.broadcast(id)).rejects.toMatchObject({ code: 'bad_id' });
    }
    expect(paths).toEqual([]);
    await api.resume(42);
    expect(paths).toEqual(['/api/v1/broadcasts/42/resume']);
  });
});
