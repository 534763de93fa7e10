import { createServer } from 'node:net';

/**
 * A free loopback port for a child process that takes PORT. Picked below Linux's ephemeral range
 * (32768 and up), where the kernel hands out port-0 listens (sqld's own ports) and outgoing
 * connections: a random port inside it was once taken between the pick and the child's listen.
 */
export async function portForChild(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 on 127.0.0.1');
}
