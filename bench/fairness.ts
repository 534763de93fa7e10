/**
 * fairness.health_p99_ms and import.concurrent_rss_mb: the server runs as `npm start` runs it, in a process
 * of its own (server/src/main.ts, engine off), so its latency and its RSS are its own; this process is the
 * clients.
 *
 * - fairness: one agent runs 100 concurrent searches over 200,000 contacts, again and again (a client
 *   waits Retry-After, plus jitter, when refused), while another workspace's /health and failed-log page are timed.
 * - import-rss: six 20 MB CSV imports (200,000 rows each, one per workspace) posted at once; the figure
 *   is the server's peak RSS (VmHWM) over the whole run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { checkpointNow } from '@rebound/server/db';
import { createWorkspace } from '@rebound/server/services/workspaces';
import { sql } from 'drizzle-orm';
import { Agent, FormData, fetch as undiciFetch } from 'undici';
import { tempDatabase } from './lib/db';
import { type BenchResult, median, percentile } from './lib/report';

const SERVER_DIR = fileURLToPath(new URL('../server/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RunningServer {
  base: string;
  child: ChildProcess;
  /** The server process's memory figures from /proc, in MB. */
  memory(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

async function startServer(databaseUrl: string): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      ENGINE: 'off',
      DEMO: 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 600) throw new Error('the server did not start in 60 s');
    await sleep(100);
  }
  return {
    base,
    child,
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
      return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function timedGet(url: string, token?: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - start;
}

export async function benchFairness(): Promise<BenchResult[]> {
  const CONTACTS = 200_000;
  const CLIENTS = 100;
  const SAMPLES = 100;
  const ROUNDS = 3;
  const database = await tempDatabase('fairness');
  let server: RunningServer | undefined;
  try {
    const hammer = await createWorkspace(database.db, { name: 'Hammer', defaultCountry: 'AR' }, ['agent']);
    const other = await createWorkspace(database.db, { name: 'Other', defaultCountry: 'AR' }, ['agent']);
    await database.db.run(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CONTACTS})
      INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
      SELECT ${hammer.workspace.id}, 'Cliente ' || i, 'Pérez', '+54911' || (40000000 + i), 1, 'cliente' || i || '@example.com',
        '{"plan":"pro"}', 0, 0 FROM n`);
    // The seed's write-ahead log into the file now, not at the server's first write mid-measure.
    await checkpointNow(database.client);
    const hammerToken = hammer.tokens[0]?.token ?? '';
    const otherToken = other.tokens[0]?.token ?? '';
    server = await startServer(database.url);
    const { base } = server;
    // A name nobody has: every search reads all 200,000 contacts.
    const search = `${base}/api/v1/contacts?q=${encodeURIComponent('nadie se llama así')}`;
    await timedGet(search, hammerToken); // starts the heavy thread
    await timedGet(`${base}/api/v1/failed-messages?limit=50`, otherToken); // records the token's first use

    const healthP99: number[] = [];
    const logP99: number[] = [];
    let searched = 0;
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const stopped = new AbortController();
      // Every refused client waits on this one signal: more than Node's default of 10 listeners, on purpose.
      setMaxListeners(CLIENTS, stopped.signal);
      const clients = Array.from({ length: CLIENTS }, async () => {
        while (!stop) {
          const res = await fetch(search, { headers: { Authorization: `Bearer ${hammerToken}` } });
          await res.arrayBuffer();
          if (res.status === 200) searched++;
          else if (res.status === 429) {
            refused++;
            // At least Retry-After, with jitter, as a well-behaved client waits.
            const wait = Number(res.headers.get('Retry-After') ?? 1) * 1000 * (1 + Math.random());
            await delay(wait, undefined, { signal: stopped.signal }).catch(() => undefined);
          } else throw new Error(`search answered ${res.status}`);
        }
      });
      await sleep(200);
      const health: number[] = [];
      const log: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        health.push(await timedGet(`${base}/health`));
        log.push(await timedGet(`${base}/api/v1/failed-messages?limit=50`, otherToken));
        await sleep(20);
      }
      stop = true;
      stopped.abort();
      await Promise.all(clients);
      healthP99.push(percentile(health, 99));
      logP99.push(percentile(log, 99));
    }
    const spread = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))} ms`;
    return [
      {
        id: 'fairness.health_p99_ms',
        value: median(healthP99),
        unit: 'ms',
        better: 'lower',
        target: 200,
        note:
          `another workspace's /health while one agent runs ${CLIENTS} concurrent searches over 200,000 contacts; ` +
          `median of ${ROUNDS} rounds of ${SAMPLES} (spread ${spread(healthP99)}); its failed-log page p99 ` +
          `${Math.round(median(logP99))} ms; ${searched} searches ran, ${refused} got 429`,
      },
    ];
  } finally {
    await server?.stop();
    database.dispose();
  }
}

export async function benchConcurrentImports(): Promise<BenchResult[]> {
  const IMPORTS = 6;
  const ROWS = 200_000;
  const database = await tempDatabase('import-rss');
  let server: RunningServer | undefined;
  try {
    const tokens: string[] = [];
    for (let i = 0; i < IMPORTS; i++) {
      const { tokens: made } = await createWorkspace(database.db, { name: `Import ${i}`, defaultCountry: 'AR' }, [
        'manager',
      ]);
      tokens.push(made[0]?.token ?? '');
    }
    // 200,000 rows of 100 bytes: a 20 MB file, just under the 20 MiB limit.
    const lines = ['First Name,Last Name,Phone,Email,plan,note'];
    for (let i = 0; i < ROWS; i++) {
      const row = `Cliente ${i},Pérez,+54911${40000000 + i},cliente${i}@example.com,pro,`;
      lines.push(row.padEnd(98, 'x'));
    }
    const csv = new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' });
    server = await startServer(database.url);
    const running = server;
    const before = running.memory().rssMb;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, running.memory().peakMb);
    }, 100);
    const dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
    const start = performance.now();
    const answers = await Promise.all(
      tokens.map(async (token) => {
        const form = new FormData();
        form.append('file', csv, 'contacts.csv');
        form.append('identifier', 'phone');
        // undici's own fetch: an import may take longer than fetch's default 5-minute header timeout.
        const res = await undiciFetch(`${running.base}/api/v1/imports/contacts`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}` },
          body: form,
          dispatcher,
        });
        const body = (await res.json()) as { id?: number; status?: string; created?: number };
        if (res.status >= 300 || body.id === undefined) throw new Error(`import answered ${res.status}`);
        // A queued import (202) runs later: follow it to its end, the memory figure covers it too.
        let record = body;
        while (record.status === 'queued' || record.status === 'running') {
          await sleep(500);
          const poll = await fetch(`${running.base}/api/v1/imports/${body.id}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          record = (await poll.json()) as typeof body;
        }
        return { answered: res.status, status: record.status, created: record.created ?? 0 };
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, running.memory().peakMb);
    await dispatcher.close();
    const completed = answers.filter((a) => a.status === 'completed' && a.created === ROWS).length;
    const queued = answers.filter((a) => a.answered === 202).length;
    return [
      {
        id: 'import.concurrent_rss_mb',
        value: peak,
        unit: 'MB',
        better: 'lower',
        target: 600,
        note:
          `peak RSS of the server process, six ${(csv.size / 1e6).toFixed(1)} MB imports (200,000 rows each, six ` +
          `workspaces) posted at once; ${Math.round(before)} MB before; ${queued} of them queued; ${completed} of 6 ` +
          `completed with every row, all done in ${seconds.toFixed(0)} s`,
      },
    ];
  } finally {
    await server?.stop();
    database.dispose();
  }
}
