import type { IncomingMessage } from 'node:http';
import { type Permission, permissions, roleAllows } from '@rebound/shared';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticate } from '../services/tokens';
import { AuthLimiter } from './auth-limiter';
import type { AppEnv } from './env';
import { ApiError } from './errors';

export interface TokenAuthOptions {
  limiter?: AuthLimiter;
  /** Behind one reverse proxy: the client's address is the last X-Forwarded-For entry (the proxy's own). */
  trustProxy?: boolean;
}

/**
 * Resolves the bearer token to a workspace and role; every /api route runs behind it. Addresses that keep
 * sending wrong tokens are held back (AuthLimiter), so tokens cannot be guessed at speed. A valid token is
 * always let in, whatever others behind the same address (one office, one NAT) got wrong; a request with no
 * token is a 401 that counts for nothing, since it guesses nothing.
 */
export function requireToken({ limiter = new AuthLimiter(), trustProxy = false }: TokenAuthOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    const auth = token ? await authenticate(c.get('db'), token) : undefined;
    if (!auth) {
      if (token) {
        const address = clientAddress(c, trustProxy);
        refuseWhileHeldBack(c, limiter, address);
        limiter.recordFailure(address);
      }
      c.header('WWW-Authenticate', 'Bearer realm="rebound"');
      throw new ApiError(401, 'unauthorized');
    }
    c.set('auth', auth);
    if (!c.get('languageFromHeader')) c.set('language', auth.workspaceLanguage);
    await next();
  });
}

/** 429 with Retry-After while `limiter` holds `address` back for the secrets it got wrong. */
export function refuseWhileHeldBack(c: Context<AppEnv>, limiter: AuthLimiter, address: string): void {
  const wait = limiter.blockedFor(address);
  if (wait <= 0) return;
  c.header('Retry-After', String(Math.ceil(wait / 1000)));
  throw new ApiError(429, 'too_many_auth_failures', { seconds: Math.ceil(wait / 1000) });
}

/** The caller's address, for holding back guessers (AuthLimiter). */
export function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one our proxy wrote; earlier ones come from the client and prove nothing.
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  // @hono/node-server hands the Node request over as env.incoming; app.request() in-process has none.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket.remoteAddress ?? 'in-process';
}

/** Route-level check against the permission table in shared/permissions.ts. */
export const requirePermission = (permission: Permission) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { role } = c.get('auth');
    if (!roleAllows(role, permission))
      throw new ApiError(403, 'forbidden', { role, required: permissions[permission] });
    await next();
  });
