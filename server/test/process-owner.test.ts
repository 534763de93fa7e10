/**
 * Work several processes share (a re-send being written, an import) names its owner. The threads of one
 * live process (the API's, the engine's, a heavy thread writing a re-send) must never take each other
 * for a dead process: a click on one would undo a plan another is writing.
 */
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ownerIsDead, PROCESS_OWNER } from '../src/lib/process-owner';

describe('the owner of shared work', () => {
  it("another thread of this process is alive; this process's previous life is dead", async () => {
    const worker = new Worker(new URL('./fixtures/owner-thread.mjs', import.meta.url));
    const answer = new Promise<{ owner: string; parentDead: boolean }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage(PROCESS_OWNER);
    const { owner, parentDead } = await answer;
    await worker.terminate();

    const [host, pid, nonce, thread] = PROCESS_OWNER.split(':');
    const theirs = owner.split(':');
    expect(theirs.slice(0, 3)).toEqual([host, pid, nonce]);
    expect(theirs[3]).not.toBe(thread);
    expect(ownerIsDead(owner)).toBe(false);
    expect(parentDead).toBe(false);
    // Same host and pid, another random part: a process that ran before under this pid.
    expect(ownerIsDead(`${hostname()}:${process.pid}:00000000:0`)).toBe(true);
    expect(ownerIsDead(null)).toBe(true);
  });
});
