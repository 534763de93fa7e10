/**
 * A libSQL server that takes no more writes (sqld 0.24's write lock handed to a connection that is
 * gone: reads answer, writes wait for ever) is said in the log while the write still waits, instead
 * of an engine waiting in silence. A real HTTP server on 127.0.0.1 stands in for the stuck server:
 * it takes every request and answers none.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createClient } from '@libsql/client';
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

const logged = (spy: ReturnType<typeof vi.spyOn>) =>
  spy.mock.calls
    .map((call: unknown[]) => String(call[0]))
    .filter((line: string) => line.includes('has not answered a write'));

describe('a remote database that takes no writes', () => {
  it('a write left unanswered is logged once, with what to do, while it waits', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = serializeWrites(createClient({ url: await silentServer() }), { stuckWriteMs: 150 });
    const write = client.execute('UPDATE workspaces SET name = name WHERE 0');
    write.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    const lines = logged(errors);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/has not answered a write for 0 s: it answers reads but takes no writes/);
    expect(lines[0]).toContain('needs a restart');
    // The write is still waiting (nothing was cut short); the server going away ends it with an error.
    for (const socket of sockets) socket.destroy();
    await expect(write).rejects.toThrow();
    client.close();
  });

  it('a write transaction that cannot begin is logged too', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = serializeWrites(createClient({ url: await silentServer() }), { stuckWriteMs: 150 });
    const began = client.transaction('write').then((tx) => tx.execute('UPDATE workspaces SET name = name WHERE 0'));
    began.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(logged(errors)).toHaveLength(1);
    for (const socket of sockets) socket.destroy();
    await expect(began).rejects.toThrow();
    client.close();
  });

  it('a read is not a write: a slow read logs nothing of the kind', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = serializeWrites(createClient({ url: await silentServer() }), { stuckWriteMs: 150 });
    const read = client.execute('SELECT 1');
    read.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(logged(errors)).toHaveLength(0);
    for (const socket of sockets) socket.destroy();
    await expect(read).rejects.toThrow();
    client.close();
  });
});
