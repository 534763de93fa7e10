/**
 * The provider code tables as a whole: one entry per provider, every code with its retry class beside
 * its reason, and the retry classes consistent with what the reasons mean.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL_TYPES, type ChannelType, channelCapabilities } from '../src';
import {
  type ProviderCodeTable,
  providerClassifiers,
  providerCodeTables,
  providerFailureCodes,
  type RetryClass,
  retryClass,
} from '../src/failure-codes';

const RETRY_CLASSES: readonly RetryClass[] = ['now', 'later', 'final'];

const providers = Object.entries(providerFailureCodes) as [
  ChannelType,
  NonNullable<(typeof providerFailureCodes)[ChannelType]>,
][];

function entriesOf(tables: Readonly<Record<string, ProviderCodeTable>>) {
  return Object.entries(tables).flatMap(([name, table]) =>
    Object.entries(table).map(([code, entry]) => ({ name, code, entry })),
  );
}

describe('provider failure codes', () => {
  it('every broadcasting channel type but the sandbox has its codes; no other type has any', () => {
    for (const type of CHANNEL_TYPES) {
      const expected = channelCapabilities[type].canBroadcast && type !== 'sandbox';
      expect(providerFailureCodes[type] !== undefined, type).toBe(expected);
    }
  });

  it('the classifiers and the listed tables are the providers’ own', () => {
    for (const [type, codes] of providers) {
      expect(providerClassifiers[type], type).toBe(codes.classify);
      expect(providerCodeTables[type], type).toBe(codes.tables);
    }
    expect(Object.keys(providerClassifiers).sort()).toEqual(providers.map(([type]) => type).sort());
  });

  it.each(providers)('%s: every code has a retry class beside its reason', (type, codes) => {
    const entries = entriesOf(codes.tables);
    expect(entries.length, type).toBeGreaterThan(0);
    for (const { name, code, entry } of entries) {
      expect(RETRY_CLASSES, `${type} ${name} ${code}`).toContain(entry.retry);
      expect(retryClass(codes.tables[name] as ProviderCodeTable, code), `${type} ${name} ${code}`).toBe(entry.retry);
    }
  });

  it.each(providers)('%s: a code retried later is a throttle, one retried now a provider error', (type, codes) => {
    for (const { name, code, entry } of entriesOf(codes.tables)) {
      if (entry.retry === 'later') expect(entry.reason, `${type} ${name} ${code}`).toBe('throttled');
      if (entry.retry === 'now') expect(entry.reason, `${type} ${name} ${code}`).toBe('provider_error');
    }
  });

  it.each(providers)('%s: codes that only come in delivery reports are final', (type, codes) => {
    for (const { name, code, entry } of entriesOf(codes.tables)) {
      // Send answers are looked up in "codes"; "dlr:" codes, subcodes, families and descriptions are reports or refinements.
      if (name !== 'codes' || code.startsWith('dlr:')) expect(entry.retry, `${type} ${name} ${code}`).toBe('final');
    }
  });

  it('a code the table does not list is final, whatever its name', () => {
    const table = providerFailureCodes.whatsapp?.tables.codes as ProviderCodeTable;
    for (const code of ['999999', '', 'constructor', '__proto__', 'toString'])
      expect(retryClass(table, code)).toBe('final');
    expect(retryClass(table, '130429')).toBe('later');
    expect(retryClass(table, '131000')).toBe('now');
  });
});
