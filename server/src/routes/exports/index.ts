import type { Context } from 'hono';
import { createRouter } from '../../lib/create-app';
import type { AppEnv } from '../../lib/env';
import type { HeavyFile } from '../../lib/heavy';
import { resolveFilters } from '../../services/failure-query';
import * as routes from './exports.routes';

function csvResponse(c: Context<AppEnv>, file: HeavyFile): Response {
  return c.body(file.stream, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${file.filename}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
}

// Both files are made on a heavy thread: the reads and the CSV writing stay off the API's event loop.
export const exportsRouter = createRouter()
  .openapi(routes.exportFailedMessages, async (c) => {
    const { bom, ...filters } = c.req.valid('query');
    // What the log would refuse (dates the wrong way round) is refused before the file starts.
    await resolveFilters(c.get('db'), c.get('auth').workspaceId, filters);
    const file = await c.get('heavy').open(c.get('db'), c.get('auth').workspaceId, 'exports.failedMessages', {
      workspaceId: c.get('auth').workspaceId,
      filters,
      options: { language: c.get('language'), bom },
    });
    return csvResponse(c, file);
  })
  .openapi(routes.exportContacts, async (c) => {
    const { bom, tag } = c.req.valid('query');
    const file = await c.get('heavy').open(c.get('db'), c.get('auth').workspaceId, 'exports.contacts', {
      workspaceId: c.get('auth').workspaceId,
      filters: { tag },
      options: { language: c.get('language'), bom, maxKeys: c.get('heavy').maxCustomFieldKeys },
    });
    return csvResponse(c, file);
  });
