import { createRouter } from '../../lib/create-app';
import * as segments from '../../services/segments';
import * as routes from './segments.routes';

export const segmentsRouter = createRouter()
  .openapi(routes.listSegments, async (c) => {
    return c.json({ data: await segments.listSegments(c.var.db, c.var.auth.workspaceId) }, 200);
  })
  .openapi(routes.createSegment, async (c) => {
    return c.json(await segments.createSegment(c.var.db, c.var.auth.workspaceId, c.req.valid('json')), 201);
  })
  .openapi(routes.getSegment, async (c) => {
    return c.json(await segments.getSegment(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id), 200);
  })
  .openapi(routes.updateSegment, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await segments.updateSegment(c.var.db, c.var.auth.workspaceId, id, c.req.valid('json')), 200);
  })
  .openapi(routes.deleteSegment, async (c) => {
    await segments.deleteSegment(c.var.db, c.var.auth.workspaceId, c.req.valid('param').id);
    return c.json({ ok: true as const }, 200);
  })
  .openapi(routes.previewSegment, async (c) => {
    const { workspaceId, defaultCountry } = c.var.auth;
    const args = {
      ws: { workspaceId, defaultCountry },
      id: c.req.valid('param').id,
      sample: c.req.valid('query').sample,
    };
    return c.json(await c.var.heavy.run(c.var.db, workspaceId, 'segments.preview', args), 200);
  });
