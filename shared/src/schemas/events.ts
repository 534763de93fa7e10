/** The event stream: what happened to broadcasts, as server-sent events or pages for polling. */
import { z } from 'zod';
import { PauseSchema } from '../quality-guard';
import { queryInt, TimestampSchema } from './common';
import { schemaMessages } from './messages';

export const EVENT_TYPES = [
  'broadcast.scheduled',
  'broadcast.started',
  'broadcast.completed',
  'broadcast.partially_failed',
  'broadcast.failed',
  'broadcast.cancelled',
  'broadcast.paused',
  'broadcast.resumed',
  'messages.failed',
  'resend.scheduled',
  'resend.finished',
  'contact.opt_out_removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const int = z.number().int();
const name = z.string().meta({ description: "The broadcast's name." });
/** A broadcast's verdict: how many were sent (or delivered), failed, uncertain, left out. */
const verdict = z.object({
  name,
  previous: z.string().meta({ description: 'The status it had before.' }),
  sent: int,
  failed: int,
  uncertain: int,
  excluded: int,
});

/**
 * What each event type carries in `data`: one schema per type. The server writes events through these
 * types (server/src/engine/events.ts: recordEvent), and a test reads every event of real runs back through them.
 */
export const eventDataSchemas = {
  'broadcast.scheduled': z.object({ name, at: TimestampSchema, target: int, resendOfId: int.nullable().optional() }),
  'broadcast.started': z.object({ name, recipients: int, excluded: int }),
  'broadcast.completed': verdict,
  'broadcast.partially_failed': verdict,
  /** Failed as a whole before sending (errorCode: segment deleted, empty), or every recipient failed (the verdict). */
  'broadcast.failed': z.union([verdict, z.object({ name, errorCode: z.string() })]),
  'broadcast.cancelled': z.union([verdict, z.object({ name })]),
  /** The quality guard or a signal from Meta paused it; `pause` says why (as the broadcast's own field). */
  'broadcast.paused': z.object({ name, previous: z.string(), pause: PauseSchema }),
  'broadcast.resumed': z.object({ name, by: z.object({ tokenId: int, tokenName: z.string(), role: z.string() }) }),
  'messages.failed': z.object({
    name,
    count: int,
    byReason: z.record(z.string(), int),
    /** Reported by a delivery callback after the broadcast's verdict. */
    late: z.boolean().optional(),
  }),
  'resend.scheduled': z.object({
    name,
    originalId: int,
    originalName: z.string(),
    tagged: int,
    at: TimestampSchema,
    part: int,
    parts: int,
  }),
  'resend.finished': z.object({ name, originalId: int, status: z.string(), sent: int, failed: int }),
  'contact.opt_out_removed': z.object({
    name: z.string().optional(),
    contactId: int.optional(),
    channelId: int,
    channelName: z.string(),
    identifier: z.string(),
    note: z.string(),
    by: z.object({ tokenId: int, tokenName: z.string(), role: z.string() }),
    optOut: z.object({ at: TimestampSchema, source: z.string(), detail: z.string().nullable() }),
  }),
} satisfies Record<EventType, z.ZodType>;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export const EventSchema = z.object({
  id: z.number().int().meta({ description: 'Increasing; the SSE id and the polling cursor.' }),
  type: z.string().meta({ description: `One of ${EVENT_TYPES.join(', ')}.`, example: 'messages.failed' }),
  broadcastId: z.number().int().nullable(),
  data: z.record(z.string(), z.unknown()).meta({
    description:
      'Depends on the type: name (the broadcast), and for messages.failed count, byReason, late; for the ' +
      'verdicts sent, failed, uncertain, excluded; for broadcast.failed errorCode; for broadcast.started ' +
      'recipients, excluded; for broadcast.scheduled at, target.',
  }),
  createdAt: TimestampSchema,
  message: z.string().meta({
    description: 'What happened, in the language of the request.',
    example: 'Black Friday: 500 mensajes fallidos — Se alcanzó el límite diario del canal',
  }),
});
export type StreamEvent = z.infer<typeof EventSchema>;
/** A stream event as a client reads it: its `type` says what its `data` holds (a discriminated union). */
export type BroadcastEvent = {
  [T in EventType]: Omit<StreamEvent, 'type' | 'data'> & { type: T; data: EventData<T> };
}[EventType];

/** An event cursor: `since`, and the browser's Last-Event-ID when an EventSource reconnects. */
export const EventCursorSchema = z
  .string()
  .regex(/^(\d{1,16}|now)$/, schemaMessages.eventCursor.en)
  // Past the largest exact integer it would read as another event id (and replay the history).
  .refine((value) => value === 'now' || Number(value) <= Number.MAX_SAFE_INTEGER, schemaMessages.eventCursor.en)
  .meta({ description: 'The last event id seen (nextCursor); "now" for only new events; absent for all.' });

export const EventsQuerySchema = z.object({
  since: EventCursorSchema.optional(),
  wait: z
    .enum(['0'])
    .optional()
    .meta({ description: '0: answer at once with a JSON page of events (polling) instead of a stream.' }),
  limit: queryInt(1, 500, 100),
});
export type EventsQuery = z.infer<typeof EventsQuerySchema>;

export const EventPageSchema = z.object({
  data: z.array(EventSchema),
  nextCursor: z.string().meta({ description: 'Pass as since for the next poll; unchanged when nothing happened.' }),
  hasMore: z.boolean().meta({ description: 'true: more events are waiting, poll again right away.' }),
});
export type EventPage = z.infer<typeof EventPageSchema>;
