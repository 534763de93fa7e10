/**
 * What a browser meets on Rebound's origin: nosniff on every answer, /docs from the pinned local package
 * under a CSP, and the demo helpdesk's token kept where no script on the origin can read it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoScript } from '../src/routes/demo/script';
import { startTestServer } from './helpers';

const server = await startTestServer();
const ws = await server.workspace('Superficies');

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.baseUrl}${path}`, { headers, redirect: 'manual' });

describe('X-Content-Type-Options: nosniff', () => {
  it.each([
    ['JSON', '/api/v1/me', { Authorization: `Bearer ${ws.tokens.agent}` }, 200],
    ['a 401', '/api/v1/me', {}, 401],
    ['a 404 of the API', '/api/v1/broadcasts/999999', { Authorization: `Bearer ${ws.tokens.agent}` }, 404],
    ['an unknown route', '/nowhere', {}, 404],
    ['a 422', '/api/v1/failed-messages?limit=abc', { Authorization: `Bearer ${ws.tokens.agent}` }, 422],
    ['health', '/health', {}, 200],
    ['the OpenAPI document', '/openapi.json', {}, 200],
    ['/docs', '/docs', {}, 200],
    ['a /docs asset', '/docs/assets/swagger-ui.css', {}, 200],
    ['a webhook for no channel', '/webhooks/whatsapp/999999', {}, 404],
    ['the demo', '/demo/', {}, 200],
  ] as const)('on %s', async (_name, path, headers, status) => {
    const res = await get(path, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('on the event stream', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.baseUrl}/api/v1/events?since=now`, {
      headers: { Authorization: `Bearer ${ws.tokens.agent}`, Accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    controller.abort();
  });
});

describe('/docs', () => {
  it('has a CSP that runs scripts from this origin only, and loads only same-origin scripts and styles', async () => {
    const res = await get('/docs');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);

    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs = '', body = ''] of scripts) {
      // No inline code (the CSP would refuse it anyway), and a source on this origin.
      expect(body.trim()).toBe('');
      const src = /\bsrc="([^"]+)"/.exec(attrs)?.[1] ?? '';
      expect(src).toMatch(/^\/docs\/assets\/[\w.-]+\.js$/);
      expect(new URL(src, server.baseUrl).origin).toBe(server.baseUrl);
    }
    const hrefs = [...html.matchAll(/<link\b[^>]*\bhref="([^"]+)"/gi)].map((m) => m[1] ?? '');
    for (const href of hrefs) expect(href === 'data:,' || href.startsWith('/docs/assets/')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);

    // Every script comes from the pinned package in node_modules (or is ours), so it works offline.
    const sources = scripts.map(([, attrs = '']) => /\bsrc="([^"]+)"/.exec(attrs)?.[1] ?? '');
    const bodies = await Promise.all(sources.map(async (src) => (await get(src)).text()));
    const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).dependencies[
      'swagger-ui-dist'
    ];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const bundle = readFileSync(
      new URL('../node_modules/swagger-ui-dist/swagger-ui-bundle.js', import.meta.url),
      'utf8',
    );
    expect(bodies).toContain(bundle);
    expect(bodies.join('\n')).toContain("url: '/openapi.json'");
    for (const src of sources) {
      const asset = await get(src);
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(asset.headers.get('content-security-policy')).toBe(csp);
    }
  });

  it('serves nothing else from the package', async () => {
    for (const path of ['/docs/assets/package.json', '/docs/assets/constructor', '/docs/assets/..%2Fpackage.json']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});

describe('the demo helpdesk token', () => {
  const signIn = (token: string, contentType = 'application/json') =>
    fetch(`${server.baseUrl}/demo/session`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: contentType === 'application/json' ? JSON.stringify({ token }) : `token=${token}`,
    });

  it('lives in an HttpOnly, SameSite=Strict cookie scoped to /demo, which the demo reads the API with', async () => {
    const res = await signIn(ws.tokens.agent);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { workspace: { name: string } }).workspace.name).toBe('Superficies');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^rebound_demo_token=rb_/);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\/demo(;|$)/);

    const pair = cookie.split(';')[0] ?? '';
    const me = await get('/demo/api/v1/me', { Cookie: pair, 'Accept-Language': 'es' });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { role: string }).role).toBe('agent');
    // Reads only: the demo never writes through its session.
    const post = await fetch(`${server.baseUrl}/demo/api/v1/contacts`, {
      method: 'POST',
      headers: { Cookie: pair, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(post.status).toBe(404);

    const out = await fetch(`${server.baseUrl}/demo/session`, { method: 'DELETE', headers: { Cookie: pair } });
    expect(out.headers.get('set-cookie')).toMatch(/^rebound_demo_token=;.*Max-Age=0/i);
  });

  it('is refused when wrong (no cookie), and a form post cannot set one', async () => {
    const wrong = await signIn('rb_not-a-real-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const form = await signIn(ws.tokens.agent, 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(form.headers.get('set-cookie')).toBeNull();
    const signedOut = await get('/demo/api/v1/me');
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get('x-demo-session')).toBe('none');
  });

  it('is never written to storage a script on this origin (/docs) could read', async () => {
    const js = await demoScript();
    expect(js).not.toContain('sessionStorage');
    expect(js).not.toMatch(/document\.cookie/);
    expect(js).not.toMatch(/Authorization/);
    // localStorage holds the language choice only.
    const stores = [...js.matchAll(/\bstore\(\s*([A-Z_]+)/g)].map((m) => m[1]);
    expect(stores.length).toBeGreaterThan(0);
    expect(new Set(stores)).toEqual(new Set(['LANG_KEY']));
    expect(js.match(/localStorage\.setItem/g)).toHaveLength(1);
    expect(js).toMatch(/function store\(key, value\)/);
  });
});
