/**
 * Unconfirmed recipients are visible: a request that may have reached the provider, with no answer or
 * delivery report since, is in the log, its summary and the exports (API and CLI) as its own kind,
 * can be filtered to, and says when a re-send may go to it (UNCONFIRMED_AFTER_HOURS after, 24 by default).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFailure, FAILED_EXPORT_COLUMNS } from '@rebound/shared';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unconfirmedWindowMs } from '../src/config';
import { type Harness, harness, WA } from './engine/harness';
import { draftBroadcast, parseCsv, seedRows } from './failed-log-helpers';

const HOUR = 3_600_000;
const col = (key: string) => FAILED_EXPORT_COLUMNS.findIndex((column) => column.key === key);
const phone = (n: number) => `+54911${44000000 + n}`;

let h: Harness;
let sent: number;
let seeded: { channelId: number; broadcastId: number };
let seededIds: number[];
const FAILED_AT = Date.parse('2026-11-25T14:00:00.000Z');
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
type Row = any;

async function get(path: string, language: 'es' | 'en' = 'en') {
  const res = await h.server.request('GET', path, { token: h.ws.tokens.agent, language });
  expect(res.status, res.text).toBe(200);
  return res;
}

beforeAll(async () => {
  h = await harness();
  // A real send whose request hangs: the engine gives up waiting and the recipient stays uncertain.
  const sim = await startWhatsAppSimulator({ ...WA, phoneNumberId: '1055500092' });
  h.simulators.push(sim);
  sim.webhookUrl = undefined;
  const channel = await h.channel({
    type: 'whatsapp',
    name: 'WhatsApp sin confirmar',
    credentials: { ...WA, phoneNumberId: '1055500092' },
    baseUrl: sim.baseUrl,
    limits: { messagesPerSecond: 1000, pairRatePerRecipientSeconds: null },
  });
  for (let n = 1; n <= 3; n++) {
    const res = await h.server.request('POST', '/api/v1/contacts', {
      token: h.ws.tokens.agent,
      body: { firstName: `Cliente ${n}`, phone: phone(n), tags: ['colgado'] },
    });
    if (res.status !== 201) throw new Error(res.text);
  }
  sim.script(phone(1).slice(1), { kind: 'hang' });
  sim.script(phone(2).slice(1), { kind: 'fail', code: '131026' });
  const segment = await h.segment('Colgado', 'colgado');
  sent = (
    await h.broadcast({
      name: 'Colgado',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', template: { name: 'aviso', language: 'es', parameters: [] } },
    })
  ).id;
  await h.schedule(sent);
  await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();

  // Unconfirmed rows as the engine leaves them after a crash or a timeout, at a known time.
  seeded = await draftBroadcast(h.server, h.ws.tokens.manager, 'Sin confirmar');
  seededIds = await seedRows(h.server, h.ws.id, seeded, [
    { state: 'uncertain', reason: 'uncertain', failedAt: FAILED_AT },
    { state: 'failed', reason: 'quota_reached', failedAt: FAILED_AT + 1, retryAfterAt: FAILED_AT + 5 * HOUR },
    { state: 'excluded', reason: 'invalid_identifier', failedAt: FAILED_AT + 2 },
    { state: 'uncertain', reason: 'uncertain', providerCode: 'timeout', failedAt: FAILED_AT + 3 },
  ]);
}, 60_000);

afterEach(() => {
  delete process.env.UNCONFIRMED_AFTER_HOURS;
});

describe('the failed log', () => {
  it('lists an uncertain recipient of a real send as unconfirmed, with what it means', async () => {
    const rows: Row[] = (await get(`/api/v1/failed-messages?broadcastId=${sent}`, 'es')).body.data;
    expect(rows.map((m) => m.subtype).sort()).toEqual(['failed', 'unconfirmed']);
    const unconfirmed = rows.find((m) => m.subtype === 'unconfirmed');
    expect(unconfirmed.contact.identifier).toBe(phone(1));
    expect(unconfirmed.reason).toEqual(describeFailure('uncertain', 'es'));
    // No provider answered: nothing in the provider's columns.
    expect(unconfirmed.providerCode).toBeNull();
    expect(unconfirmed.providerMessage).toBeNull();
  });

  it('says when each unconfirmed message may be re-sent: 24 h after it was sent, or UNCONFIRMED_AFTER_HOURS', async () => {
    const rows: Row[] = (await get(`/api/v1/failed-messages?broadcastId=${seeded.broadcastId}`)).body.data;
    const byId = new Map(rows.map((m) => [m.messageId, m]));
    expect(byId.get(seededIds[0])).toMatchObject({
      subtype: 'unconfirmed',
      failedAt: new Date(FAILED_AT).toISOString(),
      retryAfter: new Date(FAILED_AT + 24 * HOUR).toISOString(),
      providerCode: null,
    });
    expect(byId.get(seededIds[3])).toMatchObject({ subtype: 'unconfirmed', providerCode: null, providerMessage: null });
    // The other kinds keep the time the engine recorded, or none.
    expect(byId.get(seededIds[1])).toMatchObject({
      subtype: 'failed',
      retryAfter: new Date(FAILED_AT + 5 * HOUR).toISOString(),
    });
    expect(byId.get(seededIds[2])).toMatchObject({ subtype: 'excluded', retryAfter: null });

    process.env.UNCONFIRMED_AFTER_HOURS = '6';
    expect(unconfirmedWindowMs()).toBe(6 * HOUR);
    const shorter: Row[] = (await get(`/api/v1/failed-messages?broadcastId=${seeded.broadcastId}&subtype=unconfirmed`))
      .body.data;
    expect(shorter.find((m) => m.messageId === seededIds[0])?.retryAfter).toBe(
      new Date(FAILED_AT + 6 * HOUR).toISOString(),
    );
    process.env.UNCONFIRMED_AFTER_HOURS = 'soon';
    expect(unconfirmedWindowMs()).toBe(24 * HOUR);
  });

  it('filters to one kind', async () => {
    const only = async (subtype: string) =>
      ((await get(`/api/v1/failed-messages?subtype=${subtype}&limit=100`)).body.data as Row[]).map((m) => m.subtype);
    const unconfirmed = await only('unconfirmed');
    expect(unconfirmed).toHaveLength(3);
    expect(new Set(unconfirmed)).toEqual(new Set(['unconfirmed']));
    expect(new Set(await only('failed'))).toEqual(new Set(['failed']));
    expect(await only('excluded')).toEqual(['excluded']);
    const bad = await h.server.request('GET', '/api/v1/failed-messages?subtype=lost', { token: h.ws.tokens.agent });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('query.subtype');
  });
});

describe('the summary', () => {
  it('counts the unconfirmed, from the kept counts and from a scan alike', async () => {
    const summary = async (query: string) =>
      (await get(`/api/v1/failed-messages/summary?${query}`)).body as {
        total: number;
        unconfirmed: number;
        byReason: Record<string, number>;
      };
    const all = await summary('');
    expect(all.unconfirmed).toBe(3);
    expect(all.byReason.uncertain).toBe(3);
    expect(all.total).toBe(6);
    expect(await summary('from=2000-01-01')).toEqual(all);
    expect((await summary(`broadcastId=${sent}`)).unconfirmed).toBe(1);
    const onlyUnconfirmed = await summary('subtype=unconfirmed');
    expect(onlyUnconfirmed).toMatchObject({ total: 3, unconfirmed: 3, byReason: { uncertain: 3 } });
    expect((await summary('subtype=failed')).unconfirmed).toBe(0);
  });
});

describe('the exports', () => {
  it('the CSV says "sin confirmar", when a re-send may go, and only on request', async () => {
    const { rows } = parseCsv((await get('/api/v1/exports/failed-messages.csv?subtype=unconfirmed', 'es')).text);
    expect(rows).toHaveLength(3);
    const row = rows.find((r) => r[col('messageId')] === String(seededIds[0]));
    expect(row?.[col('subtype')]).toBe('sin confirmar');
    expect(row?.[col('reasonCode')]).toBe('uncertain');
    expect(row?.[col('reason')]).toBe('No se sabe si llegó');
    expect(row?.[col('error')]).toBe('No se sabe si llegó');
    expect(row?.[col('resend')]).toBe('solo si lo pide');
    expect(row?.[col('resendAfter')]).toBe(new Date(FAILED_AT + 24 * HOUR).toISOString());
    expect(row?.[col('providerCode')]).toBe('');
    const en = parseCsv((await get(`/api/v1/exports/failed-messages.csv?broadcastId=${seeded.broadcastId}`)).text);
    const enRow = en.rows.find((r) => r[col('messageId')] === String(seededIds[0]));
    expect(enRow?.[col('subtype')]).toBe('unconfirmed');
    expect(enRow?.[col('resend')]).toBe('on request');
  });

  it('the CLI export has them too, and filters to them', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${join(h.server.dir, 'test.db')}` };
    delete env.DATABASE_AUTH_TOKEN;
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/index.ts',
          'failures',
          'export',
          '--workspace',
          String(h.ws.id),
          '--subtype',
          'unconfirmed',
          '--language',
          'es',
        ],
        { cwd, env },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Exported 3 failed messages/);
    const { rows } = parseCsv(run.stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row[col('subtype')]).toBe('sin confirmar');
  });
});
