/** Rebound speaks Spanish first (neutral Latin American), English and Brazilian Portuguese. */
export const LANGUAGES = ['es', 'en', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];
export type Localized = Record<Language, string>;

/**
 * Picks es, en or pt from an Accept-Language header, honouring q-weights.
 * Returns undefined when the header names none of them, so the caller can fall back to the workspace language.
 */
export function pickLanguage(acceptLanguage: string | null | undefined): Language | undefined {
  if (!acceptLanguage) return undefined;
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number.parseFloat(q.slice(2)) : 1;
      return { base: tag.trim().toLowerCase().split('-')[0], weight: Number.isNaN(weight) ? 0 : weight, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const entry of ranked) {
    if (isLanguage(entry.base)) return entry.base;
  }
  return undefined;
}

export function isLanguage(value: string | undefined): value is Language {
  return (LANGUAGES as readonly (string | undefined)[]).includes(value);
}

/**
 * Spanish numbers read "200.000" (the Spanish-speaking world's grouping), English ones "200,000";
 * Portuguese is Brazil's ("200.000", "14:05").
 */
const LOCALES: Record<Language, string> = { es: 'es', en: 'en', pt: 'pt-BR' };
const numberFormats = new Map<Language, Intl.NumberFormat>();
const pluralRules = new Map<Language, Intl.PluralRules>();

/**
 * The reader's region, where one is known (the extension passes the browser's, e.g. es-MX): Mexican
 * agents write 1,500 where Argentine ones write 1.500. A tag of another language, or none, changes nothing.
 */
export function setRegion(tag: string | undefined): void {
  const base = tag?.toLowerCase().split('-')[0];
  if (!tag || !isLanguage(base)) return;
  try {
    new Intl.NumberFormat(tag);
  } catch {
    return;
  }
  LOCALES[base] = tag;
  numberFormats.delete(base);
  pluralRules.delete(base);
}

/**
 * Where no reader's region is known (the server's answers, stored names): one fixed locale per
 * language, so "1.500" reads the same in every answer.
 */
const FIXED_LOCALES: Record<Language, string> = { es: 'es-AR', en: 'en-US', pt: 'pt-BR' };
export function fixedLocale(language: Language): string {
  return FIXED_LOCALES[language];
}

/** The locale numbers and dates are written in for the language (see setRegion). */
export function localeFor(language: Language): string {
  return LOCALES[language];
}

/** A count or size in the reader's language: 200.000 / 200,000. */
export function formatNumber(value: number, language: Language): string {
  let formatter = numberFormats.get(language);
  if (!formatter) {
    // Grouping from four digits on in both languages ("2.000 filas", not "2000 filas").
    formatter = new Intl.NumberFormat(LOCALES[language], { useGrouping: 'always' } as Intl.NumberFormatOptions);
    numberFormats.set(language, formatter);
  }
  return formatter.format(value);
}

/**
 * The plural category of a count in the language (Intl.PluralRules), but zero takes the plural in all
 * three: CLDR puts pt's 0 with 1 ("0 falha"), where Brazilian agents write "0 falhas".
 */
export function pluralCategory(value: number, language: Language): Intl.LDMLPluralRule {
  if (value === 0) return 'other';
  let rules = pluralRules.get(language);
  if (!rules) {
    rules = new Intl.PluralRules(LOCALES[language]);
    pluralRules.set(language, rules);
  }
  return rules.select(value);
}

/** Where the branch that starts at `from` (just after its "{") ends: the index of its matching "}". */
function closingBrace(template: string, from: number): number {
  let depth = 1;
  for (let i = from; i < template.length; i++) {
    if (template[i] === '{') depth++;
    else if (template[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Fills {name} placeholders. With a language, two ICU MessageFormat forms work too: {name, number}
 * ("200.000" / "200,000") and {name, plural, one {# fila} other {# filas}} (the branch by
 * Intl.PluralRules, # the number formatted). Without one, {name} only (numbers as they are).
 */
export function format(template: string, params: Record<string, string | number> = {}, language?: Language): string {
  if (!language || !template.includes(', ')) {
    return template.replace(/\{(\w+)\}/g, (match, key: string) => (key in params ? String(params[key]) : match));
  }
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) break;
    out += template.slice(i, open);
    const head = /^\{(\w+)(?:, (number|plural),?)?/.exec(template.slice(open));
    const key = head?.[1];
    if (!head || key === undefined) {
      out += '{';
      i = open + 1;
      continue;
    }
    const raw = params[key];
    const value = typeof raw === 'number' ? raw : Number(raw);
    if (head[2] === 'plural') {
      // {count, plural, one {…} other {…}}: read the branches up to the closing brace.
      const branches = new Map<string, string>();
      let at = open + head[0].length;
      for (;;) {
        const branch = /^\s*(=?\w+)\s*\{/.exec(template.slice(at));
        if (!branch?.[1]) break;
        const start = at + branch[0].length;
        const end = closingBrace(template, start);
        if (end === -1) break;
        branches.set(branch[1], template.slice(start, end));
        at = end + 1;
      }
      const end = template.indexOf('}', at);
      const chosen =
        branches.get(`=${value}`) ?? branches.get(pluralCategory(value, language)) ?? branches.get('other') ?? '';
      const shown = Number.isFinite(value) ? formatNumber(value, language) : String(raw ?? '');
      out += format(chosen, params, language).replace(/#/g, shown);
      i = end === -1 ? template.length : end + 1;
      continue;
    }
    const close = template.indexOf('}', open);
    if (!(key in params) || close === -1) {
      out += template.slice(open, close === -1 ? undefined : close + 1);
      i = close === -1 ? template.length : close + 1;
      continue;
    }
    out += head[2] === 'number' && Number.isFinite(value) ? formatNumber(value, language) : String(raw);
    i = close + 1;
  }
  return out + template.slice(i);
}
