/** The pre-flight warnings a manager reads before sending, in Spanish, English and Brazilian Portuguese. */
import type { Localized } from './i18n';

export const preflightWarnings = {
  quota_overflow: {
    es: '{overflow, plural, one {# de {willSend} no entra} other {# de {willSend} no entran}} en el límite diario del canal ({limit} destinatarios únicos en 24 h; quedan {remaining}). Envíe ahora los que entran y programe el resto para {allFitAt}.',
    en: "{overflow, plural, one {# of {willSend} does not fit} other {# of {willSend} do not fit}} in the channel's daily limit ({limit} unique recipients in 24 h; {remaining} left). Send what fits now and schedule the rest for {allFitAt}.",
    pt: '{overflow, plural, one {# de {willSend} não cabe} other {# de {willSend} não cabem}} no limite diário do canal ({limit} destinatários únicos em 24 h; restam {remaining}). Envie agora os que cabem e agende o restante para {allFitAt}.',
  },
  quota_never_fits: {
    es: 'La transmisión tiene {needed} destinatarios nuevos y el límite diario del canal es {limit}: divídala en varias transmisiones.',
    en: "The broadcast has {needed} new recipients and the channel's daily limit is {limit}: split it into several broadcasts.",
    pt: 'A transmissão tem {needed} destinatários novos e o limite diário do canal é {limit}: divida-a em várias transmissões.',
  },
  rate_above_channel: {
    es: 'La velocidad pedida ({requested}/s) supera la del canal ({channel}/s): se enviará a {channel}/s.',
    en: 'The requested rate ({requested}/s) is above what the channel allows ({channel}/s): it will send at {channel}/s.',
    pt: 'A velocidade solicitada ({requested}/s) é maior que a permitida pelo canal ({channel}/s): o envio será feito a {channel}/s.',
  },
  outside_window: {
    es: '{count, plural, one {# contacto no escribió} other {# contactos no escribieron}} en las últimas 24 h: {fix}',
    en: '{count, plural, one {# contact has not written} other {# contacts have not written}} in the last 24 h: {fix}',
    pt: '{count, plural, one {# contato não escreveu} other {# contatos não escreveram}} nas últimas 24 h: {fix}',
  },
  opted_out: {
    es: '{count, plural, one {# contacto bloqueó al negocio o se dio de baja en este canal y no recibirá el mensaje} other {# contactos bloquearon al negocio o se dieron de baja en este canal y no recibirán el mensaje}}.',
    en: '{count, plural, one {# contact blocked the business or opted out on this channel and will not get the message} other {# contacts blocked the business or opted out on this channel and will not get the message}}.',
    pt: '{count, plural, one {# contato bloqueou a empresa ou cancelou o recebimento neste canal e não receberá a mensagem} other {# contatos bloquearam a empresa ou cancelaram o recebimento neste canal e não receberão a mensagem}}.',
  },
  excluded: {
    es: '{count, plural, one {# contacto queda fuera} other {# contactos quedan fuera}}: {duplicate, plural, one {# duplicado} other {# duplicados}}, {invalid, number} con identificador inválido (use el formato E.164, p. ej. +5491155551234), {none, number} sin identificador en este canal.',
    en: '{count, plural, one {# contact is left out} other {# contacts are left out}}: {duplicate, plural, one {# duplicate} other {# duplicates}}, {invalid, number} with an invalid identifier (use E.164, e.g. +5491155551234), {none, number} with no identifier on this channel.',
    pt: '{count, plural, one {# contato fica de fora} other {# contatos ficam de fora}}: {duplicate, plural, one {# duplicado} other {# duplicados}}, {invalid, number} com identificador inválido (use o formato E.164, por ex. +5491155551234), {none, number} sem identificador neste canal.',
  },
  empty_segment: {
    es: 'Falló la transmisión: no hay contactos en el segmento de destino',
    en: 'Broadcast failed: no contacts in target segment',
    pt: 'Falha na transmissão: não há contatos no segmento de destino',
  },
  unsupported_channel: {
    es: 'Este canal no admite transmisiones.',
    en: 'This channel does not support broadcasts.',
    pt: 'Este canal não permite transmissões.',
  },
  text_too_long: {
    es: 'El texto tiene {length} caracteres y este canal acepta como máximo {max} por mensaje: todos fallarían. Acórtelo antes de programar.',
    en: 'The text is {length} characters long and this channel takes at most {max} in one message: every recipient would fail. Shorten it before scheduling.',
    pt: 'O texto tem {length} caracteres e este canal aceita no máximo {max} por mensagem: todos falhariam. Encurte-o antes de agendar.',
  },
  number_paused: {
    es: 'El número de este canal está en pausa para cuidarlo: no se podrá programar hasta que un gerente lo revise y lo reanude (una de sus transmisiones en pausa, o el canal).',
    en: "This channel's number is paused to protect it: the broadcast cannot be scheduled until a manager reviews it and resumes it (one of its paused broadcasts, or the channel).",
    pt: 'O número deste canal está em pausa para protegê-lo: não será possível agendar até que um gerente o revise e o retome (uma das transmissões em pausa, ou o canal).',
  },
  credentials_missing: {
    es: 'Faltan credenciales del canal: {keys}.',
    en: 'The channel is missing credentials: {keys}.',
    pt: 'Faltam credenciais do canal: {keys}.',
  },
  slow: {
    es: 'A {rate}/s, enviar {willSend} mensajes tomará unos {duration}.',
    en: 'At {rate}/s, sending {willSend} messages will take about {duration}.',
    pt: 'A {rate}/s, enviar {willSend} mensagens levará cerca de {duration}.',
  },
} as const satisfies Record<string, Localized>;
export type PreflightWarningCode = keyof typeof preflightWarnings;

export const windowFixes = {
  whatsapp: {
    es: 'WhatsApp solo acepta una plantilla aprobada fuera de la ventana de 24 h; agregue una plantilla o fallarán.',
    en: 'WhatsApp only takes an approved template outside the 24 h window; add a template or they will fail.',
    pt: 'Fora da janela de 24 h, o WhatsApp só aceita um modelo de mensagem aprovado; adicione um modelo ou as mensagens vão falhar.',
  },
  messenger: {
    es: 'Messenger solo acepta mensajes con etiqueta fuera de la ventana de 24 h; agregue una etiqueta o fallarán.',
    en: 'Messenger only takes tagged messages outside the 24 h window; add a message tag or they will fail.',
    pt: 'Fora da janela de 24 h, o Messenger só aceita mensagens com etiqueta; adicione uma etiqueta ou as mensagens vão falhar.',
  },
} as const satisfies Record<string, Localized>;
