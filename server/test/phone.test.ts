import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberWithError,
} from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { isValidNumber, normalizePhone, normalizeProviderPhone } from '../src/lib/phone';

describe('phone normalization to E.164', () => {
  it.each([
    ['AR', '011 15 5555-1234', '+5491155551234'],
    ['AR', '+54 9 11 5555-1234', '+5491155551234'],
    ['AR', '(0351) 15 412-3456', '+5493514123456'],
    ['MX', '55 1234 5678', '+525512345678'],
    ['MX', '+52 1 55 1234 5678', '+525512345678'],
    // The same "1" with the + lost (a spreadsheet's number cell) or after 00, and the prefixes of before 2019.
    ['MX', '5215512345678', '+525512345678'],
    ['MX', '00 52 1 55 1234 5678', '+525512345678'],
    ['AR', '0052 1 55 1234 5678', '+525512345678'],
    ['MX', '044 55 1234 5678', '+525512345678'],
    ['MX', '045 33 1234 5678', '+523312345678'],
    ['MX', '01 33 1234 5678', '+523312345678'],
    ['CO', '300 123 4567', '+573001234567'],
    ['CO', '+57 (601) 234 5678', '+576012345678'],
    ['ES', '612 34 56 78', '+34612345678'],
    ['ES', '0034 612 345 678', '+34612345678'],
    ['BR', '(11) 91234-5678', '+5511912345678'],
    ['BR', '+55 21 98765-4321', '+5521987654321'],
    // A number with its own country code ignores the workspace country.
    ['AR', '+34 612 345 678', '+34612345678'],
    // "00" and the country code, as contact lists write it, where the country's own way out is not "00".
    ['CO', '0057 300 123 4567', '+573001234567'],
    ['CO', '0054 9 11 5555 1234', '+5491155551234'],
    ['BR', '0055 11 91234 5678', '+5511912345678'],
    // "00" and the workspace's own country code is that country's number, whatever else it could read as
    // (Colombia's 005 before a Russian +7 301…, a Brazilian carrier 55 before a Peruvian mobile).
    ['CO', '0057 301 234 5678', '+573012345678'],
    ['BR', '0055 51 99999 1234', '+5551999991234'],
    ['AR', '0054 9 11 5555 1234', '+5491155551234'],
    // A Brazilian carrier's way out (00, carrier 21) still reads as it did.
    ['BR', '0021 54 9 11 5555 1234', '+5491155551234'],
  ])('%s: %s → %s', (country, input, e164) => {
    expect(normalizePhone(input, country)).toEqual({ valid: true, e164 });
  });

  it.each([
    ['AR', '12345', 'too_short'],
    ['AR', 'llamar a Juan', 'not_a_number'],
    ['AR', '+54 9 11 5555 1234 5678', 'too_long'],
    ['AR', '+999 1234 5678', 'invalid_country'],
    ['BR', '(11) 1234-5678', 'invalid_number'],
    // A current mobile typed with a digit missing is flagged, not taken for an old number.
    ['BR', '(11) 9123-4567', 'invalid_number'],
    ['MX', '55 1234', 'too_short'],
    // Without the + elsewhere, 52 1… is not read as Mexico's.
    ['AR', '5215512345678', 'too_long'],
    // "00" read both as after "+" and as the country's own way out (Colombia's 005/009, a Brazilian carrier),
    // each a valid number somewhere: flagged to be written with +, not sent to a guess.
    ['CO', '0058 412 123 4567', 'ambiguous'],
    ['CO', '009 1 786 555 1234', 'ambiguous'],
    ['BR', '0043 1 212 555 1234', 'ambiguous'],
    // In a Mexican workspace, a number in the United States written "1 …" is not a Mexican number.
    ['MX', '1 201 234 5678', 'too_long'],
    ['MX', '1-800-123-4567', 'too_long'],
  ])('%s: %s is kept as given and flagged %s', (country, input, problem) => {
    expect(normalizePhone(input, country)).toEqual({ valid: false, raw: input, problem });
  });
});

describe('the fast validity check', () => {
  it("answers exactly as libphonenumber's own isValid(), country by country", () => {
    // A fixed seed: the same numbers every run.
    let seed = 12;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join('');
    const numbers: string[] = [];
    for (const country of getCountries()) {
      const code = getCountryCallingCode(country);
      const example = getExampleNumber(country as CountryCode, examples)?.nationalNumber;
      if (example) {
        numbers.push(`+${code}${example}`);
        // Real prefixes with other endings: mostly valid numbers, some not.
        for (let i = 0; i < 30; i++) {
          const kept = Math.floor(random() * example.length);
          numbers.push(
            `+${code}${example.slice(0, kept)}${digits(example.length - kept + Math.floor(random() * 3) - 1)}`,
          );
        }
      }
      for (let i = 0; i < 30; i++) numbers.push(`+${code}${digits(4 + Math.floor(random() * 10))}`);
    }
    // Non-geographic calling codes: no country, only the code's plan.
    for (const code of ['800', '808', '870', '878', '881', '882', '883', '888', '979']) {
      for (let i = 0; i < 30; i++) numbers.push(`+${code}${digits(6 + Math.floor(random() * 8))}`);
    }
    let valid = 0;
    let compared = 0;
    for (const number of numbers) {
      let parsed: ReturnType<typeof parsePhoneNumberWithError>;
      try {
        parsed = parsePhoneNumberWithError(number);
      } catch {
        continue;
      }
      compared++;
      const expected = parsed.isValid();
      if (expected) valid++;
      expect(isValidNumber(parsed), number).toBe(expected);
    }
    // Both answers are well represented.
    expect(compared).toBeGreaterThan(10_000);
    expect(valid).toBeGreaterThan(2_000);
    expect(compared - valid).toBeGreaterThan(2_000);
  });
});

describe('a number as a provider writes it', () => {
  it("reads an older Brazilian WhatsApp ID without the ninth digit as the contact's number", () => {
    expect(normalizeProviderPhone('+554188327966')).toEqual({ valid: true, e164: '+5541988327966' });
    expect(normalizeProviderPhone('+5215512345678')).toEqual({ valid: true, e164: '+525512345678' });
    expect(normalizeProviderPhone('+5491155551234')).toEqual({ valid: true, e164: '+5491155551234' });
    // A landline keeps its eight digits.
    expect(normalizeProviderPhone('+551132345678')).toEqual({ valid: true, e164: '+551132345678' });
  });
});
