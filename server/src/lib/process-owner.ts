/**
 * This process as the owner of work other processes may take over (imports, re-sends being written):
 * host, pid (to recognise a previous life on the same host) and a random part.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export const PROCESS_OWNER = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** True when the owner is provably dead: a process on this host whose pid no longer runs (or runs anew). */
export function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  const [host, pid, nonce] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  if (Number(pid) === process.pid) return nonce !== PROCESS_OWNER.split(':')[2];
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: a process of someone else's holds that pid now; it is not ours, but we cannot be sure.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
