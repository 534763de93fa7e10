/**
 * This process as the owner of work other processes may take over (imports, re-sends being written):
 * host, pid (to recognise a previous life on the same host), a random part, and the thread. Every
 * thread of one process shares the random part, so a thread never takes a live sibling (the engine
 * thread, a heavy thread writing a re-send) for a dead process.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';

/**
 * The random part, handed to the process's threads in their copy of the environment (a worker thread
 * starts with the environment its parent had). Marked with the pid: a child process inherits it too,
 * and makes its own.
 */
const NONCE_ENV = 'REBOUND_PROCESS_NONCE';

function processNonce(): string {
  const [pid, nonce] = (process.env[NONCE_ENV] ?? '').split(':');
  if (Number(pid) === process.pid && nonce) return nonce;
  const made = randomBytes(4).toString('hex');
  process.env[NONCE_ENV] = `${process.pid}:${made}`;
  return made;
}

const NONCE = processNonce();

export const PROCESS_OWNER = `${hostname()}:${process.pid}:${NONCE}:${threadId}`;

/**
 * True when the owner is provably dead: a process on this host whose pid no longer runs (or runs anew).
 * Another thread of this process is alive as far as this can tell: its heartbeat says the rest.
 */
export function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pid, nonce] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  if (Number(pid) === process.pid) return nonce !== NONCE;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: a process of someone else's holds that pid now; it is not ours, but we cannot be sure.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
