import { dirname, join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadConfig } from './config';
import { describeDatabaseUrl, openDatabase } from './db/client';
import { ensureDemoWorkspace } from './demo';
import { BroadcastEngine } from './engine/engine';

const config = loadConfig();
const database = await openDatabase({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN });
const target = describeDatabaseUrl(config.DATABASE_URL);
const credentialsFile = join(target.path ? dirname(target.path) : process.cwd(), 'demo-credentials.json');
const demo = await ensureDemoWorkspace(database.db, credentialsFile);

const publicUrl = config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`;
const app = createApp({
  db: database.db,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  publicUrl: config.PUBLIC_URL,
  corsOrigins: config.CORS_ORIGINS,
});
const engine =
  config.ENGINE === 'on'
    ? new BroadcastEngine({ db: database.db, publicUrl, concurrency: config.ENGINE_CONCURRENCY })
    : undefined;
engine?.start();
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  const base = `http://${config.HOST}:${info.port}`;
  console.log(`
Rebound is running.
  API            ${base}/api/v1
  API reference  ${base}/docs
  Health         ${base}/health
  Database       ${target.path ?? config.DATABASE_URL}

Demo workspace ${demo.workspaceId} tokens (keep them private):
  owner    ${demo.tokens.owner}
  manager  ${demo.tokens.manager}
  agent    ${demo.tokens.agent}

Try: curl -H "Authorization: Bearer ${demo.tokens.agent}" ${base}/api/v1/me
`);
});

function shutdown() {
  server.close(async () => {
    await engine?.stop();
    database.close();
    process.exit(0);
  });
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
