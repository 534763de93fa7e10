import { createRouter } from '../../lib/create-app';
import { notFound } from '../../lib/errors';
import * as tokens from '../../services/tokens';
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

export const meRouter = createRouter()
  .openapi(routes.getMe, (c) => {
    const { auth } = c.var;
    return c.json(
      {
        workspace: {
          id: auth.workspaceId,
          name: auth.workspaceName,
          language: auth.workspaceLanguage,
          defaultCountry: auth.defaultCountry,
        },
        role: auth.role,
        tokenName: auth.tokenName,
      },
      200,
    );
  })
  .openapi(routes.listTokens, async (c) => {
    const rows = await tokens.listTokens(c.var.db, c.var.auth.workspaceId);
    return c.json({ data: rows.map(toToken) }, 200);
  })
  .openapi(routes.createToken, async (c) => {
    const { name, role } = c.req.valid('json');
    const created = await tokens.createToken(c.var.db, c.var.auth.workspaceId, name, role);
    return c.json({ ...toToken(created), token: created.token }, 201);
  })
  .openapi(routes.revokeToken, async (c) => {
    const revoked = await tokens.revokeToken(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id);
    if (!revoked) throw notFound('token');
    return c.json({ ok: true as const }, 200);
  });
