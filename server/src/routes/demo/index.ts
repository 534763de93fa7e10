/**
 * The demo helpdesk at /demo: a plain look-alike of a customer-messaging helpdesk that reads Rebound's
 * real API with a bearer token, for the demo and the extension's browser tests. One HTML shell for every
 * page (the page's script renders by location.pathname) and two assets: the stylesheet, and the script
 * bundled in memory from client/ (script.ts). Its class names are a contract with the extension's site
 * adapter, kept in @rebound/shared/demo-page. A plain Hono router, so none of this shows up in /openapi.json.
 *
 * The token never reaches the page's scripts after sign-in: /demo/session keeps it in an HttpOnly,
 * SameSite=Strict cookie scoped to /demo, and the page reads the API through /demo/api/..., which adds
 * the bearer header on the server. Nothing else on this origin (/docs) can read it from storage.
 */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../../lib/env';
import { logError } from '../../lib/log';
import { demoScript } from './script';

export const DEMO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Read once, when the module loads: the server runs the TypeScript sources (tsx, vitest). Written as
 * two files (the page's layout, then its parts) and served as one stylesheet.
 */
const stylesheet = ['layout.css', 'parts.css']
  .map((file) => readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8'))
  .join('\n');

/** The same shell for every page; no inline script or style, so the strict CSP holds. */
const shell = `<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Helpdesk</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo/assets/app.css">
<script type="module" src="/demo/assets/app.js"></script>
</head>
<body>
<div id="app" class="hd-app"><noscript>Esta página necesita JavaScript. / This page needs JavaScript.</noscript></div>
</body>
</html>
`;

const PAGES = ['/demo/', '/demo/broadcasts/:id', '/demo/failed-messages', '/demo/contacts', '/demo/contacts/:ref'];

/** The cookie that holds the demo's token: HttpOnly, so no script on this origin can read it. */
export const DEMO_COOKIE = 'rebound_demo_token';

/** Rebound's own API, called in-process (the app's fetch). */
export type ApiFetch = (request: Request, env: unknown) => Response | Promise<Response>;

/** The headers of the page's request the API may see; the bearer comes from the cookie, never from the page. */
const FORWARDED = ['accept', 'accept-language', 'x-forwarded-for', 'last-event-id'];

export function createDemoRouter(api: ApiFetch) {
  const demoRouter = new Hono<AppEnv>();
  const assets = new Map([['app.css', { type: 'text/css; charset=utf-8', body: stylesheet }]]);

  // '/demo/*' also matches '/demo' itself; the headers go on every answer, 404s and the redirect included.
  demoRouter.use('/demo/*', async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', DEMO_CSP);
    c.res.headers.set('Referrer-Policy', 'no-referrer');
  });

  demoRouter.get('/demo', (c) => c.redirect('/demo/'));

  for (const page of PAGES) {
    demoRouter.get(page, (c) => {
      c.header('Cache-Control', 'no-cache');
      return c.html(shell);
    });
  }

  demoRouter.get('/demo/assets/app.js', async (c) => {
    try {
      return c.body(await demoScript(), 200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'no-cache',
      });
    } catch (error) {
      logError('demo helpdesk: its page script could not be built', error);
      return c.text('The demo page script could not be built; the API is not affected.', 503, {
        'Cache-Control': 'no-store',
      });
    }
  });

  demoRouter.get('/demo/assets/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    if (!asset) return c.text('Not found', 404, { 'Cache-Control': 'no-cache' });
    return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
  });

  /** The API answer for `path` with `token` as the bearer (none: the API's own 401). */
  const callApi = (
    c: { req: { raw: Request; url: string }; env: unknown },
    path: string,
    token: string | undefined,
  ) => {
    const url = new URL(c.req.url);
    const target = new URL(path, url.origin);
    target.search = url.search;
    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = c.req.raw.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    if (token) headers.set('authorization', `Bearer ${token}`);
    return api(new Request(target, { headers }), c.env);
  };

  /**
   * Sign-in: the token is checked against the API (GET /api/v1/me, behind the same bad-token limiter) and,
   * when valid, kept in the cookie. JSON only: a cross-site form cannot send it without a CORS preflight,
   * which /demo never grants.
   */
  demoRouter.post('/demo/session', async (c) => {
    if (!/^application\/json\b/i.test(c.req.header('Content-Type') ?? '')) return c.json({ ok: false }, 415);
    const body = await c.req.json().catch(() => undefined);
    const token = body && typeof body === 'object' ? (body as { token?: unknown }).token : undefined;
    const candidate = typeof token === 'string' && /^rb_\S{1,200}$/.test(token) ? token : 'rb_';
    const me = await callApi(c, '/api/v1/me', candidate);
    if (me.status !== 200) return new Response(me.body, me);
    setCookie(c, DEMO_COOKIE, candidate, {
      path: '/demo',
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return c.body(await me.text(), 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  });

  demoRouter.delete('/demo/session', (c) => {
    deleteCookie(c, DEMO_COOKIE, { path: '/demo', httpOnly: true, sameSite: 'Strict' });
    return c.json({ ok: true }, 200);
  });

  /** The page's reads of the API: GET only (the demo never writes), with the cookie's token as the bearer. */
  demoRouter.get('/demo/api/*', async (c) => {
    const token = getCookie(c, DEMO_COOKIE);
    const res = await callApi(c, c.req.path.slice('/demo'.length), token);
    const answer = new Response(res.body, res);
    // Signed out (no cookie) rather than a token that stopped working: the page shows the sign-in without an error.
    if (!token) answer.headers.set('X-Demo-Session', 'none');
    answer.headers.set('Cache-Control', 'no-store');
    return answer;
  });

  return demoRouter;
}
