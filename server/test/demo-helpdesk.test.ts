import { readFileSync } from 'node:fs';
import {
  DEMO_BROADCAST_LIST,
  DEMO_BROADCAST_NAME,
  DEMO_BROADCAST_TITLE,
  DEMO_CONTACT_EMAIL,
  DEMO_CONTACT_LIST,
  DEMO_CONTACT_PHONE,
  DEMO_FAILED_MESSAGE_LIST,
  DEMO_LIST_ATTRIBUTE,
} from '@rebound/shared/demo-page';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemoScript, demoScript } from '../src/routes/demo/script';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const PAGES = [
  '/demo/',
  '/demo/broadcasts/1',
  '/demo/broadcasts/999999',
  '/demo/failed-messages',
  '/demo/failed-messages?broadcastId=3',
  '/demo/contacts',
  '/demo/contacts?q=ana',
  '/demo/contacts/12',
  '/demo/contacts/phone:+5215512345678',
  '/demo/contacts/phone%3A%2B5215512345678',
];

let server: TestServer;
let workspace: TestWorkspace;

beforeAll(async () => {
  server = await startTestServer();
  workspace = await server.workspace('Demo');
});

/** A GET that does not follow redirects. */
function get(path: string, headers: Record<string, string> = {}) {
  return fetch(`${server.baseUrl}${path}`, { redirect: 'manual', headers });
}

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get('content-security-policy')).toBe(CSP);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

describe('a server with the demo off (DEMO unset)', () => {
  it('answers nothing under /demo: no page, no script built, no session cookie', async () => {
    const production = await startTestServer({ demo: false });
    const owner = await production.workspace('Producción');
    for (const path of ['/demo/', '/demo/assets/app.js', '/demo/broadcasts/1']) {
      const res = await fetch(`${production.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('<html');
    }
    const session = await fetch(`${production.baseUrl}/demo/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${owner.tokens.owner}`,
    });
    expect(session.status).toBe(404);
    expect(session.headers.get('set-cookie')).toBeNull();
  });
});

describe('demo helpdesk: serving', () => {
  it('redirects /demo to /demo/', async () => {
    const res = await get('/demo');
    expect([301, 302, 307, 308]).toContain(res.status);
    expect(new URL(res.headers.get('location') ?? '', server.baseUrl).pathname).toBe('/demo/');
    expectSecurityHeaders(res);
  });

  it.each(PAGES)('serves the HTML shell at %s without a token', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(res);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<script type="module" src="/demo/assets/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/demo/assets/app.css">');
    expect(html).toContain('id="app"');
  });

  it('serves the same shell for every page', async () => {
    const bodies = await Promise.all(PAGES.map(async (path) => (await get(path)).text()));
    expect(new Set(bodies).size).toBe(1);
  });

  it('keeps tokens, inline scripts, inline styles and inline handlers out of the shell', async () => {
    const html = await (await get('/demo/')).text();
    expect(html).not.toMatch(/rb_/);
    expect(html).not.toContain(workspace.tokens.owner);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\ssrc="\/demo\/assets\/app\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it('serves the assets with their content types, no-cache and the security headers', async () => {
    const js = await get('/demo/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(js);
    expect(await js.text()).toContain('/demo/session');

    const css = await get('/demo/assets/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(css);
    expect(await css.text()).toContain('prefers-color-scheme: dark');
  });

  it.each([
    '/demo/assets/nope.js',
    '/demo/assets/index.ts',
    '/demo/assets/..%2Findex.ts',
    '/demo/assets/%2E%2E%2F%2E%2E%2Fapp.ts',
    '/demo/assets/app.js.map',
    '/demo/assets/',
  ])('answers 404 for the unknown asset %s, with the security headers', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expectSecurityHeaders(res);
    const text = await res.text();
    expect(text).not.toContain('import ');
  });

  it('answers 404 for other paths under /demo, with the security headers', async () => {
    for (const path of ['/demo/nope', '/demo/broadcasts', '/demo/broadcasts/1/extra', '/demo/contacts/1/x']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expectSecurityHeaders(res);
    }
  });

  it('leaves /demo out of /openapi.json', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    const paths = Object.keys(doc.paths as Record<string, unknown>);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((path) => path.startsWith('/demo'))).toEqual([]);
  });

  it('does not open the API: /api still needs a token, and the page reads it with one', async () => {
    expect((await server.request('GET', '/api/v1/me')).status).toBe(401);
    const me = await server.request('GET', '/api/v1/me', { token: workspace.tokens.agent, language: 'es' });
    expect(me.status).toBe(200);
    expect(me.body.workspace.name).toBe('Demo');
  });

  it('does not put the CSP on API answers', async () => {
    const res = await server.request('GET', '/health');
    expect(res.headers.get('content-security-policy')).toBeNull();
  });
});

describe('demo helpdesk: page script guard', () => {
  // The script as the browser gets it: client/*.ts and the contract, bundled.
  let js = '';
  beforeAll(async () => {
    js = await demoScript();
  });
  // The stylesheet the page gets (/demo/assets/app.css) is these two files, in this order.
  const css = ['layout.css', 'parts.css']
    .map((file) => readFileSync(new URL(`../src/routes/demo/assets/${file}`, import.meta.url), 'utf8'))
    .join('\n');

  it('a script that cannot be built is an error for its request, not a server that cannot start', async () => {
    await expect(buildDemoScript('/nonexistent/app.ts')).rejects.toThrow();
  });

  it('never parses text as HTML', () => {
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'createContextualFragment']) {
      expect(js, sink).not.toContain(sink);
    }
    expect(js).not.toMatch(/\beval\s*\(/);
    expect(js).not.toMatch(/new\s+Function\s*\(/);
    expect(js).toContain('textContent');
  });

  it('sets no inline style attributes (the CSP blocks them)', () => {
    expect(js).not.toMatch(/setAttribute\(\s*['"]style['"]/);
    expect(js).not.toMatch(/\.style\./);
  });

  it('keeps the DOM contract the extension relies on', () => {
    // The names the extension's site adapter reads come from one module, which the page is built with.
    expect({
      DEMO_LIST_ATTRIBUTE,
      DEMO_BROADCAST_LIST,
      DEMO_FAILED_MESSAGE_LIST,
      DEMO_CONTACT_LIST,
      DEMO_BROADCAST_NAME,
      DEMO_BROADCAST_TITLE,
      DEMO_CONTACT_PHONE,
      DEMO_CONTACT_EMAIL,
    }).toEqual({
      DEMO_LIST_ATTRIBUTE: 'data-list',
      DEMO_BROADCAST_LIST: 'broadcasts',
      DEMO_FAILED_MESSAGE_LIST: 'failed-messages',
      DEMO_CONTACT_LIST: 'contacts',
      DEMO_BROADCAST_NAME: 'hd-broadcast-name',
      DEMO_BROADCAST_TITLE: 'hd-broadcast-title',
      DEMO_CONTACT_PHONE: 'hd-contact-phone',
      DEMO_CONTACT_EMAIL: 'hd-contact-email',
    });
    for (const name of [
      'hd-table',
      'hd-row',
      '"hd-broadcast-name"',
      'class: DEMO_BROADCAST_NAME',
      'hd-title hd-contact-name',
      '"hd-contact-phone"',
      '"hd-contact-email"',
      'DEMO_CONTACT_PHONE)',
      'DEMO_CONTACT_EMAIL)',
      '"data-list"',
      '[DEMO_LIST_ATTRIBUTE]: DEMO_BROADCAST_LIST',
      '[DEMO_LIST_ATTRIBUTE]: DEMO_FAILED_MESSAGE_LIST',
      '[DEMO_LIST_ATTRIBUTE]: DEMO_CONTACT_LIST',
      'rebound-demo-lang',
    ]) {
      expect(js, name).toContain(name);
    }
    expect(js).toMatch(/class: `hd-title \$\{DEMO_BROADCAST_TITLE\}`/);
  });

  it('styles keyboard focus and dark mode', () => {
    expect(css).toContain(':focus-visible');
    expect(css).toContain('prefers-color-scheme: dark');
  });
});
