/**
 * What a row or the API says about a contact, checked and normalized the same on every path: phones to
 * E.164 with the workspace's country (libphonenumber-js), e-mails trimmed and lower-cased, lengths,
 * languages and contact IDs checked, and the row's identifier read into its key. No database here: the
 * contact writer (contact-writer.ts) matches and writes what this reads.
 */
import {
  CONTROL_CHARACTERS,
  CONTROL_CHARACTERS_BUT_LINE_BREAKS,
  type ImportField,
  type ImportIdentifier,
  type ImportRowReason,
  type PhoneProblem,
} from '@rebound/shared';
import { z } from 'zod';
import { normalizePhone } from '../lib/phone';

/** The columns a phone turns into: E.164 when it parses, the text as given and the problem otherwise. */
export interface PhoneColumns {
  phone: string | null;
  phoneValid: boolean | null;
  phoneProblem: PhoneProblem | null;
}

const NO_PHONE: Readonly<PhoneColumns> = Object.freeze({ phone: null, phoneValid: null, phoneProblem: null });

/**
 * Phones already normalized, by country and text as given. Parsing a number with libphonenumber still
 * costs some 15 µs (lib/phone.ts): a number on many rows of a file, or a list imported again while the
 * thread lives, is parsed once. Bounded: when full it starts over, so memory stays flat whatever the
 * files. (Not one oldest entry out per new one: a Map emptied from its front keeps the holes, and
 * finding its first live key got slower with every eviction; a second 100,000-row import took 40 %
 * longer than the first.)
 */
const phoneCache = new Map<string, Readonly<PhoneColumns>>();
export const PHONE_CACHE_SIZE = 50_000;

export function phoneColumns(phone: string | null | undefined, defaultCountry: string): Readonly<PhoneColumns> {
  if (phone == null) return NO_PHONE;
  const key = `${defaultCountry} ${phone}`;
  const known = phoneCache.get(key);
  if (known) return known;
  const result = normalizePhone(phone, defaultCountry);
  const columns: Readonly<PhoneColumns> = Object.freeze(
    result.valid
      ? { phone: result.e164, phoneValid: true, phoneProblem: null }
      : { phone: result.raw, phoneValid: false, phoneProblem: result.problem },
  );
  if (phoneCache.size >= PHONE_CACHE_SIZE) phoneCache.clear();
  phoneCache.set(key, columns);
  return columns;
}

/** Empties the phone cache: the benchmark measures each pass with normalization cold. */
export const forgetNormalizedPhones = () => phoneCache.clear();

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * What a write sets on a contact. An absent field keeps what the contact has; null clears it (the API's
 * PATCH; an import never clears). Custom fields merge key by key, a null value removing the key.
 */
export interface ContactValues {
  firstName?: string | null;
  lastName?: string | null;
  phone?: Readonly<PhoneColumns>;
  email?: string | null;
  language?: string | null;
  customFields?: Record<string, string | null>;
}

/** A contact as the API gives it (create or PATCH): custom values are kept as text. */
export interface ContactFieldsInput {
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  language?: string | null | undefined;
  customFields?: Record<string, string | number | boolean | null> | undefined;
}

/** The API's fields as the writer's values: only what is given, normalized. */
export function contactValues(input: ContactFieldsInput, defaultCountry: string): ContactValues {
  const values: ContactValues = {};
  // Names and custom values as one letter per accented letter (NFC): a segment's "is Gómez" matches
  // what a Mac or a CRM sent as "o" and a combining accent (segments/fold.ts).
  if (input.firstName !== undefined) values.firstName = input.firstName?.normalize('NFC') ?? null;
  if (input.lastName !== undefined) values.lastName = input.lastName?.normalize('NFC') ?? null;
  if (input.phone !== undefined) values.phone = phoneColumns(input.phone, defaultCountry);
  if (input.email !== undefined) values.email = input.email === null ? null : normalizeEmail(input.email);
  if (input.language !== undefined) values.language = input.language;
  if (input.customFields) {
    values.customFields = Object.fromEntries(
      Object.entries(input.customFields).map(([key, value]) => [
        key,
        value === null ? null : String(value).normalize('NFC'),
      ]),
    );
  }
  return values;
}

/** Why a row cannot be written, as a code and its parameters (rendered in each reader's language). */
export interface Rejection {
  code: ImportRowReason;
  params: Record<string, string | number>;
}

/** One row to write: its normalized identifier and values, or why not. */
export interface ContactRow {
  /** Where the row comes from: the file's line where it starts, or the index in a batch. */
  line: number;
  /** The identifier as written (for the report). */
  identifierValue: string | null;
  /** The identifier, normalized: a contact ID, an E.164 phone or a lower-cased e-mail. */
  key?: string;
  data: ContactValues;
  rejection?: Rejection;
}

const MAX_LENGTH: Partial<Record<ImportField, number>> = { firstName: 100, lastName: 100, phone: 40 };
const MAX_CUSTOM_VALUE = 2000;
const emailSchema = z.email().max(254);
const languagePattern = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;

const refuse = (row: ContactRow, code: ImportRowReason, params: Record<string, string | number>): Rejection => ({
  code,
  params: { line: row.line, ...params },
});

/**
 * Reads one field of a row into it: checked, normalized, and the row's key when it is the identifier.
 * The value is trimmed already; `column` names it in a rejection. Returns why the row cannot be written.
 */
export function readContactField(
  row: ContactRow,
  field: Exclude<ImportField, 'ignore'>,
  value: string,
  identifier: ImportIdentifier,
  defaultCountry: string,
  column: string,
): Rejection | undefined {
  // No closure per call: this runs for every field of every row.
  if (field === identifier && !value) return refuse(row, 'identifier_missing', { identifier });
  if (!value) return undefined;
  // Names and custom values as one letter per accented letter (NFC) before their length is counted: a
  // name sent decomposed (from a Mac) is as long as it reads.
  if (field === 'firstName' || field === 'lastName' || field.startsWith('custom.')) value = value.normalize('NFC');
  const max = field.startsWith('custom.') ? MAX_CUSTOM_VALUE : MAX_LENGTH[field];
  if (max !== undefined && value.length > max)
    return refuse(row, 'value_too_long', { column, size: value.length, max });
  // Control characters the API refuses in a contact's text (cleanText) a file may not bring in either; a
  // custom field keeps its line breaks and tabs (a multi-line note or address from a CRM's export).
  if ((field.startsWith('custom.') ? CONTROL_CHARACTERS_BUT_LINE_BREAKS : CONTROL_CHARACTERS).test(value))
    return refuse(row, 'control_characters', { column });
  switch (field) {
    case 'contactId':
      if (identifier !== 'contactId') break;
      if (!/^\d{1,15}$/.test(value) || Number(value) === 0) return refuse(row, 'contact_id_invalid', { value });
      row.key = String(Number(value));
      break;
    case 'firstName':
      row.data.firstName = value;
      break;
    case 'lastName':
      row.data.lastName = value;
      break;
    case 'phone': {
      // "5.49115E+12": Excel showed a long number in scientific notation and saved it so; the digits are lost.
      if (/^[+-]?\d+(?:[.,]\d+)?e[+-]?\d+$/i.test(value)) return refuse(row, 'phone_scientific', { value });
      const phone = phoneColumns(value, defaultCountry);
      if (identifier === 'phone') {
        if (!phone.phoneValid)
          return refuse(row, 'phone_invalid', { value, problem: phone.phoneProblem ?? 'invalid_number' });
        row.key = phone.phone ?? undefined;
      }
      row.data.phone = phone;
      break;
    }
    case 'email': {
      const email = normalizeEmail(value);
      if (!emailSchema.safeParse(email).success) return refuse(row, 'email_invalid', { value });
      if (identifier === 'email') row.key = email;
      row.data.email = email;
      break;
    }
    case 'language':
      if (!languagePattern.test(value) || value.length > 10) return refuse(row, 'language_invalid', { value });
      row.data.language = value;
      break;
    default: {
      const key = field.slice('custom.'.length);
      row.data.customFields = { ...row.data.customFields, [key]: value };
    }
  }
  return undefined;
}

/** A contact as text fields, the way a CSV row gives them. */
export interface ContactInput {
  contactId?: string | number | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  language?: string | undefined;
  customFields?: Record<string, string> | undefined;
}

const STANDARD_FIELDS = ['contactId', 'firstName', 'lastName', 'phone', 'email', 'language'] as const;

/** Checks and normalizes one input row exactly as a CSV row is (csv/import-parse.ts reads its cells here too). */
export function readContactInput(
  input: ContactInput,
  line: number,
  identifier: ImportIdentifier,
  defaultCountry: string,
): ContactRow {
  const identifierValue = input[identifier];
  const row: ContactRow = {
    line,
    identifierValue: identifierValue == null ? null : String(identifierValue).trim().slice(0, 200) || null,
    data: {},
  };
  for (const field of STANDARD_FIELDS) {
    const given = input[field];
    if (given === undefined && field !== identifier) continue;
    const rejection = readContactField(row, field, String(given ?? '').trim(), identifier, defaultCountry, field);
    if (rejection) {
      row.rejection = rejection;
      return row;
    }
  }
  for (const [key, given] of Object.entries(input.customFields ?? {})) {
    const rejection = readContactField(row, `custom.${key}`, given.trim(), identifier, defaultCountry, key);
    if (rejection) {
      row.rejection = rejection;
      return row;
    }
  }
  return row;
}
