/**
 * Engine processes for real: SIGKILL in the middle of a 20,000-recipient broadcast and a restart;
 * two processes on one database file sharing a broadcast under one channel rate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProviderSimulator } from '@rebound/simulators';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, harness, rateWatch, WA } from './harness';

const ENGINE_MAIN = fileURLToPath(new URL('../../src/engine-main.ts', import.meta.url));
const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const RECIPIENTS = 20_000;
const RATE = 4000;

let h: Harness;
let sim: ProviderSimulator;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function startEngine(workerId: string): { child: ChildProcess; output: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: `file:${h.server.dir}/test.db`,
      PUBLIC_URL: h.server.baseUrl,
      WORKER_ID: workerId,
      LEASE_MS: '1500',
      POLL_MS: '20',
      ENGINE_CONCURRENCY: '32',
      // The simulator listens on 127.0.0.1, where channels may send only when allowed (lib/provider-url.ts).
      PROVIDER_URL_ALLOWLIST: '127.0.0.1',
    },
    // tsx is the server package's dependency: resolve it from there.
    cwd: SERVER_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  const output = new Promise<string>((resolve) => child.on('exit', () => resolve(text)));
  return { child, output };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function broadcastOf(tag: string) {
  const channel = await h.channel({
    type: 'whatsapp',
    name: `WA ${tag}`,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: null, messagesPerSecond: RATE, pairRatePerRecipientSeconds: null },
  });
  await h.seedContacts(RECIPIENTS, tag, { start: tag === 'crash' ? 0 : RECIPIENTS });
  const segment = await h.segment(tag, tag);
  const broadcast = await h.broadcast({
    name: tag,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } },
  });
  await h.schedule(broadcast.id);
  return broadcast.id;
}

const status = async (id: number) => (await h.get(id)).status as string;
const finished = async (id: number) => !['scheduled', 'sending'].includes(await status(id));

beforeEach(async () => {
  h ??= await harness();
  sim ??= await startWhatsAppSimulator({
    accessToken: WA.accessToken,
    phoneNumberId: WA.phoneNumberId,
    appSecret: WA.appSecret,
  });
  if (!h.simulators.includes(sim)) h.simulators.push(sim);
  sim.reset();
});

describe('engine processes', () => {
  it('SIGKILL mid-send, restart, finish: one final state each, at most one request per recipient', async () => {
    const id = await broadcastOf('crash');
    const first = startEngine('first');
    await until(() => sim.requests.length >= 5000);
    first.child.kill('SIGKILL');
    await first.output;
    const atKill = sim.requests.length;
    expect(atKill).toBeLessThan(RECIPIENTS);

    const second = startEngine('second');
    await until(() => finished(id));
    second.child.kill('SIGTERM');
    await second.output;

    const states = await h.server.database.db.all<{ state: string; n: number }>(
      sql`SELECT state, count(*) AS n FROM messages WHERE broadcast_id = ${id} GROUP BY state`,
    );
    const counts = Object.fromEntries(states.map((s) => [s.state, s.n]));
    expect(Object.keys(counts).sort()).toEqual(counts.uncertain ? ['sent', 'uncertain'] : ['sent']);
    expect((counts.sent ?? 0) + (counts.uncertain ?? 0)).toBe(RECIPIENTS);
    // Nobody was sent twice.
    const perRecipient = new Map<string, number>();
    for (const r of sim.requests) perRecipient.set(r.recipient, (perRecipient.get(r.recipient) ?? 0) + 1);
    expect(Math.max(...perRecipient.values())).toBe(1);
    // "Uncertain" is honest: the ones the provider saw were really sent, but the kill came before
    // their answer was written down; the rest were marked as leaving when the process died (at most
    // the requests in flight plus the next group, 2 × the engine's concurrency).
    const uncertain = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM messages WHERE broadcast_id = ${id} AND state = 'uncertain'`,
    );
    const neverSeen = uncertain.filter((m) => !perRecipient.has(m.identifier.slice(1)));
    expect(neverSeen.length).toBeLessThanOrEqual(2 * 32);
    expect(sim.requests.length).toBe((counts.sent ?? 0) + uncertain.length - neverSeen.length);
    expect(await status(id)).toBe('completed');
  }, 120_000);

  it('two processes share a broadcast: both work, nobody twice, the channel rate holds', async () => {
    const id = await broadcastOf('shared');
    const rate = rateWatch(RATE);
    const a = startEngine('a');
    const b = startEngine('b');
    await until(() => finished(id));
    const { worst, allowed } = rate.check(sim.requests.map((r) => r.at));
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    const sentBy = [await a.output, await b.output].map((out) => {
      const stopped = out.split('\n').find((line) => line.includes('"stopped"'));
      return stopped ? (JSON.parse(stopped).sent as number) : 0;
    });
    expect(sentBy[0]).toBeGreaterThan(0);
    expect(sentBy[1]).toBeGreaterThan(0);
    expect((sentBy[0] ?? 0) + (sentBy[1] ?? 0)).toBe(RECIPIENTS);
    expect(sim.requests.length).toBe(RECIPIENTS);
    expect(new Set(sim.requests.map((r) => r.recipient)).size).toBe(RECIPIENTS);
    expect((await h.get(id)).counts).toEqual({ sent: RECIPIENTS });
    // Over any second, at most the channel's rate (rateWatch says what it allows and why).
    expect(worst).toBeLessThanOrEqual(allowed);
  }, 120_000);
});
