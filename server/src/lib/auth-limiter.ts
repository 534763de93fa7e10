/**
 * Slows token guessing: after `maxFailures` wrong tokens from one address within `windowMs`, that address's
 * wrong tokens get 429 for the rest of the window. Valid tokens are never held back (requireToken checks them
 * first): many people share one address behind a NAT, and a guesser's chance of hitting a 192-bit token is nil.
 * Per process: several processes each keep their own count, which still bounds guesses per process.
 */
export interface AuthLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Addresses remembered at most; the oldest windows are dropped first. */
  maxAddresses?: number;
}

export class AuthLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly failures = new Map<string, { count: number; windowEnds: number }>();

  constructor(options: AuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 100_000;
  }

  /** Milliseconds this address must still wait, 0 when it may try. */
  blockedFor(address: string, now = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry || entry.windowEnds <= now) return 0;
    return entry.count >= this.maxFailures ? entry.windowEnds - now : 0;
  }

  recordFailure(address: string, now = Date.now()): void {
    const entry = this.failures.get(address);
    if (entry && entry.windowEnds > now) {
      entry.count++;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= this.maxAddresses) {
      // Maps keep insertion order: the first key is the oldest window.
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { count: 1, windowEnds: now + this.windowMs });
  }
}
