/**
 * An engine process without the HTTP API: run as many as you like against one database (a libSQL
 * server or one local file) and they share the sending. Leases hand each recipient to one process;
 * a process that dies leaves its leases to expire and be picked up.
 *
 *   DATABASE_URL=libsql://... PUBLIC_URL=https://rebound.example tsx src/engine-main.ts
 */
import { type EngineConfig, loadEngineConfig } from './config';
import { DatabaseAccessError } from './db/client';
import { runEngine } from './engine/run';
import { settleInterruptedImports } from './services/import-jobs';
import { settleInterruptedPlans } from './services/resend-writer';

let env: EngineConfig;
try {
  env = loadEngineConfig();
} catch (error) {
  // A missing or bad variable: say which and stop, without a stack trace.
  console.error(`The engine did not start. ${(error as Error).message}`);
  process.exit(1);
}

const { engine, db, close } = await runEngine({
  databaseUrl: env.DATABASE_URL,
  authToken: env.DATABASE_AUTH_TOKEN,
  publicUrl: env.PUBLIC_URL,
  ...(env.WORKER_ID !== undefined && { workerId: env.WORKER_ID }),
  concurrency: env.ENGINE_CONCURRENCY,
  leaseMs: env.LEASE_MS,
  pollIntervalMs: env.POLL_MS,
}).catch((error: unknown) => {
  // A token the database refuses: say what to fix and stop, without a stack trace.
  if (!(error instanceof DatabaseAccessError)) throw error;
  console.error(`The engine did not start. ${error.message}`);
  process.exit(1);
});
// Imports that a process which died left running settle here too, when no API process restarts.
// On the engine's own connection: a second one would check the token and migrations again.
await settleInterruptedImports(db);
// Likewise re-sends being written when their process died: undone, as if never clicked.
await settleInterruptedPlans(db);
console.log(JSON.stringify({ event: 'started', workerId: engine.workerId }));

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await close();
  console.log(JSON.stringify({ event: 'stopped', workerId: engine.workerId, sent: engine.sentCount }));
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
