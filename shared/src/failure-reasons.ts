/**
 * The failure catalog: every way a message can fail, in words an agent understands, with what to do
 * and whether re-sending can help. Provider codes are mapped to these reasons in ./failure-codes/.
 * THIS IS WHERE A FAILURE REASON IS DECIDED: classifyProviderFailure() below.
 */
import { type ChannelType, channelCapabilities } from './channels';
import { providerClassifiers } from './failure-codes';
import type { Language, Localized } from './i18n';

/** The per-provider code tables, so the mapping can be listed. */
export { type ProviderCodeEntry, type ProviderCodeTable, providerCodeTables } from './failure-codes';

export const FAILURE_REASONS = [
  'quota_reached',
  'throttled',
  'blocked',
  'opted_out',
  'invalid_identifier',
  'no_identifier',
  'not_on_channel',
  'unreachable',
  'recipient_limit',
  'outside_window',
  'template_problem',
  'spam_filtered',
  'account_problem',
  'unsupported_channel',
  'duplicate',
  'provider_error',
  'uncertain',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Whether sending the same message again can help: right away, after a wait, or not until something changes. */
export type ResendAdvice = 'now' | 'later' | 'never';

export interface FailureReasonInfo {
  resend: ResendAdvice;
  title: Localized;
  explanation: Localized;
  action: Localized;
}

/**
 * The catalog. Spanish is neutral Latin American and speaks to the agent as "usted" (the business is
 * "ustedes"); English is plain. Titles are short; explanations say what happened; actions say what to do.
 */
export const failureReasons: Record<FailureReason, FailureReasonInfo> = {
  quota_reached: {
    resend: 'later',
    title: { es: 'Se alcanzó el límite diario del canal', en: 'Daily messaging limit reached' },
    explanation: {
      es: 'El canal ya envió la cantidad máxima de mensajes que permite en 24 horas (por ejemplo, el nivel de mensajería de WhatsApp), así que estos mensajes no salieron.',
      en: 'The channel already sent as many messages as it allows in 24 hours (for example, its WhatsApp messaging tier), so these messages did not go out.',
    },
    action: {
      es: 'Reenvíelos cuando se libere capacidad: programe el reenvío para ese momento, no antes. Si pasa seguido, pida a su supervisor que revise el nivel del canal.',
      en: "Re-send them once capacity frees up: schedule the re-send for that time, not before. If it happens often, ask your supervisor to review the channel's tier.",
    },
  },
  throttled: {
    resend: 'later',
    title: { es: 'Se envió demasiado rápido', en: 'Sent too fast' },
    explanation: {
      es: 'El proveedor recibió demasiados mensajes en poco tiempo (en total o para la misma persona) y rechazó algunos por un momento. No es un problema del contacto.',
      en: 'The provider got too many messages in a short time (overall or to the same person) and turned some away for a moment. Nothing is wrong with the contact.',
    },
    action: {
      es: 'Espere unos minutos y reenvíe. No hace falta cambiar el mensaje ni el contacto.',
      en: 'Wait a few minutes and re-send. Nothing about the message or the contact needs to change.',
    },
  },
  blocked: {
    resend: 'never',
    title: { es: 'El contacto bloqueó o se dio de baja', en: 'Contact blocked you or opted out' },
    explanation: {
      es: 'El contacto bloqueó a su empresa o pidió no recibir más mensajes (por ejemplo, respondió STOP o desactivó los mensajes de marketing), o su operador no permite enviarle mensajes.',
      en: 'The contact blocked your business or asked not to get more messages (for example, replied STOP or turned off marketing messages), or their carrier does not allow messages to this number.',
    },
    action: {
      es: 'No lo reenvíe: volver a enviar no sirve y puede dañar la reputación del canal. Escríbale de nuevo solo si el contacto les escribe primero o vuelve a aceptar sus mensajes.',
      en: "Don't re-send: it cannot help and can hurt the channel's reputation. Only message this contact again if they write to you first or agree to get your messages again.",
    },
  },
  opted_out: {
    resend: 'never',
    title: { es: 'El contacto se dio de baja en este canal', en: 'Contact opted out on this channel' },
    explanation: {
      es: 'El contacto pidió no recibir más mensajes en este canal (respondió STOP o BAJA, bloqueó al negocio o desactivó los mensajes de marketing), así que Rebound no le envió esta transmisión.',
      en: 'The contact asked not to get more messages on this channel (replied STOP, blocked the business or turned off marketing messages), so Rebound did not send this broadcast to them.',
    },
    action: {
      es: 'No lo reenvíe. Si el contacto vuelve a aceptar sus mensajes, un supervisor puede quitar la baja en la ficha del contacto, dejando una nota.',
      en: "Don't re-send. If the contact agrees to get your messages again, a manager can remove the opt-out on the contact's page, with a note.",
    },
  },
  invalid_identifier: {
    resend: 'never',
    title: { es: 'Número o identificador no válido', en: 'Invalid number or ID' },
    explanation: {
      es: 'El teléfono o el identificador del contacto tiene un formato incorrecto o el canal no lo reconoce, así que el mensaje no tenía a quién llegar.',
      en: "The contact's phone number or ID is badly formatted or the channel does not recognize it, so the message had nowhere to go.",
    },
    action: {
      es: 'Corrija el dato en la ficha del contacto y reenvíe. Escriba los teléfonos en formato internacional E.164: signo +, código de país y número, sin espacios ni guiones (por ejemplo, +5491155551234).',
      en: "Fix it on the contact's profile, then re-send. Write phone numbers in international E.164 format: a +, the country code and the number, with no spaces or dashes (for example, +5491155551234).",
    },
  },
  no_identifier: {
    resend: 'never',
    title: { es: 'Sin número ni identificador para este canal', en: 'No number or ID for this channel' },
    explanation: {
      es: 'La ficha del contacto no tiene el dato que este canal necesita para escribirle (por ejemplo, un teléfono para WhatsApp o SMS), así que no se intentó el envío.',
      en: "The contact's profile lacks what this channel needs to reach them (for example, a phone number for WhatsApp or SMS), so nothing was sent.",
    },
    action: {
      es: 'Agregue el dato en la ficha del contacto y reenvíe. Si es un teléfono, use el formato E.164 (por ejemplo, +5491155551234).',
      en: "Add it to the contact's profile, then re-send. For a phone number, use E.164 format (for example, +5491155551234).",
    },
  },
  not_on_channel: {
    resend: 'never',
    title: { es: 'El contacto no usa este canal', en: "Contact isn't on this channel" },
    explanation: {
      es: 'El número no tiene cuenta en este canal (por ejemplo, no usa WhatsApp o es un teléfono fijo), la cuenta o la línea ya no existe, o el contacto nunca inició una conversación con el bot.',
      en: "The number has no account on this channel (for example, it doesn't use WhatsApp or is a landline), the account or line no longer exists, or the contact never started a conversation with the bot.",
    },
    action: {
      es: 'Confirme el número con el contacto o escríbale por otro canal. En Telegram, el contacto primero debe abrir el bot y tocar «Iniciar».',
      en: 'Confirm the number with the contact or reach them on another channel. On Telegram, the contact must first open the bot and tap Start.',
    },
  },
  unreachable: {
    resend: 'later',
    title: { es: 'El teléfono del contacto no estaba disponible', en: "Contact's phone was unreachable" },
    explanation: {
      es: 'El teléfono estaba apagado, sin señal o sin servicio por un tiempo, y el mensaje venció antes de poder entregarse.',
      en: 'The phone was off, had no signal or was out of service for a while, and the message expired before it could be delivered.',
    },
    action: {
      es: 'Reenvíe más tarde, por ejemplo en una o dos horas. Si falla varias veces seguidas, confirme el número con el contacto.',
      en: 'Re-send later, for example in an hour or two. If it fails several times in a row, confirm the number with the contact.',
    },
  },
  recipient_limit: {
    resend: 'later',
    title: { es: 'El contacto ya recibió muchos mensajes de marketing', en: 'Contact got too many marketing messages' },
    explanation: {
      es: 'WhatsApp limita cuántos mensajes de marketing recibe cada persona, sumando los de todas las empresas, y esta vez decidió no entregar el suyo. No es un problema de su cuenta.',
      en: 'WhatsApp limits how many marketing messages each person gets from all businesses combined, and chose not to deliver yours this time. Nothing is wrong with your account.',
    },
    action: {
      es: 'No lo reenvíe enseguida: espere unas 24 horas, use una plantilla de utilidad si el mensaje no es promocional, o espere a que el contacto les escriba.',
      en: "Don't re-send right away: wait about 24 hours, use a utility template if the message isn't promotional, or wait for the contact to write to you.",
    },
  },
  outside_window: {
    resend: 'never',
    title: { es: 'Fuera de la ventana de 24 horas', en: 'Outside the 24-hour window' },
    explanation: {
      es: 'Pasaron más de 24 horas desde el último mensaje del contacto, y después de ese plazo el canal no permite enviar mensajes libres.',
      en: "More than 24 hours have passed since the contact's last message, and after that the channel does not allow free-form messages.",
    },
    action: {
      es: 'En WhatsApp, reenvíe con una plantilla aprobada. En Messenger, reenvíe con una etiqueta de mensaje adecuada (sin contenido promocional). También puede esperar a que el contacto les escriba.',
      en: 'On WhatsApp, re-send with an approved template. On Messenger, re-send with a suitable message tag (no promotional content). You can also wait for the contact to write to you.',
    },
  },
  template_problem: {
    resend: 'never',
    title: { es: 'Problema con la plantilla o el contenido', en: 'Problem with the template or content' },
    explanation: {
      es: 'El canal rechazó el mensaje por su contenido: la plantilla no existe en ese idioma, está pausada o desactivada, faltan variables o tienen un formato incorrecto, o el tipo de mensaje no está permitido.',
      en: "The channel refused the message because of its content: the template doesn't exist in that language, is paused or disabled, variables are missing or badly formatted, or the message type isn't allowed.",
    },
    action: {
      es: 'Pida a su supervisor que corrija la plantilla o el mensaje, o que elija otra plantilla aprobada, y después reenvíe.',
      en: 'Ask your supervisor to fix the template or message, or to pick another approved template, then re-send.',
    },
  },
  spam_filtered: {
    resend: 'never',
    title: { es: 'Bloqueado por un filtro de spam', en: 'Blocked by a spam filter' },
    explanation: {
      es: 'El operador o la plataforma filtró el mensaje como posible spam, o restringió el número porque muchos contactos bloquearon o denunciaron mensajes anteriores.',
      en: 'The carrier or platform filtered the message as possible spam, or restricted the number because many contacts blocked or reported earlier messages.',
    },
    action: {
      es: 'No lo reenvíe igual: pida a su supervisor que revise el contenido, el registro del remitente y la calidad del número antes de volver a enviar.',
      en: "Don't re-send it as is: ask your supervisor to review the content, the sender registration and the number's quality before sending again.",
    },
  },
  account_problem: {
    resend: 'never',
    title: { es: 'Problema con la cuenta del canal', en: 'Problem with the channel account' },
    explanation: {
      es: 'La cuenta del proveedor tiene un problema: no tiene saldo, está suspendida o restringida, sus credenciales vencieron o su configuración no permite este envío.',
      en: "The provider account has a problem: it has no balance, is suspended or restricted, its credentials expired, or its settings don't allow this send.",
    },
    action: {
      es: 'Avise a su administrador para que primero resuelva la cuenta o la facturación. Después, reenvíe eligiendo este motivo.',
      en: 'Tell your administrator to fix the account or billing first. Then re-send, choosing this reason.',
    },
  },
  unsupported_channel: {
    resend: 'never',
    title: { es: 'El canal no admite transmisiones', en: "Channel doesn't support broadcasts" },
    explanation: {
      es: 'Instagram, el chat del sitio web, WeChat y el correo electrónico solo permiten responder conversaciones, no enviar transmisiones.',
      en: 'Instagram, website chat, WeChat and e-mail only let you reply to conversations, not send broadcasts.',
    },
    action: {
      es: 'Envíe la transmisión por un canal que sí las admita, como WhatsApp, Messenger, Telegram o SMS.',
      en: 'Send the broadcast through a channel that supports it, such as WhatsApp, Messenger, Telegram or SMS.',
    },
  },
  duplicate: {
    resend: 'never',
    title: { es: 'Contacto duplicado', en: 'Duplicate contact' },
    explanation: {
      es: 'Esta persona está cargada en más de un contacto con el mismo teléfono o correo, y ya recibió el mensaje por otro de ellos.',
      en: 'This person is saved as more than one contact with the same phone or e-mail, and already got the message through another one.',
    },
    action: {
      es: 'No hace falta reenviar. Si quiere, fusione los contactos duplicados para que no vuelva a pasar.',
      en: "No need to re-send. If you like, merge the duplicate contacts so it doesn't happen again.",
    },
  },
  provider_error: {
    resend: 'now',
    title: { es: 'Falla temporal del proveedor', en: 'Temporary provider error' },
    explanation: {
      es: 'El proveedor del canal tuvo una falla al procesar el mensaje. Suele ser pasajera y no tiene que ver con el contacto.',
      en: "The channel's provider had a fault while handling the message. It is usually brief and has nothing to do with the contact.",
    },
    action: {
      es: 'Reenvíe ahora. Si vuelve a fallar, espere un rato o avise a su administrador.',
      en: 'Re-send now. If it fails again, wait a while or tell your administrator.',
    },
  },
  uncertain: {
    resend: 'never',
    title: { es: 'No se sabe si llegó', en: 'Delivery unknown' },
    explanation: {
      es: 'El proveedor no confirmó el envío a tiempo, pero puede haber recibido el mensaje igual. Todavía no hay informe de entrega.',
      en: 'The provider did not confirm the send in time, but it may have received the message anyway. There is no delivery report yet.',
    },
    action: {
      es: 'No lo reenvíe todavía, porque podría llegar dos veces. Espere el informe de entrega; si al final no llega, reenvíe solo a este contacto.',
      en: "Don't re-send yet, as it could arrive twice. Wait for the delivery report; if it never comes, re-send to this contact only.",
    },
  },
};

/** One reason in one language, ready to show. */
export interface FailureDescription {
  code: FailureReason;
  title: string;
  explanation: string;
  action: string;
  resend: ResendAdvice;
}

export function describeFailure(reason: FailureReason, language: Language): FailureDescription {
  const info = failureReasons[reason];
  return {
    code: reason,
    title: info.title[language],
    explanation: info.explanation[language],
    action: info.action[language],
    resend: info.resend,
  };
}

/** The reasons a re-send can help with, now or after a wait: what a default re-send includes. */
export function resendableReasons(): FailureReason[] {
  return FAILURE_REASONS.filter((reason) => failureReasons[reason].resend !== 'never');
}

/**
 * Provider codes, as adapters report them (providerCode) and as the catalog maps them:
 * - whatsapp:     the Graph error `code` as a decimal string: "131049", "130429"
 * - messenger:    "<code>" or "<code>/<error_subcode>": "551", "10/2018278", "100/2018001"
 * - telegram:     the `error_code` ("403", "400", "429"); the `description` decides between the 403s/400s
 * - twilio_sms:   the Twilio error code: "21610", "30003"
 * - vonage_sms:   "status:<n>" for the submit answer ("status:7"), "dlr:<err-code>" for delivery receipts
 * - messagebird_sms: "api:<code>" for request errors, "dlr:<statusErrorCode>" for status reports
 * - any channel:  "timeout", "connection", "http_<status>" when the provider gave no code of its own
 * Also accepted: receipt status words when a receipt has no code ("dlr:expired", "dlr:undelivered",
 * "dlr:failed", "dlr:rejected", "dlr:unknown"; Bird also "dlr:delivery_failed", "dlr:sending_failed"),
 * Bird Channels API failure codes as "dlr:<failure.code>" ("dlr:15005", others by family 11/12/14/15xxx),
 * and on the sandbox any reason name ("blocked"). Unknown codes are provider_error; channel types that
 * cannot broadcast always give unsupported_channel. The tables are in ./failure-codes/<provider>.ts.
 */
export function classifyProviderFailure(
  channelType: ChannelType,
  providerCode: string,
  providerMessage?: string,
): FailureReason {
  if (!channelCapabilities[channelType].canBroadcast) return 'unsupported_channel';
  const generic = classifyGenericFailure(providerCode);
  if (generic) return generic;
  if (channelType === 'sandbox') return classifySandboxFailure(providerCode);
  return providerClassifiers[channelType]?.(providerCode, providerMessage) ?? 'provider_error';
}

/**
 * Codes any channel can report when the provider gave none of its own:
 * "timeout" → uncertain (the request may have arrived), "connection" → provider_error (never sent),
 * "http_429" → throttled, "http_401"/"http_403" → account_problem, any other "http_<status>" → provider_error.
 */
function classifyGenericFailure(providerCode: string): FailureReason | undefined {
  const code = providerCode.trim().toLowerCase();
  if (code === 'timeout') return 'uncertain';
  if (code === 'connection') return 'provider_error';
  if (!code.startsWith('http_')) return undefined;
  const status = code.slice('http_'.length);
  if (status === '429') return 'throttled';
  if (status === '401' || status === '403') return 'account_problem';
  return 'provider_error';
}

/** The sandbox has no provider: a code that names a reason ("blocked") is that reason, anything else a provider error. */
function classifySandboxFailure(providerCode: string): FailureReason {
  const code = providerCode.trim().toLowerCase();
  return (FAILURE_REASONS as readonly string[]).includes(code) ? (code as FailureReason) : 'provider_error';
}
