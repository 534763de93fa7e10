/**
 * How a re-send reads to an agent: its default tag, its times, why each part goes when it goes, its
 * one-line summary and its warnings. resend.ts plans; this file says it.
 */
import { dayInZone, fixedLocale, type Language, nextDay } from '@rebound/shared';

const WORDS = {
  now: { es: 'ahora', en: 'now', pt: 'agora' },
  today: { es: 'hoy', en: 'today', pt: 'hoje' },
  tomorrow: { es: 'mañana', en: 'tomorrow', pt: 'amanhã' },
} as const;

const LOCALES: Record<Language, string> = { es: 'es-MX', en: 'en-US', pt: 'pt-BR' };

/** A re-send's time, in the workspace's zone: "ahora", "hoy 15:30", "mañana 10:21". */
export function formatPlanTime(at: number, now: number, zone: string, language: Language): string {
  if (at <= now + 60_000) return WORDS.now[language];
  const locale = LOCALES[language];
  const time = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: language === 'en' ? 'h12' : 'h23',
  }).format(at);
  const day = dayInZone(at, zone);
  const today = dayInZone(now, zone);
  if (day === today) return `${WORDS.today[language]} ${time}`;
  if (day === nextDay(today)) return `${WORDS.tomorrow[language]} ${time}`;
  const date = new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' })
    .format(at)
    .replace(/\./g, '');
  return language === 'es' ? `el ${date} ${time}` : `${date} ${time}`;
}

const TAG_WORDS: Record<Language, string> = {
  es: 'transmisión fallida',
  en: 'failed broadcast',
  pt: 'transmissão com falha',
};

/**
 * "transmisión fallida 25 nov 2026 (#42)": the reference page's tag ("failed broadcast 110122"), with
 * the day as the workspace's agents read it (day first in Spanish, in the workspace's time zone: a
 * broadcast sent at 21:00 in Mexico City is that day's, not the next UTC day's), made unique per broadcast.
 */
export function defaultResendTag(
  language: Language,
  broadcast: { id: number; startedAt: Date | null; createdAt: Date },
  zone: string,
) {
  const parts = new Intl.DateTimeFormat(fixedLocale(language), {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: zone,
  }).formatToParts(broadcast.startedAt ?? broadcast.createdAt);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value.replace('.', '');
  const order: Intl.DateTimeFormatPartTypes[] = language === 'en' ? ['month', 'day', 'year'] : ['day', 'month', 'year'];
  const day = order.map(part).join(' ');
  return `${TAG_WORDS[language]} ${day} (#${broadcast.id})`;
}

export const WARNINGS = {
  tag_changed: {
    es: 'La etiqueta «{asked}» ya está en uso ({others, plural, =0 {es el nombre de otro segmento} one {la tiene # otro contacto, o es el nombre de otro segmento} other {la tienen # otros contactos, o es el nombre de otro segmento}}); se usó «{tag}» para que el segmento reúna solo a estos contactos.',
    en: 'The tag "{asked}" is already in use ({others, plural, =0 {it is another segment\'s name} one {# other contact has it, or it is another segment\'s name} other {# other contacts have it, or it is another segment\'s name}}); "{tag}" was used so that its segment holds only these contacts.',
    pt: 'A etiqueta "{asked}" já está em uso ({others, plural, =0 {é o nome de outro segmento} one {# outro contato a tem, ou é o nome de outro segmento} other {# outros contatos a têm, ou é o nome de outro segmento}}); foi usada "{tag}" para que o segmento reúna só estes contatos.',
  },
  unconfirmed_duplicates: {
    es: '{count, plural, one {# destinatario sin confirmar se reenvía: el proveedor pudo haber recibido el primer mensaje, así que podría recibirlo dos veces} other {# destinatarios sin confirmar se reenvían: el proveedor pudo haber recibido el primer mensaje, así que algunos podrían recibirlo dos veces}}.',
    en: '{count, plural, one {# unconfirmed recipient is re-sent: the provider may have received the first message, so they could get it twice} other {# unconfirmed recipients are re-sent: the provider may have received the first message, so some could get it twice}}.',
    pt: '{count, plural, one {# destinatário não confirmado será reenviado: o provedor pode ter recebido a primeira mensagem, então ele pode recebê-la duas vezes} other {# destinatários não confirmados serão reenviados: o provedor pode ter recebido a primeira mensagem, então alguns podem recebê-la duas vezes}}.',
  },
  unconfirmed_too_soon: {
    es: '{count, plural, one {# destinatario sin confirmar se podrá reenviar} other {# destinatarios sin confirmar se podrán reenviar}} desde {at}, cuando termine la espera de su informe de entrega.',
    en: '{count, plural, one {# unconfirmed recipient can be re-sent} other {# unconfirmed recipients can be re-sent}} from {at}, when the wait for their delivery report ends.',
    pt: '{count, plural, one {# destinatário não confirmado poderá ser reenviado} other {# destinatários não confirmados poderão ser reenviados}} a partir de {at}, quando terminar a espera pelo relatório de entrega.',
  },
  window_closed: {
    es: '{count, plural, one {# destinatario queda fuera: su ventana} other {# destinatarios quedan fuera: su ventana}} de {window} se habrá cerrado cuando salga el reenvío y un texto ya no les llega. Siguen en fallidos; para alcanzarlos, {fix}.',
    en: '{count, plural, one {# recipient is left out: their {window} window} other {# recipients are left out: their {window} window}} will have closed when the re-send goes and a text no longer reaches them. They stay among the failed; to reach them, {fix}.',
    pt: '{count, plural, one {# destinatário fica de fora: sua janela} other {# destinatários ficam de fora: sua janela}} de {window} terá fechado quando o reenvio sair e um texto não chega mais a eles. Continuam entre as falhas; para alcançá-los, {fix}.',
  },
  quota_waves_capped: {
    es: '{count, plural, one {# de {total, number} destinatarios no cabe} other {# de {total, number} destinatarios no caben}} en {days} días del límite diario ({limit, number} por día): no se programan y siguen en fallidos. Reenvíelos cuando terminen estas tandas, o cuando el límite del número suba.',
    en: "{count, plural, one {# of {total, number} recipients does not fit} other {# of {total, number} recipients do not fit}} in {days} days of the daily limit ({limit, number} a day): they are not scheduled and stay among the failed. Re-send them once these waves are done, or when the number's limit rises.",
    pt: '{count, plural, one {# de {total, number} destinatários não cabe} other {# de {total, number} destinatários não cabem}} em {days} dias do limite diário ({limit, number} por dia): não são agendados e continuam entre as falhas. Reenvie-os quando estes lotes terminarem, ou quando o limite do número subir.',
  },
  quota_waves_ahead: {
    es: '{count, plural, one {# destinatario espera} other {# destinatarios esperan}} el límite diario: un reenvío anterior lo ocupa en tandas. Podrá reenviar desde {at}.',
    en: '{count, plural, one {# recipient waits} other {# recipients wait}} for the daily limit: an earlier re-send takes it in waves. You can re-send from {at}.',
    pt: '{count, plural, one {# destinatário aguarda} other {# destinatários aguardam}} o limite diário: um reenvio anterior o ocupa em lotes. Poderá reenviar a partir de {at}.',
  },
  quota_overflow: {
    es: '{count, plural, one {# de {total, number} destinatarios no cabe} other {# de {total, number} destinatarios no caben}} en el límite diario ({limit, number} por día) a esa hora: volverán a fallar. «Cuando el reenvío pueda servir» los envía en tandas diarias.',
    en: '{count, plural, one {# of {total, number} recipients does not fit} other {# of {total, number} recipients do not fit}} in the daily limit ({limit, number} a day) at that time: they will fail again. "When a re-send can help" sends them in daily waves.',
    pt: '{count, plural, one {# de {total, number} destinatários não cabe} other {# de {total, number} destinatários não cabem}} no limite diário ({limit, number} por dia) nesse horário: vão falhar de novo. "Quando o reenvio puder ajudar" os envia em lotes diários.',
  },
  forced: {
    es: 'Reenvío forzado antes de tiempo para: {reasons}. Puede volver a fallar y afectar la calidad del número.',
    en: "Re-send forced before its time for: {reasons}. It may fail again and hurt the number's quality.",
    pt: 'Reenvio forçado antes da hora para: {reasons}. Pode falhar de novo e prejudicar a qualidade do número.',
  },
} as const;

/** resend_nothing's {why} when the plan has no warning to tell: where the API's caller reads who was left out. */
export const NOTHING_WHY = {
  es: 'Revise "details" para ver los que quedaron fuera y por qué.',
  en: 'See "details" for the ones left out and why.',
  pt: 'Veja em "details" as que ficaram de fora e por quê.',
} as const;

/** window_closed's words: the window's length, and what carries a message past it on that channel. */
export const WINDOW_CLOSED_WORDS = {
  window: {
    day: { es: '24 h', en: '24 h', pt: '24 h' },
    week: { es: '7 días', en: '7-day', pt: '7 dias' },
  },
  fix: {
    template: {
      es: 'reenvíe con una plantilla aprobada',
      en: 're-send with an approved template',
      pt: 'reenvie com um modelo aprovado',
    },
    tag: {
      es: 'reenvíe con una etiqueta de mensaje',
      en: 're-send with a message tag',
      pt: 'reenvie com uma etiqueta de mensagem',
    },
    otherTag: {
      es: 'reenvíe con otra etiqueta de mensaje (HUMAN_AGENT no pasa de 7 días)',
      en: 're-send with another message tag (HUMAN_AGENT goes no further than 7 days)',
      pt: 'reenvie com outra etiqueta de mensagem (HUMAN_AGENT não passa de 7 dias)',
    },
  },
} as const;

export const WHY = {
  now: { es: 'ahora', en: 'now', pt: 'agora' },
  after: {
    es: '{reason}: cuando el reenvío puede servir',
    en: '{reason}: when a re-send can help',
    pt: '{reason}: quando o reenvio pode ajudar',
  },
  capacity: {
    es: 'cuando se libera el límite diario',
    en: 'when the daily limit frees up',
    pt: 'quando o limite diário for liberado',
  },
  wave: {
    es: 'límite diario: tanda {n} de {of}',
    en: 'daily limit: wave {n} of {of}',
    pt: 'limite diário: lote {n} de {of}',
  },
  chosen: { es: 'a la hora elegida', en: 'at the chosen time', pt: 'no horário escolhido' },
} as const;

/** "3 ahora, 500 mañana 10:21, 12 el jue 3 dic 09:00". */
export function summarize(
  plan: { at: string; count: number }[],
  now: number,
  zone: string,
  language: Language,
): string {
  const numbers = new Intl.NumberFormat(fixedLocale(language));
  // A part a late report left nobody to take goes with nothing: "0 ahora" would say nothing useful.
  return plan
    .filter((part) => part.count > 0)
    .map((part) => `${numbers.format(part.count)} ${formatPlanTime(Date.parse(part.at), now, zone, language)}`)
    .join(', ');
}
