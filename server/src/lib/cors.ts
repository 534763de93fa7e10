import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env';

export interface ApiCorsOptions {
  /** Browser origins that may read the API's answers (the extension's, and helpdesks an operator named). */
  origins: ReadonlySet<string>;
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds a browser may keep a preflight's answer. */
  maxAge: number;
}

const ALLOW_METHODS = 'GET,HEAD,PUT,POST,DELETE,PATCH';

/**
 * CORS for /api: the same answers as hono/cors, written onto the answer once it exists. hono/cors sets
 * headers on `c.res` before the route answers, and Hono then rebuilds every answer as a full Response
 * to carry them over: under 50 readers that was a fifth of the API thread's time per read.
 */
export function apiCors({ origins, allowHeaders, exposeHeaders, maxAge }: ApiCorsOptions) {
  const allowHeadersText = allowHeaders.join(',');
  const exposeHeadersText = exposeHeaders.join(',');
  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header('Origin');
    const allowed = origin !== undefined && origins.has(origin) ? origin : undefined;
    if (c.req.method === 'OPTIONS') {
      // A preflight: answered here, before the token check (it carries no Authorization).
      const headers = new Headers({ Vary: 'Origin, Access-Control-Request-Headers' });
      if (allowed) {
        headers.set('Access-Control-Allow-Origin', allowed);
        headers.set('Access-Control-Expose-Headers', exposeHeadersText);
        headers.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        headers.set('Access-Control-Allow-Headers', allowHeadersText);
        headers.set('Access-Control-Max-Age', String(maxAge));
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    // Errors too (a 401 included): the extension must be able to read why it was refused.
    const headers = c.res.headers;
    if (allowed) {
      headers.set('Access-Control-Allow-Origin', allowed);
      headers.set('Access-Control-Expose-Headers', exposeHeadersText);
    }
    headers.append('Vary', 'Origin');
  });
}
