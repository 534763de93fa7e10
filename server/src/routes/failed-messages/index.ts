import type { FailedMessagePageSchema } from '@rebound/shared';
import type { Context, TypedResponse } from 'hono';
import type { z } from 'zod';
import { unconfirmedWindowMs } from '../../config';
import { createRouter } from '../../lib/create-app';
import type { AppEnv } from '../../lib/env';
import type { jsonTasks } from '../../lib/heavy-tasks';
import { countedByFilters } from '../../services/failure-summary';
import * as routes from './failed-messages.routes';

/**
 * The log and its summary run off the API's thread when there are threads: every agent's panel and
 * badge read them at once, and the driver's reads are synchronous. A page (a text search's too: it
 * reads LOG_SEARCH_BUDGET failures at most) or the kept counts go to the read thread; a summary the
 * kept counts cannot answer (by text, date, contact or kind) counts every matching failure, so it goes
 * to a heavy thread, where it waits its workspace's turn instead of delaying everyone's pages, and the
 * same summary asked again meanwhile joins it. Neither is refused with 429: both queue, each
 * workspace's behind its own.
 */
function readLog<K extends 'failures.page' | 'failures.summary'>(
  c: Context<AppEnv>,
  scans: boolean,
  task: K,
  args: Parameters<(typeof jsonTasks)[K]>[1],
) {
  const heavy = c.get('heavy');
  const db = c.get('db');
  const auth = c.get('auth');
  return scans ? heavy.run(db, auth.workspaceId, task, args, true) : heavy.read(db, auth.workspaceId, task, args);
}

/**
 * A page already made into JSON bytes where it was read (see failures.page), sent as they are. Typed as
 * the JSON answer the contract describes, which failures.page checks with `satisfies`.
 */
function jsonBytes<T>(c: Context<AppEnv>, bytes: Uint8Array<ArrayBuffer>) {
  return c.newResponse(bytes, 200, { 'Content-Type': 'application/json' }) as Response & TypedResponse<T, 200, 'json'>;
}

export const failedMessagesRouter = createRouter()
  .openapi(routes.failureSummary, async (c) => {
    const filters = c.req.valid('query');
    const summary = await readLog(c, !countedByFilters(filters), 'failures.summary', {
      workspaceId: c.get('auth').workspaceId,
      filters,
    });
    return c.json(summary, 200);
  })
  .openapi(routes.listFailedMessages, async (c) => {
    const { cursor, limit, ...filters } = c.req.valid('query');
    const language = c.get('language');
    const page = await readLog(c, false, 'failures.page', {
      workspaceId: c.get('auth').workspaceId,
      filters,
      page: { cursor, limit, language },
      windowMs: unconfirmedWindowMs(),
    });
    return jsonBytes<z.infer<typeof FailedMessagePageSchema>>(c, page);
  });
