import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '@rebound/shared';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { readRow } from '../db/fast-read';
import { apiTokens } from '../db/schema';
import type { AuthContext } from '../lib/env';

const PREFIX = 'rb_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a token and returns it in clear text this one time; only its hash is stored. */
export async function createToken(db: Database, workspaceId: number, name: string, role: Role) {
  const token = `${PREFIX}${randomBytes(24).toString('base64url')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ workspaceId, name, role, tokenHash: hashToken(token), prefix: token.slice(0, 8) })
    .returning();
  if (!row) throw new Error('token insert returned nothing');
  return { ...row, token };
}

/** The token lookup every API request makes (a statement kept prepared where the database allows). */
function tokenLookup(hash: string) {
  return sql`SELECT t.id AS tokenId, t.name AS tokenName, t.role AS role, t.last_used_at AS lastUsedAt,
      w.id AS workspaceId, w.name AS workspaceName, w.language AS workspaceLanguage, w.default_country AS defaultCountry
    FROM api_tokens t JOIN workspaces w ON w.id = t.workspace_id
    WHERE t.token_hash = ${hash} AND t.revoked_at IS NULL`;
}

/** Resolves a bearer token to its workspace and role, or undefined for an unknown or revoked token. */
export async function authenticate(db: Database, token: string): Promise<AuthContext | undefined> {
  if (!token.startsWith(PREFIX) || token.length > 200) return undefined;
  const row = await readRow<AuthContext & { lastUsedAt: number | null }>(db, tokenLookup(hashToken(token)));
  if (!row) return undefined;
  // Record use at most once a minute: a write on every request would serialize reads behind the writer.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt > 60_000) {
    await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.tokenId));
  }
  const { lastUsedAt: _lastUsedAt, ...auth } = row;
  return auth;
}

export function listTokens(db: Database, workspaceId: number) {
  return db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.workspaceId, workspaceId), isNull(apiTokens.revokedAt)))
    .orderBy(apiTokens.id);
}

/** Called with a token's id when this process revokes it: open event streams of that token close at once. */
const revocationListeners = new Set<(tokenId: number) => void>();

export function onTokenRevoked(listener: (tokenId: number) => void): () => void {
  revocationListeners.add(listener);
  return () => revocationListeners.delete(listener);
}

/** Whether the token still exists unrevoked: long-lived answers (event streams) ask again as they go. */
export async function tokenIsLive(db: Database, tokenId: number): Promise<boolean> {
  const rows = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)));
  return rows.length > 0;
}

export async function revokeToken(db: Database, workspaceId: number, tokenId: number): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.workspaceId, workspaceId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (rows.length === 0) return false;
  for (const listener of revocationListeners) listener(tokenId);
  return true;
}
