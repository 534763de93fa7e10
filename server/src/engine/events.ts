import type { Database } from '../db/client';
import { events } from '../db/schema';

type Writer = Pick<Database, 'insert'>;

export type EventType =
  | 'broadcast.scheduled'
  | 'broadcast.started'
  | 'broadcast.completed'
  | 'broadcast.partially_failed'
  | 'broadcast.failed'
  | 'broadcast.cancelled'
  | 'messages.failed'
  | 'resend.scheduled'
  | 'resend.finished';

/** Records what happened; the event stream and notifications read these rows in id order. */
export async function recordEvent(
  db: Writer,
  event: {
    workspaceId: number;
    type: EventType;
    broadcastId?: number | null;
    data?: Record<string, unknown>;
    at: number;
  },
): Promise<void> {
  await db.insert(events).values({
    workspaceId: event.workspaceId,
    type: event.type,
    broadcastId: event.broadcastId ?? null,
    data: event.data ?? {},
    createdAt: event.at,
  });
}
