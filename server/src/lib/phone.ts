import type { PhoneProblem } from '@rebound/shared';
import { Metadata } from 'libphonenumber-js/core';
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  ParseError,
  type PhoneNumber,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
} from 'libphonenumber-js/max';
import maxMetadata from 'libphonenumber-js/max/metadata';

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
  // "00" and a country code, read as after "+" (writtenAfter00), against the country's own way out.
  const international = writtenAfter00(raw);
  try {
    const parsed = parsePhoneNumberWithError(withoutMexicanPrefixes(raw, defaultCountry), options);
    if (isValidNumber(parsed)) {
      // Both readings valid and apart (Colombia's 009 1 786…: India, or the United States by carrier 9):
      // flagged for a person to write it with +, rather than sent to whichever was guessed. Unless "00" is
      // followed by the workspace's own country code: a Colombian's "0057 301…" is their own country's.
      if (international && international !== parsed.number)
        return ownCountry(international, defaultCountry)
          ? { valid: true, e164: international }
          : { valid: false, raw, problem: 'ambiguous' };
      return { valid: true, e164: parsed.number };
    }
    if (international) return { valid: true, e164: international };
    // +52 1 however it was written: with +, after 00, or with the + lost (a spreadsheet's number cell).
    const mexican = withoutMexicanMobileOne(raw, parsed);
    if (mexican) return { valid: true, e164: mexican };
    const length = validatePhoneNumberLength(raw, options);
    return { valid: false, raw, problem: (length && problems[length]) || 'invalid_number' };
  } catch (error) {
    if (international) return { valid: true, e164: international };
    if (error instanceof ParseError) return { valid: false, raw, problem: problems[error.message] ?? 'invalid_number' };
    throw error;
  }
}

/**
 * Mexico dropped the "1" between +52 and mobile numbers in 2019, and the 044/045 (a mobile from a landline)
 * and 01 (long distance) prefixes with it, but contact lists still hold +52 1 55 1234 5678 and
 * 044 55 1234 5678. The same person is +52 55 1234 5678, so read them that way.
 */
function withoutMexicanPrefixes(raw: string, defaultCountry: string): string {
  const digits = raw.replace(/[\s().-]/g, '');
  const match = defaultCountry === 'MX' ? /^(?:044|045|01)(\d{10})$/.exec(digits) : null;
  return match ? `+52${match[1]}` : raw;
}

/**
 * A number written "00" and its country code, as contact lists write an international number (the ITU's
 * form), read as after "+". libphonenumber reads "00" as the workspace country's own way out, which in
 * Colombia (005, 007, 009...), Brazil (00 and a carrier) or the Dominican Republic (011) it is not: "0057 300
 * 123 4567" was refused in a Colombian workspace. Taken where the country's own reading is no valid number;
 * where both are, and differ, the number is flagged (normalizePhone).
 */
function writtenAfter00(raw: string): string | undefined {
  const digits = raw.replace(/[\s().-]/g, '');
  if (!/^00[1-9]\d+$/.test(digits)) return undefined;
  try {
    const parsed = parsePhoneNumberWithError(`+${digits.slice(2)}`);
    return isValidNumber(parsed) ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an E.164 number is in the workspace's own country (its calling code). */
function ownCountry(e164: string, defaultCountry: string): boolean {
  return isCountryCode(defaultCountry) && e164.startsWith(`+${getCountryCallingCode(defaultCountry)}`);
}

/**
 * +52 1 and ten digits however it was written (with +, after 00, or with the + lost): the number without
 * the 1, when that one is valid. Only where 52 was written: in a Mexican workspace "1 201 234 5678" is a
 * number in the United States, not +52 201 234 5678.
 */
function withoutMexicanMobileOne(raw: string, parsed: PhoneNumber): string | undefined {
  if (!/^(?:\+|00)?521\d{10}$/.test(raw.replace(/[\s().-]/g, ''))) return undefined;
  if (parsed.countryCallingCode !== '52' || !/^1\d{10}$/.test(parsed.nationalNumber)) return undefined;
  const again = parsePhoneNumberWithError(`+52${parsed.nationalNumber.slice(1)}`);
  return isValidNumber(again) ? again.number : undefined;
}

/**
 * A number as a provider writes it (WhatsApp's wa_id, an SMS's From, with or without +), read as the
 * contacts' phones are. Brazil put a 9 before every mobile number (2012 to 2016), but WhatsApp's IDs of
 * accounts registered before still lack it: +55 41 8832-7966 is the contact +55 41 98832-7966. Only
 * here, and only when the number as written is not valid: in what a person types, a missing digit is
 * more likely a typo, flagged, than an old number.
 */
export function normalizeProviderPhone(input: string): PhoneResult {
  const phone = normalizePhone(input, '');
  if (phone.valid) return phone;
  const match = /^\+55(\d{2})([6-9]\d{7})$/.exec(input.replace(/[\s().-]/g, ''));
  if (!match) return phone;
  const mobile = normalizePhone(`+55${match[1]}9${match[2]}`, '');
  return mobile.valid ? mobile : phone;
}

/** What isValidNumber reads of a numbering plan (libphonenumber's own isValid reads the same methods). */
interface NumberingPlan {
  hasTypes(): boolean;
  nationalNumberPattern(): string;
  type(type: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

/** libphonenumber's plans have these methods at run time; its typings name fewer of them. */
const hasPatterns = (plan: object | undefined): plan is NumberingPlan =>
  plan !== undefined && 'hasTypes' in plan && 'nationalNumberPattern' in plan && 'type' in plan;

/** The number types libphonenumber's getNumberType tries, in its order: a number of any type is valid. */
const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
];

const plans = new Metadata(maxMetadata);
const wholePatterns = new Map<string, RegExp>();

/** libphonenumber's matchesEntirely, with each pattern compiled once instead of on every call. */
function matchesEntirely(text: string, pattern: string): boolean {
  let regex = wholePatterns.get(pattern);
  if (!regex) {
    regex = new RegExp(`^(?:${pattern})$`);
    wholePatterns.set(pattern, regex);
  }
  return regex.test(text);
}

/**
 * Exactly PhoneNumber.isValid() with the full metadata (its isValidNumber and getNumberType: the national
 * number fits the country's pattern and one of its number types), only faster. The library builds a
 * RegExp from each pattern on every call, Argentina's fixed-line one 1,200 characters long: that was
 * about half the time of normalizing a number. phone.test.ts checks it against the library's own
 * answer, number by number, so an upgrade of libphonenumber-js that changes the rules shows there.
 */
export function isValidNumber(parsed: PhoneNumber): boolean {
  plans.selectNumberingPlan((parsed.country ?? parsed.countryCallingCode) as CountryCode);
  const plan = plans.numberingPlan;
  if (!hasPatterns(plan)) return false;
  const national = parsed.nationalNumber;
  if (!plan.hasTypes()) return matchesEntirely(national, plan.nationalNumberPattern());
  if (!matchesEntirely(national, plan.nationalNumberPattern())) return false;
  return NUMBER_TYPES.some((name) => {
    const type = plan.type(name);
    if (!type?.pattern()) return false;
    const lengths = type.possibleLengths();
    if (lengths && !lengths.includes(national.length)) return false;
    return matchesEntirely(national, type.pattern());
  });
}

/** Calling code → its main country (the first libphonenumber lists: +1 → US, +7 → RU, +54 → AR). */
const callingCodes: Record<string, readonly string[] | undefined> = maxMetadata.country_calling_codes;

/**
 * The country of an E.164 number from its first digits ("+5491155…" → AR): what per-country prices
 * read. "??" when the digits start no known calling code (an identifier that is not a phone number).
 */
export function countryOfE164(prefix: string): string {
  const digits = prefix.startsWith('+') ? prefix.slice(1) : prefix;
  for (const length of [1, 2, 3]) {
    const country = callingCodes[digits.slice(0, length)]?.[0];
    if (country && country !== '001') return country;
  }
  return '??';
}
