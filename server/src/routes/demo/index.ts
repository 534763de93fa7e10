/**
 * The demo helpdesk at /demo: a plain look-alike of a customer-messaging helpdesk that reads Rebound's
 * real API with a bearer token, for the demo and the extension's browser tests. One HTML shell for every
 * page (the page's JS renders by location.pathname) and two static assets, without a build step.
 * A plain Hono router, so none of this shows up in /openapi.json.
 */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { AppEnv } from '../../lib/env';

export const DEMO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const assetTypes: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Read once, when the router is created: the server runs the TypeScript sources (tsx, vitest). */
const assets = new Map(
  Object.entries(assetTypes).map(([name, type]) => [
    name,
    { type, body: readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8') },
  ]),
);

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

export const demoRouter = new Hono<AppEnv>();

// '/demo/*' also matches '/demo' itself; the headers go on every answer, 404s and the redirect included.
demoRouter.use('/demo/*', async (c, next) => {
  await next();
  c.res.headers.set('Content-Security-Policy', DEMO_CSP);
  c.res.headers.set('X-Content-Type-Options', 'nosniff');
  c.res.headers.set('Referrer-Policy', 'no-referrer');
});

demoRouter.get('/demo', (c) => c.redirect('/demo/'));

for (const page of PAGES) {
  demoRouter.get(page, (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.html(shell);
  });
}

demoRouter.get('/demo/assets/:file', (c) => {
  const asset = assets.get(c.req.param('file'));
  if (!asset) return c.text('Not found', 404, { 'Cache-Control': 'no-cache' });
  return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' });
});
