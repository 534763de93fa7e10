/**
 * "Disk full or database locked during a send: the engine pauses and resumes, nothing is lost."
 *
 * A WhatsApp broadcast (the simulator keeps a log of every request it got) is sent at a paced rate
 * by an engine on its own connection to the test database, and the database stops taking writes
 * mid-send: another process holds the write lock past the engine's busy timeout, or the disk fills
 * up. Afterwards every recipient was requested exactly once and is "sent", none is left "sending"
 * or turned "uncertain", the broadcast completed with the right counts, and the engine logged one
 * line when it paused and one when it resumed.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Client, InStatement, Transaction } from '@libsql/client';
import { type ProviderSimulator, startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Database, type DatabaseHandle, openDatabase, serializeWrites, storageFault } from '../../src/db/client';
import * as schema from '../../src/db/schema';
import type { BroadcastEngine } from '../../src/engine/engine';
import { type Harness, harness, WA } from './harness';

const SERVER_DIR = fileURLToPath(new URL('../..', import.meta.url));
const RECIPIENTS = 1200;
const RATE = 400;
const CONCURRENCY = 16;
/** The engine's busy timeout: far below the 15 s default, so a lock held 1.5 s outlasts it many times. */
const BUSY_TIMEOUT_MS = 100;

let h: Harness;
let sim: ProviderSimulator;
const handles: DatabaseHandle[] = [];
const engines: BroadcastEngine[] = [];

beforeAll(async () => {
  h = await harness();
  sim = await startWhatsAppSimulator({
    accessToken: WA.accessToken,
    phoneNumberId: WA.phoneNumberId,
    appSecret: WA.appSecret,
  });
  h.simulators.push(sim);
});
// An engine left running after a failed test would write through its own connection while the next
// test writes through the server's: two writers in one process, the deadlock serializeWrites avoids.
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
});
afterAll(() => {
  for (const handle of handles) handle.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Reads through the test server's own connection: reads never wait for the write lock (WAL). */
const read = <T>(query: ReturnType<typeof sql>) => h.server.database.db.all<T>(query);
const count = async (query: ReturnType<typeof sql>) => (await read<{ n: number }>(query))[0]?.n ?? 0;
const status = async (id: number) =>
  (await read<{ status: string }>(sql`SELECT status FROM broadcasts WHERE id = ${id}`))[0]?.status;

/** A WhatsApp channel paced at RATE with a daily quota (so every claim also writes the quota ledger). */
async function broadcastOf(tag: string, start: number) {
  const channel = await h.channel({
    type: 'whatsapp',
    name: tag,
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: 100_000, messagesPerSecond: RATE, pairRatePerRecipientSeconds: null },
  });
  await h.seedContacts(RECIPIENTS, tag, { start });
  const segment = await h.segment(tag, tag);
  const broadcast = await h.broadcast({
    name: tag,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } },
  });
  await h.schedule(broadcast.id);
  return { id: broadcast.id, channelId: channel.id };
}

/** An engine on `db` whose log lines are kept, each with how many requests the simulator had seen then. */
function engineOn(db: Database) {
  const lines: { message: string; requests: number; code: string | undefined }[] = [];
  const engine = h.engine({
    db,
    concurrency: CONCURRENCY,
    requestTimeoutMs: 10_000,
    log: (message, error) => {
      lines.push({ message, requests: sim.requests.length, code: (storageFault(error) as { code?: string })?.code });
    },
  });
  engines.push(engine);
  return { engine, lines };
}

/** What the acceptance item asks for, once the broadcast is over. */
async function expectNothingLost(id: number, channelId: number, engine: BroadcastEngine) {
  // Each recipient was requested exactly once.
  expect(sim.requests.length).toBe(RECIPIENTS);
  expect(new Set(sim.requests.map((r) => r.recipient)).size).toBe(RECIPIENTS);
  // ...and ends "sent", written down: none left "sending", none "uncertain", claimed once each.
  const states = await read<{ state: string; n: number }>(
    sql`SELECT state, count(*) AS n FROM messages WHERE broadcast_id = ${id} GROUP BY state`,
  );
  expect(Object.fromEntries(states.map((s) => [s.state, s.n]))).toEqual({ sent: RECIPIENTS });
  expect(await count(sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${id} AND attempts != 1`)).toBe(0);
  expect(await count(sql`SELECT count(*) AS n FROM quota_ledger WHERE channel_id = ${channelId}`)).toBe(RECIPIENTS);
  expect(engine.sentCount).toBe(RECIPIENTS);
  const broadcast = await h.get(id);
  expect(broadcast.status).toBe('completed');
  expect(broadcast.counts).toEqual({ sent: RECIPIENTS });
}

/** The pauses in the log: each one line when it began and one when it ended, and nothing else logged. */
function pausesIn(lines: { message: string; requests: number; code: string | undefined }[], code: string) {
  const pauses: { requestsAtPause: number; requestsAtResume: number }[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.message.startsWith('paused:')) {
      expect(line.code).toBe(code);
      const resumed = lines[i + 1];
      expect(resumed?.message).toMatch(/^resumed:/);
      pauses.push({ requestsAtPause: line.requests, requestsAtResume: resumed?.requests ?? Number.NaN });
    }
  }
  expect(lines.length).toBe(2 * pauses.length);
  return pauses;
}

/**
 * Another process takes the write lock (BEGIN IMMEDIATE) and holds it for `ms`. A process, not a
 * client in this one: the driver is synchronous, so a lock wait in this process would stall the
 * engine's own open transaction behind it.
 */
function holdWriteLock(url: string, ms: number): { locked: Promise<void>; released: Promise<void> } {
  const script = `import { createClient } from '@libsql/client';
    const client = createClient({ url: process.env.LOCK_URL, timeout: 10000 });
    const tx = await client.transaction('write');
    console.log('locked');
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.LOCK_MS)));
    await tx.rollback();
    client.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: SERVER_DIR,
    env: { ...process.env, LOCK_URL: url, LOCK_MS: String(ms) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('locked') && resolve());
    child.on('exit', () => reject(new Error('the lock holder exited before taking the lock')));
  });
  const released = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited with ${code}`)))),
  );
  return { locked, released };
}

/**
 * The engine's client on a disk that can fill up. Before every write, on whichever pooled connection
 * runs it, SQLite's own max_page_count is set: to 1 while `disk.full` (SQLite keeps it at the file's
 * current size, so any write that needs one more page fails with SQLITE_FULL, as on a full disk),
 * to the default otherwise. max_page_count belongs to a connection, so setting it once from another
 * connection would not reach the engine's. The writes that failed are noted in `disk.failed`.
 */
function onDisk(client: Client, disk: { full: boolean; failed: string[] }): Client {
  const limit = () => `PRAGMA max_page_count = ${disk.full ? 1 : 4294967294}`;
  const text = (statement: InStatement) => (typeof statement === 'string' ? statement : statement.sql).trim();
  const isRead = (statement: InStatement) => /^(SELECT|PRAGMA)\b(?![\s\S]*\b(RETURNING|=))/i.test(text(statement));
  const noted = (statement: InStatement, error: unknown) => {
    if ((storageFault(error) as { code?: string } | undefined)?.code === 'SQLITE_FULL')
      disk.failed.push(text(statement).replace(/\s+/g, ' ').slice(0, 60));
    return error;
  };
  const bind = (target: object, property: string | symbol) => {
    const value = Reflect.get(target, property, target);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  return new Proxy(client, {
    get(target, property) {
      switch (property) {
        case 'execute':
          return async (statement: InStatement) => {
            if (isRead(statement)) return target.execute(statement);
            try {
              return (await target.batch([limit(), statement], 'write'))[1];
            } catch (error) {
              throw noted(statement, error);
            }
          };
        case 'batch':
          return async (statements: InStatement[], mode?: 'write' | 'read' | 'deferred') =>
            (await target.batch([limit(), ...statements], mode)).slice(1);
        case 'transaction':
          return async (mode?: 'write' | 'read' | 'deferred') => {
            const tx = await target.transaction(mode);
            await tx.execute(limit());
            return new Proxy(tx, {
              get(txTarget, txProperty) {
                if (txProperty !== 'execute') return bind(txTarget, txProperty);
                return async (statement: InStatement) => {
                  try {
                    return await txTarget.execute(statement);
                  } catch (error) {
                    throw noted(statement, error);
                  }
                };
              },
            }) as Transaction;
          };
        default:
          return bind(target, property);
      }
    },
  });
}

describe('storage faults during a send', () => {
  it('database locked by another process past the busy timeout: pauses, resumes, nothing lost', async () => {
    sim.reset();
    const url = `file:${h.server.dir}/test.db`;
    const handle = await openDatabase({ url, busyTimeoutMs: BUSY_TIMEOUT_MS });
    handles.push(handle);
    const { id, channelId } = await broadcastOf('locked', 0);
    const { engine, lines } = engineOn(handle.db);
    engine.start();

    await until(() => sim.requests.length >= 300);
    const lock = holdWriteLock(url, 1500);
    await lock.locked;
    await until(() => engine.paused);
    await lock.released;
    await until(async () => (await status(id)) === 'completed');
    await engine.stop();

    await expectNothingLost(id, channelId, engine);
    const pauses = pausesIn(lines, 'SQLITE_BUSY');
    expect(pauses).toHaveLength(1);
    // While paused nothing new went out: at most the requests already on their way.
    const [pause] = pauses;
    expect((pause?.requestsAtResume ?? 0) - (pause?.requestsAtPause ?? 0)).toBeLessThanOrEqual(CONCURRENCY);
  }, 60_000);

  it('disk full, at the first claim and again mid-send: pauses, resumes, nothing half claimed, nothing lost', async () => {
    sim.reset();
    const handle = await openDatabase({ url: `file:${h.server.dir}/test.db`, busyTimeoutMs: BUSY_TIMEOUT_MS });
    handles.push(handle);
    const disk = { full: false, failed: [] as string[] };
    const db = drizzle(serializeWrites(onDisk(handle.client, disk)), { schema });
    const { id, channelId } = await broadcastOf('full', 10_000);
    const { engine, lines } = engineOn(db);
    // Started (audience frozen) while there is room; the disk fills before the first claim.
    await engine.startBroadcast(id);
    disk.full = true;
    engine.start();
    await until(() => engine.paused && disk.failed.length > 0);
    await sleep(500);
    // The claim failed as a whole: nobody claimed, counted against the quota or sent.
    expect(disk.failed.some((s) => /^UPDATE messages SET state = 'sending'|^INSERT INTO quota_ledger/.test(s))).toBe(
      true,
    );
    expect(await count(sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${id} AND state != 'queued'`)).toBe(
      0,
    );
    expect(await count(sql`SELECT count(*) AS n FROM messages WHERE broadcast_id = ${id} AND attempts != 0`)).toBe(0);
    expect(await count(sql`SELECT count(*) AS n FROM quota_ledger WHERE channel_id = ${channelId}`)).toBe(0);
    expect(sim.requests.length).toBe(0);
    disk.full = false;

    // Room again: sending starts; the disk fills up again mid-send.
    await until(() => sim.requests.length >= 300);
    disk.full = true;
    await until(() => engine.paused);
    for (let i = 0; i < 5; i++) {
      // Whatever is claimed was claimed whole: every recipient being sent is counted in the ledger.
      expect(
        await count(sql`SELECT count(*) AS n FROM messages m WHERE m.broadcast_id = ${id} AND m.state = 'sending'
          AND NOT EXISTS (SELECT 1 FROM quota_ledger q WHERE q.channel_id = ${channelId} AND q.identifier = m.identifier)`),
      ).toBe(0);
      await sleep(200);
    }
    disk.full = false;
    await until(async () => (await status(id)) === 'completed');
    await engine.stop();

    await expectNothingLost(id, channelId, engine);
    const pauses = pausesIn(lines, 'SQLITE_FULL');
    expect(pauses).toHaveLength(2);
    const [, midSend] = pauses;
    expect((midSend?.requestsAtResume ?? 0) - (midSend?.requestsAtPause ?? 0)).toBeLessThanOrEqual(CONCURRENCY);
  }, 60_000);
});
