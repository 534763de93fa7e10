/**
 * Follows the server's event stream while the service worker lives; an alarm polls when it does not
 * (Chromium stops an idle worker after about 30 s). Both resume from the last event id seen, so nothing
 * is missed and nothing is handled twice.
 */
import type { BroadcastEvent } from '@rebound/shared';
import { createParser } from 'eventsource-parser';
import type { Api } from '../lib/api';
import { eventCursorItem, settingsItem } from '../lib/settings';

export type EventHandler = (event: BroadcastEvent) => Promise<void>;

export interface EventSink {
  /**
   * Events `from` brought (a poll or the stream). Dropped whole when the extension is connected to another
   * server or token by the time their turn comes: a poll sent before a switch answers after it, and its
   * events would raise notifications about another workspace's broadcasts and move the new cursor.
   */
  take(events: BroadcastEvent[], from: Api): Promise<void>;
  /** A first connection's starting point, from `from`'s answer; kept only if nothing else set one meanwhile. */
  startAt(cursor: string | null, from: Api): Promise<void>;
  /** Runs `change` between two batches: switching servers never lands in the middle of one. */
  between<T>(change: () => Promise<T>): Promise<T>;
}

/**
 * Handles events strictly in order and after the cursor, whichever path (stream or poll) brought them;
 * `settled` runs once after each batch with the events it handled (none: not at all).
 */
export function createEventSink(
  handle: EventHandler,
  settled?: (events: BroadcastEvent[]) => Promise<void>,
): EventSink {
  let queue = Promise.resolve();
  function inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work);
    // The queue goes on after a failure (storage refused, say): the next poll brings the events again.
    queue = next.then(
      () => undefined,
      (error: unknown) => console.warn('Rebound: events not handled', (error as Error).message),
    );
    return next;
  }
  return {
    between: inTurn,
    startAt: (cursor, from) =>
      inTurn(async () => {
        if (from.isFor(await settingsItem.getValue()) && (await eventCursorItem.getValue()) === null)
          await eventCursorItem.setValue(cursor);
      }),
    take: (events, from) =>
      inTurn(async () => {
        if (!from.isFor(await settingsItem.getValue())) return;
        const cursor = Number((await eventCursorItem.getValue()) ?? 0);
        const handled: BroadcastEvent[] = [];
        for (const event of events) {
          if (event.id <= cursor && cursor !== 0) continue;
          try {
            await handle(event);
          } catch (error) {
            console.warn('Rebound: an event could not be handled', event.type, (error as Error).message);
          }
          handled.push(event);
          await eventCursorItem.setValue(String(event.id));
        }
        if (handled.length > 0 && settled) {
          await settled(handled).catch((error: unknown) =>
            console.warn('Rebound: events handled, the count not read again', (error as Error).message),
          );
        }
      }),
  };
}

/** Reads pages until the server says there is no more. */
export async function pollEvents(api: Api, sink: EventSink): Promise<void> {
  for (let page = 0; page < 20; page++) {
    const since = await eventCursorItem.getValue();
    const result = await api.events(since);
    if (result.data.length > 0) await sink.take(result.data, api);
    else if (since === null) await sink.startAt(result.nextCursor, api);
    if (!result.hasMore) return;
  }
}

/** The live stream until it ends or is aborted; throws on a network or HTTP error so the caller can back off. */
export async function followStream(api: Api, sink: EventSink, signal: AbortSignal): Promise<void> {
  const response = await api.eventStream(await eventCursorItem.getValue(), signal);
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) return;
  const parser = createParser({
    onEvent(message) {
      if (!message.data) return;
      try {
        const event = JSON.parse(message.data) as BroadcastEvent;
        // Only broadcast events carry an id; the stream's own notices (errors, keep-alives) do not.
        if (typeof event.id === 'number') sink.take([event], api).catch(() => undefined);
      } catch {
        // A line we cannot read is skipped; the next poll reads the same event from the JSON page.
      }
    },
  });
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(value);
  }
}

/**
 * Where the server's events stand now: a new connection starts there, so an agent is not flooded with
 * the workspace's history (read before anything is switched to it).
 */
export async function cursorAtNow(api: Api): Promise<string | null> {
  return (await api.events('now')).nextCursor;
}
