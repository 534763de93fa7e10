/**
 * A libSQL server that takes no more writes (sqld 0.24's write lock handed to a connection that is
 * gone: reads answer, writes wait for ever) is said in the log while the write still waits, instead
 * of an engine waiting in silence. A real HTTP server on 127.0.0.1 stands in for the stuck server:
 * it takes every request and answers none.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Client, createClient } from '@libsql/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serializeWrites } from '../src/db/client';

let server: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  vi.restoreAllMocks();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function silentServer(): Promise<string> {
  const silent = createServer(() => {
    // Taken, never answered.
  });
  server = silent;
  silent.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
}

/**
 * Runs `request` on a client of a server that answers nothing, waits `ms`, and returns the stuck-write
 * lines logged meanwhile; then the server goes away, which must end the request with an error.
 */
async function loggedWhileWaiting(request: (client: Client) => Promise<unknown>, ms: number): Promise<string[]> {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  const client = serializeWrites(createClient({ url: await silentServer() }), { stuckWriteMs: 150 });
  const pending = request(client);
  pending.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, ms));
  const lines = errors.mock.calls
    .map((call: unknown[]) => String(call[0]))
    .filter((line: string) => line.includes('has not answered a write'));
  // Still waiting (nothing was cut short); the server going away ends it with an error.
  for (const socket of sockets) socket.destroy();
  await expect(pending).rejects.toThrow();
  client.close();
  return lines;
}

describe('a remote database that takes no writes', () => {
  it('a write left unanswered is logged once, with what to do, while it waits', async () => {
    const lines = await loggedWhileWaiting(
      (client) => client.execute('UPDATE workspaces SET name = name WHERE 0'),
      600,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/has not answered a write for 0 s: it answers reads but takes no writes/);
    expect(lines[0]).toContain('needs a restart');
  });

  it('a write transaction that cannot begin is logged too', async () => {
    const lines = await loggedWhileWaiting(
      (client) => client.transaction('write').then((tx) => tx.execute('UPDATE workspaces SET name = name WHERE 0')),
      600,
    );
    expect(lines).toHaveLength(1);
  });

  it('a read is not a write: a slow read logs nothing of the kind', async () => {
    expect(await loggedWhileWaiting((client) => client.execute('SELECT 1'), 400)).toHaveLength(0);
  });
});
