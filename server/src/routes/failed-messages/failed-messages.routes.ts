import { createRoute } from '@hono/zod-openapi';
import {
  FailedMessagePageSchema,
  FailedMessagesQuerySchema,
  FailureFiltersSchema,
  FailureSummarySchema,
} from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { bearer, errorResponses, jsonContent } from '../../lib/openapi';

const tags = ['Failures'];

export const listFailedMessages = createRoute({
  method: 'get',
  path: '/failed-messages',
  tags,
  summary: 'The failed-message log, newest first',
  description:
    "Every recipient that did not get a broadcast: failed (at the provider, or stopped by Rebound before sending: daily limit, 24 h window, opt-out), left out before sending (no identifier, invalid identifier, duplicate), or unconfirmed (the request may have reached the provider, but no answer or delivery report says whether it arrived; `retryAfter` says when a re-send may go to it). Filter by broadcast (repeat broadcastId), time (`from`/`to`: a day such as 2026-12-01 is that whole day in the workspace's time zone), channel, reason, kind (`subtype`) or text. `providerCode` and `providerMessage` are only ever the provider's own; Rebound's reasons are in `reason`, in the request's language. A text search (`q`) reads at most 10,000 failures per page, fewer for a longer text (letters typed times failures read within 30,000): its page may hold fewer rows than `limit`, even none, with a `nextCursor` to read on; follow `nextCursor` until it is null, as for any page.",
  security: bearer,
  middleware: [requirePermission('failures:read')] as const,
  request: { query: FailedMessagesQuerySchema },
  responses: {
    200: jsonContent(FailedMessagePageSchema, 'A page of failed messages.'),
    ...errorResponses,
  },
});

export const failureSummary = createRoute({
  method: 'get',
  path: '/failed-messages/summary',
  tags,
  summary: 'Failed messages counted by reason and channel, and how many a re-send can help now, later or never',
  description:
    'The same filters as the log. `unconfirmed` counts the messages that may have reached the provider with no answer or delivery report since (also in `byReason.uncertain`).',
  security: bearer,
  middleware: [requirePermission('failures:read')] as const,
  request: { query: FailureFiltersSchema },
  responses: { 200: jsonContent(FailureSummarySchema, 'The summary.'), ...errorResponses },
});
