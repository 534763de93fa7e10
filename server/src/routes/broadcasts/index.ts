import { createRouter } from '../../lib/create-app';
import * as broadcasts from '../../services/broadcasts';
import * as routes from './broadcasts.routes';

export const broadcastsRouter = createRouter()
  .openapi(routes.listBroadcasts, async (c) => {
    return c.json(
      await broadcasts.listBroadcasts(c.var.db, c.var.auth.workspaceId, c.req.valid('query'), c.var.language),
      200,
    );
  })
  .openapi(routes.createBroadcast, async (c) => {
    const row = await broadcasts.createBroadcast(c.var.db, c.var.auth.workspaceId, c.req.valid('json'));
    return c.json(await broadcasts.toBroadcast(c.var.db, row, c.var.language), 201);
  })
  .openapi(routes.getBroadcast, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await broadcasts.getBroadcast(c.var.db, c.var.auth.workspaceId, id, c.var.language), 200);
  })
  .openapi(routes.updateBroadcast, async (c) => {
    const row = await broadcasts.updateBroadcast(c.var.db, c.var.auth, c.req.valid('param').id, c.req.valid('json'));
    return c.json(await broadcasts.toBroadcast(c.var.db, row, c.var.language), 200);
  })
  .openapi(routes.scheduleBroadcast, async (c) => {
    // An empty body means "now".
    const text = await c.req.text();
    const body = routes.scheduleBroadcast.request.body.content['application/json'].schema.safeParse(
      text ? JSON.parse(text) : {},
    );
    if (!body.success) {
      const { ApiError } = await import('../../lib/errors');
      throw new ApiError(
        422,
        'validation_failed',
        {},
        body.error.issues.map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message })),
      );
    }
    const at = body.data.at ? new Date(body.data.at) : undefined;
    const row = await broadcasts.scheduleBroadcast(c.var.db, c.var.auth, c.req.valid('param').id, at);
    return c.json(await broadcasts.toBroadcast(c.var.db, row, c.var.language), 200);
  })
  .openapi(routes.cancelBroadcast, async (c) => {
    const row = await broadcasts.cancelBroadcast(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id);
    return c.json(await broadcasts.toBroadcast(c.var.db, row, c.var.language), 200);
  })
  .openapi(routes.preflight, async (c) => {
    return c.json(await broadcasts.preflight(c.var.db, c.var.auth, c.req.valid('param').id, c.var.language), 200);
  });
