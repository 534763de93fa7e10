/**
 * The extension's own words, in Spanish (first: most agents are in Latin America) and English.
 * Failure reasons come from the server already in the agent's language; these are the labels around them.
 */
import { format, type Language, pickLanguage } from '@rebound/shared/i18n';

const messages = {
  es: {
    appName: 'Rebound',
    failedBadge: '{count, plural, one {# fallido} other {# fallidos}}',
    badgeResending: '{count, plural, one {# fallido} other {# fallidos}} · reenvío en curso',
    badgeResent: '{count, plural, one {# fallido} other {# fallidos}} · ya se reenvió',
    badgeNotSent: 'No se envió',
    badgeLeftOut: '{count, plural, one {# sin enviar} other {# sin enviar}}',
    badgeAmbiguous: 'Nombre repetido',
    badgeAmbiguousLabel: 'Varias transmisiones se llaman «{name}»: elija cuál ver',
    chooseHeading: 'Varias transmisiones se llaman «{name}». ¿Cuál quiere ver?',
    chooseWhen: 'programada {when}',
    panelTitle: 'Por qué falló',
    collapse: 'Ocultar',
    expand: 'Rebound: {count, plural, one {# fallido} other {# fallidos}}',
    expandQuiet: 'Rebound',
    notDelivered: '{failed, number} de {total, number} no se enviaron',
    allSent: 'Todos los mensajes salieron',
    headlineScheduled: 'Programada {when}: todavía no salió ningún mensaje',
    headlineDraft: 'Borrador: todavía no salió ningún mensaje',
    headlineSending: 'Enviando: {done, number} de {total, number}',
    headlineCancelled: 'Cancelada: {sent, plural, one {# mensaje salió} other {# mensajes salieron}} antes',
    reasonsHeading: 'Motivos',
    leftOut: 'No se reenvía: {why}',
    neverHelps: 'reenviar no ayuda',
    limitHeading: 'Límite del canal',
    portfolioShared: 'Compartido por los números del portafolio «{name}»',
    quotaUsed: '{used} de {limit} usados en 24 h',
    quotaUnlimited: 'Sin límite diario ({used} en 24 h)',
    quotaFrees: 'Se libera {when}',
    quotaFree: 'Hay cupo ahora: {remaining} disponibles',
    rate: 'Hasta {rate} mensajes por segundo',
    resendAction: 'Etiquetar y reenviar {count}',
    tagOnlyAction: 'Solo etiquetar',
    resendChoices: 'Opciones de reenvío',
    whichReasons: 'Motivos a incluir',
    when: 'Cuándo',
    whenAuto: 'Cuando el reenvío pueda servir (recomendado)',
    whenNow: 'Ahora',
    whenAt: 'A la hora que elija',
    resendPlan: 'Plan: {summary}.',
    forceAction: 'Reenviar a esa hora de todos modos',
    working: 'Etiquetando y programando…',
    tagged: '{count, plural, one {# contacto etiquetado} other {# contactos etiquetados}} con «{tag}».',
    resendScheduled: 'Reenvío programado {when}.',
    resendSending: 'Reenviando: {done} de {total}',
    resendDone:
      'Reenvío terminado: {sent, plural, one {# enviado} other {# enviados}}, {failed, plural, one {# fallido} other {# fallidos}}.',
    alreadyResent: 'Ya se reenvió: «{name}» ({status}).',
    nothingToResend: 'No hay mensajes que un reenvío pueda arreglar.',
    contactHeading: 'Mensajes fallidos de este contacto',
    contactNone: 'Este contacto no tiene mensajes fallidos.',
    notConfigured: 'Configure Rebound: la URL del servidor y su token.',
    openOptions: 'Abrir opciones',
    loading: 'Cargando…',
    retry: 'Reintentar',
    failed: 'Fallidos',
    chartLabel: 'Fallos por motivo',
    status_draft: 'borrador',
    status_scheduled: 'programada',
    status_sending: 'enviando',
    status_completed: 'completada',
    status_partially_failed: 'falló en parte',
    status_failed: 'falló',
    status_cancelled: 'cancelada',
    resend_now: 'reenviar ya puede ayudar',
    resend_later: 'reenviar más tarde puede ayudar',
    resend_never: 'reenviar no ayuda',
    networkError: 'No se pudo conectar con el servidor de Rebound ({url}).',
    pillOffline: 'Rebound: sin conexión',
    pillTokenRefused: 'Rebound: token rechazado',
    pillTrouble: 'Rebound: error del servidor',
    retryingSoon: 'Volveremos a intentarlo solos en unos segundos.',
  },
  en: {
    appName: 'Rebound',
    failedBadge: '{count, number} failed',
    badgeResending: '{count, number} failed · re-send under way',
    badgeResent: '{count, number} failed · re-sent',
    badgeNotSent: 'Not sent',
    badgeLeftOut: '{count, number} left out',
    badgeAmbiguous: 'Name used twice',
    badgeAmbiguousLabel: 'Several broadcasts are named "{name}": choose one',
    chooseHeading: 'Several broadcasts are named "{name}". Which one?',
    chooseWhen: 'scheduled {when}',
    panelTitle: 'Why it failed',
    collapse: 'Hide',
    expand: 'Rebound: {count, number} failed',
    expandQuiet: 'Rebound',
    notDelivered: '{failed, number} of {total, number} were not sent',
    allSent: 'Every message went out',
    headlineScheduled: 'Scheduled {when}: no message has gone out yet',
    headlineDraft: 'Draft: no message has gone out yet',
    headlineSending: 'Sending: {done, number} of {total, number}',
    headlineCancelled: 'Cancelled: {sent, plural, one {# message} other {# messages}} went out before',
    reasonsHeading: 'Reasons',
    leftOut: 'Not re-sent: {why}',
    neverHelps: 're-sending does not help',
    limitHeading: 'Channel limit',
    portfolioShared: 'Shared by the numbers of the "{name}" portfolio',
    quotaUsed: '{used} of {limit} used in 24 h',
    quotaUnlimited: 'No daily limit ({used} in 24 h)',
    quotaFrees: 'Frees {when}',
    quotaFree: 'Room now: {remaining} available',
    rate: 'Up to {rate} messages per second',
    resendAction: 'Tag and re-send {count}',
    tagOnlyAction: 'Tag only',
    resendChoices: 'Re-send options',
    whichReasons: 'Reasons to include',
    when: 'When',
    whenAuto: 'When a re-send can help (recommended)',
    whenNow: 'Now',
    whenAt: 'At a time I choose',
    resendPlan: 'Plan: {summary}.',
    forceAction: 'Re-send at that time anyway',
    working: 'Tagging and scheduling…',
    tagged: '{count, plural, one {# contact tagged} other {# contacts tagged}} "{tag}".',
    resendScheduled: 'Re-send scheduled {when}.',
    resendSending: 'Re-sending: {done} of {total}',
    resendDone: 'Re-send finished: {sent, number} sent, {failed, number} failed.',
    alreadyResent: 'Already re-sent: "{name}" ({status}).',
    nothingToResend: 'No messages a re-send could fix.',
    contactHeading: "This contact's failed messages",
    contactNone: 'This contact has no failed messages.',
    notConfigured: "Set up Rebound: the server's URL and your token.",
    openOptions: 'Open options',
    loading: 'Loading…',
    retry: 'Try again',
    failed: 'Failed',
    chartLabel: 'Failures by reason',
    status_draft: 'draft',
    status_scheduled: 'scheduled',
    status_sending: 'sending',
    status_completed: 'completed',
    status_partially_failed: 'partly failed',
    status_failed: 'failed',
    status_cancelled: 'cancelled',
    resend_now: 're-sending now can help',
    resend_later: 're-sending later can help',
    resend_never: 're-sending does not help',
    networkError: 'Could not reach the Rebound server ({url}).',
    pillOffline: 'Rebound: offline',
    pillTokenRefused: 'Rebound: token refused',
    pillTrouble: 'Rebound: server error',
    retryingSoon: 'Rebound will try again by itself in a few seconds.',
  },
} satisfies Record<Language, Record<string, string>>;

export type MessageKey = keyof (typeof messages)['es'];
export type LanguageSetting = 'auto' | Language;

/** auto: the browser's language when it is Spanish or English, else the workspace's, else Spanish. */
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
  return format(messages[language][key], params, language);
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
  return new Intl.NumberFormat(localeOf(language)).format(value);
}

const localeOf = (language: Language) => (language === 'es' ? 'es-AR' : 'en-US');

/** 24-hour in Spanish ("14:05", as agents write it); "2:05 PM" in English. */
function clockTime(language: Language, at: Date): string {
  return new Intl.DateTimeFormat(localeOf(language), {
    hour: '2-digit',
    minute: '2-digit',
    ...(language === 'es' && { hourCycle: 'h23' as const }),
  }).format(at);
}

/** "a las 14:05", "mañana a las 09:00", "el 3 dic., 09:00"; in the agent's time zone. */
export function formatWhen(language: Language, iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  const locale = localeOf(language);
  const time = clockTime(language, at);
  const dayDiff = Math.round((startOfDay(at) - startOfDay(now)) / 86_400_000);
  if (at.getTime() <= now.getTime() + 30_000) return language === 'es' ? 'ahora' : 'now';
  const relative = formatRelative(language, at.getTime() - now.getTime());
  if (dayDiff === 0) return language === 'es' ? `a las ${time} (${relative})` : `at ${time} (${relative})`;
  if (dayDiff === 1) return language === 'es' ? `mañana a las ${time}` : `tomorrow at ${time}`;
  const day = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(at);
  return language === 'es' ? `el ${day}, ${time}` : `on ${day}, ${time}`;
}

/**
 * When something happened: "hace 5 min", "hoy a las 14:05", "ayer a las 09:10", "el 3 dic., 09:00".
 * formatWhen is for what is still to come (a past time there means "now": it is due).
 */
export function formatAgo(language: Language, iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  const ms = now.getTime() - at.getTime();
  if (ms < 60_000) return language === 'es' ? 'hace un momento' : 'just now';
  if (ms < 3_600_000) return formatRelative(language, -ms);
  const locale = localeOf(language);
  const time = clockTime(language, at);
  const dayDiff = Math.round((startOfDay(now) - startOfDay(at)) / 86_400_000);
  if (dayDiff === 0) return language === 'es' ? `hoy a las ${time}` : `today at ${time}`;
  if (dayDiff === 1) return language === 'es' ? `ayer a las ${time}` : `yesterday at ${time}`;
  const day = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    ...(at.getFullYear() !== now.getFullYear() && { year: 'numeric' as const }),
  }).format(at);
  return language === 'es' ? `el ${day}, ${time}` : `on ${day}, ${time}`;
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
  return key in messages[language] ? translate(language, key) : status;
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}
