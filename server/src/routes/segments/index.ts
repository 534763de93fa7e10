import { createRouter } from '../../lib/create-app';
import * as segments from '../../services/segments';
import * as routes from './segments.routes';

export const segmentsRouter = createRouter()
  .openapi(routes.listSegments, async (c) => {
    return c.json({ data: await segments.listSegments(c.get('db'), c.get('auth').workspaceId) }, 200);
  })
  .openapi(routes.createSegment, async (c) => {
    return c.json(await segments.createSegment(c.get('db'), c.get('auth').workspaceId, c.req.valid('json')), 201);
  })
  .openapi(routes.getSegment, async (c) => {
    return c.json(await segments.getSegment(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id), 200);
  })
  .openapi(routes.updateSegment, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await segments.updateSegment(c.get('db'), c.get('auth').workspaceId, id, c.req.valid('json')), 200);
  })
  .openapi(routes.deleteSegment, async (c) => {
    await segments.deleteSegment(c.get('db'), c.get('auth').workspaceId, c.req.valid('param').id);
    return c.json({ ok: true as const }, 200);
  })
  .openapi(routes.previewSegment, async (c) => {
    const { workspaceId, defaultCountry } = c.get('auth');
    const args = {
      ws: { workspaceId, defaultCountry },
      id: c.req.valid('param').id,
      sample: c.req.valid('query').sample,
    };
    return c.json(await c.get('heavy').run(c.get('db'), workspaceId, 'segments.preview', args), 200);
  });
