/**
 * The import thread: the passes of a CSV import (read and check the file, look every row up, write the
 * plan in one transaction) on a worker thread with a database connection of its own. The local libSQL
 * driver is synchronous and a 150,000-row file is seconds of parsing and writing: on the API's thread it
 * would hold every other request (another workspace's /health included) behind it. The API thread keeps
 * the upload, the import row's heartbeat and progress, and its write turn, which it lends the thread
 * while the import writes. This module is also the thread's body.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, type MessagePort, parentPort, Worker, workerData } from 'node:worker_threads';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { type Database, databaseClient, lentWriteTurn, serializeWrites } from '../db/client';
import * as schema from '../db/schema';
import { imports } from '../db/schema';
import { fromWire, lowerThreadPriority, toWire, type WireError } from '../lib/heavy-tasks';
import { type ImportRun, planAndWrite, type ScanInput, type ScannedFile, scanImportFile } from './import';

type ToThread =
  | { type: 'scan'; id: number; input: ScanInput }
  | { type: 'execute'; id: number; run: ImportRun }
  /** The write turn the import asked for is its own now (or could not be had). */
  | { type: 'turn'; id: number; refused?: string }
  | { type: 'close'; id: 0 };
type FromThread =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'progress'; id: number; processed: number }
  /** Asks for the API thread's write turn before the import writes. */
  | { type: 'turn'; id: number }
  /** Gives the write turn back. */
  | { type: 'turnDone'; id: number };

export interface ImportThreadData {
  importThread: { url: string; authToken?: string | undefined };
}

/** How long an idle import thread stays up for the next import (the upload's scan, then its run). */
const IDLE_MS = 10_000;

interface Thread {
  worker: Worker;
  tasks: Map<number, (message: FromThread) => void>;
}

/** One worker thread for a database's imports, started on first use and ended when idle a while. */
export class ImportThread {
  #current: Thread | undefined;
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;

  constructor(private readonly data: ImportThreadData) {}

  #start(): Thread {
    const worker = new Worker(fileURLToPath(new URL('./import-thread-entry.mjs', import.meta.url)), {
      workerData: this.data,
    });
    // An idle thread never keeps the process alive; a running import's row is settled if the process ends.
    worker.unref();
    const thread: Thread = { worker, tasks: new Map() };
    const fail = (message: string) => {
      if (this.#current === thread) this.#current = undefined;
      for (const [id, handle] of [...thread.tasks]) handle({ type: 'error', id, error: { message } });
    };
    worker.on('message', (message: FromThread) => thread.tasks.get(message.id)?.(message));
    worker.on('error', (error) => fail(error.stack ?? error.message));
    worker.on('exit', (code) => fail(`the import thread exited (code ${code})`));
    this.#current = thread;
    return thread;
  }

  /** Runs a task on the thread; messages before its answer go to `on`. */
  #run(
    message: Extract<ToThread, { type: 'scan' | 'execute' }>,
    on: (message: FromThread, worker: Worker) => void = () => undefined,
  ): Promise<unknown> {
    clearTimeout(this.#idle);
    const thread = this.#current ?? this.#start();
    return new Promise((resolve, reject) => {
      thread.tasks.set(message.id, (answer) => {
        if (answer.type !== 'result' && answer.type !== 'error') return on(answer, thread.worker);
        thread.tasks.delete(message.id);
        if (thread.tasks.size === 0 && this.#current === thread) {
          clearTimeout(this.#idle);
          this.#idle = setTimeout(() => this.#close(thread), IDLE_MS).unref();
        }
        if (answer.type === 'result') resolve(answer.value);
        else reject(fromWire(answer.error));
      });
      thread.worker.postMessage(message);
    });
  }

  /** Lets the idle thread close its connection and end (terminating it mid-query can crash the driver). */
  #close(thread: Thread): void {
    if (this.#current !== thread || thread.tasks.size > 0) return;
    this.#current = undefined;
    thread.worker.postMessage({ type: 'close', id: 0 } satisfies ToThread);
  }

  /** The first pass, on the thread: file-level problems reject with their ApiError. */
  async scan(input: ScanInput): Promise<ScannedFile> {
    return (await this.#run({ type: 'scan', id: this.#nextId++, input })) as ScannedFile;
  }

  /**
   * Passes 2 and 3 on the thread. Its progress is written here (`db` is the API thread's), in order,
   * before the thread's writes, which wait for this thread's write turn. The turn is given back when
   * the thread is done with it, or when the task ends however it ends, the thread's death included.
   */
  async execute(db: Database, run: ImportRun): Promise<void> {
    const id = this.#nextId++;
    let progress = Promise.resolve();
    const turn = lentWriteTurn(db);
    try {
      await this.#run({ type: 'execute', id, run }, (message, worker) => {
        if (message.type === 'progress') {
          const processedRows = message.processed;
          progress = progress
            .then(() => db.update(imports).set({ processedRows }).where(eq(imports.id, run.importId)))
            .then(
              () => undefined,
              () => undefined,
            );
        } else if (message.type === 'turn') {
          // After the progress written so far: it goes in order, before the thread's writes.
          turn.lend(
            (refused) => worker.postMessage({ type: 'turn', id, ...(refused && { refused }) } satisfies ToThread),
            progress,
          );
        } else if (message.type === 'turnDone') turn.giveBack();
      });
    } finally {
      turn.end();
      await progress;
    }
  }
}

const threads = new Map<string, ImportThread>();

/** The import thread for the database the heavy threads open; undefined: imports run on the API's thread. */
export function importThreadFor(target: ImportThreadData['importThread'] | undefined): ImportThread | undefined {
  if (!target) return undefined;
  let thread = threads.get(target.url);
  if (!thread) {
    thread = new ImportThread({ importThread: target });
    threads.set(target.url, thread);
  }
  return thread;
}

/** The thread's side: runs the tasks, asking the API thread for its write turn before each write. */
function serve(port: MessagePort, db: Database, close: () => void) {
  const turns = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const post = (message: FromThread) => port.postMessage(message);
  port.on('message', async (message: ToThread) => {
    const { id } = message;
    if (message.type === 'close') {
      close();
      port.close();
      return;
    }
    if (message.type === 'turn') {
      const waiting = turns.get(id);
      turns.delete(id);
      if (message.refused) waiting?.reject(new Error(`no write turn: ${message.refused}`));
      else waiting?.resolve();
      return;
    }
    try {
      if (message.type === 'scan') {
        post({ type: 'result', id, value: await scanImportFile(db, message.input) });
        return;
      }
      await planAndWrite(db, message.run, {
        progress: async (processed) => post({ type: 'progress', id, processed }),
        async writeTurn(write) {
          await new Promise<void>((resolve, reject) => {
            turns.set(id, { resolve, reject });
            post({ type: 'turn', id });
          });
          try {
            return await write();
          } finally {
            post({ type: 'turnDone', id });
          }
        },
      });
      post({ type: 'result', id, value: null });
    } catch (error) {
      post({ type: 'error', id, error: toWire(error) });
    }
  });
}

const data = workerData as Partial<ImportThreadData> | undefined;
if (!isMainThread && parentPort && data?.importThread) {
  lowerThreadPriority();
  const { url, authToken } = data.importThread;
  const open = () => databaseClient(url, authToken);
  const client = open();
  // Its writes wait for the API thread's turn; serializeWrites still renews a connection after a busy
  // wait, and gives a local file's writes a client of their own, committing as the API's do.
  const writer = client.protocol === 'file' ? open() : undefined;
  const db = serializeWrites(client, { writer });
  serve(parentPort, drizzle(db, { schema }), () => db.close());
}
