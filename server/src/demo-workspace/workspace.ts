import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { workspaces } from '../db/schema';
import { createWorkspace } from '../services/workspaces';

export interface DemoCredentials {
  workspaceId: number;
  tokens: Record<'owner' | 'manager' | 'agent', string>;
}

const DEMO_NAME = 'Rebound demo';

/**
 * Makes sure the demo workspace exists. Tokens are stored hashed, so the clear-text demo tokens are
 * kept in a local file beside the database to print them again on the next start.
 */
export async function ensureDemoWorkspace(db: Database, credentialsFile: string): Promise<DemoCredentials> {
  if (existsSync(credentialsFile)) {
    const saved = JSON.parse(readFileSync(credentialsFile, 'utf8')) as DemoCredentials;
    const [row] = await db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, saved.workspaceId));
    if (row) return saved;
  }
  const { workspace, tokens } = await createWorkspace(db, { name: DEMO_NAME, language: 'es', defaultCountry: 'AR' }, [
    'owner',
    'manager',
    'agent',
  ]);
  const byRole = Object.fromEntries(tokens.map((t) => [t.role, t.token])) as DemoCredentials['tokens'];
  const credentials = { workspaceId: workspace.id, tokens: byRole };
  writeFileSync(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}
