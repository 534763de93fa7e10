import { z } from 'zod';
import { schemaMessages } from './messages';

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string().meta({ example: 'The data sent is not valid. Fix the fields listed in "details".' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ description: 'The one error shape of every endpoint; the message follows Accept-Language (es, en or pt).' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** One entry of a 422's details: where the problem is and what is wrong. */
export const FieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

/**
 * Control characters: C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F, what a file read in the wrong
 * encoding leaves); in names and the like also the line and paragraph separators and the bidi overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069), which show a name reversed ("Ana" + U+202E + "odarepse").
 * SQLite's text functions and most readers stop at a NUL ("a\u0000b" reads back as "a"), and the others
 * are invisible in every screen that shows them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters the API refuses
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/**
 * Message text (and a custom field's value) may hold tabs and line breaks (CR too, as Windows writes them),
 * and right-to-left marks where a text needs them; nothing else of C0, nor DEL or C1.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters the API refuses
export const CONTROL_CHARACTERS_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** The custom issue a refused control character raises; the API names the field and the characters in its details. */
export const CONTROL_CHARACTER_ISSUE = 'control_characters';

const refuses = (pattern: RegExp) => (value: string) => !pattern.test(value);
/** `params.refused` is the pattern's source, so the API can name exactly the characters that must go. */
const controlIssue = (pattern: RegExp) =>
  ({
    message: schemaMessages.controlCharacters.en,
    params: { rule: CONTROL_CHARACTER_ISSUE, refused: pattern.source },
    abort: true,
  }) as const;

/**
 * Text for every field that is not a message: names, tags, search queries, keys, identifiers. The check
 * runs on the text as sent, before any trim, so a field either is clean or is refused.
 */
export const cleanText = () => z.string().refine(refuses(CONTROL_CHARACTERS), controlIssue(CONTROL_CHARACTERS));

/** Message text (a broadcast's text, a note): tab, line feed and carriage return allowed, other controls refused. */
export const messageText = () =>
  z.string().refine(refuses(CONTROL_CHARACTERS_BUT_LINE_BREAKS), controlIssue(CONTROL_CHARACTERS_BUT_LINE_BREAKS));

/** The same check for a string schema of another kind (a URL, an e-mail address). */
export const withoutControlCharacters = <T extends z.ZodType<string>>(schema: T) =>
  schema.refine(refuses(CONTROL_CHARACTERS), controlIssue(CONTROL_CHARACTERS));

/**
 * An ID as written in a path or query string: decimal digits only, no sign, no leading zero, no spaces
 * (so /contacts/0x10, 1e3, +1, " 1" and 007 are not aliases of another ID).
 */
export const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/** The ID a path or query segment names, or undefined when it is not written as one. */
export function parseId(text: string): number | undefined {
  if (!ID_PATTERN.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** An ID in a JSON body: a JSON integer, never a string or a float. */
export const IdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** An ID in a path or query string (see ID_PATTERN). */
export const IdTextSchema = z
  .string()
  .regex(ID_PATTERN, schemaMessages.id.en)
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER, schemaMessages.id.en))
  .meta({ example: 42 });

/** Every `{id}` path parameter. */
export const IdParamSchema = z.object({
  id: IdTextSchema.meta({
    param: { name: 'id', in: 'path' },
    example: 42,
    description: 'Digits only: 0x10, 1e3, +1, " 1" or 042 are refused with 422, naming the parameter.',
  }),
});

/** A whole number in a query string: digits only, within [min, max]; `fallback` when absent. */
export const queryInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, schemaMessages.wholeNumber.en)
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const TimestampSchema = z.iso.datetime().meta({ example: '2026-11-25T14:05:00.000Z' });

export const PageQuerySchema = z.object({
  cursor: cleanText().max(200).optional().meta({ description: 'The nextCursor of the previous page.' }),
  limit: queryInt(1, 200, 50),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as cursor to get the next page; null on the last page.' }),
  });
}

export const OkSchema = z.object({ ok: z.literal(true) });
