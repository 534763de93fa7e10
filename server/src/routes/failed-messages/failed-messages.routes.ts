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
    'Every recipient that did not get a broadcast: failed at the provider, or left out before sending (no identifier, invalid identifier, duplicate). Filter by broadcast (repeat broadcastId), time, channel, reason or text.',
  security: bearer,
  middleware: [requirePermission('failures:read')] as const,
  request: { query: FailedMessagesQuerySchema },
  responses: { 200: jsonContent(FailedMessagePageSchema, 'A page of failed messages.'), ...errorResponses },
});

export const failureSummary = createRoute({
  method: 'get',
  path: '/failed-messages/summary',
  tags,
  summary: 'Failed messages counted by reason and channel, and how many a re-send can help now, later or never',
  security: bearer,
  middleware: [requirePermission('failures:read')] as const,
  request: { query: FailureFiltersSchema },
  responses: { 200: jsonContent(FailureSummarySchema, 'The summary.'), ...errorResponses },
});
