import type { Language, Role } from '@rebound/shared';
import type { Database } from '../db/client';

export interface AuthContext {
  workspaceId: number;
  workspaceName: string;
  workspaceLanguage: Language;
  defaultCountry: string;
  role: Role;
  tokenId: number;
  tokenName: string;
}

/** Hono context variables shared by every route. */
export interface AppEnv {
  Variables: {
    db: Database;
    /** Internal hosts channel base URLs may lead to (lib/provider-url.ts). */
    providerUrlAllowlist: readonly string[];
    language: Language;
    /** Set when Accept-Language named es, en or pt; otherwise the workspace language wins. */
    languageFromHeader: boolean;
    auth: AuthContext;
  };
}
