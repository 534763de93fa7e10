import { type SQL, sql } from 'drizzle-orm';

/**
 * How a segment compares text a person typed with names and custom fields: case and the accents of
 * Spanish and Portuguese folded, as the contact search does ("gomez" finds "GÓMEZ", "sao paulo" finds
 * "São Paulo"). SQLite's lower() and NOCASE fold ASCII letters only, libSQL takes no function of ours,
 * and a chain of replace() calls overflows SQLite's parser; so the typed text becomes a GLOB pattern
 * in which each letter is the class of every letter that folds to it ("[oOóÓòÒ…]"). One comparison per
 * row, and the pattern is a bound value like any other.
 */

/** Accented letters of Spanish and Portuguese (and their neighbours in Latin-1) and what they fold to. */
const FOLDS: readonly (readonly [string, string])[] = [
  ...[...'áàâãäå'].map((c) => [c, 'a'] as const),
  ...[...'éèêë'].map((c) => [c, 'e'] as const),
  ...[...'íìîï'].map((c) => [c, 'i'] as const),
  ...[...'óòôõö'].map((c) => [c, 'o'] as const),
  ...[...'úùûü'].map((c) => [c, 'u'] as const),
  ['ñ', 'n'],
  ['ç', 'c'],
  ['ý', 'y'],
  ['ÿ', 'y'],
];
const FOLDED = new Map<string, string>([...FOLDS, ...FOLDS.map(([from, to]) => [from.toUpperCase(), to] as const)]);

/** Each ASCII letter and every letter that folds to it, both cases: "a" → "aAáÁàÀ…". */
const VARIANTS = new Map<string, string>();
for (const letter of 'abcdefghijklmnopqrstuvwxyz') VARIANTS.set(letter, letter + letter.toUpperCase());
for (const [from, to] of FOLDED) VARIANTS.set(to, `${VARIANTS.get(to)}${from}`);

/** The typed side folded: NFC (a decomposed "é" is one letter), the table's letters, ASCII lowercased. */
export function foldTyped(text: string): string {
  return [...text.normalize('NFC')].map((c) => FOLDED.get(c) ?? (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c)).join('');
}

/** Letters the stored side folds: ASCII capitals and the table's accented letters (others compare as they are). */
const FOLDABLE = new RegExp(`[A-Z${[...FOLDED.keys()].join('')}]`, 'g');

/**
 * Stored text folded as foldPattern's classes read it: the table's letters to their ASCII one, ASCII
 * lowercased, anything else as it is. `foldStored(text).includes(foldTyped(typed))` is true exactly when
 * `text GLOB foldPattern(typed, true)` is, in time linear in the text: GLOB, with a class per letter and a
 * wildcard before them, can take its length times the pattern's (a name of 200 "a" against 200 typed ones).
 */
export function foldStored(text: string): string {
  return text.replace(FOLDABLE, (c) => FOLDED.get(c) ?? (c <= 'Z' ? c.toLowerCase() : c));
}

/**
 * A GLOB pattern matching what folds to the same text as `typed`: the whole value (`is`), or anywhere in
 * it (`contains`). GLOB's own *, ? and [ are matched as themselves.
 */
export function foldPattern(typed: string, anywhere: boolean): string {
  const body = [...foldTyped(typed)]
    .map((c) => {
      const variants = VARIANTS.get(c);
      if (variants) return `[${variants}]`;
      return c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
    })
    .join('');
  return anywhere ? `*${body}*` : body;
}

/**
 * A contact's name as its folded copy keeps it (migration 0040): what `contains` compares with instr()
 * in time linear in the text, where the GLOB of foldPattern can take the text's length times the value's.
 */
export function foldName(name: string | null | undefined): string | null {
  return name == null ? null : foldStored(name);
}

/** A contact's custom fields as their folded copy keeps them; anything but text (a null: a key removed) as it is. */
export function foldCustom(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, typeof value === 'string' ? foldStored(value) : value]),
  );
}

/**
 * Whether `text` contains what was typed, folded: by `folded`, its copy, with instr() where the contact
 * has copies (`known`, migration 0040), in time linear in it; by the GLOB of foldPattern otherwise, which
 * can take the text's length times the typed value's.
 */
export function foldedContains(known: SQL, folded: SQL, text: SQL, typed: string): SQL {
  return sql`(CASE WHEN ${known} THEN instr(coalesce(${folded}, ''), ${foldTyped(typed)}) > 0
    ELSE coalesce(${text}, '') GLOB ${foldPattern(typed, true)} END)`;
}
