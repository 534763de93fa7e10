/**
 * The README's commands for running past one machine work with only Node and npm: `npm run server`
 * (ENGINE=off behind a load balancer), `npm run engine` and `npm run cluster`, with no pnpm on PATH.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portForChild } from './ports';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'rebound-readme-'));
// A PATH with node and nothing else: no pnpm, no npx.
symlinkSync(process.execPath, join(dir, 'node'));
const env = { ...process.env, PATH: dir, DATABASE_URL: `file:${join(dir, 'r.db')}`, INIT_CWD: root };
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(script: string, extra: Record<string, string>) {
  const [file, args] = script === 'cluster' ? ['cluster.mjs', []] : ['serve.mjs', [script]];
  const child = spawn(process.execPath, [join(root, 'scripts', file), ...args], {
    cwd: root,
    env: { ...env, ...extra },
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return { child, output: () => output };
}

/** Waits for `condition`; on timeout the error carries the end of the command's output, to see where it stopped. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `condition not met in ${timeoutMs / 1000} s; the command's output ended with:\n${output().slice(-6000)}`,
  );
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('README: running past one machine, with only Node and npm', () => {
  it('npm run server (ENGINE=off) answers /health and stops on Ctrl+C', async () => {
    const port = String(await portForChild());
    const server = run('server', { ENGINE: 'off', PORT: port, DEMO: 'off' });
    await until(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
        } catch {
          return false;
        }
      },
      30_000,
      server.output,
    );
    expect(server.output()).toMatch(/Engine\s+off/);
    const done = exited(server.child);
    server.child.kill('SIGINT');
    expect(await done).toBe(0);
  });

  it('npm run engine starts an engine process on the same database and stops cleanly', async () => {
    const engine = run('engine', {});
    await until(() => engine.output().includes('"event":"started"'), 30_000, engine.output);
    const done = exited(engine.child);
    engine.child.kill('SIGTERM');
    await done;
    expect(engine.output()).toContain('"event":"stopped"');
  });

  it('npm run cluster: a sqld primary and replica, the API and two engines that send the demo, all stopped by Ctrl+C', async () => {
    const port = String(await portForChild());
    const cluster = run('cluster', { PORT: port });
    await until(
      () => cluster.output().includes('Rebound past one machine') && cluster.output().includes('[api] Ctrl+C stops it'),
      90_000,
      cluster.output,
    );
    const out = cluster.output();
    const where = (name: string) => new RegExp(`${name}\\s+(ws://127\\.0\\.0\\.1:\\d+)`).exec(out)?.[1];
    const [primary, replica] = [where('sqld primary'), where('sqld replica')];
    expect(primary).toBeDefined();
    expect(replica).toBeDefined();
    expect(replica).not.toBe(primary);
    expect(out).toMatch(/\[engine-1\] \{"event":"started"/);
    expect(out).toMatch(/\[engine-2\] \{"event":"started"/);
    expect(out).toMatch(/\[api\]\s+Engine\s+off/);
    // The demo's broadcasts go out through the two engines (the API sends nothing itself).
    const manager = /manager token\s+(rb_\S+)/.exec(out)?.[1];
    const api = `http://127.0.0.1:${port}/api/v1`;
    await until(
      async () => {
        const res = await fetch(`${api}/broadcasts?limit=100`, { headers: { Authorization: `Bearer ${manager}` } });
        const body = (await res.json()) as { data: { status: string }[] };
        return body.data.some((b) => b.status === 'completed');
      },
      90_000,
      cluster.output,
    );
    const done = exited(cluster.child);
    cluster.child.kill('SIGINT');
    expect(await done).toBe(0);
    const sent = [...cluster.output().matchAll(/"event":"stopped","workerId":"engine-\d","sent":(\d+)/g)];
    expect(sent).toHaveLength(2);
    expect(sent.reduce((a, m) => a + Number(m[1]), 0)).toBeGreaterThan(0);
    // Nothing left listening: the primary is gone with the cluster.
    await expect(fetch(`${primary?.replace('ws://', 'http://')}/health`)).rejects.toThrow();
  }, 150_000);
});
