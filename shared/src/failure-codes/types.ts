/**
 * What every per-provider code table is made of. A table maps the providerCode an adapter reports
 * (see the formats in ../failure-reasons.ts) to one failure reason and its retry class, with a note
 * saying what the provider means by it, so the whole mapping can be listed and reviewed.
 */
import type { FailureReason } from '../failure-reasons';

/**
 * What the channel's adapter does when the provider answers a send with this code: send it again at
 * once ('now': a passing fault on the provider's side), again after the provider's wait ('later': too
 * many calls), or keep the failure ('final'). The adapters read it from the table (never a list of
 * their own); a code that only comes in delivery reports is 'final', as a report is never answered by
 * sending again. Whether an agent's re-send can help is the reason's `resend`, not this.
 */
export type RetryClass = 'now' | 'later' | 'final';

export interface ProviderCodeEntry {
  reason: FailureReason;
  retry: RetryClass;
  /** What the provider means by the code (in English, for people maintaining the table). */
  note: string;
}

export type ProviderCodeTable = Readonly<Record<string, ProviderCodeEntry>>;

/** One provider's classifier: a reason, or undefined when the code is not one it knows. */
export type ProviderClassifier = (providerCode: string, providerMessage?: string) => FailureReason | undefined;

/** One provider's failure codes: its classifier and its tables by name ("codes", "subcodes"…), to list them. */
export interface ProviderFailureCodes {
  classify: ProviderClassifier;
  tables: Readonly<Record<string, ProviderCodeTable>>;
  /** Whether a failure means the contact opted out (../opt-outs.ts says which and why); none when it never does. */
  isOptOut?: (providerCode: string, providerMessage?: string) => boolean;
  /** Its opt-out failures stop marketing only (WhatsApp 131050): see ../opt-outs.ts. */
  optOutMarketingOnly?: boolean;
}

/** The retry class of a code as the table writes it (no normalising); a code it does not list is final. */
export function retryClass(table: ProviderCodeTable, code: string): RetryClass {
  return lookup(table, code)?.retry ?? 'final';
}

/** Trims and lower-cases a code, and drops leading zeros from a number ("0042" → "42"). */
export function normalizeCode(code: string): string {
  const trimmed = code.trim().toLowerCase();
  return /^\d+$/.test(trimmed) ? String(Number.parseInt(trimmed, 10)) : trimmed;
}

/** Own keys only, so codes such as "constructor" never hit Object.prototype. */
export function lookup(table: ProviderCodeTable, key: string): ProviderCodeEntry | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
