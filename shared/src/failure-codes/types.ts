/**
 * What every per-provider code table is made of. A table maps the providerCode an adapter reports
 * (see the formats in ../failure-reasons.ts) to one failure reason, with a note saying what the
 * provider means by it, so the whole mapping can be listed and reviewed.
 */
import type { FailureReason } from '../failure-reasons';

export interface ProviderCodeEntry {
  reason: FailureReason;
  /** What the provider means by the code (in English, for people maintaining the table). */
  note: string;
}

export type ProviderCodeTable = Readonly<Record<string, ProviderCodeEntry>>;

/** One provider's classifier: a reason, or undefined when the code is not one it knows. */
export type ProviderClassifier = (providerCode: string, providerMessage?: string) => FailureReason | undefined;

/** Trims and lower-cases a code, and drops leading zeros from a number ("0042" → "42"). */
export function normalizeCode(code: string): string {
  const trimmed = code.trim().toLowerCase();
  return /^\d+$/.test(trimmed) ? String(Number.parseInt(trimmed, 10)) : trimmed;
}

/** Own keys only, so codes such as "constructor" never hit Object.prototype. */
export function lookup(table: ProviderCodeTable, key: string): ProviderCodeEntry | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
