import { createRouter } from '../../lib/create-app';
import * as portfolios from '../../services/portfolios';
import * as routes from './portfolios.routes';

export const portfoliosRouter = createRouter()
  .openapi(routes.listPortfolios, async (c) => {
    return c.json({ data: await portfolios.listPortfolios(c.get('db'), c.get('auth').workspaceId) }, 200);
  })
  .openapi(routes.createPortfolio, async (c) => {
    return c.json(await portfolios.createPortfolio(c.get('db'), c.get('auth').workspaceId, c.req.valid('json')), 201);
  })
  .openapi(routes.getPortfolio, async (c) => {
    return c.json(await portfolios.getPortfolio(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id), 200);
  })
  .openapi(routes.updatePortfolio, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(
      await portfolios.updatePortfolio(c.get('db'), c.get('auth').workspaceId, id, c.req.valid('json')),
      200,
    );
  })
  .openapi(routes.deletePortfolio, async (c) => {
    await portfolios.deletePortfolio(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id);
    return c.json({ ok: true as const }, 200);
  });
