/**
 * Reading an uploaded CSV from disk, a piece at a time (import-decode.ts turns bytes to text): the
 * delimiter from the header line, the columns to fields, and every data row checked on its own. Memory
 * stays the same whatever the file: rows reach the caller in batches and are not kept. Pure: the
 * database comes later, in import.ts.
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
import { ApiError, fieldIssue } from '../lib/errors';
import { type ContactRow, type ContactValues, type Rejection, readContactField } from '../services/contact-writer';
import { decodedText, type FileEncoding } from './import-decode';

export { fileTooLarge } from './import-decode';

export type ImportDelimiter = ',' | ';' | '\t';

export type { Rejection };

/** What one row writes; an absent field keeps what the contact has. */
export type ImportRowData = ContactValues;

/** One data row, checked: `line` is where it starts in the file (the header is line 1). */
export type ImportRow = ContactRow;

export interface ImportColumn {
  header: string;
  field: ImportField;
}

/** What the first pass learns about a file: how to read it, its columns, and how many data rows it has. */
export interface CsvLayout {
  encoding: ImportEncoding;
  delimiter: ImportDelimiter;
  /** Whether an Excel "sep=" line comes before the header. */
  sepLine: boolean;
  headers: string[];
  fields: ImportField[];
  columns: ImportColumn[];
  identifier: ImportIdentifier;
  totalRows: number;
}

/** The custom-field keys a file's columns write. */
export const customKeysOf = (layout: Pick<CsvLayout, 'columns'>): string[] =>
  layout.columns.flatMap((c) => (c.field.startsWith('custom.') ? [c.field.slice('custom.'.length)] : []));

/**
 * The layout with its custom fields spelled as the workspace spells them (`KeySpelling`): a column "plan"
 * where the contacts hold "Plan" writes to "Plan", one field and not two.
 */
export function spelledLayout(layout: CsvLayout, spelling: ReadonlyMap<string, string>): CsvLayout {
  if (spelling.size === 0) return layout;
  const spell = <F extends ImportField>(field: F): F => {
    const key = field.startsWith('custom.') ? spelling.get(field.slice('custom.'.length)) : undefined;
    return (key === undefined ? field : `custom.${key}`) as F;
  };
  return {
    ...layout,
    fields: layout.fields.map(spell),
    columns: layout.columns.map((c) => ({ ...c, field: spell(c.field) })),
  };
}

export interface ParseOptions {
  mode: ImportMode;
  identifier?: ImportIdentifier | undefined;
  mapping?: Record<string, ImportField> | undefined;
  defaultCountry: string;
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
  if (headers.length > IMPORT_LIMITS.maxColumns) {
    throw new ApiError(422, 'import_too_many_columns', { count: headers.length, max: IMPORT_LIMITS.maxColumns });
  }
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
      duplicates.map((group) => fieldIssue('file', 'duplicateHeader', { headers: group.join(' / ') })),
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
    // The problem by papaparse's code, read in each reader's language; its English words as a fallback.
    return reject('malformed_row', {
      problem: errors[0]?.code ?? '',
      message: [...new Set(errors.map((error) => error.message))].join('; '),
    });
  }
  const counts = { expected: headers.length, parsed: cells.length };
  if (cells.length < headers.length) return reject('malformed_row', { problem: 'too_few_fields', ...counts });
  if (cells.length > headers.length && cells.slice(headers.length).some((cell) => cell.trim())) {
    return reject('malformed_row', { problem: 'too_many_fields', ...counts });
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
    // The field's own rules (length, phone, e-mail, language) are the writer's, the same for every path.
    const rejection = readContactField(row, field, value, identifier, defaultCountry, headers[index] ?? '');
    if (rejection) return reject(rejection.code, rejection.params);
  }
  return row;
}

/** One row of the file as papaparse read it, with the line it starts on. */
type Visit = (cells: string[], errors: Papa.ParseError[], line: number) => void;

/** How the text is read: the delimiter and whether an Excel "sep=" line comes first. */
interface Dialect {
  delimiter: ImportDelimiter;
  sepLine: boolean;
}

/** Excel's "sep=;" first line names the delimiter; otherwise the header line's most frequent one. */
function dialectOf(first: string): Dialect {
  const sep = /^sep=([,;\t])\n/i.exec(first);
  if (sep) return { delimiter: sep[1] as ImportDelimiter, sepLine: true };
  return { delimiter: sniffDelimiter(first), sepLine: false };
}

/** Controls other than tab, line feed, form feed and carriage return do not occur in text files. */
function refuseControls(text: string): void {
  const sample = text.slice(0, 65_536);
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const code = sample.charCodeAt(i);
    if ((code < 32 && code !== 9 && code !== 10 && code !== 12 && code !== 13) || code === 127) controls++;
  }
  if (controls > sample.length / 100) throw new ApiError(422, 'import_not_csv');
}

/**
 * Walks the file's rows in order, a piece of text at a time: papaparse's own parser on each piece (a row
 * cut at the piece's end waits for the next one), blank rows skipped, each row given the line it starts
 * on. `afterPiece` runs between pieces (the rows of one piece handed on, a turn of the event loop).
 */
async function walkCsv(
  path: string,
  encoding: FileEncoding,
  visit: Visit,
  afterPiece: () => Promise<void>,
  known?: Dialect,
): Promise<Dialect> {
  let dialect = known;
  let partial = '';
  // Absolute offsets in the text: where `partial` starts, the end of the last row, lines counted up to.
  let base = 0;
  let previousCursor = 0;
  let counted = 0;
  let lines = 1;
  let breaks = 0;
  let failure: unknown;
  const parse = (input: string, last: boolean) => {
    const blank = new Set([' ', '\t', '\n', dialect?.delimiter ?? ',']);
    const parser: Papa.Parser = new Papa.Parser({
      delimiter: dialect?.delimiter,
      newline: '\n',
      quoteChar: '"',
      // A step gets its one row inside a list of rows.
      step: (result: Papa.ParseStepResult<string[][]>) => {
        const cells = result.data[0] ?? [];
        // papaparse's skipEmptyLines 'greedy': a row of nothing but blanks is no row (the next row's
        // start skips over it, once).
        if (cells.every((cell) => !cell.trim())) return;
        let start = Math.max(previousCursor - base, 0);
        while (start < input.length && blank.has(input[start] as string)) start++;
        for (let i = Math.max(counted - base, 0); i < start; i++) if (input.charCodeAt(i) === 10) lines++;
        counted = Math.max(counted, base + start);
        previousCursor = result.meta.cursor;
        try {
          visit(cells, result.errors, lines);
        } catch (error) {
          failure = error;
          parser.abort();
        }
      },
    } as Papa.ParseConfig);
    const result = parser.parse(input, base, !last) as Papa.ParseResult<string[]>;
    if (failure) throw failure;
    // Lines up to the end of the last whole row, counted now: this piece's text is let go.
    const cursor = result.meta.cursor;
    for (let i = Math.max(counted - base, 0); i < cursor - base; i++) if (input.charCodeAt(i) === 10) lines++;
    counted = Math.max(counted, cursor);
    return cursor;
  };
  for await (let text of decodedText(path, encoding)) {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
      if (++breaks > IMPORT_LIMITS.maxLines)
        throw new ApiError(422, 'import_too_many_lines', { limit: IMPORT_LIMITS.maxLines });
    }
    if (!dialect) {
      refuseControls(text);
      dialect = dialectOf(text);
    }
    if (base === 0 && !partial && dialect.sepLine) {
      // The "sep=" line is no row: the header is line 2.
      const end = text.indexOf('\n') + 1;
      text = text.slice(end);
      lines = 2;
    }
    const input = partial + text;
    const cursor = parse(input, false);
    partial = input.slice(cursor - base);
    base = cursor;
    await afterPiece();
  }
  if (!dialect) throw new ApiError(422, 'import_empty_file');
  if (partial) parse(partial, true);
  await afterPiece();
  return dialect;
}

/**
 * The first pass: reads the header (checks it, maps the columns, picks the identifier) and counts the
 * data rows, keeping none. File-level problems reject with an ApiError, before any import exists.
 */
export async function scanContactCsv(path: string, encoding: FileEncoding, options: ParseOptions): Promise<CsvLayout> {
  let headers: string[] | undefined;
  let fields: ImportField[] = [];
  let identifier: ImportIdentifier = 'contactId';
  let totalRows = 0;
  const dialect = await walkCsv(
    path,
    encoding,
    (cells, errors) => {
      if (!headers) {
        if (errors.length) {
          throw new ApiError(422, 'import_malformed_header', { message: errors[0]?.message ?? '' });
        }
        headers = cells.map((cell) => cell.trim());
        checkHeaders(headers);
        fields = mapColumns(headers, options.mapping);
        checkFields(headers, fields);
        identifier = pickIdentifier(headers, fields, options.identifier, options.mode);
        return;
      }
      if (++totalRows > IMPORT_LIMITS.maxRows) {
        throw new ApiError(422, 'import_too_many_rows', { limit: IMPORT_LIMITS.maxRows });
      }
    },
    // A turn of the event loop between pieces, so that other requests go on while a big file is read.
    () => new Promise<void>((resolve) => setImmediate(resolve)),
  );
  if (!headers) throw new ApiError(422, 'import_empty_file');
  if (totalRows === 0) throw new ApiError(422, 'import_no_rows');
  const columns = headers.map((header, index) => ({ header, field: fields[index] ?? 'ignore' }));
  return { encoding: encoding.encoding, ...dialect, headers, fields, columns, identifier, totalRows };
}

/**
 * The second pass: every data row checked and handed to `onRows` in file order, a batch per piece of
 * the file; the next piece is read once the batch is handled.
 */
export async function readContactRows(
  path: string,
  encoding: FileEncoding,
  layout: CsvLayout,
  defaultCountry: string,
  onRows: (rows: ImportRow[]) => Promise<void>,
): Promise<void> {
  let header = true;
  let batch: ImportRow[] = [];
  await walkCsv(
    path,
    encoding,
    (cells, errors, line) => {
      if (header) {
        header = false;
        return;
      }
      batch.push(readRow(cells, errors, line, layout.headers, layout.fields, layout.identifier, defaultCountry));
    },
    async () => {
      const rows = batch;
      batch = [];
      await onRows(rows);
    },
    { delimiter: layout.delimiter, sepLine: layout.sepLine },
  );
}
