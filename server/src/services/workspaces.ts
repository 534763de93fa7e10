import type { Language, Role } from '@rebound/shared';
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
