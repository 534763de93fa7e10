/**
 * Dates as people say them: from=2026-12-01&to=2026-12-01 is that whole day in the workspace's time
 * zone (its own setting, else its country's), in the log, its summary, the export and the CLI export.
 * Times with an offset keep meaning exactly that instant.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { draftBroadcast, parseCsv, seedRows } from './failed-log-helpers';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

let server: TestServer;
/** Argentina: no time zone set, so Buenos Aires (UTC-3 all year). */
let ar: TestWorkspace;
/** Same country, but its own zone: Madrid (UTC+1 in December). */
let madrid: TestWorkspace;
const arIds: Record<string, number> = {};
const madridIds: Record<string, number> = {};

// 2026-12-01 in Buenos Aires runs from 03:00 UTC to 03:00 UTC the next day.
const AR_INSTANTS = {
  nov30Last: Date.parse('2026-12-01T02:59:59.999Z'),
  dec1First: Date.parse('2026-12-01T03:00:00.000Z'),
  dec1Last: Date.parse('2026-12-02T02:59:59.999Z'),
  dec2First: Date.parse('2026-12-02T03:00:00.000Z'),
};
// 2026-12-01 in Madrid runs from 23:00 UTC the day before to 23:00 UTC.
const MADRID_INSTANTS = {
  nov30Last: Date.parse('2026-11-30T22:59:59.999Z'),
  dec1First: Date.parse('2026-11-30T23:00:00.000Z'),
  dec1Last: Date.parse('2026-12-01T22:59:59.999Z'),
  dec2First: Date.parse('2026-12-01T23:00:00.000Z'),
};

async function seed(ws: TestWorkspace, instants: Record<string, number>, ids: Record<string, number>) {
  const target = await draftBroadcast(server, ws.tokens.manager, 'Diciembre');
  const names = Object.keys(instants);
  const rowIds = await seedRows(
    server,
    ws.id,
    target,
    names.map((name, i) => ({
      state: i % 2 ? 'failed' : 'uncertain',
      reason: i % 2 ? 'quota_reached' : 'uncertain',
      failedAt: instants[name] as number,
    })),
  );
  names.forEach((name, i) => {
    ids[name] = rowIds[i] as number;
  });
}

async function logIds(ws: TestWorkspace, query: string): Promise<number[]> {
  const res = await server.request('GET', `/api/v1/failed-messages?${query}`, { token: ws.tokens.agent });
  expect(res.status, res.text).toBe(200);
  return res.body.data.map((m: { messageId: number }) => m.messageId).sort((a: number, b: number) => a - b);
}

const sorted = (ids: (number | undefined)[]) => (ids as number[]).sort((a, b) => a - b);

beforeAll(async () => {
  server = await startTestServer();
  ar = await server.workspace('Buenos Aires', 'AR');
  madrid = await server.workspace('Madrid', 'AR');
  await server.database.db.run(sql`UPDATE workspaces SET time_zone = 'Europe/Madrid' WHERE id = ${madrid.id}`);
  await seed(ar, AR_INSTANTS, arIds);
  await seed(madrid, MADRID_INSTANTS, madridIds);
});

describe('a day alone in from and to', () => {
  it("from=to=one day is that whole day in the workspace's country zone, not the day before or after", async () => {
    expect(await logIds(ar, 'from=2026-12-01&to=2026-12-01')).toEqual(sorted([arIds.dec1First, arIds.dec1Last]));
    expect(await logIds(ar, 'from=2026-11-30&to=2026-11-30')).toEqual([arIds.nov30Last]);
    expect(await logIds(ar, 'from=2026-12-02&to=2026-12-02')).toEqual([arIds.dec2First]);
    // One bound alone: from a day's midnight on; up to the end of a day.
    expect(await logIds(ar, 'from=2026-12-01')).toEqual(sorted([arIds.dec1First, arIds.dec1Last, arIds.dec2First]));
    expect(await logIds(ar, 'to=2026-12-01')).toEqual(sorted([arIds.nov30Last, arIds.dec1First, arIds.dec1Last]));
  });

  it("follows the workspace's own time zone when it has one", async () => {
    expect(await logIds(madrid, 'from=2026-12-01&to=2026-12-01')).toEqual(
      sorted([madridIds.dec1First, madridIds.dec1Last]),
    );
    expect(await logIds(madrid, 'from=2026-11-30&to=2026-11-30')).toEqual([madridIds.nov30Last]);
  });

  it('full ISO times keep meaning exact instants (to excluded), also mixed with a day', async () => {
    expect(await logIds(ar, 'from=2026-12-01T03:00:00Z&to=2026-12-02T03:00:00Z')).toEqual(
      sorted([arIds.dec1First, arIds.dec1Last]),
    );
    expect(await logIds(ar, `from=2026-12-01&to=${encodeURIComponent('2026-12-02T00:00:00-03:00')}`)).toEqual(
      sorted([arIds.dec1First, arIds.dec1Last]),
    );
    expect(await logIds(ar, 'from=2026-12-01T02:59:59.999Z&to=2026-12-01T03:00:00Z')).toEqual([arIds.nov30Last]);
  });

  it('the summary counts the same day', async () => {
    const res = await server.request('GET', '/api/v1/failed-messages/summary?from=2026-12-01&to=2026-12-01', {
      token: ar.tokens.agent,
    });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.unconfirmed).toBe(1);
    expect(res.body.byReason).toEqual({ quota_reached: 1, uncertain: 1 });
  });

  it('the export has that day only', async () => {
    const res = await server.request('GET', '/api/v1/exports/failed-messages.csv?from=2026-12-01&to=2026-12-01', {
      token: ar.tokens.agent,
      language: 'en',
    });
    expect(res.status).toBe(200);
    const { rows } = parseCsv(res.text);
    expect(sorted(rows.map((row) => Number(row[4])))).toEqual(sorted([arIds.dec1First, arIds.dec1Last]));
  });

  it('the CLI export reads the same days', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${join(server.dir, 'test.db')}` };
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
          String(ar.id),
          '--from',
          '2026-12-01',
          '--to',
          '2026-12-01',
          '--language',
          'en',
        ],
        { cwd, env },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    const { rows } = parseCsv(run.stdout);
    expect(sorted(rows.map((row) => Number(row[4])))).toEqual(sorted([arIds.dec1First, arIds.dec1Last]));
  });

  it('refuses what is neither a day nor a time with an offset', async () => {
    for (const value of ['yesterday', '2026-13-01', '2026-12-01T10:00:00']) {
      const res = await server.request('GET', `/api/v1/failed-messages?from=${value}`, {
        token: ar.tokens.agent,
        language: 'en',
      });
      expect(res.status, value).toBe(422);
      expect(res.body.error.details).toEqual([
        {
          path: 'query.from',
          message: 'Use a day such as 2026-12-01 or an ISO 8601 time such as 2026-12-01T09:00:00-03:00',
        },
      ]);
    }
  });
});
