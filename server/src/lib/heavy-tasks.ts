/**
 * The heavy reads (contact search, segment preview, pre-flight, a re-send's preview, duplicates, CSV exports) by name, so they can run on a worker
 * thread with a connection of its own: the local libSQL driver is synchronous, and a 200,000-row scan
 * on the API's thread would hold every other request (another workspace's /health included) behind it.
 * This module is also the worker's body: loaded on a heavy thread, it answers the API thread's messages.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type {
  ContactExportQuery,
  FailedMessagePageSchema,
  FailureFilters,
  Language,
  ResendBody,
  Role,
} from '@rebound/shared';
import { drizzle } from 'drizzle-orm/libsql';
import type { z } from 'zod';
import { contactsCsv, failedMessagesCsv } from '../csv/export';
import { type Database, databaseClient, localFilePath, serializeWrites } from '../db/client';
import { attachFastReads } from '../db/fast-read';
import * as schema from '../db/schema';
import { preflight } from '../services/broadcast-preflight';
import { cancelBroadcast, scheduleBroadcast, toBroadcast, updateBroadcast } from '../services/broadcasts';
import { type ContactSearch, findDuplicates, searchContacts } from '../services/contacts';
import { failedMessagePage, failureSummary, toFailedMessage } from '../services/failures';
import { cancelResend, resendFailed } from '../services/resend';
import { previewSegment } from '../services/segments';
import { ApiError } from './errors';

interface Scope {
  workspaceId: number;
  defaultCountry: string;
}

const utf8 = new TextEncoder();

/**
 * A page of the failed-message log as the API answers it (rows already in the agent's language): the
 * JSON's UTF-8 bytes, the body as it is sent.
 */
async function failedLogPage(
  db: Database,
  a: {
    workspaceId: number;
    filters: FailureFilters;
    page: { cursor?: string | undefined; limit: number; language: Language };
    windowMs: number;
  },
) {
  const page = await failedMessagePage(db, a.workspaceId, a.filters, a.page);
  // As the bytes the API sends: made here, they cross the thread boundary without a copy (moved, not
  // cloned) and the API's thread writes them as they are, to every caller that asked for this page at
  // once, instead of encoding a 40 KB string again for each; not 50 rows' objects copied over and
  // stringified on the API's thread either.
  return utf8.encode(
    JSON.stringify({
      data: page.rows.map((row) => toFailedMessage(row, a.page.language, a.windowMs)),
      nextCursor: page.nextCursor,
    } satisfies z.infer<typeof FailedMessagePageSchema>),
  );
}

/** Tasks answering one JSON value. */
export const jsonTasks = {
  // The log and its summary are read by every agent's panel and badge, many at once: on these threads
  // the driver's synchronous reads never hold the API's event loop (and the reads get a second core).
  'failures.page': failedLogPage,
  'failures.summary': (db: Database, a: { workspaceId: number; filters: FailureFilters }) =>
    failureSummary(db, a.workspaceId, a.filters),
  'contacts.search': (db: Database, a: { ws: Scope; search: ContactSearch }) => searchContacts(db, a.ws, a.search),
  'segments.preview': (db: Database, a: { ws: Scope; id: number; sample: number }) =>
    previewSegment(db, a.ws, a.id, a.sample),
  // Each reads its whole audience or every contact of the workspace: a scan, like a preview.
  'broadcasts.preflight': (db: Database, a: { ws: Scope; id: number; language: Language }) =>
    preflight(db, a.ws, a.id, a.language),
  'contacts.duplicates': (db: Database, a: { ws: Scope }) => findDuplicates(db, a.ws),
  // What a re-send would do reads every failure of the broadcast (and their contacts' countries): a scan
  // the panel asks for again at each change of the agent's choices. A dry run writes nothing.
  'broadcasts.resendPreview': (
    db: Database,
    a: { ws: Scope & { language: Language; role: Role }; id: number; body: ResendBody },
  ) => resendFailed(db, a.ws, a.id, { ...a.body, dryRun: true }),
  // Scheduling for later remembers who the segment holds now (S2): one row per contact, a million for a
  // big segment, written with its count in one transaction: here, the API's thread answers meanwhile.
  'broadcasts.schedule': async (db: Database, a: { ws: Scope; id: number; at?: string; language: Language }) =>
    toBroadcast(
      db,
      await scheduleBroadcast(db, a.ws, a.id, a.at === undefined ? undefined : new Date(a.at)),
      a.language,
    ),
  // A new segment on a scheduled broadcast writes its audience down again, as scheduling does.
  'broadcasts.update': async (
    db: Database,
    a: { ws: Scope; id: number; patch: Parameters<typeof updateBroadcast>[3]; language: Language },
  ) => toBroadcast(db, await updateBroadcast(db, a.ws, a.id, a.patch), a.language),
  // Stopping a broadcast that sends cancels every message it still has queued (a million for a big one,
  // in one transaction with its counts) and, for a re-send, looks for recipients it never reached.
  'broadcasts.cancel': async (db: Database, a: { workspaceId: number; id: number; language: Language }) =>
    toBroadcast(db, await cancelBroadcast(db, a.workspaceId, a.id), a.language),
  // Taking a re-send back looks, as a stopped one does, for what it frees.
  'broadcasts.cancelResend': (db: Database, a: { workspaceId: number; id: number; resendIds?: number[] }) =>
    cancelResend(db, a.workspaceId, a.id, a.resendIds),
  // The click itself reads as much as its preview, then writes the plan in short transactions: here, the
  // API's thread is never held for the seconds a re-send of 200,000 takes. Never shared: each click is its own.
  'broadcasts.resend': (
    db: Database,
    a: { ws: Scope & { language: Language; role: Role }; id: number; body: ResendBody },
  ) => resendFailed(db, a.ws, a.id, a.body),
};

interface ExportOptions {
  language: Language;
  bom?: boolean | undefined;
}

/** Tasks answering a file: its name first (errors before the first byte are still JSON errors), then bytes. */
export const streamTasks = {
  'exports.contacts': (
    db: Database,
    a: { workspaceId: number; filters: Pick<ContactExportQuery, 'tag'>; options: ExportOptions & { maxKeys: number } },
  ) => contactsCsv(db, a.workspaceId, a.filters, a.options),
  'exports.failedMessages': async (
    db: Database,
    a: { workspaceId: number; filters: FailureFilters; options: ExportOptions },
  ) => failedMessagesCsv(db, a.workspaceId, a.filters, a.options),
};

export type JsonTask = keyof typeof jsonTasks;
export type StreamTask = keyof typeof streamTasks;

/** What crosses the thread boundary instead of an Error: an ApiError keeps its status, code and details. */
export type WireError =
  | { api: { status: number; code: string; params: Record<string, string | number>; details?: unknown } }
  | { message: string };

export function toWire(error: unknown): WireError {
  if (error instanceof ApiError)
    return { api: { status: error.status, code: error.code, params: error.params, details: error.details } };
  return { message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

export function fromWire(error: WireError): Error {
  if ('api' in error) {
    const { status, code, params, details } = error.api;
    return new ApiError(status as ApiError['status'], code as ApiError['code'], params, details);
  }
  return new Error(`heavy thread: ${error.message}`);
}

export type ToWorker =
  | { type: 'run'; id: number; task: string; args: unknown }
  | { type: 'pull'; id: number }
  | { type: 'cancel'; id: number }
  /** The API thread's write turn the run asked for is its own now (or could not be had). */
  | { type: 'turn'; id: number; refused?: string }
  | { type: 'close'; id: 0 };
export type FromWorker =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'chunk'; id: number; value: Uint8Array }
  | { type: 'end'; id: number }
  /** A run that writes asks for the API thread's write turn before each write, and gives it back. */
  | { type: 'turn'; id: number }
  | { type: 'turnDone'; id: number };

/**
 * Tasks that never wait their turn behind scans: a manager's stop, while the broadcast it stops keeps
 * sending; an agent taking a re-send back, before it starts. Handed to the first free thread before any
 * queued run (HeavyPool's urgent turns).
 */
export const URGENT_TASKS: ReadonlySet<string> = new Set<JsonTask>(['broadcasts.cancel', 'broadcasts.cancelResend']);

/** The tasks that write (the rest only read): their writes take the API thread's write turn. */
const WRITING_TASKS: ReadonlySet<string> = new Set<JsonTask>([
  'broadcasts.cancel',
  'broadcasts.cancelResend',
  'broadcasts.resend',
  'broadcasts.schedule',
  'broadcasts.update',
]);

/**
 * The API thread's write turn for this thread's writes, asked for by the run that writes: one at a time
 * per heavy thread (runs that write are handed one per thread). Without a writing run, none is asked.
 */
function writeTurns(port: MessagePort) {
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let writer: number | undefined;
  return {
    /** The run whose writes ask for the turn, from its start to its end. */
    set writer(id: number | undefined) {
      writer = id;
    },
    answer(message: Extract<ToWorker, { type: 'turn' }>) {
      const asked = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.refused) asked?.reject(new Error(`no write turn: ${message.refused}`));
      else asked?.resolve();
    },
    async take(): Promise<() => void> {
      const id = writer;
      if (id === undefined) return () => undefined;
      await new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        port.postMessage({ type: 'turn', id } satisfies FromWorker);
      });
      return () => port.postMessage({ type: 'turnDone', id } satisfies FromWorker);
    },
  };
}

export interface HeavyThreadData {
  heavyThread: { url: string; authToken?: string | undefined };
  /** Short reads a panel waits for keep the API's priority; scans and exports yield to it. */
  interactive?: boolean;
}

/** Bytes that own their whole buffer are moved to the API's thread instead of copied. */
function movable(value: unknown): ArrayBuffer[] {
  return value instanceof Uint8Array && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength
    ? [value.buffer as ArrayBuffer]
    : [];
}

function serve(port: MessagePort, db: Database, turns: ReturnType<typeof writeTurns>, close: () => void) {
  const readers = new Map<number, ReadableStreamDefaultReader<Uint8Array>>();
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  port.on('message', async (message: ToWorker) => {
    const { id } = message;
    if (message.type === 'turn') return turns.answer(message);
    if (message.type === 'close') {
      // Ends the thread by letting its loop empty: terminating it mid-query can crash the native driver.
      for (const reader of readers.values()) await reader.cancel().catch(() => undefined);
      close();
      port.close();
      return;
    }
    try {
      if (message.type === 'run') {
        if (message.task in jsonTasks) {
          const run = jsonTasks[message.task as JsonTask] as (db: Database, args: unknown) => Promise<unknown>;
          const writes = WRITING_TASKS.has(message.task);
          if (writes) turns.writer = id;
          try {
            const value = await run(db, message.args);
            post({ type: 'result', id, value }, movable(value));
          } finally {
            if (writes) turns.writer = undefined;
          }
        } else {
          const open = streamTasks[message.task as StreamTask] as (
            db: Database,
            args: unknown,
          ) => Promise<{ filename: string; stream: ReadableStream<Uint8Array> }>;
          const file = await open(db, message.args);
          readers.set(id, file.stream.getReader());
          post({ type: 'result', id, value: { filename: file.filename } });
        }
      } else if (message.type === 'pull') {
        const reader = readers.get(id);
        if (!reader) return;
        const next = await reader.read();
        if (next.done) {
          readers.delete(id);
          post({ type: 'end', id });
        } else {
          const { value } = next;
          post({ type: 'chunk', id, value }, movable(value));
        }
      } else {
        const reader = readers.get(id);
        readers.delete(id);
        await reader?.cancel();
      }
    } catch (error) {
      readers.delete(id);
      post({ type: 'error', id, error: toWire(error) });
    }
  });
}

/**
 * Linux lets a thread have its own nice value: the heavy thread (and the import thread) yields the CPU
 * to the API's thread, so a scan slows down under load instead of every other request. Elsewhere the
 * thread keeps its priority.
 */
export function lowerThreadPriority() {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) setPriority(tid, 5);
  } catch {
    // not Linux
  }
}

const data = workerData as Partial<HeavyThreadData> | undefined;
if (!isMainThread && parentPort && data?.heavyThread) {
  if (!data.interactive) lowerThreadPriority();
  // Connections of this thread's own (no migrations: the API thread ran them). Mostly reads; a re-send
  // writes, through serializeWrites as the import thread does: a local file's writes get a client of
  // their own, and a connection that waited out a lock is renewed.
  const open = () => databaseClient(data.heavyThread?.url ?? '', data.heavyThread?.authToken);
  const client = open();
  const writer = client.protocol === 'file' ? open() : undefined;
  // Each write waits for the API thread's write turn (a local file only), as the import thread's do.
  const turns = writeTurns(parentPort);
  const serialized = serializeWrites(client, {
    writer,
    turn: client.protocol === 'file' ? () => turns.take() : undefined,
  });
  const db = drizzle(serialized, { schema });
  const detachFastReads = attachFastReads(db, localFilePath(data.heavyThread.url));
  serve(parentPort, db, turns, () => {
    detachFastReads();
    serialized.close();
  });
}
