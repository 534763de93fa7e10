import {
  CONTROL_CHARACTER_ISSUE,
  CONTROL_CHARACTERS_BUT_LINE_BREAKS,
  type FieldIssue,
  format,
  type Language,
  schemaMessages,
} from '@rebound/shared';
import type { Context } from 'hono';
import type { z } from 'zod';
import { en } from 'zod/locales';
import type { AppEnv } from './env';
import { ApiError } from './errors';

/** A JSON body that may be left out entirely (schedule now, re-send with the defaults). */
export async function optionalJsonBody<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'invalid_json');
    }
  }
  const language = c.var.language ?? 'en';
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(422, 'validation_failed', {}, validationDetails(parsed.error.issues, value, 'body', language));
  }
  refuseControlCharacters(parsed.data, 'body', language);
  return parsed.data;
}

/**
 * The net behind the schemas, run on every validated body, query and path: whatever a schema lets through,
 * no string (nor object key) may hold NUL or another control character but the tab and line breaks that
 * message text may carry. The schemas refuse those too outside message text (cleanText in shared).
 */
export function refuseControlCharacters(value: unknown, root: string, language: Language): void {
  const details: FieldIssue[] = [];
  const pending: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  const check = (text: string, path: string[]) => {
    if (CONTROL_CHARACTERS_BUT_LINE_BREAKS.test(text))
      details.push({
        path: [root, ...path].join('.'),
        message: controlMessage(path, text, CONTROL_CHARACTERS_BUT_LINE_BREAKS, language),
      });
  };
  // A loop, not recursion: the values are parsed input, as deep as a client made them.
  for (let index = 0; index < pending.length; index++) {
    const { value: item, path } = pending[index] as (typeof pending)[number];
    if (typeof item === 'string') check(item, path);
    else if (Array.isArray(item)) {
      for (const [position, entry] of item.entries()) pending.push({ value: entry, path: [...path, String(position)] });
    } else if (isPlainObject(item))
      for (const [key, entry] of Object.entries(item)) {
        check(key, path);
        pending.push({ value: entry, path: [...path, key] });
      }
  }
  if (details.length) throw new ApiError(422, 'validation_failed', {}, details);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** "Quite los caracteres de control (U+0000) del campo «name»": the field and the characters, as code points. */
function controlMessage(path: readonly string[], text: unknown, refused: RegExp, language: Language): string {
  const found = typeof text === 'string' ? text.match(new RegExp(refused.source, 'g')) : null;
  const chars = [...new Set(found ?? [])]
    .slice(0, 3)
    .map((char) => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)
    .join(', ');
  const field = path.length ? path.join('.') : language === 'es' ? 'cuerpo' : 'body';
  return format(schemaMessages.controlCharactersIn[language], { chars: chars || 'U+0000–U+001F, U+007F', field });
}

type Issue = z.core.$ZodIssue;

/**
 * A 422's details: each issue's path under `root` (body, query, param, form) and its message in the
 * request's language. Zod writes its own messages in English; the Spanish ones are ours.
 */
export function validationDetails(
  issues: readonly Issue[],
  input: unknown,
  root: string,
  language: Language,
): FieldIssue[] {
  return issues.map((issue) => {
    const path = issue.path.map(String);
    const message =
      issue.code === 'custom' && issue.params?.rule === CONTROL_CHARACTER_ISSUE
        ? controlMessage(path, valueAt(input, issue.path), new RegExp(String(issue.params.refused)), language)
        : language === 'en'
          ? issue.message
          : spanishMessage(issue, valueAt(input, issue.path));
    return { path: [root, ...path].join('.'), message };
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The schemas' own messages (English, as zod carries them) with their Spanish: one table in shared. */
const SCHEMA_MESSAGES = new Map<string, string>(Object.values(schemaMessages).map((m) => [m.en, m.es]));

const zodEnglish = en().localeError;

/** True when zod wrote the message (not the schema): only those are replaced by ours. */
function isZodDefault(issue: Issue, input: unknown): boolean {
  // The type zod names depends on its coerced input, which the request no longer holds.
  if (issue.code === 'invalid_type') return issue.message.startsWith('Invalid input: expected');
  const fallback = zodEnglish({ ...issue, input } as z.core.$ZodRawIssue);
  return (typeof fallback === 'string' ? fallback : fallback?.message) === issue.message;
}

const numberFormat = new Intl.NumberFormat('es-AR');
const plurals = new Intl.PluralRules('es');
const num = (value: number | bigint) => numberFormat.format(value);
const count = (value: number | bigint, one: string, many: string) =>
  `${num(value)} ${plurals.select(Number(value)) === 'one' ? one : many}`;
const quoted = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

const TYPES: Record<string, string> = {
  string: 'un texto',
  number: 'un número',
  int: 'un número entero',
  bigint: 'un número entero',
  boolean: 'true o false',
  array: 'una lista',
  object: 'un objeto',
  date: 'una fecha',
  file: 'un archivo',
  null: 'null',
};

const FORMATS: Record<string, string> = {
  datetime: 'Use una fecha y hora ISO 8601, por ejemplo 2026-12-01T09:00:00-03:00.',
  date: 'Use una fecha AAAA-MM-DD, por ejemplo 2026-12-01.',
  time: 'Use una hora ISO 8601, por ejemplo 09:00:00.',
  email: 'Escriba una dirección de correo electrónico válida.',
  url: 'Escriba una URL válida.',
  e164: 'Use un número en formato E.164, por ejemplo +5491155551234.',
  json_string: 'Escriba un JSON válido.',
};

/** The issue in Spanish as Latin-American agents read it ("usted"). */
function spanishMessage(issue: Issue, input: unknown): string {
  if (!isZodDefault(issue, input)) return SCHEMA_MESSAGES.get(issue.message) ?? issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined ? 'Falta este dato.' : `Se esperaba ${TYPES[issue.expected] ?? issue.expected}.`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `Debe ser ${quoted(issue.values[0])}.`
        : `Use uno de estos valores: ${issue.values.map(quoted).join(', ')}.`;
    case 'too_small': {
      const min = issue.minimum;
      if (issue.origin === 'string')
        return Number(min) <= 1
          ? 'No puede estar vacío.'
          : `Debe tener al menos ${count(min, 'carácter', 'caracteres')}.`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `Debe tener al menos ${count(min, 'elemento', 'elementos')}.`;
      if (issue.origin === 'date') return `Debe ser a partir de ${new Date(Number(min)).toISOString()}.`;
      return issue.inclusive === false ? `Debe ser mayor que ${num(min)}.` : `Debe ser ${num(min)} o más.`;
    }
    case 'too_big': {
      const max = issue.maximum;
      if (issue.origin === 'string') return `Puede tener como máximo ${count(max, 'carácter', 'caracteres')}.`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `Puede tener como máximo ${count(max, 'elemento', 'elementos')}.`;
      if (issue.origin === 'file') return `Puede pesar como máximo ${count(max, 'byte', 'bytes')}.`;
      if (issue.origin === 'date') return `Debe ser hasta ${new Date(Number(max)).toISOString()}.`;
      return issue.inclusive === false ? `Debe ser menor que ${num(max)}.` : `Debe ser ${num(max)} o menos.`;
    }
    case 'invalid_format':
      if (issue.format === 'starts_with' && 'prefix' in issue) return `Debe empezar con "${String(issue.prefix)}".`;
      if (issue.format === 'ends_with' && 'suffix' in issue) return `Debe terminar en "${String(issue.suffix)}".`;
      if (issue.format === 'includes' && 'includes' in issue) return `Debe incluir "${String(issue.includes)}".`;
      return FORMATS[issue.format] ?? 'No tiene el formato esperado.';
    case 'not_multiple_of':
      return `Debe ser múltiplo de ${num(issue.divisor)}.`;
    case 'unrecognized_keys':
      return issue.keys.length === 1
        ? `Campo desconocido: ${issue.keys[0]}.`
        : `Campos desconocidos: ${issue.keys.join(', ')}.`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      return options?.length
        ? `Use uno de estos valores: ${options.map(quoted).join(', ')}.`
        : 'El valor no es válido.';
    }
    case 'invalid_key':
      return 'Una clave no es válida.';
    case 'invalid_element':
      return 'Un elemento no es válido.';
    default:
      return 'El valor no es válido.';
  }
}
