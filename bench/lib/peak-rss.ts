import { readFileSync } from 'node:fs';

/**
 * Peak resident memory of this process in MB. Linux's getrusage maxrss survives fork + exec, so a
 * child spawned by a big parent would report the parent's peak; VmHWM belongs to this program only.
 */
export function peakRssMb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS / 1024;
}
