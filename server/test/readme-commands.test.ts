/**
 * The README's commands for running past one machine work with only Node and npm: `npm run server`
 * (ENGINE=off behind a load balancer) and `npm run engine`, with no pnpm on PATH.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

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
  const child = spawn(process.execPath, [join(root, 'scripts', 'serve.mjs'), script], {
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

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met in time');
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('README: running past one machine, with only Node and npm', () => {
  it('npm run server (ENGINE=off) answers /health and stops on Ctrl+C', async () => {
    const port = String(20_000 + Math.floor(Math.random() * 20_000));
    const server = run('server', { ENGINE: 'off', PORT: port, DEMO: 'off' });
    await until(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
      } catch {
        return false;
      }
    });
    expect(server.output()).toMatch(/Engine\s+off/);
    const done = exited(server.child);
    server.child.kill('SIGINT');
    expect(await done).toBe(0);
  });

  it('npm run engine starts an engine process on the same database and stops cleanly', async () => {
    const engine = run('engine', {});
    await until(() => engine.output().includes('"event":"started"'));
    const done = exited(engine.child);
    engine.child.kill('SIGTERM');
    await done;
    expect(engine.output()).toContain('"event":"stopped"');
  });
});
