import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorBodySchema } from '@rebound/shared';
import { Hono } from 'hono';
import type { z } from 'zod';

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
  required: true,
});

const error = (description: string) => jsonContent(ErrorBodySchema, description);

/** The error answers every authenticated route can give. */
export const errorResponses = {
  401: error('Missing, unknown or revoked token.'),
  403: error("The token's role may not do this."),
  422: error('Invalid input; details lists each field path and what is wrong.'),
} as const;

export const notFoundResponse = { 404: error('Not found in this workspace.') } as const;
export const conflictResponse = { 409: error('Conflicts with existing data.') } as const;
/** A limit on work at once or in a queue: ask again after the Retry-After header's seconds. */
export const busyResponse = { 429: error('Too much at once: ask again after Retry-After (seconds).') } as const;

export const bearer = [{ Bearer: [] }];

/**
 * /docs: Swagger UI from the pinned swagger-ui-dist package in node_modules, served by this server (no
 * CDN: it works offline, and no script from elsewhere runs on this origin). The CSP allows scripts from
 * this origin only; Swagger UI sets inline style attributes, hence 'unsafe-inline' for styles alone.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rebound API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"><noscript>This page needs JavaScript; the document itself is at /openapi.json.</noscript></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>
`;

/** Ours, as a file: the CSP forbids inline scripts. No validator badge (it would call validator.swagger.io). */
const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

const docsAssetTypes: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};
const docsAssets = new Map<string, string>();

/** Read from the package on first use (1.7 MB), then kept. */
function docsAsset(name: string): string | undefined {
  if (!Object.hasOwn(docsAssetTypes, name)) return undefined;
  let body = docsAssets.get(name);
  if (body === undefined) {
    const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    body = readFileSync(join(dir, name), 'utf8');
    docsAssets.set(name, body);
  }
  return body;
}

export const docsRouter = new Hono();

docsRouter.use('/docs/*', async (c, next) => {
  await next();
  c.res.headers.set('Content-Security-Policy', DOCS_CSP);
  c.res.headers.set('Referrer-Policy', 'no-referrer');
});
// '/docs/*' covers '/docs' itself too.
docsRouter.get('/docs', (c) => c.html(DOCS_HTML, 200, { 'Cache-Control': 'no-cache' }));
docsRouter.get('/docs/assets/docs.js', (c) =>
  c.body(DOCS_INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }),
);
docsRouter.get('/docs/assets/:file', (c) => {
  const name = c.req.param('file');
  const body = docsAsset(name);
  if (body === undefined) return c.text('Not found', 404);
  // The package is pinned: the files change only with an upgrade, which restarts the server.
  return c.body(body, 200, {
    'Content-Type': docsAssetTypes[name] ?? 'text/plain',
    'Cache-Control': 'public, max-age=3600',
  });
});
