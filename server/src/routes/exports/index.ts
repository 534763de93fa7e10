import type { Context } from 'hono';
import { type CsvExport, contactsCsv, failedMessagesCsv } from '../../csv/export';
import { createRouter } from '../../lib/create-app';
import type { AppEnv } from '../../lib/env';
import * as routes from './exports.routes';

function csvResponse(c: Context<AppEnv>, file: CsvExport): Response {
  return c.body(file.stream, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${file.filename}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
}

export const exportsRouter = createRouter()
  .openapi(routes.exportFailedMessages, (c) => {
    const { bom, ...filters } = c.req.valid('query');
    const file = failedMessagesCsv(c.var.db, c.var.auth.workspaceId, filters, { language: c.var.language, bom });
    return csvResponse(c, file);
  })
  .openapi(routes.exportContacts, async (c) => {
    const { bom, tag } = c.req.valid('query');
    const file = await contactsCsv(c.var.db, c.var.auth.workspaceId, { tag }, { language: c.var.language, bom });
    return csvResponse(c, file);
  });
