/**
 * load.*: the failed-message log read while a broadcast sends. The API and the broadcast engine run
 * in this process, as `npm start` runs them (the engine on its own thread, the log's reads on a heavy
 * thread); 50 readers hit the log and the summary over loopback
 * from a child process (a client is never on the server's event loop), while a 100,000-recipient
 * broadcast goes out at the channel's fixed rate. The broadcast's rate is compared with a baseline
 * broadcast, same process and same data, sent with nobody reading. The readers loop without a
 * pause (closed loop): each sends its next read as soon as the last one is answered. Three rounds
 * of (baseline, under load), each broadcast cancelled after its window: every figure is the median
 * round's, with the spread in its note (a single window on a shared 2-core machine is noise).
 *
 * For diagnosis only: BENCH_LOAD_FAILURES, BENCH_LOAD_RECIPIENTS, BENCH_LOAD_WINDOW_MS, BENCH_LOAD_ROUNDS and
 * BENCH_LOAD_KINDS (e.g. page,page2) change the sizes and the mix; the notes say what ran.
 */
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from '@rebound/server/app';
import { type EngineThread, startEngineThread } from '@rebound/server/engine/thread';
import { HeavyWork } from '@rebound/server/lib/heavy';
import { cancelBroadcast, createBroadcast, scheduleBroadcast } from '@rebound/server/services/broadcasts';
import { createChannel } from '@rebound/server/services/channels';
import { createSegment } from '@rebound/server/services/segments';
import { createToken } from '@rebound/server/services/tokens';
import { sql } from 'drizzle-orm';
import { Pool } from 'undici';
import { seedFailures } from './failures';
import { tempDatabase } from './lib/db';
import { type BenchResult, median, percentile } from './lib/report';

const FAILURES = Number(process.env.BENCH_LOAD_FAILURES ?? 1_000_000);
const RECIPIENTS = Number(process.env.BENCH_LOAD_RECIPIENTS ?? 100_000);
/** The channel's send rate: 100,000 recipients take 62.5 s, so the 60 s of reading all fall inside the broadcast. */
const RATE = 1_600;
const WINDOW_MS = Number(process.env.BENCH_LOAD_WINDOW_MS ?? 30_000);
const READERS = 50;
/** Rounds of (baseline, under load): each figure is the median round's, with the spread in its note. */
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 3);

/** What the parent hands the reader process. */
interface ReaderJob {
  baseUrl: string;
  token: string;
  /** Request paths, each tagged with a kind for the per-kind figures. */
  requests: { kind: string; path: string }[];
  readers: number;
  durationMs: number;
}

interface ReaderReport {
  latencies: Record<string, number[]>;
  errors: number;
  statuses: Record<string, number>;
  firstError?: string;
  seconds: number;
}

type Db = Awaited<ReturnType<typeof tempDatabase>>;

/** The 100,000 recipients: contacts with an e-mail (the failure log's contacts have none) and a segment of them. */
async function seedAudience(database: Db, workspaceId: number) {
  const { db, client } = database;
  await client.execute({
    sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, email, custom_fields, created_at, updated_at)
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          SELECT ?, 'Destinatario ' || i, '+54911' || (40000000 + i), 1, 'd' || i || '@example.com', '{}', 0, 0 FROM n`,
    args: [RECIPIENTS, workspaceId],
  });
  await client.execute('ANALYZE');
  const channel = await createChannel(db, workspaceId, {
    type: 'sandbox',
    name: 'Sandbox paced',
    limits: { messagesPerSecond: RATE, dailyQuota: null, pairRatePerRecipientSeconds: null },
  });
  const segment = await createSegment(db, workspaceId, {
    name: 'load audience',
    filter: {
      match: 'all',
      groups: [{ match: 'all', conditions: [{ type: 'field', field: 'email', operator: 'exists' }] }],
    },
  });
  return { channel, segment };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchLoad(): Promise<BenchResult[]> {
  const setupStart = performance.now();
  const database = await tempDatabase('load');
  const { db } = database;
  let server: ReturnType<typeof serve> | undefined;
  let engine: EngineThread | undefined;
  let heavy: HeavyWork | undefined;
  let readers: Awaited<ReturnType<typeof readerProcess>> | undefined;
  try {
    readers = await readerProcess();
    const reader = readers;
    const { workspace, broadcastIds, channels } = await seedFailures(database, FAILURES);
    const { channel, segment } = await seedAudience(database, workspace.id);
    const { token } = await createToken(db, workspace.id, 'load readers', 'agent');

    // As main.ts builds it: heavy reads (and the failed-message log) on a heavy thread of their own.
    heavy = new HeavyWork({ databaseUrl: database.url });
    server = serve({ fetch: createApp({ db, heavy }).fetch, port: 0, hostname: '127.0.0.1' });
    const listening = server;
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
    const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    // As `npm start` runs it: the engine on its own thread, with its own connection to the database.
    engine = await startEngineThread({ databaseUrl: database.url });

    const kinds = process.env.BENCH_LOAD_KINDS?.split(',');
    const requests = (await readerRequests(baseUrl, token, broadcastIds, channels[0]?.id as number)).filter(
      (r) => !kinds || kinds.includes(r.kind),
    );
    const setupSeconds = (performance.now() - setupStart) / 1000;

    /** Recipients of a broadcast the provider has taken, as the database records them. */
    const sentOf = async (broadcastId: number) =>
      (
        await db.get<{ n: number }>(
          sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId} AND state IN ('sent', 'delivered')`,
        )
      )?.n ?? 0;
    const phase = async (name: string, withReaders: boolean) => {
      const broadcast = await createBroadcast(db, workspace.id, {
        name,
        channelId: channel.id,
        segmentId: segment.id,
        content: { text: 'Hola' },
      });
      await scheduleBroadcast(db, { workspaceId: workspace.id, defaultCountry: 'AR' }, broadcast.id, undefined);
      // The window opens with the first outcome written: the audience is frozen and sending has begun.
      let c0 = 0;
      const giveUp = Date.now() + 60_000;
      while (c0 === 0) {
        if (Date.now() > giveUp) throw new Error(`load: broadcast "${name}" sent nothing in 60 s`);
        await sleep(10);
        c0 = await sentOf(broadcast.id);
      }
      const t0 = performance.now();
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const joinedBefore = heavy?.joinedReads ?? 0;
      const reading = withReaders
        ? reader.run({ baseUrl, token, requests, readers: READERS, durationMs: WINDOW_MS })
        : undefined;
      await sleep(WINDOW_MS);
      const rate = ((await sentOf(broadcast.id)) - c0) / ((performance.now() - t0) / 1000);
      loop.disable();
      const report = await reading;
      // Reads of this phase answered by joining an identical one waiting its turn (shareWaiting).
      const joined = (heavy?.joinedReads ?? 0) - joinedBefore;
      const loopP99 = loop.percentile(99) / 1e6;
      // Cancelled after its window, and the next phase waits until the engine let it go, so that
      // each phase sends alone.
      await cancelBroadcast(db, workspace.id, broadcast.id);
      for (;;) {
        const row = await db.get<{ status: string }>(sql`SELECT status FROM broadcasts WHERE id = ${broadcast.id}`);
        if (row?.status !== 'sending') break;
        await sleep(50);
      }
      return { rate, report, joined, loopP99, seconds: (performance.now() - t0) / 1000 };
    };

    type Phase = Awaited<ReturnType<typeof phase>>;
    const rounds: {
      baseline: Phase;
      loaded: Phase;
      report: ReaderReport;
      all: number[];
      p99: number;
      reads: number;
      change: number;
    }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const baseline = await phase(`baseline ${round + 1}`, false);
      const loaded = await phase(`under load ${round + 1}`, true);
      const report = loaded.report as ReaderReport;
      const all = Object.values(report.latencies).flat();
      rounds.push({
        baseline,
        loaded,
        report,
        all,
        p99: percentile(all, 99),
        reads: all.length + report.errors,
        change: Math.abs(loaded.rate - baseline.rate) / baseline.rate,
      });
    }
    /** The median of one figure over the rounds, and its spread for the note. */
    const figure = (pick: (r: (typeof rounds)[number]) => number, digits = 0) => {
      const values = rounds.map(pick);
      const sorted = [...values].sort((a, b) => a - b);
      return {
        value: median(values),
        spread: `median of ${values.length} rounds, spread ${(sorted[0] ?? 0).toFixed(digits)}–${(sorted.at(-1) ?? 0).toFixed(digits)}`,
      };
    };
    // The per-kind figures and the statuses come from the round with the median p99.
    const middle = [...rounds].sort((a, b) => a.p99 - b.p99)[Math.floor(rounds.length / 2)] as (typeof rounds)[number];
    const { report, baseline, loaded } = middle;
    const p99 = figure((r) => r.p99);
    const p50 = figure((r) => median(r.all), 1);
    const loopDelay = figure((r) => r.loaded.loopP99);
    const perSecond = figure((r) => r.reads / r.report.seconds);
    const change = figure((r) => r.change * 100, 1);
    const baseRate = figure((r) => r.baseline.rate);
    const loadedRate = figure((r) => r.loaded.rate);
    const errors = rounds.reduce((sum, r) => sum + r.report.errors, 0);
    const reads = rounds.reduce((sum, r) => sum + r.reads, 0);
    // Identical reads asked while one waits its turn are read once (HeavyPool's shareWaiting): said, not hidden.
    const joined = rounds.reduce((sum, r) => sum + r.loaded.joined, 0);
    const joinedPct = reads > 0 ? ((100 * joined) / reads).toFixed(0) : '0';
    const kindList = [...new Set(requests.map((r) => r.kind))].join(', ');
    const perKind = Object.entries(report.latencies)
      .map(([kind, values]) => `${kind} ${percentile(values, 99).toFixed(0)}`)
      .join(', ');
    const sizes = `${FAILURES.toLocaleString('en-US')} failed messages, ${RECIPIENTS.toLocaleString('en-US')}-recipient sandbox broadcast at ${RATE}/s`;
    process.stderr.write(
      `\n[load] setup ${setupSeconds.toFixed(1)} s; statuses ${JSON.stringify(report.statuses)}${report.firstError ? `; first error: ${report.firstError}` : ''}\n`,
    );
    return [
      {
        id: 'load.read_p99_ms',
        value: p99.value,
        unit: 'ms',
        better: 'lower',
        target: 100,
        note: `${READERS} closed-loop keep-alive readers (own process, loopback, no pause) for ${WINDOW_MS / 1000} s, round robin over ${requests.length} reads (${kindList}); ${sizes}; ${p99.spread}; p99 by kind ms (median round): ${perKind}`,
      },
      {
        id: 'load.read_p50_ms',
        value: p50.value,
        unit: 'ms',
        better: 'lower',
        note: `same reads, median; ${p50.spread}`,
      },
      {
        id: 'load.event_loop_delay_p99_ms',
        value: loopDelay.value,
        unit: 'ms',
        better: 'lower',
        target: 50,
        note: `the API thread's event-loop delay while the readers read (${baseline.loopP99.toFixed(0)} ms in the median round's baseline); ${loopDelay.spread}`,
      },
      {
        id: 'load.reads_per_s',
        value: perSecond.value,
        unit: 'req/s',
        better: 'higher',
        target: 1500,
        note: `${reads.toLocaleString('en-US')} reads answered in ${rounds.length} rounds of ${WINDOW_MS / 1000} s, ${joinedPct}% of them by joining the same read (same workspace, filters, page and language) still waiting its turn on the read thread; ${perSecond.spread}`,
      },
      {
        id: 'load.read_errors',
        value: errors,
        unit: 'errors',
        better: 'lower',
        target: 0,
        note: `non-2xx answers and failed requests among ${reads.toLocaleString('en-US')}, all rounds`,
      },
      {
        id: 'load.broadcast_rate_change_pct',
        value: change.value,
        unit: '%',
        better: 'lower',
        target: 5,
        note: `|rate with readers − baseline| / baseline, rates over the first ${WINDOW_MS / 1000} s of each broadcast; ${change.spread}`,
      },
      {
        id: 'load.broadcast_baseline_msgs_per_s',
        value: baseRate.value,
        unit: 'msg/s',
        better: 'higher',
        note: `baseline: the same broadcast, same process and data, nobody reading (channel rate ${RATE}/s); ${baseRate.spread}`,
      },
      {
        id: 'load.broadcast_loaded_msgs_per_s',
        value: loadedRate.value,
        unit: 'msg/s',
        better: 'higher',
        note: `while the ${READERS} readers read (setup ${setupSeconds.toFixed(0)} s, median round's broadcasts ${baseline.seconds.toFixed(0)} s and ${loaded.seconds.toFixed(0)} s); ${loadedRate.spread}`,
      },
    ];
  } finally {
    await readers?.stop();
    await engine?.stop();
    await heavy?.close();
    const closing = server;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    database.dispose();
  }
}

/**
 * The reads agents make: log pages filtered by broadcast (one and two), reason, channel and text,
 * page 2 of several (cursors taken now, as a client would have them), and the summary.
 */
async function readerRequests(
  baseUrl: string,
  token: string,
  broadcastIds: number[],
  channelId: number,
): Promise<ReaderJob['requests']> {
  const b = (i: number) => broadcastIds[i % broadcastIds.length] as number;
  const pages: ReaderJob['requests'] = [
    { kind: 'page', path: '/api/v1/failed-messages' },
    { kind: 'page', path: `/api/v1/failed-messages?broadcastId=${b(3)}` },
    { kind: 'page', path: `/api/v1/failed-messages?broadcastId=${b(1)}&broadcastId=${b(7)}` },
    { kind: 'page', path: '/api/v1/failed-messages?reason=blocked' },
    { kind: 'page', path: `/api/v1/failed-messages?channelId=${channelId}` },
    { kind: 'page', path: `/api/v1/failed-messages?broadcastId=${b(4)}&reason=quota_reached` },
    { kind: 'search', path: `/api/v1/failed-messages?broadcastId=${b(2)}&q=${encodeURIComponent('cliente 12')}` },
  ];
  const second: ReaderJob['requests'] = [];
  const pool = new Pool(baseUrl, { connections: 1 });
  try {
    for (const page of pages.slice(0, 6)) {
      const res = await pool.request({ method: 'GET', path: page.path, headers: { authorization: `Bearer ${token}` } });
      const body = (await res.body.json()) as { nextCursor?: string | null };
      if (res.statusCode !== 200 || !body.nextCursor)
        throw new Error(`no second page for ${page.path} (${res.statusCode})`);
      const sep = page.path.includes('?') ? '&' : '?';
      second.push({ kind: 'page2', path: `${page.path}${sep}cursor=${encodeURIComponent(body.nextCursor)}` });
    }
  } finally {
    await pool.close();
  }
  return [
    ...pages,
    ...second,
    { kind: 'summary', path: '/api/v1/failed-messages/summary' },
    { kind: 'summary_b', path: `/api/v1/failed-messages/summary?broadcastId=${b(6)}` },
  ];
}

/**
 * The reader process (this file, with BENCH_LOAD_READERS set), started ahead so that its start-up
 * is paid before any broadcast; `run` hands it a job and waits for its report.
 */
async function readerProcess() {
  const child = fork(fileURLToPath(import.meta.url), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_LOAD_READERS: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`reader process exited with ${code}`)));
  });
  return {
    run: (job: ReaderJob) =>
      new Promise<ReaderReport>((resolve, reject) => {
        child.once('message', (message) => resolve(message as ReaderReport));
        child.once('exit', (code) => reject(new Error(`reader process exited with ${code}`)));
        child.send(job);
      }),
    stop: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** In the reader process: `readers` loops, each taking the next request of the list, for `durationMs`. */
async function read(job: ReaderJob): Promise<ReaderReport> {
  const pool = new Pool(job.baseUrl, { connections: job.readers, pipelining: 1 });
  const latencies: Record<string, number[]> = Object.fromEntries(job.requests.map((r) => [r.kind, []]));
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + job.durationMs;
  await Promise.all(
    Array.from({ length: job.readers }, async () => {
      while (performance.now() < deadline) {
        const request = job.requests[next++ % job.requests.length] as ReaderJob['requests'][number];
        const sent = performance.now();
        try {
          const res = await pool.request({
            method: 'GET',
            path: request.path,
            headers: { authorization: `Bearer ${job.token}`, 'accept-language': 'es' },
          });
          const body = await res.body.text();
          const ms = performance.now() - sent;
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode >= 200 && res.statusCode < 300) latencies[request.kind]?.push(ms);
          else {
            errors++;
            firstError ??= `${res.statusCode} ${request.path}: ${body.slice(0, 200)}`;
          }
        } catch (error) {
          errors++;
          firstError ??= `${request.path}: ${String(error)}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return { latencies, errors, statuses, seconds, ...(firstError === undefined ? {} : { firstError }) };
}

if (process.env.BENCH_LOAD_READERS) {
  process.on('message', (job) => {
    void read(job as ReaderJob).then((report) => process.send?.(report));
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.('ready');
}
