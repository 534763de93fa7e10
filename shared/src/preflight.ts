/** The pre-flight warnings a supervisor reads before sending, in Spanish and English. */
import type { Localized } from './i18n';

export const preflightWarnings = {
  quota_overflow: {
    es: '{overflow} de {willSend} no entran en el límite diario del canal ({limit} destinatarios únicos en 24 h; quedan {remaining}). Envíe ahora los que entran y programe el resto para {allFitAt}.',
    en: "{overflow} of {willSend} do not fit in the channel's daily limit ({limit} unique recipients in 24 h; {remaining} left). Send what fits now and schedule the rest for {allFitAt}.",
  },
  quota_never_fits: {
    es: 'La transmisión tiene {needed} destinatarios nuevos y el límite diario del canal es {limit}: divídala en varias transmisiones.',
    en: "The broadcast has {needed} new recipients and the channel's daily limit is {limit}: split it into several broadcasts.",
  },
  rate_above_channel: {
    es: 'La velocidad pedida ({requested}/s) supera la del canal ({channel}/s): se enviará a {channel}/s.',
    en: 'The requested rate ({requested}/s) is above what the channel allows ({channel}/s): it will send at {channel}/s.',
  },
  outside_window: {
    es: '{count} contactos no escribieron en las últimas 24 h: {fix}',
    en: '{count} contacts have not written in the last 24 h: {fix}',
  },
  opted_out: {
    es: '{count} contactos bloquearon al negocio o se dieron de baja en este canal y no recibirán el mensaje.',
    en: '{count} contacts blocked the business or opted out on this channel and will not get the message.',
  },
  excluded: {
    es: '{count} contactos quedan fuera: {duplicate} duplicados, {invalid} con identificador inválido (use el formato E.164, p. ej. +5491155551234), {none} sin identificador en este canal.',
    en: '{count} contacts are left out: {duplicate} duplicates, {invalid} with an invalid identifier (use E.164, e.g. +5491155551234), {none} with no identifier on this channel.',
  },
  empty_segment: {
    es: 'Falló la transmisión: no hay contactos en el segmento de destino',
    en: 'Broadcast failed: no contacts in target segment',
  },
  unsupported_channel: {
    es: 'Este canal no admite transmisiones.',
    en: 'This channel does not support broadcasts.',
  },
  credentials_missing: {
    es: 'Faltan credenciales del canal: {keys}.',
    en: 'The channel is missing credentials: {keys}.',
  },
  slow: {
    es: 'A {rate}/s, enviar {willSend} mensajes tomará unos {duration}.',
    en: 'At {rate}/s, sending {willSend} messages will take about {duration}.',
  },
} as const satisfies Record<string, Localized>;
export type PreflightWarningCode = keyof typeof preflightWarnings;

export const windowFixes = {
  whatsapp: {
    es: 'WhatsApp solo acepta una plantilla aprobada fuera de la ventana de 24 h; agregue una plantilla o fallarán.',
    en: 'WhatsApp only takes an approved template outside the 24 h window; add a template or they will fail.',
  },
  messenger: {
    es: 'Messenger solo acepta mensajes con etiqueta fuera de la ventana de 24 h; agregue una etiqueta o fallarán.',
    en: 'Messenger only takes tagged messages outside the 24 h window; add a message tag or they will fail.',
  },
} as const satisfies Record<string, Localized>;
