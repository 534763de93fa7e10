/**
 * Every API error code with its message in Spanish and English. The segment and broadcast messages
 * use the reference help page's own wording, so agents recognise them.
 */
import { format, type Language, type Localized } from './i18n';

export const apiErrors = {
  unauthorized: {
    es: 'Falta el token de API o no es válido. Envíe el encabezado "Authorization: Bearer <token>" con un token vigente.',
    en: 'The API token is missing or not valid. Send the header "Authorization: Bearer <token>" with a current token.',
  },
  forbidden: {
    es: 'Su rol ({role}) no permite esta acción; se necesita el rol {required} o superior.',
    en: 'Your role ({role}) may not do this; it needs the {required} role or higher.',
  },
  not_found: {
    es: 'No se encontró {resource}.',
    en: '{resource} was not found.',
  },
  route_not_found: {
    es: 'No existe la ruta {method} {path}. Consulte /docs para ver las rutas disponibles.',
    en: 'There is no route {method} {path}. See /docs for the available routes.',
  },
  validation_failed: {
    es: 'Los datos enviados no son válidos. Corrija los campos indicados en "details".',
    en: 'The data sent is not valid. Fix the fields listed in "details".',
  },
  invalid_json: {
    es: 'El cuerpo de la solicitud no es JSON válido. Revise comillas, comas y llaves.',
    en: 'The request body is not valid JSON. Check quotes, commas and braces.',
  },
  unsupported_media_type: {
    es: 'Envíe el cuerpo como JSON con el encabezado "Content-Type: application/json".',
    en: 'Send the body as JSON with the header "Content-Type: application/json".',
  },
  payload_too_large: {
    es: 'El cuerpo de la solicitud supera el límite de {limit}. Envíe menos datos por solicitud.',
    en: 'The request body is over the {limit} limit. Send less data per request.',
  },
  contact_identifier_taken: {
    es: 'El identificador {identifier} del canal {channelId} ya pertenece al contacto {contactId}.',
    en: 'Identifier {identifier} on channel {channelId} already belongs to contact {contactId}.',
  },
  contact_identifier_channel: {
    es: 'El canal {channelId} usa el teléfono del contacto como identificador; escríbalo en "phone".',
    en: 'Channel {channelId} addresses contacts by phone number; put it in "phone" instead.',
  },
  contact_needs_identity: {
    es: 'Un contacto necesita al menos un nombre, un teléfono, un correo o un identificador de canal.',
    en: 'A contact needs at least a first name, a phone, an e-mail or a channel identifier.',
  },
  merge_same_contact: {
    es: 'No se puede fusionar un contacto consigo mismo.',
    en: 'A contact cannot be merged with itself.',
  },
  channel_credentials_missing: {
    es: 'Faltan credenciales del canal {type}: {keys}.',
    en: 'The {type} channel is missing credentials: {keys}.',
  },
  segment_not_found: {
    es: 'Segmento de contacto no encontrado',
    en: 'Contact segment not found',
  },
  segment_limit_reached: {
    es: 'Límite alcanzado: la cantidad máxima de segmentos en un espacio de trabajo es 500. Elimine un segmento antes de crear uno nuevo.',
    en: 'Limit reached: the maximum number of segments in a workspace is 500. Delete a segment before creating a new one.',
  },
  segment_name_taken: {
    es: 'El nombre del segmento de contacto debe ser único.',
    en: 'Contact segment name must be unique.',
  },
  segment_filter_channel: {
    es: 'La condición usa el canal {channelId}, que no existe en este espacio de trabajo.',
    en: 'The condition uses channel {channelId}, which does not exist in this workspace.',
  },
  broadcast_empty_target: {
    es: 'Falló la transmisión: no hay contactos en el segmento de destino',
    en: 'Broadcast failed: no contacts in target segment',
  },
  broadcast_segment_deleted: {
    es: 'Falló la transmisión: no se encontró el segmento de destino.',
    en: 'Broadcast failed: target segment not found.',
  },
  broadcast_channel_missing: {
    es: 'Falló la transmisión: el canal fue desconectado.',
    en: 'Broadcast failed: the channel was disconnected.',
  },
  broadcast_unsupported_channel: {
    es: 'Este canal no admite transmisiones (Instagram, chat del sitio web, WeChat y correo electrónico no las admiten). Elija WhatsApp, Messenger, Telegram o SMS.',
    en: 'This channel does not support broadcasts (Instagram, website chat, WeChat and e-mail do not). Choose WhatsApp, Messenger, Telegram or SMS.',
  },
  broadcast_no_reachable_recipients: {
    es: 'Falló la transmisión: ningún contacto del segmento se puede alcanzar en este canal (sin identificador, identificador inválido o duplicado).',
    en: 'Broadcast failed: no contact in the segment can be reached on this channel (no identifier, invalid identifier or duplicate).',
  },
  broadcast_not_editable: {
    es: 'La transmisión está en estado {status}: solo se puede cambiar en borrador o programada.',
    en: 'The broadcast is {status}: only a draft or scheduled broadcast can be changed.',
  },
  broadcast_transition: {
    es: 'Una transmisión en estado {from} no puede pasar a {to}.',
    en: 'A broadcast that is {from} cannot become {to}.',
  },
  broadcast_schedule_past: {
    es: 'La fecha de envío ya pasó. Elija una fecha futura o deje "at" vacío para enviar ahora.',
    en: 'The send time is in the past. Choose a future time, or leave "at" empty to send now.',
  },
  resend_not_finished: {
    es: 'La transmisión todavía está en estado {status}: espere a que termine para reenviar a los que fallaron.',
    en: 'The broadcast is still {status}: wait until it finishes to re-send to the ones that failed.',
  },
  resend_nothing: {
    es: 'No hay mensajes fallidos que un reenvío pueda ayudar con los motivos elegidos. Revise "details" para ver los que quedaron fuera y por qué.',
    en: 'No failed message that a re-send can help matches the chosen reasons. See "details" for the ones left out and why.',
  },
  webhook_signature: {
    es: 'Firma del webhook ausente o inválida: no se aplicó ningún cambio.',
    en: 'Missing or invalid webhook signature: nothing was changed.',
  },
  internal_error: {
    es: 'Error interno del servidor. No se guardó ningún cambio parcial; intente de nuevo.',
    en: 'Internal server error. No partial change was saved; please try again.',
  },
  database_unavailable: {
    es: 'La base de datos no responde.',
    en: 'The database is not answering.',
  },
} as const satisfies Record<string, Localized>;

export type ApiErrorCode = keyof typeof apiErrors;

/** Names of the things an error can be about, for not_found messages. */
export const resourceNames = {
  contact: { es: 'el contacto', en: 'Contact' },
  channel: { es: 'el canal', en: 'Channel' },
  segment: { es: 'el segmento de contacto', en: 'Contact segment' },
  token: { es: 'el token de API', en: 'API token' },
  broadcast: { es: 'la transmisión', en: 'Broadcast' },
  import: { es: 'la importación', en: 'Import' },
} as const satisfies Record<string, Localized>;
export type ResourceName = keyof typeof resourceNames;

export function errorMessage(
  code: ApiErrorCode,
  language: Language,
  params: Record<string, string | number> = {},
): string {
  return format(apiErrors[code][language], params);
}
