/**
 * Node runs a timer longer than 2^31-1 ms (about 24.8 days) after 1 ms, with a warning: a wait computed
 * from a stored date or a provider's number must never be that long, or "wait" becomes "now".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay Node's timers keep: within [0, MAX_TIMER_MS]; NaN counts as no wait. */
export function timerDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, timerDelay(ms)));
