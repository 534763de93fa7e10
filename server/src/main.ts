import type { Server as HttpServer } from 'node:http';
import { dirname, join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadConfig } from './config';
import { DatabaseAccessError, describeDatabaseUrl, openDatabase } from './db/client';
import type { RunningDemo } from './demo-workspace';
import { startEngineThread } from './engine/thread';
import { HeavyWork } from './lib/heavy';
import { logError } from './lib/log';
import { foldContacts } from './services/contact-store';
import { settleInterruptedImports } from './services/import-jobs';
import { settleInterruptedPlans } from './services/resend-writer';

const config = loadConfig();
// Loaded only when asked for, and first: a production server never loads the demo or the provider
// simulators, and a demo that cannot load stops the start before anything is opened.
const demoModule = config.DEMO === 'on' ? await import('./demo-workspace') : undefined;
const database = await openDatabase({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN }).catch(
  (error: unknown) => {
    // A token the database refuses: say what to fix and stop, without a stack trace.
    if (!(error instanceof DatabaseAccessError)) throw error;
    console.error(`Rebound did not start. ${error.message}`);
    process.exit(1);
  },
);
const target = describeDatabaseUrl(config.DATABASE_URL);
// Imports a previous life of this process (or a process gone for a minute) left queued or running: failed, nothing imported.
await settleInterruptedImports(database.db);
// Likewise re-sends being written when their process died: undone, as if never clicked.
await settleInterruptedPlans(database.db);
// Contacts written before migration 0040 get the folded copies a segment's "contains" reads, meanwhile.
void foldContacts(database.db).catch((error: unknown) =>
  logError('could not fold the contacts written before 0040', error),
);

const publicUrl = config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`;
// Search, segment previews and exports read on threads of their own (lib/heavy.ts).
const heavy = new HeavyWork({
  perToken: config.HEAVY_PER_TOKEN,
  perWorkspace: config.HEAVY_PER_WORKSPACE,
  maxCustomFieldKeys: config.CUSTOM_FIELD_KEYS_MAX,
  threads: config.HEAVY_THREADS,
  databaseUrl: config.DATABASE_URL,
  authToken: config.DATABASE_AUTH_TOKEN,
});
const app = createApp({
  db: database.db,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  publicUrl: config.PUBLIC_URL,
  corsOrigins: config.CORS_ORIGINS,
  maxAuthFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
  trustProxy: config.TRUST_PROXY === 'on',
  heavy,
  demo: config.DEMO === 'on',
});
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
await new Promise<void>((resolve) => {
  server.once('listening', () => resolve());
  server.once('error', (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `Port ${config.PORT} on ${config.HOST} is already in use: stop the other server or set PORT to a free port.`
        : `The server could not start: ${error.message}`,
    );
    process.exit(1);
  });
});

// Beside the database file (tokens are stored hashed, so the demo's are kept here to print them again).
const credentialsFile = join(target.path ? dirname(target.path) : process.cwd(), 'demo-credentials.json');
let demo: RunningDemo | undefined;
if (demoModule) {
  // Before the engine starts: the demo channels must point at this start's simulators first.
  demo = await demoModule.startDemo({ db: database.db, app, publicUrl, credentialsFile });
}
// The engine runs on its own thread: readers of the API and the engine's send slots never wait on each other.
const engine =
  config.ENGINE === 'on'
    ? await startEngineThread({
        databaseUrl: config.DATABASE_URL,
        authToken: config.DATABASE_AUTH_TOKEN,
        publicUrl,
        concurrency: config.ENGINE_CONCURRENCY,
      })
    : undefined;
if (demoModule && demo?.seeded && engine) {
  console.log('Sending the demo broadcasts through the provider simulators…');
  await demoModule.waitForDemoBroadcasts(app, demo.credentials.tokens.manager, demo.sending);
}

const base = `http://${config.HOST}:${config.PORT}`;
console.log(`
Rebound is running.
  API            ${base}/api/v1
  API reference  ${base}/docs
  Health         ${base}/health
  Database       ${target.path ?? config.DATABASE_URL}
  Engine         ${engine ? `on, its own thread (${config.ENGINE_CONCURRENCY} requests in flight at most)` : 'off'}`);
if (demo) {
  console.log(`
Demo workspace "Rebound demo" (S1-S10 of the reference scenarios${demo.seeded ? ', just created' : ''}):
  Demo helpdesk  ${base}/demo/   (sign in with the agent token)
  manager token  ${demo.credentials.tokens.manager}
  agent token    ${demo.credentials.tokens.agent}
  (kept in ${credentialsFile} with the owner token, which is not printed; keep them private)

Try: curl -H "Authorization: Bearer ${demo.credentials.tokens.agent}" ${base}/api/v1/failed-messages/summary`);
}
if (config.EXTENSION_DIR) {
  console.log(`
The extension is built in ${config.EXTENSION_DIR}
  1. Open chrome://extensions, turn on "Developer mode", click "Load unpacked" and choose that folder.
  2. In the extension's options, enter ${base} and the agent token, then add ${base}/demo/* to the helpdesk pages.`);
}
console.log('\nCtrl+C stops it.');

let stopping = false;
async function shutdown() {
  // A second Ctrl+C stops at once.
  if (stopping) process.exit(1);
  stopping = true;
  console.log('Stopping: finishing the requests in flight…');
  // Open event streams (the extension keeps one) would hold close() forever: end them too.
  server.close();
  (server as HttpServer).closeAllConnections();
  const deadline = setTimeout(() => {
    console.error('Still busy after 10 s (the database refuses writes?): exiting anyway.');
    process.exit(1);
  }, 10_000);
  deadline.unref();
  await engine?.stop();
  await heavy.close();
  await demo?.simulators.stop();
  database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
