import { OpenAPIHono } from '@hono/zod-openapi';
import { type ApiErrorCode, errorMessage, type Language, pickLanguage } from '@rebound/shared';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { providerUrlAllowlistFromEnv } from '../config';
import type { Database } from '../db/client';
import { setCustomFieldKeyCap } from '../services/contacts';
import { refuseControlCharacters, validationDetails } from './body';
import type { AppEnv } from './env';
import { ApiError, renderDetails } from './errors';
import { type HeavyOptions, HeavyWork } from './heavy';
import { logError } from './log';

/** A router whose validation failures become 422s listing each field path, in the request's language. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      const root = result.target === 'json' ? 'body' : result.target;
      const language: Language = c.get('language') ?? 'en';
      if (!result.success) {
        // @hono/zod-validator hands the refused input as `data`, though the type here omits it.
        const input = (result as { data?: unknown }).data;
        throw new ApiError(422, 'validation_failed', {}, validationDetails(result.error.issues, input, root, language));
      }
      refuseControlCharacters(result.data, root, language);
    },
  });
}

export interface AppDeps {
  db: Database;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes?: number;
  /** Rebound's public base URL when it sits behind a proxy: the URL providers sign their callbacks with. */
  publicUrl?: string | undefined;
  /** Browser origins besides the extension's that may call the API (helpdesk pages, e.g. https://app.example.com). */
  corsOrigins?: string[];
  /** Bad tokens an address may send per minute before it must wait (token guessing). */
  maxAuthFailuresPerMinute?: number;
  /** Behind a reverse proxy: read the client's address from the last X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** Internal hosts (`host` or `host:port`) channel base URLs may lead to; defaults to PROVIDER_URL_ALLOWLIST. */
  providerUrlAllowlist?: readonly string[];
  /** Limits and threads for heavy operations (search, previews, exports, imports); see lib/heavy.ts. */
  heavy?: HeavyOptions | HeavyWork;
  /**
   * The demo helpdesk's pages (/demo: DEMO=on). Off, nothing of them answers: a production server never
   * builds their script or takes a token into their cookie.
   */
  demo?: boolean;
}

function render(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  params: Record<string, string | number>,
  details?: unknown,
) {
  const language: Language = c.get('language') ?? 'en';
  return c.json(
    {
      error: {
        code,
        message: errorMessage(code, language, params),
        ...(details !== undefined && { details: renderDetails(details, language) }),
      },
    },
    status,
  );
}

/** The bare app with the cross-cutting parts: database, language, body limit and the one error shape. */
export function createBaseApp({
  db,
  bodyLimitBytes = 1024 * 1024,
  heavy: heavyOptions,
  providerUrlAllowlist = providerUrlAllowlistFromEnv(),
}: AppDeps) {
  const app = createRouter();
  // Every answer, errors and pages included: browsers never guess a type other than the one we send.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
  });
  const heavy = heavyOptions instanceof HeavyWork ? heavyOptions : new HeavyWork(heavyOptions);
  setCustomFieldKeyCap(heavy.maxCustomFieldKeys);
  app.use('*', async (c, next) => {
    c.set('db', db);
    c.set('providerUrlAllowlist', providerUrlAllowlist);
    c.set('heavy', heavy);
    const fromHeader = pickLanguage(c.req.header('Accept-Language'));
    c.set('language', fromHeader ?? 'en');
    c.set('languageFromHeader', fromHeader !== undefined);
    await next();
  });
  const jsonBodyLimit = bodyLimit({
    maxSize: bodyLimitBytes,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', { limit: Math.round(bodyLimitBytes / 1024) });
    },
  });
  // CSV uploads carry their own 20 MB limit (importBodyLimit in routes/imports/imports.routes.ts). A GET
  // or HEAD has no body to limit, and asking for it would build a full Request on every read.
  app.use('*', (c, next) =>
    c.req.method === 'GET' ||
    c.req.method === 'HEAD' ||
    (c.req.method === 'POST' && c.req.path === '/api/v1/imports/contacts')
      ? next()
      : jsonBodyLimit(c, next),
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) return render(c, err.status, err.code, err.params, err.details);
    if (err instanceof HTTPException) {
      if (err.status === 400 && /json/i.test(err.message)) return render(c, 400, 'invalid_json', {});
      if (err.status === 415) return render(c, 415, 'unsupported_media_type', {});
      if (err.status === 413) return render(c, 413, 'payload_too_large', { limit: Math.round(bodyLimitBytes / 1024) });
      return c.json({ error: { code: 'http_error', message: err.message } }, err.status);
    }
    logError(`[rebound] unhandled error ${c.req.method} ${c.req.path}`, err);
    return render(c, 500, 'internal_error', {});
  });
  app.notFound((c) => render(c, 404, 'route_not_found', { method: c.req.method, path: c.req.path }));
  return app;
}

export type AppRouter = ReturnType<typeof createRouter>;
