/**
 * The extension's own words, in Spanish (first: most agents are in Latin America), English and Brazilian
 * Portuguese.
 * Failure reasons come from the server already in the agent's language; these are the labels around them.
 */
import { format, formatNumber as formatShared, type Language, localeFor, pickLanguage } from '@rebound/shared/i18n';
import type { words } from './words';

/** The words each language has here: registered by each surface at start (setWords). */
const tables: Partial<Record<Language, Record<string, string>>> = {};

/**
 * Registers a language's words: the popup, the options page and the background pass lib/words.ts; the
 * overlay passes what the background's "context" answer carries, so its script bundles no words.
 */
export function setWords(language: Language, table: Record<MessageKey, string>): void {
  tables[language] = table;
}

export type MessageKey = keyof (typeof words)['es'];
export type LanguageSetting = 'auto' | Language;

/** auto: the browser's language when Rebound speaks it (es, en, pt), else the workspace's, else Spanish. */
export function resolveLanguage(
  setting: LanguageSetting,
  browserLanguage: string | undefined,
  workspaceLanguage?: Language,
): Language {
  if (setting !== 'auto') return setting;
  return pickLanguage(browserLanguage) ?? workspaceLanguage ?? 'es';
}

/**
 * A message in the language. Counts go in as numbers: "{count, plural, …}" picks "1 fallido" or
 * "2 fallidos" and formats the number as the language writes it ("1.500", "1,500").
 */
export function translate(language: Language, key: MessageKey, params?: Record<string, string | number>): string {
  const text = tables[language]?.[key];
  // An unregistered word shows its key, which a test sees, rather than nothing.
  return text === undefined ? key : format(text, params, language);
}

/**
 * A surface's own words (the popup's, the options page's, the background's) beside the shared ones:
 * the content script, loaded on every helpdesk page, carries only what the overlay says.
 */
export function withOwnWords<K extends string>(own: Record<Language, Record<K, string>>) {
  return (language: Language, key: K | MessageKey, params?: Record<string, string | number>): string => {
    const words = own[language] as Record<string, string>;
    return key in words
      ? format(words[key] as string, params, language)
      : translate(language, key as MessageKey, params);
  };
}

export function formatNumber(language: Language, value: number): string {
  // es-MX groups thousands with a comma; Latin American agents read 1.500 as the reference help page writes it.
  return formatShared(value, language);
}

/** 24-hour in Spanish and Portuguese ("14:05", as agents write it); "2:05 PM" in English. */
function clockTime(language: Language, at: Date): string {
  return new Intl.DateTimeFormat(localeFor(language), {
    hour: '2-digit',
    minute: '2-digit',
    ...(language !== 'en' && { hourCycle: 'h23' as const }),
  }).format(at);
}

/** "a las 14:05", "mañana a las 09:00", "el 3 dic., 09:00"; in the agent's time zone. */
export function formatWhen(language: Language, iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  const locale = localeFor(language);
  const time = clockTime(language, at);
  const dayDiff = Math.round((startOfDay(at) - startOfDay(now)) / 86_400_000);
  if (at.getTime() <= now.getTime() + 30_000) return translate(language, 'timeNow');
  const relative = formatRelative(language, at.getTime() - now.getTime());
  if (dayDiff === 0) return `${translate(language, 'timeAt', { time })} (${relative})`;
  if (dayDiff === 1) return translate(language, 'timeTomorrow', { time });
  // Another year is said: a year typed wrong (2027 for 2026) must not read as "in two days".
  const day = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() !== now.getFullYear() && { year: 'numeric' as const }),
  }).format(at);
  return translate(language, 'timeOn', { day, time });
}

/**
 * When something happened: "hace 5 min", "hoy a las 14:05", "ayer a las 09:10", "el 3 dic., 09:00".
 * formatWhen is for what is still to come (a past time there means "now": it is due).
 */
export function formatAgo(language: Language, iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  const ms = now.getTime() - at.getTime();
  if (ms < 60_000) return translate(language, 'timeJustNow');
  if (ms < 3_600_000) return formatRelative(language, -ms);
  const locale = localeFor(language);
  const time = clockTime(language, at);
  const dayDiff = Math.round((startOfDay(now) - startOfDay(at)) / 86_400_000);
  if (dayDiff === 0) return translate(language, 'timeToday', { time });
  if (dayDiff === 1) return translate(language, 'timeYesterday', { time });
  const day = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() !== now.getFullYear() && { year: 'numeric' as const }),
  }).format(at);
  return translate(language, 'timeOn', { day, time });
}

/** "en 3 h", "in 25 min". */
export function formatRelative(language: Language, ms: number): string {
  const rtf = new Intl.RelativeTimeFormat(language, { numeric: 'auto', style: 'short' });
  const minutes = Math.round(ms / 60_000);
  if (Math.abs(minutes) < 60) return rtf.format(minutes, 'minute');
  const hours = Math.round(ms / 3_600_000);
  if (Math.abs(hours) < 48) return rtf.format(hours, 'hour');
  return rtf.format(Math.round(ms / 86_400_000), 'day');
}

export function statusLabel(language: Language, status: string): string {
  const key = `status_${status}` as MessageKey;
  return key in (tables[language] ?? {}) ? translate(language, key) : status;
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}
