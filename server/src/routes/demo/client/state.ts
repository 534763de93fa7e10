/** The page's state (language, session), its one storage key and the formatting in the chosen language. */
import { type Lang, TEXTS, type Texts } from './texts';

const LANG_KEY = 'rebound-demo-lang';

function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string | null) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage disabled: the value lives until the page is left
  }
}

function initialLanguage(): Lang {
  const saved = load(LANG_KEY);
  if (saved === 'es' || saved === 'en') return saved;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'es';
}

/** What the page knows of itself; one object, so every module sees the same values. */
export const session = {
  lang: initialLanguage(),
  /** Whether the server holds a working token for this page (its cookie is not readable here). */
  signedIn: false,
  workspaceName: '',
};

/** Chooses the language and remembers it: the one thing the page keeps in storage. */
export function chooseLanguage(next: Lang) {
  session.lang = next;
  store(LANG_KEY, next);
}

/** Every key of the texts but `status`, whose names statusText() reads. */
export type TextKey = Exclude<keyof Texts, 'status'>;

export function t(key: TextKey, params: Record<string, string | number> = {}): string {
  return TEXTS[session.lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ''));
}

/** A broadcast status's name; an unknown status (a newer server's) as it is. */
export function statusText(status: string): string {
  const names: Partial<Record<string, string>> = TEXTS[session.lang].status;
  return names[status] ?? status;
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(session.lang, { useGrouping: 'always' }).format(value);
}

export function formatDate(iso: string): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(session.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function contactName(contact: { firstName: string | null; lastName: string | null }): string {
  return [contact.firstName, contact.lastName].filter(Boolean).join(' ');
}

/** An error's message, whatever was thrown. */
export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : undefined;
  return String(message ?? error);
}
