import type { Role } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/client';
import { createWorkspace } from '../src/services/workspaces';
import { startThreadedServer } from './helpers';

const ROWS = 150_000;

let base: string;
let database: DatabaseHandle;
let importer: { id: number; tokens: Record<Role, string> };

beforeAll(async () => {
  ({ base, database } = await startThreadedServer({ threads: 1 }));
  const { workspace, tokens } = await createWorkspace(database.db, { name: 'Importer', defaultCountry: 'AR' }, [
    'agent',
  ]);
  importer = { id: workspace.id, tokens: Object.fromEntries(tokens.map((t) => [t.role, t.token])) as never };
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1] ?? 0;

describe('a large import', () => {
  it('leaves /health under 200 ms p99 while 150,000 rows are read, checked and written, and imports them all', async () => {
    // A list of mobile numbers: many rows to a piece of the file, each a phone to check, so on the API's
    // thread a piece held /health for about half a second (p99 596 ms, against 18 ms off it).
    const lines = ['Phone'];
    for (let i = 0; i < ROWS; i++) lines.push(`+54911${40_000_000 + i}`);
    const form = new FormData();
    form.append('file', new Blob([`${lines.join('\n')}\n`]), 'grande.csv');
    form.append('tags', 'grande');
    expect((await fetch(`${base}/health`)).status).toBe(200);

    let finished = false;
    const importing = fetch(`${base}/api/v1/imports/contacts`, {
      method: 'POST',
      body: form,
      headers: { Authorization: `Bearer ${importer.tokens.agent}`, 'Accept-Language': 'es' },
    })
      // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
      .then(async (res) => ({ status: res.status, body: (await res.json()) as any }))
      .finally(() => {
        finished = true;
      });
    // Someone else's health check, again and again until the import has answered.
    const health: number[] = [];
    while (!finished) {
      const start = performance.now();
      const res = await fetch(`${base}/health`);
      await res.text();
      health.push(performance.now() - start);
      expect(res.status).toBe(200);
      await sleep(20);
    }
    const { status, body } = await importing;

    expect(status, JSON.stringify(body).slice(0, 500)).toBe(201);
    expect(body).toMatchObject({ status: 'completed', created: ROWS, updated: 0, rejected: 0 });
    expect(body.progress).toMatchObject({ totalRows: ROWS, processedRows: ROWS, percent: 100 });
    const [stored] = await database.db.all<{ contacts: number; tagged: number }>(sql`SELECT
        (SELECT count(*) FROM contacts WHERE workspace_id = ${importer.id}) AS contacts,
        (SELECT count(*) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
          WHERE t.workspace_id = ${importer.id} AND t.name = 'grande') AS tagged`);
    expect(stored).toEqual({ contacts: ROWS, tagged: ROWS });
    const [last] = await database.db.all<{ phone: string; valid: number }>(sql`SELECT phone, phone_valid AS valid
      FROM contacts WHERE workspace_id = ${importer.id} ORDER BY id DESC LIMIT 1`);
    expect(last).toEqual({ phone: '+5491140149999', valid: 1 });

    expect(health.length).toBeGreaterThanOrEqual(30);
    console.info(
      `/health during a ${ROWS}-row import: p99 ${Math.round(p99(health))} ms, max ${Math.round(Math.max(...health))} ms over ${health.length} samples`,
    );
    expect(p99(health)).toBeLessThan(200);
  }, 120_000);
});
