import {
  CONTROL_CHARACTER_ISSUE,
  CONTROL_CHARACTERS_BUT_LINE_BREAKS,
  type FieldIssue,
  format,
  type Language,
  type Localized,
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
  const language = c.get('language') ?? 'en';
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
  const field = path.length ? path.join('.') : { es: 'cuerpo', en: 'body', pt: 'corpo' }[language];
  return format(schemaMessages.controlCharactersIn[language], { chars: chars || 'U+0000–U+001F, U+007F', field });
}

type Issue = z.core.$ZodIssue;

/**
 * A 422's details: each issue's path under `root` (body, query, param, form) and its message in the
 * request's language. Zod writes its own messages in English; the Spanish and Portuguese ones are ours.
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
          : localMessage(issue, valueAt(input, issue.path), language);
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

/** The schemas' own messages (English, as zod carries them) in the other languages: one table in shared. */
const SCHEMA_MESSAGES = new Map<string, Localized>(Object.values(schemaMessages).map((m) => [m.en, m]));

const zodEnglish = en().localeError;

/** True when zod wrote the message (not the schema): only those are replaced by ours. */
function isZodDefault(issue: Issue, input: unknown): boolean {
  // The type zod names depends on its coerced input, which the request no longer holds.
  if (issue.code === 'invalid_type') return issue.message.startsWith('Invalid input: expected');
  const fallback = zodEnglish({ ...issue, input } as z.core.$ZodRawIssue);
  return (typeof fallback === 'string' ? fallback : fallback?.message) === issue.message;
}

const quoted = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

/**
 * Zod's own messages as the agents' languages say them (Spanish with "usted", Portuguese with "você").
 * Counts are `{n, plural, …}` and `{n, number}`; `{x}` is filled as it is.
 */
const ZOD_WORDS = {
  es: {
    missing: 'Falta este dato.',
    expected: 'Se esperaba {type}.',
    mustBe: 'Debe ser {value}.',
    oneOf: 'Use uno de estos valores: {values}.',
    notEmpty: 'No puede estar vacío.',
    minChars: 'Debe tener al menos {n, plural, one {# carácter} other {# caracteres}}.',
    minItems: 'Debe tener al menos {n, plural, one {# elemento} other {# elementos}}.',
    minDate: 'Debe ser a partir de {date}.',
    above: 'Debe ser mayor que {n, number}.',
    atLeast: 'Debe ser {n, number} o más.',
    maxChars: 'Puede tener como máximo {n, plural, one {# carácter} other {# caracteres}}.',
    maxItems: 'Puede tener como máximo {n, plural, one {# elemento} other {# elementos}}.',
    maxBytes: 'Puede pesar como máximo {n, plural, one {# byte} other {# bytes}}.',
    maxDate: 'Debe ser hasta {date}.',
    below: 'Debe ser menor que {n, number}.',
    atMost: 'Debe ser {n, number} o menos.',
    startsWith: 'Debe empezar con "{text}".',
    endsWith: 'Debe terminar en "{text}".',
    includes: 'Debe incluir "{text}".',
    badFormat: 'No tiene el formato esperado.',
    multipleOf: 'Debe ser múltiplo de {n, number}.',
    unknownKey: 'Campo desconocido: {keys}.',
    unknownKeys: 'Campos desconocidos: {keys}.',
    badKey: 'Una clave no es válida.',
    badElement: 'Un elemento no es válido.',
    badValue: 'El valor no es válido.',
    types: {
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
    } as Record<string, string>,
    formats: {
      datetime: 'Use una fecha y hora ISO 8601, por ejemplo 2026-12-01T09:00:00-03:00.',
      date: 'Use una fecha AAAA-MM-DD, por ejemplo 2026-12-01.',
      time: 'Use una hora ISO 8601, por ejemplo 09:00:00.',
      email: 'Escriba una dirección de correo electrónico válida.',
      url: 'Escriba una URL válida.',
      e164: 'Use un número en formato E.164, por ejemplo +5491155551234.',
      json_string: 'Escriba un JSON válido.',
    } as Record<string, string>,
  },
  pt: {
    missing: 'Falta este dado.',
    expected: 'Era esperado {type}.',
    mustBe: 'Deve ser {value}.',
    oneOf: 'Use um destes valores: {values}.',
    notEmpty: 'Não pode ficar vazio.',
    minChars: 'Deve ter pelo menos {n, plural, one {# caractere} other {# caracteres}}.',
    minItems: 'Deve ter pelo menos {n, plural, one {# item} other {# itens}}.',
    minDate: 'Deve ser a partir de {date}.',
    above: 'Deve ser maior que {n, number}.',
    atLeast: 'Deve ser {n, number} ou mais.',
    maxChars: 'Pode ter no máximo {n, plural, one {# caractere} other {# caracteres}}.',
    maxItems: 'Pode ter no máximo {n, plural, one {# item} other {# itens}}.',
    maxBytes: 'Pode ter no máximo {n, plural, one {# byte} other {# bytes}}.',
    maxDate: 'Deve ser até {date}.',
    below: 'Deve ser menor que {n, number}.',
    atMost: 'Deve ser {n, number} ou menos.',
    startsWith: 'Deve começar com "{text}".',
    endsWith: 'Deve terminar com "{text}".',
    includes: 'Deve incluir "{text}".',
    badFormat: 'Não está no formato esperado.',
    multipleOf: 'Deve ser múltiplo de {n, number}.',
    unknownKey: 'Campo desconhecido: {keys}.',
    unknownKeys: 'Campos desconhecidos: {keys}.',
    badKey: 'Uma chave não é válida.',
    badElement: 'Um item não é válido.',
    badValue: 'O valor não é válido.',
    types: {
      string: 'um texto',
      number: 'um número',
      int: 'um número inteiro',
      bigint: 'um número inteiro',
      boolean: 'true ou false',
      array: 'uma lista',
      object: 'um objeto',
      date: 'uma data',
      file: 'um arquivo',
      null: 'null',
    } as Record<string, string>,
    formats: {
      datetime: 'Use uma data e hora ISO 8601, por exemplo 2026-12-01T09:00:00-03:00.',
      date: 'Use uma data AAAA-MM-DD, por exemplo 2026-12-01.',
      time: 'Use uma hora ISO 8601, por exemplo 09:00:00.',
      email: 'Digite um endereço de e-mail válido.',
      url: 'Digite uma URL válida.',
      e164: 'Use um número no formato E.164, por exemplo +5511987654321.',
      json_string: 'Digite um JSON válido.',
    } as Record<string, string>,
  },
} as const;

/** The issue in the agents' language (zod's English stays as zod wrote it). */
function localMessage(issue: Issue, input: unknown, language: Exclude<Language, 'en'>): string {
  if (!isZodDefault(issue, input)) return SCHEMA_MESSAGES.get(issue.message)?.[language] ?? issue.message;
  const words = ZOD_WORDS[language];
  const say = (template: string, params: Record<string, string | number> = {}) => format(template, params, language);
  const n = (value: number | bigint) => ({ n: Number(value) });
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined
        ? words.missing
        : say(words.expected, { type: words.types[issue.expected] ?? issue.expected });
    case 'invalid_value':
      return issue.values.length === 1
        ? say(words.mustBe, { value: quoted(issue.values[0]) })
        : say(words.oneOf, { values: issue.values.map(quoted).join(', ') });
    case 'too_small': {
      const min = issue.minimum;
      if (issue.origin === 'string') return Number(min) <= 1 ? words.notEmpty : say(words.minChars, n(min));
      if (issue.origin === 'array' || issue.origin === 'set') return say(words.minItems, n(min));
      if (issue.origin === 'date') return say(words.minDate, { date: new Date(Number(min)).toISOString() });
      return say(issue.inclusive === false ? words.above : words.atLeast, n(min));
    }
    case 'too_big': {
      const max = issue.maximum;
      if (issue.origin === 'string') return say(words.maxChars, n(max));
      if (issue.origin === 'array' || issue.origin === 'set') return say(words.maxItems, n(max));
      if (issue.origin === 'file') return say(words.maxBytes, n(max));
      if (issue.origin === 'date') return say(words.maxDate, { date: new Date(Number(max)).toISOString() });
      return say(issue.inclusive === false ? words.below : words.atMost, n(max));
    }
    case 'invalid_format':
      if (issue.format === 'starts_with' && 'prefix' in issue)
        return say(words.startsWith, { text: String(issue.prefix) });
      if (issue.format === 'ends_with' && 'suffix' in issue) return say(words.endsWith, { text: String(issue.suffix) });
      if (issue.format === 'includes' && 'includes' in issue)
        return say(words.includes, { text: String(issue.includes) });
      return words.formats[issue.format] ?? words.badFormat;
    case 'not_multiple_of':
      return say(words.multipleOf, n(issue.divisor));
    case 'unrecognized_keys':
      return say(issue.keys.length === 1 ? words.unknownKey : words.unknownKeys, { keys: issue.keys.join(', ') });
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      return options?.length ? say(words.oneOf, { values: options.map(quoted).join(', ') }) : words.badValue;
    }
    case 'invalid_key':
      return words.badKey;
    case 'invalid_element':
      return words.badElement;
    default:
      return words.badValue;
  }
}
