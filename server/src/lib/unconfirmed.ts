/**
 * How long an unconfirmed message (the request may have reached the provider; no answer or delivery
 * report since) waits for a delivery callback before a re-send may go to it: UNCONFIRMED_AFTER_HOURS,
 * 24 by default. Read on each call, so tests and operators can change it without a restart.
 */
import { HOUR_MS } from '@rebound/shared';

export const DEFAULT_UNCONFIRMED_AFTER_HOURS = 24;

export function unconfirmedWindowMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.UNCONFIRMED_AFTER_HOURS?.trim();
  const hours = raw ? Number(raw) : DEFAULT_UNCONFIRMED_AFTER_HOURS;
  // A value that is not a number of hours falls back to the default rather than allowing an early re-send.
  return (Number.isFinite(hours) && hours >= 0 ? hours : DEFAULT_UNCONFIRMED_AFTER_HOURS) * HOUR_MS;
}
