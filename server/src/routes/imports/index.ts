import { getImport, runContactImport } from '../../csv/import';
import { importView, rejectedRowsCsv } from '../../csv/import-report';
import { createRouter } from '../../lib/create-app';
import * as routes from './imports.routes';

export const importsRouter = createRouter()
  .openapi(routes.importContacts, async (c) => {
    const form = c.req.valid('form');
    const bytes = new Uint8Array(await form.file.arrayBuffer());
    const record = await runContactImport(c.var.db, c.var.auth, {
      fileName: form.file.name?.slice(0, 255) || null,
      bytes,
      options: {
        mode: form.mode,
        identifier: form.identifier,
        tags: form.tags,
        dryRun: form.dryRun,
        allOrNothing: form.allOrNothing,
        mapping: form.mapping,
      },
      language: c.var.language,
    });
    return c.json(importView(record, c.var.language), 201);
  })
  .openapi(routes.getImport, async (c) => {
    const record = await getImport(c.var.db, c.var.auth, c.req.valid('param').id);
    return c.json(importView(record, c.var.language), 200);
  })
  .openapi(routes.getRejectedCsv, async (c) => {
    const record = await getImport(c.var.db, c.var.auth, c.req.valid('param').id);
    const csv = rejectedRowsCsv(record, c.var.language, c.req.valid('query').bom);
    return c.body(csv, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="import-${record.id}-rejected.csv"`,
    });
  });
