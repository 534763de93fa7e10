/**
 * Reading an uploaded CSV: bytes to text (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252
 * as Excel writes it in Latin America), the delimiter from the header line, the columns to fields, and
 * every data row checked on its own. Pure: the database comes later, in import.ts.
 */
import {
  autoImportField,
  IMPORT_LIMITS,
  type ImportEncoding,
  type ImportField,
  type ImportIdentifier,
  type ImportMode,
  type ImportRowReason,
  isFailedMessagesExport,
  normalizeImportHeader,
  restoreFormulaCell,
} from '@rebound/shared';
import Papa from 'papaparse';
import { z } from 'zod';
import { ApiError } from '../lib/errors';
import { normalizeEmail, phoneColumns } from '../services/contacts';

export type ImportDelimiter = ',' | ';' | '\t';

export interface Rejection {
  code: ImportRowReason;
  params: Record<string, string | number>;
}

/** What one row writes; an absent field keeps what the contact has. */
export interface ImportRowData {
  firstName?: string;
  lastName?: string;
  phone?: ReturnType<typeof phoneColumns>;
  email?: string;
  language?: string;
  customFields?: Record<string, string>;
}

export interface ImportRow {
  /** Line of the file where the row starts; the header is line 1. */
  line: number;
  /** The identifier cell as written (for the report). */
  identifierValue: string | null;
  /** The identifier, normalized: a contact ID, an E.164 phone or a lower-cased e-mail. */
  key?: string;
  data: ImportRowData;
  rejection?: Rejection;
}

export interface ImportColumn {
  header: string;
  field: ImportField;
}

export interface ParsedImport {
  encoding: ImportEncoding;
  delimiter: ImportDelimiter;
  columns: ImportColumn[];
  identifier: ImportIdentifier;
  rows: ImportRow[];
}

export interface ParseOptions {
  mode: ImportMode;
  identifier?: ImportIdentifier | undefined;
  mapping?: Record<string, ImportField> | undefined;
  defaultCountry: string;
}

const MAX_LENGTH: Partial<Record<ImportField, number>> = { firstName: 100, lastName: 100, phone: 40 };
const MAX_CUSTOM_VALUE = 2000;
const emailSchema = z.email().max(254);
const languagePattern = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;

const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

/** 413 for a file over the limit, whichever way it is noticed. */
export const fileTooLarge = () => new ApiError(413, 'import_file_too_large', { limit: mb(IMPORT_LIMITS.maxBytes) });

/**
 * Bytes to text. A byte order mark decides; otherwise valid UTF-8 is UTF-8 and anything else is
 * Windows-1252 (what Excel saves as "CSV" on a Spanish Windows). NUL bytes or many control characters
 * mean a binary file: a workbook, an image, a zip.
 */
export function decodeCsv(bytes: Uint8Array): { text: string; encoding: ImportEncoding } {
  if (bytes.length > IMPORT_LIMITS.maxBytes) throw fileTooLarge();
  let encoding: ImportEncoding | undefined;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = 'utf-16le';
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = 'utf-16be';
  let text: string;
  if (encoding) {
    text = new TextDecoder(encoding).decode(bytes);
  } else {
    if (bytes.includes(0)) throw new ApiError(422, 'import_not_csv');
    // A UTF-8 byte order mark in front of Windows-1252 text (files pasted together) still is no text.
    const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
      encoding = 'utf-8';
    } catch {
      text = new TextDecoder('windows-1252').decode(body);
      encoding = 'windows-1252';
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text.trim()) throw new ApiError(422, 'import_empty_file');
  const sample = text.slice(0, 65_536);
  // Controls other than tab, line feed, form feed and carriage return do not occur in text files.
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const code = sample.charCodeAt(i);
    if ((code < 32 && code !== 9 && code !== 10 && code !== 12 && code !== 13) || code === 127) controls++;
  }
  if (text.includes('\u0000') || controls > sample.length / 100) {
    throw new ApiError(422, 'import_not_csv');
  }
  return { text, encoding };
}

/** The delimiter that splits the header line most often, outside quotes; a comma when none does. */
export function sniffDelimiter(text: string): ImportDelimiter {
  const counts: Record<ImportDelimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && (char === ',' || char === ';' || char === '\t')) counts[char]++;
  }
  const best = (Object.entries(counts) as [ImportDelimiter, number][]).sort((a, b) => b[1] - a[1])[0];
  return best && best[1] > 0 ? best[0] : ',';
}

const columnList = (headers: readonly string[]) =>
  headers
    .filter((header) => header.trim())
    .map((header) => `"${header}"`)
    .join(', ') || '(ninguna / none)';

/** The field of each column: the mapping's word first, then the automatic recognition. */
export function mapColumns(
  headers: readonly string[],
  mapping: Record<string, ImportField> | undefined,
): ImportField[] {
  const fields: (ImportField | undefined)[] = headers.map(() => undefined);
  for (const [name, field] of Object.entries(mapping ?? {})) {
    let index = headers.indexOf(name.trim());
    if (index < 0) {
      const wanted = normalizeImportHeader(name);
      index = wanted ? headers.findIndex((header) => normalizeImportHeader(header) === wanted) : -1;
    }
    if (index < 0)
      throw new ApiError(422, 'import_mapping_unknown_column', { column: name, columns: columnList(headers) });
    fields[index] = field;
  }
  const failedExport = isFailedMessagesExport(headers);
  return headers.map((header, index) => fields[index] ?? autoImportField(header, failedExport));
}

function checkHeaders(headers: string[]): void {
  const tooLong = headers.find((header) => header.length > IMPORT_LIMITS.maxHeaderChars);
  if (tooLong) {
    throw new ApiError(422, 'import_header_too_long', { size: tooLong.length, max: IMPORT_LIMITS.maxHeaderChars });
  }
  const seen = new Map<string, string[]>();
  for (const header of headers) {
    const key = normalizeImportHeader(header);
    if (!key) continue;
    seen.set(key, [...(seen.get(key) ?? []), header]);
  }
  const duplicates = [...seen.values()].filter((group) => group.length > 1);
  if (duplicates.length) {
    throw new ApiError(
      422,
      'import_duplicate_headers',
      { columns: duplicates.map((group) => group.map((header) => `"${header}"`).join(' = ')).join('; ') },
      duplicates.map((group) => ({ path: 'file', message: `duplicate header: ${group.join(' / ')}` })),
    );
  }
}

function checkFields(headers: string[], fields: ImportField[]): void {
  const byField = new Map<string, string[]>();
  for (const [index, field] of fields.entries()) {
    if (field === 'ignore') continue;
    const key = field.startsWith('custom.') ? `custom.${field.slice(7).toLowerCase()}` : field;
    byField.set(key, [...(byField.get(key) ?? []), headers[index] ?? '']);
  }
  for (const [field, columns] of byField) {
    if (columns.length > 1) {
      throw new ApiError(422, 'import_mapping_duplicate_field', {
        field,
        columns: columns.map((header) => `"${header}"`).join(', '),
      });
    }
  }
  const custom = fields.filter((field) => field.startsWith('custom.')).length;
  if (custom > IMPORT_LIMITS.maxCustomFields) {
    throw new ApiError(422, 'import_too_many_custom_fields', { count: custom, max: IMPORT_LIMITS.maxCustomFields });
  }
}

function pickIdentifier(
  headers: string[],
  fields: ImportField[],
  wanted: ImportIdentifier | undefined,
  mode: ImportMode,
): ImportIdentifier {
  if (mode === 'add' && wanted === 'contactId') throw new ApiError(422, 'import_add_by_contact_id');
  const identifier = wanted ?? (['contactId', 'phone', 'email'] as const).find((field) => fields.includes(field));
  if (!identifier || !fields.includes(identifier)) {
    throw new ApiError(422, 'import_identifier_column_missing', {
      identifier: identifier ?? 'contactId / phone / email',
      columns: columnList(headers),
    });
  }
  if (mode === 'add' && identifier === 'contactId') throw new ApiError(422, 'import_add_by_contact_id');
  return identifier;
}

/** Checks one data row and turns it into what it would write; a problem becomes the row's rejection. */
function readRow(
  cells: string[],
  errors: Papa.ParseError[],
  line: number,
  headers: string[],
  fields: ImportField[],
  identifier: ImportIdentifier,
  defaultCountry: string,
): ImportRow {
  const identifierIndex = fields.indexOf(identifier);
  const rawIdentifier = cells[identifierIndex]?.trim().slice(0, 200) || null;
  const row: ImportRow = { line, identifierValue: rawIdentifier, data: {} };
  const reject = (code: ImportRowReason, params: Record<string, string | number> = {}) => {
    row.rejection = { code, params: { line, ...params } };
    return row;
  };
  if (errors.length) {
    return reject('malformed_row', { message: [...new Set(errors.map((error) => error.message))].join('; ') });
  }
  if (cells.length < headers.length) {
    return reject('malformed_row', {
      message: `Too few fields: expected ${headers.length} fields but parsed ${cells.length}`,
    });
  }
  if (cells.length > headers.length && cells.slice(headers.length).some((cell) => cell.trim())) {
    return reject('malformed_row', {
      message: `Too many fields: expected ${headers.length} fields but parsed ${cells.length}`,
    });
  }
  for (const [index, cell] of cells.entries()) {
    if (cell.length > IMPORT_LIMITS.maxCellChars) {
      return reject('cell_too_large', {
        column: headers[index] ?? `#${index + 1}`,
        size: cell.length,
        max: IMPORT_LIMITS.maxCellChars,
      });
    }
  }
  for (const [index, field] of fields.entries()) {
    if (field === 'ignore') continue;
    // The exports put a quote before a cell a spreadsheet would run as a formula: take it off again.
    const value = restoreFormulaCell((cells[index] ?? '').trim());
    const column = headers[index] ?? '';
    if (field === identifier && !value) return reject('identifier_missing', { identifier });
    if (!value) continue;
    const max = field.startsWith('custom.') ? MAX_CUSTOM_VALUE : MAX_LENGTH[field];
    if (max !== undefined && value.length > max) return reject('value_too_long', { column, size: value.length, max });
    switch (field) {
      case 'contactId':
        if (identifier !== 'contactId') break;
        if (!/^\d{1,15}$/.test(value) || Number(value) === 0) return reject('contact_id_invalid', { value });
        row.key = String(Number(value));
        break;
      case 'firstName':
        row.data.firstName = value;
        break;
      case 'lastName':
        row.data.lastName = value;
        break;
      case 'phone': {
        const phone = phoneColumns(value, defaultCountry);
        if (identifier === 'phone') {
          if (!phone.phoneValid)
            return reject('phone_invalid', { value, problem: phone.phoneProblem ?? 'invalid_number' });
          row.key = phone.phone ?? undefined;
        }
        row.data.phone = phone;
        break;
      }
      case 'email': {
        const email = normalizeEmail(value);
        if (!emailSchema.safeParse(email).success) return reject('email_invalid', { value });
        if (identifier === 'email') row.key = email;
        row.data.email = email;
        break;
      }
      case 'language':
        if (!languagePattern.test(value) || value.length > 10) return reject('language_invalid', { value });
        row.data.language = value;
        break;
      default: {
        const key = field.slice('custom.'.length);
        row.data.customFields = { ...row.data.customFields, [key]: value };
      }
    }
  }
  return row;
}

/** Rows parsed between two turns of the event loop, so that other requests go on while a big file is read. */
const ROWS_PER_TURN = 5000;

/**
 * Parses the whole text row by row (papaparse's step mode: no copy of the file as arrays, a pause every few
 * thousand rows), maps the header, and checks each row. File-level problems reject with an ApiError;
 * row-level ones are kept on the row.
 */
export async function parseContactCsv(
  decoded: { text: string; encoding: ImportEncoding },
  options: ParseOptions,
): Promise<ParsedImport> {
  // One line ending for all: Excel on Windows writes CRLF, other tools LF, and files get pasted together.
  let text = decoded.text.replace(/\r\n?/g, '\n');
  // Excel's "sep=;" first line names the delimiter; the header comes after it.
  const sep = /^sep=([,;\t])\n/i.exec(text);
  if (sep) text = text.slice(sep[0].length);
  const delimiter = sep ? (sep[1] as ImportDelimiter) : sniffDelimiter(text);
  // Counted before parsing, in one cheap pass: the parser would build a row for every blank line first.
  let breaks = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    if (++breaks > IMPORT_LIMITS.maxLines)
      throw new ApiError(422, 'import_too_many_lines', { limit: IMPORT_LIMITS.maxLines.toLocaleString('en') });
  }
  let headers: string[] | undefined;
  let fields: ImportField[] = [];
  let identifier: ImportIdentifier = 'contactId';
  const rows: ImportRow[] = [];
  let failure: unknown;
  let tooMany = false;
  // Lines counted up to `counted`, to give each row the line it starts on.
  let counted = 0;
  let lines = sep ? 2 : 1;
  const advance = (to: number) => {
    for (let i = counted; i < to; i++) if (text.charCodeAt(i) === 10) lines++;
    counted = Math.max(counted, to);
  };
  const blank = new Set([' ', '\t', '\n', delimiter]);
  let previousCursor = 0;
  await new Promise<void>((resolve) => {
    Papa.parse<string[]>(text, {
      delimiter,
      newline: '\n',
      quoteChar: '"',
      skipEmptyLines: 'greedy',
      complete: () => resolve(),
      step: (result, parser) => {
        let start = previousCursor;
        while (start < text.length && blank.has(text[start] as string)) start++;
        advance(start);
        const line = lines;
        previousCursor = result.meta.cursor;
        try {
          if (!headers) {
            if (result.errors.length) {
              throw new ApiError(422, 'import_malformed_header', { message: result.errors[0]?.message ?? '' });
            }
            headers = result.data.map((cell) => cell.trim());
            checkHeaders(headers);
            fields = mapColumns(headers, options.mapping);
            checkFields(headers, fields);
            identifier = pickIdentifier(headers, fields, options.identifier, options.mode);
            return;
          }
          if (rows.length >= IMPORT_LIMITS.maxRows) {
            tooMany = true;
            parser.abort();
            return;
          }
          rows.push(readRow(result.data, result.errors, line, headers, fields, identifier, options.defaultCountry));
          if (rows.length % ROWS_PER_TURN === 0) {
            parser.pause();
            setImmediate(() => parser.resume());
          }
        } catch (error) {
          failure = error;
          parser.abort();
        }
      },
    });
  });
  if (failure) throw failure;
  if (!headers) throw new ApiError(422, 'import_empty_file');
  if (tooMany) throw new ApiError(422, 'import_too_many_rows', { limit: IMPORT_LIMITS.maxRows.toLocaleString('en') });
  if (rows.length === 0) throw new ApiError(422, 'import_no_rows');
  const columns = headers.map((header, index) => ({ header, field: fields[index] ?? 'ignore' }));
  return { encoding: decoded.encoding, delimiter, columns, identifier, rows };
}
