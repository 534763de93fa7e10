/**
 * Every text Rebound writes exists in each language it speaks, and says the same things: the same
 * placeholders ({count}, {count, plural, …}, {name}), so no reader ever sees a raw "{limit}" or misses a number.
 */
import { describe, expect, it } from 'vitest';
import {
  apiErrors,
  autoImportField,
  CONTACT_EXPORT_COLUMNS,
  channelCapabilities,
  EXPORT_RESEND_LABELS,
  EXPORT_VALUE_LABELS,
  exportColumnKey,
  exportHeaders,
  FAILED_EXPORT_COLUMNS,
  failureReasons,
  format,
  importIdentifierNames,
  importMalformedProblems,
  importRowReasons,
  isFailedMessagesExport,
  LANGUAGES,
  type Localized,
  pickLanguage,
  preflightWarnings,
  schemaMessages,
  windowFixes,
} from '../src';

/** The names a text fills in, whatever the form: {limit}, {count, number}, {count, plural, …}. */
function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)(?=[,}])/g)].map((m) => m[1] as string).sort();
}

function tables(): [string, Localized][] {
  const out: [string, Localized][] = [];
  const add = (prefix: string, table: Record<string, Localized>) => {
    for (const [key, value] of Object.entries(table)) out.push([`${prefix}.${key}`, value]);
  };
  add('apiErrors', apiErrors);
  add('schemaMessages', schemaMessages);
  add('preflightWarnings', preflightWarnings);
  add('windowFixes', windowFixes);
  add('importRowReasons', importRowReasons);
  add('importMalformedProblems', importMalformedProblems);
  add('importIdentifierNames', importIdentifierNames);
  add('exportResendLabels', EXPORT_RESEND_LABELS);
  add('exportValues', EXPORT_VALUE_LABELS);
  for (const column of [...FAILED_EXPORT_COLUMNS, ...CONTACT_EXPORT_COLUMNS])
    out.push([`column.${column.key}`, column]);
  for (const [reason, info] of Object.entries(failureReasons)) {
    out.push([`${reason}.title`, info.title], [`${reason}.explanation`, info.explanation]);
    out.push([`${reason}.action`, info.action]);
  }
  for (const [type, capability] of Object.entries(channelCapabilities)) {
    out.push([`${type}.label`, capability.label]);
    if (capability.noBroadcastReason) out.push([`${type}.noBroadcastReason`, capability.noBroadcastReason]);
  }
  return out;
}

describe('every text in every language', () => {
  it('Rebound speaks Spanish, English and Brazilian Portuguese', () => {
    expect([...LANGUAGES]).toEqual(['es', 'en', 'pt']);
  });

  it('each text has all three, with the same placeholders as the English', () => {
    const all = tables();
    expect(all.length).toBeGreaterThan(200);
    for (const [where, text] of all) {
      for (const language of LANGUAGES) {
        expect(typeof text[language] === 'string' && text[language].trim().length > 0, `${where}.${language}`).toBe(
          true,
        );
        expect(placeholders(text[language]), `${where}.${language}`).toEqual(placeholders(text.en));
      }
    }
  });

  it('the Portuguese is not the Spanish copied', () => {
    // Short labels may coincide (a channel called "WhatsApp", "Canal"); whole sentences may not.
    const copied = tables().filter(([, text]) => text.es.length > 30 && text.pt === text.es);
    expect(copied.map(([where]) => where)).toEqual([]);
  });

  it('Portuguese counts read as Brazilians write them: 1 singular, 0 plural ("0 falhas", though CLDR says "0 falha")', () => {
    expect(format('{n, plural, one {# falha} other {# falhas}}', { n: 0 }, 'pt')).toBe('0 falhas');
    expect(format('{n, plural, one {# falha} other {# falhas}}', { n: 0 }, 'es')).toBe('0 falhas');
    // One recipient over the daily limit: "no entra", not "no entran".
    const overflow = { overflow: 1, willSend: '1.001', limit: '1.000', remaining: '1.000', allFitAt: 'mañana' };
    expect(format(preflightWarnings.quota_overflow.es, overflow, 'es')).toMatch(/^1 de 1\.001 no entra en el límite/);
    expect(format(preflightWarnings.quota_overflow.pt, overflow, 'pt')).toMatch(/^1 de 1\.001 não cabe no limite/);
    expect(format(preflightWarnings.quota_overflow.es, { ...overflow, overflow: 1500 }, 'es')).toMatch(
      /^1\.500 de 1\.001 no entran/,
    );
    const template = '{n, plural, =0 {nenhuma falha} one {# falha} other {# falhas}}';
    expect(format(template, { n: 0 }, 'pt')).toBe('nenhuma falha');
    expect(format(template, { n: 1 }, 'pt')).toBe('1 falha');
    expect(format(template, { n: 1500 }, 'pt')).toBe('1.500 falhas');
  });
});

describe('pickLanguage with Portuguese', () => {
  it.each([
    ['pt-BR,pt;q=0.9,en;q=0.8', 'pt'],
    ['pt-PT', 'pt'],
    ['fr-FR,pt-BR;q=0.5,es;q=0.4', 'pt'],
    ['de-DE', undefined],
  ])('%s → %s', (header, expected) => {
    expect(pickLanguage(header)).toBe(expected);
  });
});

describe('files written in Portuguese come back in', () => {
  it('a contacts export in Portuguese maps every column back to its field on import', () => {
    const headers = exportHeaders(CONTACT_EXPORT_COLUMNS, 'pt');
    const fields = headers.map((header) => autoImportField(header, false));
    expect(fields).toEqual(CONTACT_EXPORT_COLUMNS.map((column) => (column.key === 'tags' ? 'ignore' : column.key)));
  });

  it("a Brazilian spreadsheet's own headers are understood", () => {
    expect(['Nome', 'Sobrenome', 'Telefone', 'ID do contato', 'Língua'].map((h) => autoImportField(h, false))).toEqual([
      'firstName',
      'lastName',
      'phone',
      'contactId',
      'language',
    ]);
  });

  it('a failed-messages export in Portuguese is recognised and its headers read back', () => {
    const headers = exportHeaders(FAILED_EXPORT_COLUMNS, 'pt');
    expect(isFailedMessagesExport(headers)).toBe(true);
    expect(headers.map((header) => exportColumnKey(FAILED_EXPORT_COLUMNS, header))).toEqual(
      FAILED_EXPORT_COLUMNS.map((column) => column.key),
    );
  });
});
