import type { EventData, EventType } from '@rebound/shared';
import type { Database } from '../db/client';
import { events } from '../db/schema';

type Writer = Pick<Database, 'insert'>;

/** Records what happened; the event stream and notifications read these rows in id order. */
export async function recordEvent<T extends EventType>(
  db: Writer,
  event: {
    workspaceId: number;
    type: T;
    broadcastId?: number | null;
    /** The type's payload, as shared/src/schemas/events.ts describes it. */
    data: EventData<T>;
    at: number;
  },
): Promise<void> {
  await db.insert(events).values({
    workspaceId: event.workspaceId,
    type: event.type,
    broadcastId: event.broadcastId ?? null,
    data: event.data,
    createdAt: event.at,
  });
}
