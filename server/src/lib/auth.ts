import { type Permission, permissions, roleAllows } from '@rebound/shared';
import { createMiddleware } from 'hono/factory';
import { authenticate } from '../services/tokens';
import type { AppEnv } from './env';
import { ApiError } from './errors';

/** Resolves the bearer token to a workspace and role; every /api route runs behind it. */
export const requireToken = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('Authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const auth = match?.[1] ? await authenticate(c.var.db, match[1]) : undefined;
  if (!auth) {
    c.header('WWW-Authenticate', 'Bearer realm="rebound"');
    throw new ApiError(401, 'unauthorized');
  }
  c.set('auth', auth);
  if (!c.var.languageFromHeader) c.set('language', auth.workspaceLanguage);
  await next();
});

/** Route-level check against the permission table in shared/permissions.ts. */
export const requirePermission = (permission: Permission) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { role } = c.var.auth;
    if (!roleAllows(role, permission))
      throw new ApiError(403, 'forbidden', { role, required: permissions[permission] });
    await next();
  });
