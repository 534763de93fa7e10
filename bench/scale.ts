/**
 * scale.*: three engine processes (server/src/engine-main.ts) share one broadcast, on a libSQL server
 * (a sqld primary and its read replica: two engines on the primary, one on the replica) and, as the
 * baseline in the same run, on one local database file. The channel sets no rate limit, so the figure
 * is what the engines and the database can do, not a pace they were told to keep.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@rebound/server/db';
import { createBroadcast, scheduleBroadcast } from '@rebound/server/services/broadcasts';
import { createChannel } from '@rebound/server/services/channels';
import { sql } from 'drizzle-orm';
import { startSqld } from '../server/test/sqld';
import { simulatorProcess } from './engine';
import { seedAudience } from './lib/audience';
import { tempDatabase } from './lib/db';
import type { BenchResult } from './lib/report';

const RECIPIENTS = 30_000;
const ENGINE_MAIN = fileURLToPath(new URL('../server/src/engine-main.ts', import.meta.url));
const SERVER_DIR = fileURLToPath(new URL('../server', import.meta.url));
const WA = { accessToken: 'bench-token', phoneNumberId: '100200300', appSecret: 'bench-secret' };

type Database = Awaited<ReturnType<typeof openDatabase>>;

interface Run {
  msgsPerSecond: number;
  doubleSends: number;
  shares: number[];
}

function engine(workerId: string, databaseUrl: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENGINE_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      WORKER_ID: workerId,
      PROVIDER_URL_ALLOWLIST: '127.0.0.1',
    },
    cwd: SERVER_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  const output = new Promise<string>((resolve) => child.once('exit', () => resolve(text)));
  return {
    started: () => text.includes('"started"'),
    async stop(): Promise<number> {
      child.kill('SIGTERM');
      const line = (await output).split('\n').find((l) => l.includes('"stopped"'));
      return line ? (JSON.parse(line).sent as number) : 0;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('scale bench: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** One broadcast of RECIPIENTS sent by three engine processes on `urls` (one per engine). */
async function shareOneBroadcast(database: Database, urls: [string, string, string]): Promise<Run> {
  const sim = await simulatorProcess(WA);
  const engines = urls.map((url, i) => engine(`scale-${i + 1}`, url));
  try {
    const { db } = database;
    const { workspace, segment } = await seedAudience(database, RECIPIENTS);
    const channel = await createChannel(db, workspace.id, {
      type: 'whatsapp',
      name: 'WA scale',
      credentials: WA,
      baseUrl: sim.baseUrl,
      limits: { dailyQuota: null, messagesPerSecond: 100_000, pairRatePerRecipientSeconds: null },
    });
    const broadcast = await createBroadcast(db, workspace.id, {
      name: 'scale',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } },
    });
    // All three are up before it is due: starting a process is not part of sending.
    await until(() => engines.every((e) => e.started()), 60_000);
    const start = performance.now();
    await scheduleBroadcast(db, { workspaceId: workspace.id, defaultCountry: 'AR' }, broadcast.id, undefined);
    await untilCompleted(database, broadcast.id);
    const seconds = (performance.now() - start) / 1000;
    const shares = await Promise.all(engines.map((e) => e.stop()));
    const seen = await sim.requests();
    const sent = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${broadcast.id} AND state = 'sent'`,
    );
    if (sent?.n !== RECIPIENTS) throw new Error(`scale bench: ${sent?.n} of ${RECIPIENTS} sent`);
    return {
      msgsPerSecond: RECIPIENTS / seconds,
      doubleSends: seen.length - new Set(seen.map((r) => r.recipient)).size,
      shares,
    };
  } finally {
    for (const e of engines) e.kill();
    await sim.stop();
  }
}

/** One pair: the file baseline, then sqld, back to back (a pair's ratio holds when the machine's speed drifts). */
async function onePair(): Promise<{ file: Run; sqld: Run; stalls: number }> {
  const file = await tempDatabase('scale');
  let onFile: Run;
  try {
    onFile = await shareOneBroadcast(file, [file.url, file.url, file.url]);
  } finally {
    file.dispose();
  }
  // A sqld primary and replica (scripts/sqld.mjs installs and checks the binary). A round that stalls
  // (sqld's write lock, docs/scaling.md) is counted and run again on a fresh sqld.
  for (let stalls = 0; ; stalls++) {
    const cluster = await startSqld({ replica: true });
    let stalled = false;
    try {
      const replica = cluster.replica?.url ?? cluster.primary.url;
      const database = await openDatabase({ url: cluster.primary.url });
      try {
        const sqld = await shareOneBroadcast(database, [cluster.primary.url, cluster.primary.url, replica]);
        return { file: onFile, sqld, stalls };
      } finally {
        database.close();
      }
    } catch (error) {
      stalled = error instanceof Stalled;
      if (!stalled || stalls >= STALL_RETRIES) throw error;
      console.error(`scale bench: sqld stalled (${(error as Error).message}); the round starts again on a fresh sqld`);
    } finally {
      await cluster.close({ force: stalled });
    }
  }
}

/** No recipient sent for this long while the broadcast is not completed: a stall (see untilCompleted). */
const STALL_MS = 30_000;

class Stalled extends Error {}

/**
 * Waits for the broadcast to be completed. sqld 0.24 can stop taking writes for good (docs/scaling.md:
 * its write lock handed to a connection that is gone); reads still answer, so a round where no recipient
 * was sent for STALL_MS is a stall, reported as one, instead of a wait of minutes that ends in nothing.
 */
async function untilCompleted(database: Database, broadcastId: number) {
  const { db } = database;
  let sent = -1;
  let movedAt = Date.now();
  for (;;) {
    const row = await db.get<{ status: string; sent: number }>(
      sql`SELECT status, (SELECT count(*) FROM messages WHERE broadcast_id = ${broadcastId} AND state = 'sent') AS sent
        FROM broadcasts WHERE id = ${broadcastId}`,
    );
    if (row?.status === 'completed') return;
    if ((row?.sent ?? 0) !== sent) {
      sent = row?.sent ?? 0;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS)
      throw new Stalled(`no recipient sent for ${STALL_MS / 1000} s (${sent} of ${RECIPIENTS} sent)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ROUNDS = 3;
/** Rounds on sqld started again on a fresh sqld after a stall, at most. */
const STALL_RETRIES = 2;

export async function benchScale(): Promise<BenchResult[]> {
  const pairs: { file: Run; sqld: Run; stalls: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) pairs.push(await onePair());
  const ratio = (p: { file: Run; sqld: Run }) => p.sqld.msgsPerSecond / p.file.msgsPerSecond;
  const { file: onFile, sqld: onSqld } = [...pairs].sort((a, b) => ratio(a) - ratio(b))[Math.floor(ROUNDS / 2)] as {
    file: Run;
    sqld: Run;
  };
  const list = (values: number[], digits = 0) =>
    values.map((v) => v.toLocaleString('en-US', { maximumFractionDigits: digits })).join(', ');
  const what = `${RECIPIENTS.toLocaleString('en-US')} recipients, WhatsApp simulator, no channel rate limit, engines at their defaults (64 in flight, polling every 250 ms), schedule to completed`;
  const shares = (run: Run) => run.shares.map((n) => n.toLocaleString('en-US')).join(' / ');
  return [
    {
      id: 'scale.sqld_3engines_msgs_per_s',
      value: onSqld.msgsPerSecond,
      unit: 'msg/s',
      better: 'higher',
      note: `three engine processes on sqld 0.24 over WebSocket, two on the primary and one on its replica; ${what}; the median pair of ${ROUNDS} (rates ${list(pairs.map((p) => p.sqld.msgsPerSecond))}); shares ${shares(onSqld)}`,
    },
    {
      id: 'scale.file_3engines_msgs_per_s',
      value: onFile.msgsPerSecond,
      unit: 'msg/s',
      better: 'higher',
      note: `baseline: the same three engines and broadcast on one local libSQL file (WAL), paired with each sqld run (rates ${list(pairs.map((p) => p.file.msgsPerSecond))}); shares ${shares(onFile)}`,
    },
    {
      id: 'scale.sqld_to_file_ratio',
      value: onSqld.msgsPerSecond / onFile.msgsPerSecond,
      unit: 'x',
      better: 'higher',
      target: 0.5,
      note: `sqld rate / file rate, median of ${ROUNDS} pairs (${list(pairs.map(ratio), 2)})`,
    },
    {
      id: 'scale.sqld_double_sends',
      value: Math.max(...pairs.map((p) => p.sqld.doubleSends)),
      unit: 'requests',
      better: 'lower',
      target: 0,
      note: `requests the simulator received beyond one per recipient, the most of ${ROUNDS} runs on sqld (on the file: ${Math.max(...pairs.map((p) => p.file.doubleSends))})`,
    },
    {
      id: 'scale.sqld_stalled_rounds',
      value: pairs.reduce((n, p) => n + p.stalls, 0),
      unit: 'rounds',
      better: 'lower',
      note: `rounds on sqld in which it stopped taking writes (no recipient sent for ${STALL_MS / 1000} s: its write lock handed to a connection that is gone, docs/scaling.md), each started again on a fresh sqld; ${ROUNDS} rounds measured`,
    },
  ];
}
