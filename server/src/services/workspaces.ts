import type { Language, Role } from '@rebound/shared';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { workspaces } from '../db/schema';
import { isCountryCode } from '../lib/phone';
import { createToken } from './tokens';

export interface NewWorkspace {
  name: string;
  language?: Language;
  defaultCountry?: string;
}

/** Creates a workspace with one token per requested role (an owner token at least). */
export async function createWorkspace(db: Database, input: NewWorkspace, roles: Role[] = ['owner']) {
  const defaultCountry = (input.defaultCountry ?? 'AR').toUpperCase();
  if (!isCountryCode(defaultCountry))
    throw new Error(`Unknown country code "${input.defaultCountry}"; use ISO 3166 alpha-2 such as AR, MX, CO, ES, BR.`);
  const [workspace] = await db
    .insert(workspaces)
    .values({ name: input.name, language: input.language ?? 'es', defaultCountry })
    .returning();
  if (!workspace) throw new Error('workspace insert returned nothing');
  const tokens = [];
  for (const role of roles) tokens.push(await createToken(db, workspace.id, `${role} token`, role));
  return { workspace, tokens };
}

/** The workspace's own settings (what a new broadcast inherits). */
export async function workspaceSettings(db: Database, workspaceId: number) {
  const [row] = await db
    .select({ autoRecovery: workspaces.autoRecovery })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  return { autoRecovery: row?.autoRecovery ?? 0 };
}

export async function updateWorkspaceSettings(db: Database, workspaceId: number, patch: { autoRecovery?: number }) {
  if (patch.autoRecovery !== undefined)
    await db.update(workspaces).set({ autoRecovery: patch.autoRecovery }).where(eq(workspaces.id, workspaceId));
  return workspaceSettings(db, workspaceId);
}
