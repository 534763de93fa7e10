/**
 * The main job as a newcomer meets it: the server process with DEMO=on starts the simulators, seeds S1-S10,
 * prints where everything is; a second start neither breaks nor duplicates the demo.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portForChild } from './ports';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'rebound-main-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the server like `npm start` does and resolves with everything it printed once it is ready. */
async function start(port: number): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      DEMO: 'on',
      PORT: String(port),
      DATABASE_URL: `file:${join(dir, 'rebound.db')}`,
      EXTENSION_DIR: '/path/to/.output/chrome-mv3',
    },
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in time:\n${output}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ctrl+C stops it.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  return { child, output };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('npm start: the server with the demo workspace', () => {
  it('prints the URLs, a manager and an agent token and the extension steps; the demo holds S1-S10; twice is fine', async () => {
    const port = await portForChild();
    const base = `http://127.0.0.1:${port}`;
    const first = await start(port);
    expect(first.output).toContain(`${base}/api/v1`);
    expect(first.output).toContain(`${base}/docs`);
    expect(first.output).toContain(`${base}/demo/`);
    expect(first.output).toContain('/path/to/.output/chrome-mv3');
    expect(first.output).toMatch(/Load unpacked/);
    const manager = first.output.match(/manager token\s+(rb_\S+)/)?.[1];
    const agent = first.output.match(/agent token\s+(rb_\S+)/)?.[1];
    expect(manager && agent).toBeTruthy();
    // The owner token (tokens, channels and credentials) stays in the credentials file, out of the terminal.
    const saved = JSON.parse(readFileSync(join(dir, 'demo-credentials.json'), 'utf8'));
    expect(saved.tokens.owner).toMatch(/^rb_/);
    expect(first.output).not.toContain(saved.tokens.owner);
    expect(first.output).not.toMatch(/owner token\s+rb_/);

    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
    const get = async (path: string, token = agent): Promise<any> =>
      (
        await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}`, 'Accept-Language': 'es' } })
      ).json();
    expect((await get('/api/v1/me', manager)).role).toBe('manager');
    const byName = async () => {
      const list = (await get('/api/v1/broadcasts?limit=100')).data as {
        id: number;
        name: string;
        status: string;
        targetCount: number;
        counts: Record<string, number>;
        failedByReason: Record<string, number>;
        error: { message: string } | null;
      }[];
      return new Map(list.map((b) => [b.name, b]));
    };
    const broadcasts = await byName();
    // S1
    expect(broadcasts.get('Black Friday')).toMatchObject({
      status: 'partially_failed',
      targetCount: 1500,
      failedByReason: { quota_reached: 500 },
    });
    // Its channel's signed reports: all 1,000 delivered, 600 of them read.
    await expect
      .poll(async () => (await get(`/api/v1/broadcasts/${broadcasts.get('Black Friday')?.id}`)).funnel, {
        timeout: 15_000,
      })
      .toEqual({ sent: 1000, delivered: 1000, read: 600, failed: 500 });
    // S2: scheduled ahead, target 100 recorded; the segment has changed since (+5 −2).
    expect(broadcasts.get('Promo aniversario')).toMatchObject({ status: 'scheduled', targetCount: 100 });
    // S3 and S4: one duplicate and one malformed number left out.
    expect(broadcasts.get('Recordatorio de turno')?.counts).toMatchObject({ excluded: 2, sent: 20 });
    // S6: blocked on Telegram, Messenger and SMS.
    for (const name of ['Novedades de la semana', 'Estado de su cuenta', 'Novedades por SMS'])
      expect(broadcasts.get(name)?.failedByReason, name).toEqual({ blocked: 1 });
    // S7: throttled by WhatsApp, retried, all sent.
    expect(broadcasts.get('Encuesta de satisfacción')).toMatchObject({ status: 'completed', counts: { sent: 60 } });
    // S8: the reference page's wording.
    expect(broadcasts.get('Reactivación')?.error?.message).toBe(
      'Falló la transmisión: no hay contactos en el segmento de destino',
    );
    // S10: accepted, then failed by the provider's callback.
    await expect
      .poll(async () => (await byName()).get('Confirmación de pedido')?.failedByReason, { timeout: 10_000 })
      .toEqual({ recipient_limit: 1, not_on_channel: 1 });
    // Mixed reasons on one broadcast; the contact who stopped marketing messages (131050) is opted out.
    await expect
      .poll(async () => (await byName()).get('Liquidación de invierno')?.failedByReason, { timeout: 10_000 })
      .toEqual({ recipient_limit: 2, provider_error: 1, not_on_channel: 1, blocked: 1 });
    const channels = (await get('/api/v1/channels')).data.map((c: { name: string }) => c.name);
    expect(channels).toEqual(expect.arrayContaining(['Instagram tienda', 'Chat del sitio']));
    await stop(first.child);

    const second = await start(port);
    expect(second.output).not.toContain('just created');
    expect(second.output).toContain(`manager token  ${manager}`);
    const again = await byName();
    expect([...again.keys()].sort()).toEqual([...broadcasts.keys()].sort());
    expect((await get('/api/v1/channels')).data).toHaveLength(channels.length);
    const contacts = async () => {
      let total = 0;
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: { data: unknown[]; nextCursor: string | null } = await get(
          `/api/v1/contacts?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        );
        total += page.data.length;
        cursor = page.nextCursor;
      }
      return total;
    };
    expect(await contacts()).toBe(1500 + 105 + 22 + 10 + 60 + 12 + 12);
    // Ctrl+C ends even with an event stream open (the extension keeps one).
    const stream = await fetch(`${base}/api/v1/events`, { headers: { Authorization: `Bearer ${agent}` } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await stop(second.child);
  }, 180_000);
});
