// `npm run cluster`: Rebound past one machine, on this one. A libSQL server (sqld, installed and checked
// by ./sqld.mjs) as a primary and a read replica, the API process with the demo workspace and no engine
// of its own, and two engine processes: one on the primary, one on the replica. Everything listens on
// 127.0.0.1; the data lives in a temporary folder removed on Ctrl+C. Each process's log lines are
// prefixed with its name.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ENGINE_HEAP_MB } from '../server/src/engine/heap.mjs';
import { startSqld } from './sqld.mjs';
import { root, serverTsxLoader } from './tsx-loader.mjs';

const loader = serverTsxLoader();
const port = process.env.PORT ?? '8787';
const api = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'rebound-cluster-'));

console.log('▶ Starting sqld: a primary and a read replica');
const sqld = await startSqld({ replica: true, dir: join(dir, 'sqld') });
const replicaUrl = sqld.replica?.url ?? sqld.primary.url;

const children = [];
function start(name, entry, env) {
  // Engine processes get the engine's heap limit, as `npm run engine` gives it (engine/heap.d.mts).
  const heap = entry === 'engine-main.ts' ? [`--max-old-space-size=${ENGINE_HEAP_MB}`] : [];
  const child = spawn(process.execPath, [...heap, '--import', loader, join(root, 'server', 'src', entry)], {
    // The demo keeps its tokens beside the database; for a remote one, in the working folder.
    cwd: dir,
    env: { ...process.env, PROVIDER_URL_ALLOWLIST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.started = new Promise((resolve) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        console.log(`[${name}] ${line}`);
        if (line.includes('"started"')) resolve();
      });
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`✖ ${name} exited (${signal ?? code}); stopping the cluster.`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  await sqld.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop());

// The API first: it applies the migrations and seeds the demo, whose broadcasts the engines then send.
start('api', 'main.ts', { DATABASE_URL: sqld.primary.url, ENGINE: 'off', DEMO: 'on', PORT: port });
for (let ready = false; !ready; ) {
  await new Promise((resolve) => setTimeout(resolve, 250));
  ready = await fetch(`${api}/health`).then(
    (res) => res.ok,
    () => false,
  );
  if (stopping) await new Promise(() => {});
}
const engines = [
  start('engine-1', 'engine-main.ts', { DATABASE_URL: sqld.primary.url, WORKER_ID: 'engine-1', PUBLIC_URL: api }),
  start('engine-2', 'engine-main.ts', { DATABASE_URL: replicaUrl, WORKER_ID: 'engine-2', PUBLIC_URL: api }),
];
await Promise.all(engines.map((engine) => engine.started));

console.log(`
Rebound past one machine, on this one (Ctrl+C stops everything and removes the data):
  sqld primary   ${sqld.primary.url}   writes; engine-1 and the API use it
  sqld replica   ${replicaUrl}   reads served here, writes forwarded to the primary; engine-2 uses it
  API            ${api}/api/v1   (DEMO=on, ENGINE=off: sends nothing itself)
  engine-1       on the primary
  engine-2       on the replica
  Data           ${dir}
The demo workspace's tokens are printed above by [api]. Both engines share its broadcasts: each
recipient is leased to one of them, and a process that dies leaves its leases to the other.`);
