import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared';
import { EXTENSION_ORIGIN } from '@rebound/shared/extension';
import { requireToken } from './lib/auth';
import { AuthLimiter } from './lib/auth-limiter';
import { apiCors } from './lib/cors';
import { type AppDeps, createBaseApp } from './lib/create-app';
import { docsRouter } from './lib/openapi';
import { broadcastsRouter } from './routes/broadcasts';
import { channelsRouter } from './routes/channels';
import { contactsRouter } from './routes/contacts';
import { createDemoRouter } from './routes/demo';
import { eventsRouter } from './routes/events';
import { exportsRouter } from './routes/exports';
import { failedMessagesRouter } from './routes/failed-messages';
import { failureReasonsRouter } from './routes/failure-reasons';
import { healthRouter } from './routes/health';
import { importsRouter } from './routes/imports';
import { meRouter } from './routes/me';
import { portfoliosRouter } from './routes/portfolios';
import { segmentsRouter } from './routes/segments';
import { createWebhooksRouter } from './routes/webhooks';

/** Builds the whole HTTP app around an injected database, so each test can bring its own. */
export function createApp(deps: AppDeps) {
  const app = createBaseApp(deps);
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token of the workspace (rb_...). Roles: agent < manager < owner.',
  });
  // Before the token check: a preflight carries no Authorization. Only the extension's pages and the helpdesk
  // origins an operator configured may read answers from a browser; the demo pages are same-origin.
  const allowed = new Set([EXTENSION_ORIGIN, ...(deps.corsOrigins ?? [])]);
  app.use(
    '/api/*',
    apiCors({
      origins: allowed,
      allowHeaders: ['Authorization', 'Content-Type', 'Accept-Language', 'Last-Event-ID'],
      exposeHeaders: ['Content-Disposition', 'Retry-After', API_LEVEL_HEADER],
      maxAge: 600,
    }),
  );
  // On every answer, errors included: an extension newer than this server can tell the agent so.
  app.use('/api/*', async (c, next) => {
    await next();
    c.res.headers.set(API_LEVEL_HEADER, String(API_LEVEL));
  });
  app.use(
    '/api/*',
    requireToken({
      limiter: new AuthLimiter({ maxFailures: deps.maxAuthFailuresPerMinute ?? 20, windowMs: 60_000 }),
      trustProxy: deps.trustProxy ?? false,
    }),
  );
  app.route('/', healthRouter);
  if (deps.demo)
    app.route(
      '/',
      createDemoRouter((request, env) => app.fetch(request, env)),
    );
  const v1 = [
    meRouter,
    contactsRouter,
    channelsRouter,
    portfoliosRouter,
    segmentsRouter,
    broadcastsRouter,
    failureReasonsRouter,
    failedMessagesRouter,
    exportsRouter,
    importsRouter,
    eventsRouter,
  ];
  for (const router of v1) app.route('/api/v1', router);
  app.route(
    '/webhooks',
    createWebhooksRouter({
      publicUrl: deps.publicUrl,
      handshakes: new AuthLimiter({ maxFailures: deps.maxAuthFailuresPerMinute ?? 20, windowMs: 60_000 }),
      trustProxy: deps.trustProxy ?? false,
    }),
  );
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Rebound API',
      version: '1',
      description:
        'Broadcasts that partly fail, explained and recovered. Errors are `{ "error": { "code", "message", "details" } }`, ' +
        'with the message in the language of Accept-Language (es, en or pt).',
    },
  });
  app.route('/', docsRouter);
  return app;
}

export type App = ReturnType<typeof createApp>;
