import { createRoute, z } from '@hono/zod-openapi';
import { ErrorBodySchema, EVENT_TYPES, EventPageSchema, EventsQuerySchema } from '@rebound/shared';
import { requirePermission } from '../../lib/auth';
import { bearer, errorResponses, jsonContent } from '../../lib/openapi';

export const streamEvents = createRoute({
  method: 'get',
  path: '/events',
  tags: ['Events'],
  summary: 'What happens to broadcasts: server-sent events, or a JSON page for polling',
  description:
    'With `Accept: text/event-stream` (the default): a stream of server-sent events, each with `id` (the event id), ' +
    '`event` (the type) and `data` (the event as JSON, with `message` in the request language). Resume with the ' +
    '`Last-Event-ID` header (or `since`); `since=now` streams only new events. A comment line every 15 s keeps the ' +
    'connection open. With `wait=0` or `Accept: application/json`: one page of events after `since`, and the ' +
    '`nextCursor` to poll with next. Types: ' +
    EVENT_TYPES.join(', ') +
    '. Only the token’s workspace. A token holds at most 10 streams at once: past that, 429 `too_many_event_streams` with Retry-After.',
  security: bearer,
  middleware: [requirePermission('failures:read')] as const,
  request: {
    query: EventsQuerySchema,
    headers: z.object({
      'last-event-id': z
        .string()
        .optional()
        .meta({ description: 'The id of the last event received; the stream resumes after it.' }),
    }),
  },
  responses: {
    200: {
      content: {
        'application/json': { schema: EventPageSchema },
        'text/event-stream': { schema: z.string().meta({ description: 'id:, event:, data: lines per event.' }) },
      },
      description: 'A page of events (polling) or the event stream.',
    },
    ...errorResponses,
    429: {
      ...jsonContent(
        ErrorBodySchema,
        'The token already holds its most open streams: retry after Retry-After seconds.',
      ),
      headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'Seconds to wait.' } },
    },
  },
});
