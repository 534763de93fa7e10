import { type ChildProcess, spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type ProviderSimulator,
  startMessageBirdSimulator,
  startVonageSimulator,
  startWhatsAppSimulator,
} from '@rebound/simulators';
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { afterAll } from 'vitest';
import { createAdapter } from '../../src/channels';
import { BroadcastEngine, type EngineOptions } from '../../src/engine/engine';
import { startTestServer, TEST_PROVIDER_URL_ALLOWLIST, type TestServer, type TestWorkspace } from '../helpers';

export const WA = {
  accessToken: 'wa-token',
  phoneNumberId: '1055551234',
  appSecret: 'wa-app-secret',
  verifyToken: 'wa-verify',
};

export interface Harness {
  server: TestServer;
  ws: TestWorkspace;
  engine(options?: Partial<EngineOptions>): BroadcastEngine;
  /** Creates contacts fast (one SQL statement), phones +5491150000000 + i, tagged. */
  seedContacts(count: number, tag: string, options?: { start?: number; firstName?: string }): Promise<void>;
  channel(body: Record<string, unknown>): Promise<{ id: number }>;
  segment(name: string, tag: string): Promise<{ id: number }>;
  broadcast(body: Record<string, unknown>): Promise<{ id: number }>;
  schedule(id: number, at?: string): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  get(id: number, language?: 'es' | 'en'): Promise<Record<string, any>>;
  messages(broadcastId: number): Promise<
    {
      id: number;
      identifier: string;
      state: string;
      reason: string | null;
      provider_code: string | null;
      retry_after_at: number | null;
    }[]
  >;
  simulators: ProviderSimulator[];
  /** Child processes (engineProcess) killed after the file if still running. */
  processes: ChildProcess[];
}

/** A server, a workspace and an engine pointed at it; simulators registered here stop after the file. */
export async function harness(options: Parameters<typeof startTestServer>[0] = {}): Promise<Harness> {
  const server = await startTestServer(options);
  const ws = await server.workspace('Tienda', 'AR');
  const simulators: ProviderSimulator[] = [];
  const engines: BroadcastEngine[] = [];
  const processes: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
    for (const engine of engines) await engine.stop();
    for (const sim of simulators) await sim.stop();
  });
  const post = async (path: string, body: unknown) => {
    const res = await server.request('POST', path, { token: ws.tokens.manager, body });
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${res.text}`);
    return res.body;
  };
  return {
    server,
    ws,
    simulators,
    processes,
    engine(options = {}) {
      const engine = new BroadcastEngine({
        db: server.database.db,
        publicUrl: server.baseUrl,
        pollIntervalMs: 20,
        requestTimeoutMs: 2000,
        adapterFor: (channel) => createAdapter(channel, { providerUrlAllowlist: TEST_PROVIDER_URL_ALLOWLIST }),
        log: (message, error) => {
          if (process.env.ENGINE_LOG) console.error(message, error);
        },
        ...options,
      });
      engines.push(engine);
      return engine;
    },
    async seedContacts(count, tag, { start = 0, firstName = 'Cliente' } = {}) {
      const { client } = server.database;
      const before = Number((await client.execute('SELECT coalesce(max(id), 0) AS m FROM contacts')).rows[0]?.m);
      await client.execute({
        sql: `INSERT INTO contacts (workspace_id, first_name, phone, phone_valid, custom_fields, created_at, updated_at)
              WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
              SELECT ?, ? || ' ' || CAST(i + ? AS INTEGER), '+54911' || CAST(50000000 + i + ? AS INTEGER), 1, '{}', 0, 0 FROM n`,
        args: [count, ws.id, firstName, start, start],
      });
      const tagRow = await server.database.db.get<{ id: number }>(
        sql`INSERT INTO tags (workspace_id, name, key, created_at) VALUES (${ws.id}, ${tag}, ${tag.toLowerCase()}, 0)
            ON CONFLICT (workspace_id, key) DO UPDATE SET name = name RETURNING id`,
      );
      await client.execute({
        sql: 'INSERT OR IGNORE INTO contact_tags (tag_id, contact_id) SELECT ?, id FROM contacts WHERE id > ? AND workspace_id = ?',
        args: [tagRow?.id ?? 0, before, ws.id],
      });
    },
    channel: (body) => post('/api/v1/channels', body),
    segment: (name, tag) =>
      post('/api/v1/segments', {
        name,
        filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [tag] }] }] },
      }),
    broadcast: (body) => post('/api/v1/broadcasts', body),
    schedule: (id, at) => post(`/api/v1/broadcasts/${id}/schedule`, at ? { at } : {}),
    async get(id, language = 'en') {
      return (await server.request('GET', `/api/v1/broadcasts/${id}`, { token: ws.tokens.agent, language })).body;
    },
    async messages(broadcastId) {
      return server.database.db.all(
        sql`SELECT id, identifier, state, reason, provider_code, retry_after_at FROM messages WHERE broadcast_id = ${broadcastId} ORDER BY id`,
      );
    },
  };
}

/**
 * An engine whose first `passing` sends go out and the rest wait until `open()`: a broadcast held
 * mid-send, to cancel it or read it in "sending".
 */
export function gatedEngine(h: Harness, passing: number, options: Partial<EngineOptions> = {}) {
  let passed = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const engine = h.engine({
    ...options,
    adapterFor: (config) => {
      const inner = createAdapter(config, { providerUrlAllowlist: TEST_PROVIDER_URL_ALLOWLIST });
      return {
        send: async (message, signal) => {
          if (passed++ >= passing) await gate;
          return inner.send(message, signal);
        },
      };
    },
  });
  return { engine, open };
}

/** A WhatsApp simulator with the test credentials (or another number's), stopped with the harness. */
export async function whatsappSimulator(h: Harness, credentials = WA) {
  const sim = await startWhatsAppSimulator({
    accessToken: credentials.accessToken,
    phoneNumberId: credentials.phoneNumberId,
    appSecret: credentials.appSecret,
  });
  h.simulators.push(sim);
  return sim;
}

/** A WhatsApp channel named `name` on `sim`, with no rate, quota or pair-rate limit. */
export async function unlimitedWhatsApp(h: Harness, sim: { baseUrl: string }, name: string, credentials = WA) {
  return (await h.channel({
    type: 'whatsapp',
    name,
    credentials,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: null, messagesPerSecond: 5000, pairRatePerRecipientSeconds: null },
  })) as { id: number };
}

/** The contact `identifier` wrote to the channel `at` (a minute ago): its 24 h window is open there. */
export async function wroteTo(h: Harness, channelId: number, identifier: string, at = Date.now() - 60_000) {
  await h.server.database.db.run(sql`INSERT INTO conversation_windows (channel_id, identifier, last_inbound_at)
    VALUES (${channelId}, ${identifier}, ${at})`);
}

export const VONAGE = { apiKey: 'vk', apiSecret: 'vs', from: 'Rebound', signatureSecret: 'vonage-signature-secret' };

/** A Vonage SMS channel named `name` on a simulator of its own, which signs its receipts (100 a second). */
export async function vonageChannel(h: Harness, name: string) {
  const sim = await startVonageSimulator({
    apiKey: VONAGE.apiKey,
    apiSecret: VONAGE.apiSecret,
    signatureSecret: VONAGE.signatureSecret,
  });
  h.simulators.push(sim);
  const channel = await h.channel({
    type: 'vonage_sms',
    name,
    credentials: VONAGE,
    baseUrl: sim.baseUrl,
    limits: { messagesPerSecond: 100 },
  });
  return { sim, channel };
}

export const BIRD = { accessKey: 'bird-access-key', originator: 'Rebound', signingKey: 'bird-signing-key' };

/** A MessageBird SMS channel named `name` on a simulator of its own, which signs its status reports (100 a second). */
export async function messageBirdChannel(h: Harness, name: string) {
  const sim = await startMessageBirdSimulator({ accessKey: BIRD.accessKey, signingKey: BIRD.signingKey });
  h.simulators.push(sim);
  const channel = await h.channel({
    type: 'messagebird_sms',
    name,
    credentials: BIRD,
    baseUrl: sim.baseUrl,
    limits: { messagesPerSecond: 100 },
  });
  return { sim, channel };
}

export const S1_TEMPLATE = {
  text: '¡Black Friday!',
  template: { name: 'black_friday', language: 'es_AR', parameters: [] },
};

/**
 * A WhatsApp channel with a daily limit and a broadcast of the template to `count` new contacts tagged
 * `tag` (phones from +54911 50000000 + start), created (not yet scheduled).
 */
export async function quotaBroadcast(
  h: Harness,
  options: {
    channelName: string;
    dailyQuota: number;
    count: number;
    tag: string;
    segment: string;
    name: string;
    start?: number;
    /** What it sends; the S1 template unless given. */
    content?: { text: string; template?: typeof S1_TEMPLATE.template };
  },
) {
  const sim = await whatsappSimulator(h);
  const channel = await h.channel({
    type: 'whatsapp',
    name: options.channelName,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: options.dailyQuota, messagesPerSecond: 5000 },
  });
  await h.seedContacts(options.count, options.tag, { start: options.start ?? 0 });
  const segment = await h.segment(options.segment, options.tag);
  const broadcast = await h.broadcast({
    name: options.name,
    channelId: channel.id,
    segmentId: segment.id,
    content: options.content ?? S1_TEMPLATE,
  });
  return { sim, channelId: channel.id, broadcastId: broadcast.id };
}

/**
 * S1 as the reference page tells it: a WhatsApp channel limited to 1,000 unique recipients a day and
 * a "Black Friday" broadcast to 1,500 contacts, created (not yet scheduled).
 */
export function s1Broadcast(h: Harness, channelName = 'WhatsApp') {
  return quotaBroadcast(h, {
    channelName,
    dailyQuota: 1000,
    count: 1500,
    tag: 'black friday',
    segment: 'Black Friday',
    name: 'Black Friday',
  });
}

export interface EngineProcess {
  child: ChildProcess;
  /** Everything it printed, once it exited. */
  output: Promise<string>;
  /** It printed its "started" line. */
  started(): boolean;
  /** What it logged so far (stderr): pauses, resumes, faults. */
  log(): string;
  /** SIGTERM, then the recipients it reported sent when it stopped. */
  stop(): Promise<number>;
}

/**
 * An engine process for real (src/engine-main.ts) on the harness's database file; killed after the
 * file if still running (with the harness). `env` adds to or overrides the defaults (short polls, concurrency 32).
 */
export function engineProcess(h: Harness, workerId: string, env: Record<string, string> = {}): EngineProcess {
  const child = spawn(
    process.execPath,
    [
      // For diagnosis, e.g. ENGINE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS).
      ...(process.env.ENGINE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      fileURLToPath(new URL('../../src/engine-main.ts', import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: h.server.databaseUrl,
        PUBLIC_URL: h.server.baseUrl,
        WORKER_ID: workerId,
        POLL_MS: '20',
        ENGINE_CONCURRENCY: '32',
        PROVIDER_URL_ALLOWLIST: TEST_PROVIDER_URL_ALLOWLIST.join(','),
        ...env,
      },
      // tsx is the server package's dependency: resolve it from there.
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  h.processes.push(child);
  let text = '';
  let log = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  // Its log (pauses, faults) is kept for the test to read and passed on, as before.
  child.stderr?.on('data', (chunk) => {
    log += chunk;
    process.stderr.write(chunk);
  });
  const output = new Promise<string>((resolve) => child.on('exit', () => resolve(text)));
  return {
    child,
    output,
    started: () => text.includes('"started"'),
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      const stopped = (await output).split('\n').find((line) => line.includes('"stopped"'));
      return stopped ? (JSON.parse(stopped).sent as number) : 0;
    },
  };
}

/**
 * A WhatsApp channel on `sim` limited to `rate` msg/s and an unscheduled broadcast ("Hola", the promo
 * template outside the window) to `count` new contacts tagged `tag` (phones from +54911 50000000 + start).
 */
export async function whatsappBroadcast(
  h: Harness,
  sim: ProviderSimulator,
  options: {
    tag: string;
    name?: string;
    count: number;
    rate: number;
    start?: number;
    pairRatePerRecipientSeconds?: number;
    autoRecovery?: number;
  },
): Promise<{ id: number; channelId: number }> {
  const name = options.name ?? options.tag;
  const channel = await h.channel({
    type: 'whatsapp',
    name: `WA ${name}`,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: {
      dailyQuota: null,
      messagesPerSecond: options.rate,
      pairRatePerRecipientSeconds: options.pairRatePerRecipientSeconds ?? null,
    },
  });
  await h.seedContacts(options.count, options.tag, { start: options.start ?? 0 });
  const segment = await h.segment(options.tag, options.tag);
  const broadcast = await h.broadcast({
    name,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } },
    ...(options.autoRecovery !== undefined && { autoRecovery: options.autoRecovery }),
  });
  return { id: broadcast.id, channelId: channel.id };
}

/** A broadcast's recipients counted by state and reason from the rows themselves: what its counts must match. */
export function rowCounts(h: Harness, broadcastId: number) {
  return h.server.database.db.all<{ state: string; reason: string | null; n: number }>(
    sql`SELECT state, reason, count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
}

/**
 * WhatsApp's signed status report on what broadcast `broadcastId` sent to `recipient` (digits), posted to
 * the channel's webhook as Meta posts it: delivered, or failed with an error code. The answer's HTTP status.
 */
export async function whatsappReport(
  h: Harness,
  broadcastId: number,
  recipient: string,
  report: { status: 'delivered' } | { status: 'failed'; code: string; message?: string },
): Promise<number> {
  const [message] = await h.server.database.db.all<{ id: number; channel_id: number; provider_message_id: string }>(
    // By the number it went to (the contact's may have changed since).
    sql`SELECT m.id, m.channel_id, m.provider_message_id FROM messages m
      WHERE m.broadcast_id = ${broadcastId} AND m.identifier = ${`+${recipient}`}`,
  );
  if (!message) throw new Error(`broadcast ${broadcastId} sent nothing to ${recipient}`);
  const hook = whatsappStatusWebhook({
    appSecret: WA.appSecret,
    phoneNumberId: WA.phoneNumberId,
    providerMessageId: message.provider_message_id ?? '',
    recipient,
    clientRef: String(message.id),
    status: report.status,
    ...(report.status === 'failed' && {
      error: { code: report.code, ...(report.message !== undefined && { message: report.message }) },
    }),
  });
  const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${message.channel_id}`, {
    method: 'POST',
    headers: hook.headers,
    body: hook.body,
  });
  return res.status;
}

/**
 * Polls a condition every `everyMs` until it holds; throws after `timeoutMs`, with what `explain` says
 * about the state of things then (so that a rare failure in CI says where it stood).
 */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 90_000,
  everyMs = 50,
  explain?: () => Promise<string> | string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const where = explain
        ? await Promise.resolve()
            .then(explain)
            .catch((e: unknown) => String(e))
        : undefined;
      throw new Error(where ? `condition not met in time: ${where}` : 'condition not met in time');
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * The channel rate as the simulator saw it. A GCRA never puts more than rate + 1 slots in a second,
 * and a send may go out up to 1 % of a second late on its own slot (LATE_SEND_MS), so at most
 * rate × 1.02 + 1 sends belong in any second. The simulator stamps each arrival when its handler
 * runs: if this process stalled (GC, or the 2-core machine running other processes), arrivals from
 * before the stall are stamped together after it, up to rate × stall more in one window. That
 * measurement error is measured here, not guessed: the allowance adds this process's worst
 * event-loop delay while the sends arrived.
 */
export function rateWatch(rate: number) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  return {
    check(times: number[]) {
      delay.disable();
      const stallMs = delay.max / 1e6;
      const sorted = [...times].sort((x, y) => x - y);
      let worst = 0;
      for (let i = 0, j = 0; i < sorted.length; i++) {
        while ((sorted[i] as number) - (sorted[j] as number) >= 1000) j++;
        worst = Math.max(worst, i - j + 1);
      }
      return { worst, allowed: Math.floor(rate * 1.02 + 1 + (rate * stallMs) / 1000), stallMs };
    },
  };
}
