import { createRouter } from '../../lib/create-app';
import type { AuthContext } from '../../lib/env';
import { notFound } from '../../lib/errors';
import * as tokens from '../../services/tokens';
import { updateWorkspaceSettings, workspaceSettings } from '../../services/workspaces';
import * as routes from './me.routes';

type TokenRow = Awaited<ReturnType<typeof tokens.listTokens>>[number];
const toToken = (row: TokenRow) => ({
  id: row.id,
  name: row.name,
  role: row.role,
  prefix: row.prefix,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
});

function me(auth: AuthContext, settings: { autoRecovery: number }) {
  return {
    workspace: {
      id: auth.workspaceId,
      name: auth.workspaceName,
      language: auth.workspaceLanguage,
      defaultCountry: auth.defaultCountry,
      autoRecovery: settings.autoRecovery,
    },
    role: auth.role,
    tokenName: auth.tokenName,
  };
}

export const meRouter = createRouter()
  .openapi(routes.getMe, async (c) =>
    c.json(await me(c.get('auth'), await workspaceSettings(c.get('db'), c.get('auth').workspaceId)), 200),
  )
  .openapi(routes.updateWorkspace, async (c) => {
    const settings = await updateWorkspaceSettings(c.get('db'), c.get('auth').workspaceId, c.req.valid('json'));
    return c.json(me(c.get('auth'), settings), 200);
  })
  .openapi(routes.listTokens, async (c) => {
    const rows = await tokens.listTokens(c.get('db'), c.get('auth').workspaceId);
    return c.json({ data: rows.map(toToken) }, 200);
  })
  .openapi(routes.createToken, async (c) => {
    const { name, role } = c.req.valid('json');
    const created = await tokens.createToken(c.get('db'), c.get('auth').workspaceId, name, role);
    return c.json({ ...toToken(created), token: created.token }, 201);
  })
  .openapi(routes.revokeToken, async (c) => {
    const revoked = await tokens.revokeToken(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id);
    if (!revoked) throw notFound('token');
    return c.json({ ok: true as const }, 200);
  });
