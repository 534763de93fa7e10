import { createRouter } from '../../lib/create-app';
import { unconfirmedWindowMs } from '../../lib/unconfirmed';
import { failedMessagePage, failureSummary, toFailedMessage } from '../../services/failures';
import * as routes from './failed-messages.routes';

export const failedMessagesRouter = createRouter()
  .openapi(routes.failureSummary, async (c) => {
    return c.json(await failureSummary(c.var.db, c.var.auth.workspaceId, c.req.valid('query')), 200);
  })
  .openapi(routes.listFailedMessages, async (c) => {
    const { cursor, limit, ...filters } = c.req.valid('query');
    const language = c.var.language;
    const page = await failedMessagePage(c.var.db, c.var.auth.workspaceId, filters, { cursor, limit, language });
    const windowMs = unconfirmedWindowMs();
    return c.json(
      { data: page.rows.map((row) => toFailedMessage(row, language, windowMs)), nextCursor: page.nextCursor },
      200,
    );
  });
