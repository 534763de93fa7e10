import type { PhoneProblem } from '@rebound/shared';
import {
  type CountryCode,
  getCountries,
  ParseError,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
} from 'libphonenumber-js/max';

export type PhoneResult = { valid: true; e164: string } | { valid: false; raw: string; problem: PhoneProblem };

const countries = new Set<string>(getCountries());

export function isCountryCode(value: string): value is CountryCode {
  return countries.has(value);
}

const problems: Record<string, PhoneProblem> = {
  NOT_A_NUMBER: 'not_a_number',
  INVALID_COUNTRY: 'invalid_country',
  TOO_SHORT: 'too_short',
  TOO_LONG: 'too_long',
  INVALID_LENGTH: 'invalid_number',
};

/**
 * Normalizes a phone number to E.164, reading numbers written without + in the workspace's country.
 * The full metadata checks each country's real ranges (Argentina's mobile 9, Mexico's old 1 after +52,
 * Brazil's ninth digit). A number that does not parse comes back as given with the problem:
 * it is flagged, never dropped.
 */
export function normalizePhone(input: string, defaultCountry: string): PhoneResult {
  const raw = input.trim();
  const options = isCountryCode(defaultCountry) ? { defaultCountry } : {};
  try {
    const parsed = parsePhoneNumberWithError(withoutMexicanMobileOne(raw), options);
    if (parsed.isValid()) return { valid: true, e164: parsed.number };
    const length = validatePhoneNumberLength(raw, options);
    return { valid: false, raw, problem: (length && problems[length]) || 'invalid_number' };
  } catch (error) {
    if (error instanceof ParseError) return { valid: false, raw, problem: problems[error.message] ?? 'invalid_number' };
    throw error;
  }
}

/**
 * Mexico dropped the "1" between +52 and mobile numbers in 2019, but contact lists still hold
 * +52 1 55 1234 5678. The same person is +52 55 1234 5678, so read it that way.
 */
function withoutMexicanMobileOne(raw: string): string {
  const digits = raw.replace(/[\s().-]/g, '');
  const match = /^\+521(\d{10})$/.exec(digits);
  return match ? `+52${match[1]}` : raw;
}
