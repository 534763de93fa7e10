/**
 * The CSV contact import: the form it takes, the answer it gives, how it recognises the columns of a
 * file (Rebound's own exports in English or Spanish included) and why a row can be rejected, in each
 * language (Spanish, English and Brazilian Portuguese).
 */
import { z } from 'zod';
import { format, LANGUAGES, type Language, type Localized } from '../i18n';
import { cleanText, IdParamSchema, TimestampSchema } from './common';
import type { PhoneProblem } from './contacts';
import { CONTACT_EXPORT_COLUMNS, FAILED_EXPORT_COLUMNS } from './exports';
import { schemaMessages } from './messages';

/** respond.io's rules: CSV only, under 20 MB, at least one row, fewer than 200,000 rows. */
export const IMPORT_LIMITS = {
  maxBytes: 20 * 1024 * 1024,
  maxRows: 200_000,
  /** Lines, blank ones included: a file of little but line breaks would otherwise parse into millions of empty rows. */
  maxLines: 1_000_000,
  /** A longer cell is a broken file (or an attack), not a contact detail. */
  maxCellChars: 65_536,
  maxHeaderChars: 200,
  /** Columns of a file, ignored ones included: a header of a million commas is not a contact list. */
  maxColumns: 500,
  maxCustomFields: 100,
  /** Rejected rows kept with their reasons (the first ones; the count is exact), and a cell's characters echoed in one. */
  rejectionsKept: 1_000,
  rejectionEchoChars: 100,
  maxTags: 50,
} as const;

export const IMPORT_MODES = ['add', 'update', 'upsert'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export const IMPORT_IDENTIFIERS = ['contactId', 'phone', 'email'] as const;
export type ImportIdentifier = (typeof IMPORT_IDENTIFIERS)[number];

/** queued: waiting for the workspace's running import to finish (one runs at a time per workspace). */
export const IMPORT_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export const IMPORT_ENCODINGS = ['utf-8', 'windows-1252', 'utf-16le', 'utf-16be'] as const;
export type ImportEncoding = (typeof IMPORT_ENCODINGS)[number];

export const IMPORT_STANDARD_FIELDS = ['contactId', 'firstName', 'lastName', 'phone', 'email', 'language'] as const;
export type ImportStandardField = (typeof IMPORT_STANDARD_FIELDS)[number];

const customKeyPattern = /^custom\.[\p{L}\p{N}_\- ]{1,64}$/u;

/** Where a column goes: a contact field, a custom field (custom.<key>) or nowhere. */
export type ImportField = ImportStandardField | 'ignore' | `custom.${string}`;

export const ImportFieldSchema = z
  .union([
    z.enum([...IMPORT_STANDARD_FIELDS, 'ignore']),
    z
      .string()
      .regex(customKeyPattern, schemaMessages.customColumn.en)
      .transform((value) => value as `custom.${string}`),
  ])
  .meta({ example: 'custom.plan' });

const truthy = new Set(['true', '1', 'yes', 'on', 'si', 'sí', 'sim']);
const falsy = new Set(['false', '0', 'no', 'off', 'não', 'nao']);

/** A form flag: true/false (1/0, yes/no, on/off, sí/no, sim/não); empty or absent takes the default. */
const flag = (fallback: boolean, description: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .refine((value) => !value || truthy.has(value) || falsy.has(value), schemaMessages.trueOrFalse.en)
    .transform((value) => (value ? truthy.has(value) : fallback))
    .meta({ description: `${description} Default ${fallback}.` });

/** Blank form fields count as absent, so a form can always send every field. */
const optionalChoice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.enum(values).optional());

const tagName = cleanText().trim().min(1, schemaMessages.tagEmpty.en).max(100);

/** The smallest shape of an uploaded file both Node's File and the browser's satisfy. */
export interface ImportUpload {
  readonly name?: string;
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const isUpload = (value: unknown): value is ImportUpload =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as ImportUpload).size === 'number' &&
  typeof (value as ImportUpload).arrayBuffer === 'function';

export const ImportFormSchema = z.object({
  file: z
    .custom<ImportUpload>(isUpload, schemaMessages.csvFile.en)
    .meta({ type: 'string', format: 'binary', description: 'The CSV file: under 20 MB, at most 200,000 rows.' }),
  mode: optionalChoice(IMPORT_MODES)
    .transform((value) => value ?? 'upsert')
    .meta({
      description:
        'add: create new contacts only; update: update existing contacts only; upsert: both. Default upsert.',
    }),
  identifier: optionalChoice(IMPORT_IDENTIFIERS).meta({
    description:
      'The column that finds existing contacts. Default: contactId if a Contact ID column exists, else phone, else email.',
  }),
  tags: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      (Array.isArray(value) ? value : value === undefined ? [] : [value])
        .flatMap((entry) => entry.split(','))
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(z.array(tagName).max(IMPORT_LIMITS.maxTags, schemaMessages.tooManyImportTags.en))
    .meta({
      description: 'Tags given to every created or updated contact: comma-separated, or the field repeated.',
      example: 'failed broadcast 110122',
    }),
  dryRun: flag(false, 'true: report what would be created, updated and rejected; write nothing.'),
  allOrNothing: flag(true, 'true: if any row is rejected, nothing is written.'),
  mapping: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value?.trim()) return undefined;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: schemaMessages.mappingJson.en });
        return z.NEVER;
      }
    })
    .pipe(z.record(cleanText().max(IMPORT_LIMITS.maxHeaderChars), ImportFieldSchema).optional())
    .meta({
      description:
        'JSON object from column header to field: contactId, firstName, lastName, phone, email, language, custom.<key> or ignore. Overrides the automatic mapping for the columns it names.',
      example: '{"Celular": "phone", "Plan": "custom.plan", "Notas": "ignore"}',
    }),
});
export type ImportForm = z.infer<typeof ImportFormSchema>;

export const IMPORT_ROW_REASONS = [
  'malformed_row',
  'cell_too_large',
  'identifier_missing',
  'contact_id_invalid',
  'phone_invalid',
  'email_invalid',
  'language_invalid',
  'value_too_long',
  'not_found',
  'already_exists',
  'duplicate_row',
  'phone_scientific',
  'control_characters',
] as const;
export type ImportRowReason = (typeof IMPORT_ROW_REASONS)[number];

/** Why a row was rejected, in each language; {line} is the line of the file where the row starts. */
export const importRowReasons = {
  malformed_row: {
    es: 'Fila mal formada en la línea {line, number}: {message}. Revise las comillas y los separadores.',
    en: 'Malformed row at line {line, number}: {message}. Check the quotes and delimiters.',
    pt: 'A linha {line, number} está mal formada: {message}. Verifique as aspas e os separadores.',
  },
  cell_too_large: {
    es: 'La celda de la columna "{column}" tiene {size, number} caracteres; el máximo es {max, number}.',
    en: 'The cell in column "{column}" has {size, number} characters; the maximum is {max, number}.',
    pt: 'A célula da coluna "{column}" tem {size, number} caracteres; o máximo é {max, number}.',
  },
  identifier_missing: {
    es: 'Falta el {identifier}: no se puede saber a qué contacto corresponde la fila.',
    en: 'The {identifier} is missing: the row cannot be matched to a contact.',
    pt: 'Falta o {identifier}: não é possível saber a qual contato a linha corresponde.',
  },
  contact_id_invalid: {
    es: 'El ID de contacto "{value}" no es válido: debe ser un número entero positivo.',
    en: 'Contact ID "{value}" is not valid: it must be a positive whole number.',
    pt: 'O ID do contato "{value}" não é válido: deve ser um número inteiro positivo.',
  },
  phone_invalid: {
    es: 'El teléfono "{value}" no es válido ({problem}). Escríbalo con el código de país, p. ej. +54 9 11 5555-1234.',
    en: 'Phone number "{value}" is not valid ({problem}). Write it with the country code, e.g. +54 9 11 5555-1234.',
    pt: 'O telefone "{value}" não é válido ({problem}). Escreva-o com o código do país, por ex. +55 11 98765-4321.',
  },
  control_characters: {
    es: 'La columna "{column}" tiene caracteres de control (invisibles: un salto de línea en un nombre, un carácter que dejó otro programa): quítelos y vuelva a importar la fila.',
    en: 'Column "{column}" holds control characters (invisible ones: a line break in a name, a character another program left): remove them and import the row again.',
    pt: 'A coluna "{column}" tem caracteres de controle (invisíveis: uma quebra de linha em um nome, um caractere que outro programa deixou): remova-os e importe a linha de novo.',
  },
  email_invalid: {
    es: 'El correo electrónico "{value}" no es válido.',
    en: 'E-mail address "{value}" is not valid.',
    pt: 'O e-mail "{value}" não é válido.',
  },
  language_invalid: {
    es: 'El idioma "{value}" no es válido: use un código como es, en o pt-BR.',
    en: 'Language "{value}" is not valid: use a code such as es, en or pt-BR.',
    pt: 'O idioma "{value}" não é válido: use um código como es, en ou pt-BR.',
  },
  value_too_long: {
    es: 'El valor de la columna "{column}" tiene {size, number} caracteres; el máximo es {max, number}.',
    en: 'The value in column "{column}" has {size, number} characters; the maximum is {max, number}.',
    pt: 'O valor da coluna "{column}" tem {size, number} caracteres; o máximo é {max, number}.',
  },
  not_found: {
    es: 'No se encontró un contacto con el {identifier} "{value}" en este espacio de trabajo; la fila no se aplicó.',
    en: 'No contact with {identifier} "{value}" was found in this workspace; the row was not applied.',
    pt: 'Nenhum contato com o {identifier} "{value}" foi encontrado neste espaço de trabalho; a linha não foi aplicada.',
  },
  already_exists: {
    es: 'Ya existe un contacto con el {identifier} "{value}" (ID {contactId}); el modo "solo agregar" no lo modifica.',
    en: 'A contact with {identifier} "{value}" already exists (ID {contactId}); "add new contacts only" leaves it alone.',
    pt: 'Já existe um contato com o {identifier} "{value}" (ID {contactId}); o modo "somente adicionar" não o altera.',
  },
  duplicate_row: {
    es: 'El {identifier} "{value}" ya aparece en la línea {firstLine, number}; en el modo "solo agregar" solo esa fila crea el contacto.',
    en: 'The {identifier} "{value}" already appears at line {firstLine, number}; in "add new contacts only" mode only that row creates the contact.',
    pt: 'O {identifier} "{value}" já aparece na linha {firstLine, number}; no modo "somente adicionar", só essa linha cria o contato.',
  },
  phone_scientific: {
    es: 'Línea {line, number}: el teléfono "{value}" está en notación científica. Excel convirtió el número en notación científica: dé formato de texto a la columna y vuelva a exportar.',
    en: 'Line {line, number}: the phone number "{value}" is in scientific notation. Excel turned the number into scientific notation: format the column as text and export again.',
    pt: 'Linha {line, number}: o telefone "{value}" está em notação científica. O Excel converteu o número para notação científica: formate a coluna como texto e exporte novamente.',
  },
} as const satisfies Record<ImportRowReason, Localized>;

/**
 * What is wrong with a malformed row, in each language: the field count, or papaparse's quote errors
 * by their code (another papaparse message is shown as it is).
 */
export const importMalformedProblems = {
  too_few_fields: {
    es: 'faltan campos: se esperaban {expected, number} y hay {parsed, number}',
    en: 'Too few fields: expected {expected, number} fields but parsed {parsed, number}',
    pt: 'faltam campos: eram esperados {expected, number} e há {parsed, number}',
  },
  too_many_fields: {
    es: 'sobran campos: se esperaban {expected, number} y hay {parsed, number}',
    en: 'Too many fields: expected {expected, number} fields but parsed {parsed, number}',
    pt: 'sobram campos: eram esperados {expected, number} e há {parsed, number}',
  },
  MissingQuotes: {
    es: 'un campo abre comillas y no las cierra',
    en: 'Quoted field unterminated',
    pt: 'um campo abre aspas e não as fecha',
  },
  InvalidQuotes: {
    es: 'hay texto después de las comillas que cierran un campo',
    en: 'Trailing quote on quoted field is malformed',
    pt: 'há texto depois das aspas que fecham um campo',
  },
} as const satisfies Record<string, Localized>;

/** What is wrong with a phone number, in the reason of a row refused for it (libphonenumber's verdict). */
export const importPhoneProblems = {
  not_a_number: { es: 'no es un número de teléfono', en: 'not a phone number', pt: 'não é um número de telefone' },
  too_short: { es: 'le faltan dígitos', en: 'too few digits', pt: 'faltam dígitos' },
  too_long: { es: 'le sobran dígitos', en: 'too many digits', pt: 'sobram dígitos' },
  invalid_country: {
    es: 'no se reconoce el código de país',
    en: 'the country code is not recognised',
    pt: 'o código do país não é reconhecido',
  },
  invalid_number: {
    es: 'no existe en el plan de numeración de su país',
    en: "not in its country's numbering plan",
    pt: 'não existe no plano de numeração do seu país',
  },
  ambiguous: {
    es: 'se lee como número de dos países distintos: escríbalo con + y el código del país',
    en: 'it reads as a number in two different countries: write it with + and the country code',
    pt: 'pode ser lido como número de dois países diferentes: escreva com + e o código do país',
  },
} as const satisfies Record<PhoneProblem, Localized>;

export const importIdentifierNames = {
  contactId: { es: 'ID de contacto', en: 'contact ID', pt: 'ID do contato' },
  phone: { es: 'teléfono', en: 'phone number', pt: 'telefone' },
  email: { es: 'correo electrónico', en: 'e-mail address', pt: 'e-mail' },
} as const satisfies Record<ImportIdentifier, Localized>;

/** A rejection reason in the given language; {identifier} is the identifier's localized name. */
export function importRowReasonMessage(
  code: ImportRowReason,
  language: Language,
  params: Record<string, string | number> = {},
): string {
  const identifier = params.identifier;
  const localized: Record<string, string | number> =
    typeof identifier === 'string' && identifier in importIdentifierNames
      ? { ...params, identifier: importIdentifierNames[identifier as ImportIdentifier][language] }
      : { ...params };
  const problem = params.problem;
  if (code === 'malformed_row' && typeof problem === 'string' && problem in importMalformedProblems) {
    localized.message = format(
      importMalformedProblems[problem as keyof typeof importMalformedProblems][language],
      params,
      language,
    );
  }
  if (code === 'phone_invalid' && typeof problem === 'string' && problem in importPhoneProblems)
    localized.problem = importPhoneProblems[problem as PhoneProblem][language];
  return format(importRowReasons[code][language], localized, language);
}

/** Headers of the rejected-rows CSV. */
export const IMPORT_REJECTED_COLUMNS = [
  { key: 'row', en: 'Row', pt: 'Linha', es: 'Fila' },
  { key: 'identifier', en: 'Identifier', pt: 'Identificador', es: 'Identificador' },
  { key: 'code', en: 'Reason Code', pt: 'Código do motivo', es: 'Código de motivo' },
  { key: 'reason', en: 'Reason', pt: 'Motivo', es: 'Motivo' },
] as const;

/** Case, accents, spaces and punctuation do not matter: "ID de contacto" = "id_de_contacto" = "IDDECONTACTO". */
export function normalizeImportHeader(header: string): string {
  return header
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const aliases: Record<ImportStandardField | 'ignore', string[]> = {
  contactId: ['contactid', 'iddecontacto', 'idcontacto', 'iddelcontacto', 'contactoid', 'iddocontato', 'idcontato'],
  firstName: ['firstname', 'nombre', 'nombres', 'primernombre', 'givenname', 'name', 'nome', 'primeironome'],
  lastName: ['lastname', 'apellido', 'apellidos', 'surname', 'familyname', 'sobrenome'],
  phone: [
    'phone',
    'phonenumber',
    'mobile',
    'mobilephone',
    'telefono',
    'numerodetelefono',
    'celular',
    'movil',
    'whatsapp',
    'telefone',
    'numerodetelefone',
  ],
  email: ['email', 'emailaddress', 'mail', 'correo', 'correoelectronico', 'direcciondecorreo', 'enderecodeemail'],
  language: ['language', 'idioma', 'lenguaje', 'lingua'],
  // The contacts export's tag column: tags come from the tags field, not from a cell.
  ignore: ['tags', 'tag', 'etiquetas', 'etiqueta'],
};

const aliasField = new Map<string, ImportStandardField | 'ignore'>();
for (const [field, names] of Object.entries(aliases) as [ImportStandardField | 'ignore', string[]][]) {
  for (const name of names) aliasField.set(name, field);
}
for (const column of CONTACT_EXPORT_COLUMNS) {
  const field: ImportStandardField | 'ignore' = column.key === 'tags' ? 'ignore' : column.key;
  for (const language of LANGUAGES) aliasField.set(normalizeImportHeader(column[language]), field);
}

const failedExportHeaders = new Set(
  FAILED_EXPORT_COLUMNS.filter((column) => column.key !== 'contactId').flatMap((column) =>
    LANGUAGES.map((language) => normalizeImportHeader(column[language])),
  ),
);

/**
 * True when the headers are those of Rebound's failed-messages export (three of its columns or more
 * besides Contact ID): only Contact ID matters then, the other columns describe the message.
 */
export function isFailedMessagesExport(headers: readonly string[]): boolean {
  const found = new Set(headers.map(normalizeImportHeader).filter((header) => failedExportHeaders.has(header)));
  return found.size >= 3;
}

/** A header as a custom field key: characters a key may not hold become spaces; empty means none. */
export function customFieldKeyOf(header: string): string | undefined {
  // Composed first: a decomposed accent (as a Mac may write "Población") is no letter, and would split it.
  const key = header
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}_\- ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 64)
    .trim();
  return key ? key : undefined;
}

/**
 * The field a column goes to when the mapping does not name it: a known header in English or Spanish,
 * nothing for a blank header or the non-contact columns of the failed-messages export, otherwise a custom
 * field named after the header (a lone "Error" or "Tipo" column in someone's own file is their data).
 */
export function autoImportField(header: string, failedExport: boolean): ImportField {
  const normalized = normalizeImportHeader(header);
  if (!normalized) return 'ignore';
  const known = aliasField.get(normalized);
  if (failedExport) return known === 'contactId' ? 'contactId' : 'ignore';
  if (known) return known;
  const key = customFieldKeyOf(header);
  return key ? `custom.${key}` : 'ignore';
}

export const ImportColumnSchema = z.object({
  header: z.string(),
  field: z
    .string()
    .meta({ description: 'contactId, firstName, lastName, phone, email, language, custom.<key> or ignore.' }),
});

export const ImportRejectedRowSchema = z.object({
  row: z.number().int().meta({ description: 'Line of the file where the row starts (the header is line 1).' }),
  identifier: z.string().nullable().meta({ description: 'The identifier cell as written, if any.' }),
  code: z.enum(IMPORT_ROW_REASONS),
  reason: z.string(),
});
export type ImportRejectedRow = z.infer<typeof ImportRejectedRowSchema>;

export const ImportSchema = z
  .object({
    id: z.number().int(),
    status: z.enum(IMPORT_STATUSES),
    fileName: z.string().nullable(),
    mode: z.enum(IMPORT_MODES),
    identifier: z.enum(IMPORT_IDENTIFIERS),
    tags: z.array(z.string()),
    dryRun: z.boolean(),
    allOrNothing: z.boolean(),
    encoding: z.enum(IMPORT_ENCODINGS),
    delimiter: z.string().meta({ description: 'The delimiter found in the header row: , ; or a tab.' }),
    columns: z.array(ImportColumnSchema).meta({ description: 'Each column of the file and the field it went to.' }),
    queuePosition: z.number().int().min(1).nullable().meta({
      description:
        'While queued: 1 when this import runs next. One import runs at a time per workspace; the others wait their turn in order. Null once it runs.',
    }),
    progress: z.object({
      totalRows: z.number().int(),
      processedRows: z.number().int(),
      percent: z.number().int().min(0).max(100),
    }),
    created: z.number().int().meta({ description: 'Rows that created a contact (would, in a dry run).' }),
    updated: z.number().int().meta({ description: 'Rows that updated a contact (would, in a dry run).' }),
    rejected: z.number().int(),
    rejectedRows: z.array(ImportRejectedRowSchema).meta({ description: 'The first 100 rejected rows.' }),
    rejectedCsvUrl: z.string().meta({ description: 'Every rejected row with its reason, as CSV.' }),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .meta({ description: 'Why a failed import wrote nothing.' }),
    createdAt: TimestampSchema,
    finishedAt: TimestampSchema.nullable(),
  })
  .meta({
    description:
      'A contact import. created + updated + rejected = progress.totalRows once finished. A failed import wrote nothing.',
  });
export type Import = z.infer<typeof ImportSchema>;

/** The import's `{id}`: the same as every other path ID. */
export const ImportIdParamSchema = IdParamSchema;

export const ImportRejectedCsvQuerySchema = z.object({
  bom: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((value) => value === undefined || value === 'true' || value === '1')
    .meta({ description: 'Start with a UTF-8 byte order mark so Excel reads the accents. Default true.' }),
});
