import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { createRouter } from '../../lib/create-app';
import { jsonContent } from '../../lib/openapi';

const HealthSchema = z.object({ status: z.enum(['ok', 'degraded']), database: z.enum(['ok', 'unreachable']) });

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['Health'],
  summary: 'Liveness and database reachability',
  responses: {
    200: jsonContent(HealthSchema, 'Up, database answering.'),
    503: jsonContent(HealthSchema, 'Up, database not answering.'),
  },
});

export const healthRouter = createRouter().openapi(health, async (c) => {
  try {
    await c.get('db').run(sql`SELECT 1`);
    return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
  } catch {
    return c.json({ status: 'degraded' as const, database: 'unreachable' as const }, 503);
  }
});
