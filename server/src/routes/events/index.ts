import { EventCursorSchema, errorMessage, type Language, schemaMessages } from '@rebound/shared';
import { streamSSE } from 'hono/streaming';
import { eventStreamTiming } from '../../config';
import type { Database } from '../../db/client';
import { createRouter } from '../../lib/create-app';
import { ApiError } from '../../lib/errors';
import { logError } from '../../lib/log';
import { timerDelay } from '../../lib/timers';
import { eventPage, eventsAfter, latestEventId, resolveCursor, toEvent } from '../../services/events';
import { onTokenRevoked, tokenIsLive } from '../../services/tokens';
import * as routes from './events.routes';

const BATCH = 200;

/**
 * Open streams one token may hold in one process: an agent's browser holds one; a few more for tabs and
 * integrations.
 */
export const MAX_STREAMS_PER_TOKEN = 10;
/**
 * Open streams one workspace may hold in one process, over all its tokens: an owner minting tokens cannot
 * hold the process's connections (an agent's browser holds one stream; 200 agents at once).
 */
export const MAX_STREAMS_PER_WORKSPACE = 200;
/** Seconds a refused client waits: a stream it closed is gone at once, a dropped one within a poll. */
const STREAMS_FULL_RETRY_SECONDS = 5;
/** Open streams by token and by workspace, per database (each app its own). */
const openStreams = new WeakMap<Database, { byToken: Map<number, number>; byWorkspace: Map<number, number> }>();

function take(counts: Map<number, number>, key: number): () => void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return () => {
    const left = (counts.get(key) ?? 1) - 1;
    if (left > 0) counts.set(key, left);
    else counts.delete(key);
  };
}

/** A place for one more stream, and what gives it back; the limit it reached when there is none. */
function holdStream(
  db: Database,
  workspaceId: number,
  tokenId: number,
): { letGo: () => void } | { full: 'token' | 'workspace' } {
  const streams = openStreams.get(db) ?? { byToken: new Map(), byWorkspace: new Map() };
  openStreams.set(db, streams);
  if ((streams.byToken.get(tokenId) ?? 0) >= MAX_STREAMS_PER_TOKEN) return { full: 'token' };
  if ((streams.byWorkspace.get(workspaceId) ?? 0) >= MAX_STREAMS_PER_WORKSPACE) return { full: 'workspace' };
  const token = take(streams.byToken, tokenId);
  const workspace = take(streams.byWorkspace, workspaceId);
  return {
    letGo: () => {
      token();
      workspace();
    },
  };
}

/**
 * The newest event id of a workspace, read once for all its streams in this process while fresh (half a
 * poll): an idle stream reads nothing of its own, so a workspace's many streams cost the API's thread
 * one small read a poll, not one each, and do not slow the other workspaces.
 */
const newestReads = new WeakMap<Database, Map<number, { at: number; read: Promise<number> }>>();
function newestEvent(db: Database, workspaceId: number, freshMs: number): Promise<number> {
  const reads = newestReads.get(db) ?? new Map<number, { at: number; read: Promise<number> }>();
  newestReads.set(db, reads);
  const last = reads.get(workspaceId);
  if (last && Date.now() - last.at < freshMs) return last.read;
  const read = latestEventId(db, workspaceId);
  reads.set(workspaceId, { at: Date.now(), read });
  // A failed read is not kept: the next poll reads again.
  read.catch(() => reads.delete(workspaceId));
  return read;
}

function wantsJson(accept: string, wait: string | undefined): boolean {
  if (wait === '0') return true;
  return /application\/json/i.test(accept) && !/text\/event-stream/i.test(accept);
}

interface StreamState {
  db: Database;
  workspaceId: number;
  tokenId: number;
  language: Language;
  after: number;
}

export const eventsRouter = createRouter().openapi(routes.streamEvents, async (c) => {
  const query = c.req.valid('query');
  const db = c.get('db');
  const { workspaceId, tokenId } = c.get('auth');
  const language = c.get('language');
  if (wantsJson(c.req.header('Accept') ?? '', query.wait)) {
    return c.json(await eventPage(db, workspaceId, query, language), 200);
  }

  // Resolved before the stream starts, so a failure here still gets the API's error answer.
  // The browser's reconnect cursor takes the same rule as `since`: one past 2^53 read as 0 replayed the history.
  const lastEventId = c.req.header('Last-Event-ID')?.trim();
  if (lastEventId && !EventCursorSchema.safeParse(lastEventId).success)
    throw new ApiError(422, 'validation_failed', {}, [
      { path: 'header.Last-Event-ID', message: schemaMessages.eventCursor[language] },
    ]);
  const cursor = lastEventId || query.since;
  const after = await resolveCursor(db, workspaceId, cursor);
  const state: StreamState = { db, workspaceId, tokenId, language, after };
  const { pollMs, heartbeatMs, tokenCheckMs } = eventStreamTiming();

  const held = holdStream(db, workspaceId, tokenId);
  if ('full' in held) {
    c.header('Retry-After', String(STREAMS_FULL_RETRY_SECONDS));
    throw new ApiError(429, held.full === 'token' ? 'too_many_event_streams' : 'too_many_workspace_event_streams', {
      open: held.full === 'token' ? MAX_STREAMS_PER_TOKEN : MAX_STREAMS_PER_WORKSPACE,
      seconds: STREAMS_FULL_RETRY_SECONDS,
    });
  }
  const { letGo } = held;

  c.header('X-Accel-Buffering', 'no');
  return streamSSE(
    c,
    async (stream) => {
      // Wakes the loop at once when the client goes away.
      let wake: (() => void) | undefined;
      stream.onAbort(() => wake?.());
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(done, timerDelay(ms));
          function done() {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      let revoked = false;
      const stopListening = onTokenRevoked((id) => {
        if (id !== state.tokenId) return;
        revoked = true;
        wake?.();
      });
      const open = () => !stream.aborted && !stream.closed && !revoked;
      // Asked before every batch, so a token revoked by another process gets no event after its revocation,
      // and at least every tokenCheckMs while idle, so its stream closes soon even when nothing happens.
      let lastCheck = Date.now();
      const checkToken = async () => {
        lastCheck = Date.now();
        if (!revoked && !(await tokenIsLive(state.db, state.tokenId))) revoked = true;
      };

      try {
        await stream.write(': connected\nretry: 3000\n\n');
        let lastWrite = Date.now();
        while (open()) {
          const newest = await newestEvent(state.db, state.workspaceId, pollMs / 2);
          const rows = newest > state.after ? await eventsAfter(state.db, state.workspaceId, state.after, BATCH) : [];
          if (rows.length > 0 || Date.now() - lastCheck >= tokenCheckMs) await checkToken();
          for (const row of rows) {
            if (!open()) break;
            await stream.writeSSE({
              id: String(row.id),
              event: row.type,
              data: JSON.stringify(toEvent(row, state.language)),
            });
            state.after = row.id;
            lastWrite = Date.now();
          }
          if (!open()) break;
          // Catching up on a long history: a turn of the event loop between batches lets other requests in.
          if (rows.length === BATCH) {
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          if (Date.now() - lastWrite >= heartbeatMs) {
            await stream.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          await pause(Math.min(pollMs, heartbeatMs, tokenCheckMs));
        }
        if (revoked && !stream.aborted && !stream.closed) {
          // The client's EventSource reconnects, gets 401 and stops.
          await stream.writeSSE({
            event: 'error',
            data: JSON.stringify({ code: 'unauthorized', message: errorMessage('unauthorized', state.language) }),
          });
        }
      } catch (error) {
        // Errors here never reach app.onError (the answer has started): log, tell the client without
        // internals, end the stream; the client reconnects with Last-Event-ID and loses nothing.
        logError('[rebound] event stream failed', error);
        if (open()) {
          await stream.writeSSE({
            event: 'error',
            data: JSON.stringify({ code: 'internal_error', message: errorMessage('internal_error', state.language) }),
          });
        }
      } finally {
        stopListening();
        letGo();
      }
    },
    async (error) => {
      logError('[rebound] event stream stopped', error);
    },
  );
});
