/**
 * The broadcast engine on a thread of its own, beside the API in one process (`npm start`). With the
 * synchronous libSQL driver every query blocks its thread's event loop: on one loop, busy API readers
 * would delay the engine's send slots (and the engine would delay the readers). Here each has its own
 * loop and its own connection, exactly like two processes on one database.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { logError } from '../lib/log';
import { ENGINE_HEAP_MB } from './heap.mjs';
import { runEngine } from './run';

export interface EngineThreadOptions {
  databaseUrl: string;
  authToken?: string | undefined;
  publicUrl?: string | undefined;
  concurrency?: number;
}

export interface EngineThread {
  /** Finishes the requests in flight, writes their outcomes, then ends the thread. */
  stop(): Promise<void>;
}

/** Starts the engine thread; resolves once its database is open and it is sending. */
export async function startEngineThread(options: EngineThreadOptions): Promise<EngineThread> {
  const worker = new Worker(fileURLToPath(new URL('./thread-entry.mjs', import.meta.url)), {
    workerData: options,
    // Its own heap limit, which also makes V8 collect before garbage piles up (engine/heap.d.mts).
    resourceLimits: { maxOldGenerationSizeMb: ENGINE_HEAP_MB },
  });
  let stopping = false;
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message) => (message === 'started' ? resolve() : reject(new Error(String(message)))));
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`the engine thread exited (code ${code}) before it started`)));
  });
  // Afterwards a dead engine must not go unnoticed: the API would take broadcasts nothing sends.
  worker.on('error', (error) => logError('[rebound] the engine thread failed', error));
  void exited.then((code) => {
    if (stopping) return;
    logError(`[rebound] the engine thread stopped unexpectedly (code ${code}); stopping the server`);
    process.exit(1);
  });
  return {
    async stop() {
      stopping = true;
      worker.postMessage('stop');
      await exited;
    },
  };
}

if (!isMainThread && parentPort && (workerData as EngineThreadOptions | undefined)?.databaseUrl) {
  const port = parentPort;
  const options = workerData as EngineThreadOptions;
  const running = await runEngine({
    databaseUrl: options.databaseUrl,
    authToken: options.authToken,
    publicUrl: options.publicUrl,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
  });
  port.on('message', async (message) => {
    if (message !== 'stop') return;
    await running.close();
    port.close();
  });
  port.postMessage('started');
}
