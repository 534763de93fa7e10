/**
 * The CSV exports: their columns with the English, Spanish and Brazilian Portuguese headers (so an
 * import can recognise a file Rebound wrote in English or Spanish), their query parameters, and the
 * formula neutralization both sides agree on.
 */
import { z } from 'zod';
import { LANGUAGES, type Language, type Localized } from '../i18n';
import { cleanText } from './common';
import { FailureFiltersSchema } from './failures';

export interface ExportColumn<K extends string = string> extends Localized {
  key: K;
}

/**
 * The failed-messages export: the reference help page's columns in its order (date time … error),
 * then Rebound's own columns.
 */
export const FAILED_EXPORT_COLUMNS = [
  { key: 'dateTime', en: 'Date Time', pt: 'Data e hora', es: 'Fecha y hora' },
  { key: 'senderId', en: 'Sender ID', pt: 'ID do remetente', es: 'ID de remitente' },
  { key: 'senderType', en: 'Sender Type', pt: 'Tipo de remetente', es: 'Tipo de remitente' },
  { key: 'contactId', en: 'Contact ID', pt: 'ID do contato', es: 'ID de contacto' },
  { key: 'messageId', en: 'Message ID', pt: 'ID da mensagem', es: 'ID de mensaje' },
  { key: 'contentType', en: 'Content Type', pt: 'Tipo de conteúdo', es: 'Tipo de contenido' },
  { key: 'content', en: 'Content', pt: 'Conteúdo', es: 'Contenido' },
  { key: 'channelId', en: 'Channel ID', pt: 'ID do canal', es: 'ID de canal' },
  { key: 'type', en: 'Type', pt: 'Tipo', es: 'Tipo' },
  { key: 'subtype', en: 'Subtype', pt: 'Subtipo', es: 'Subtipo' },
  { key: 'error', en: 'Error', pt: 'Erro', es: 'Error' },
  { key: 'reasonCode', en: 'Reason Code', pt: 'Código do motivo', es: 'Código de motivo' },
  { key: 'reason', en: 'Reason', pt: 'Motivo', es: 'Motivo' },
  { key: 'resend', en: 'Resend', pt: 'Reenvio', es: 'Reenvío' },
  { key: 'providerCode', en: 'Provider Code', pt: 'Código do provedor', es: 'Código del proveedor' },
  { key: 'broadcast', en: 'Broadcast', pt: 'Transmissão', es: 'Transmisión' },
  { key: 'contactName', en: 'Contact Name', pt: 'Nome do contato', es: 'Nombre del contacto' },
  { key: 'identifier', en: 'Identifier', pt: 'Identificador', es: 'Identificador' },
  { key: 'resendAfter', en: 'Resend After', pt: 'Reenviar a partir de', es: 'Reenviar desde' },
] as const satisfies readonly ExportColumn[];
export type FailedExportKey = (typeof FAILED_EXPORT_COLUMNS)[number]['key'];

/** The contacts export's fixed columns; one column per custom field key follows, headed by the key itself. */
export const CONTACT_EXPORT_COLUMNS = [
  { key: 'contactId', en: 'Contact ID', pt: 'ID do contato', es: 'ID de contacto' },
  { key: 'firstName', en: 'First Name', pt: 'Nome', es: 'Nombre' },
  { key: 'lastName', en: 'Last Name', pt: 'Sobrenome', es: 'Apellido' },
  { key: 'phone', en: 'Phone', pt: 'Telefone', es: 'Teléfono' },
  { key: 'email', en: 'Email', pt: 'E-mail', es: 'Correo electrónico' },
  { key: 'language', en: 'Language', pt: 'Idioma', es: 'Idioma' },
  { key: 'tags', en: 'Tags', pt: 'Etiquetas', es: 'Etiquetas' },
] as const satisfies readonly ExportColumn[];
export type ContactExportKey = (typeof CONTACT_EXPORT_COLUMNS)[number]['key'];

/** Tags in one cell are joined with this. */
export const EXPORT_TAG_SEPARATOR = ', ';

/**
 * The words of the Resend column: re-sending can help now, after a wait, or not; unconfirmed messages
 * only when asked for, once their wait for a delivery report is over (Resend After).
 */
export const EXPORT_RESEND_LABELS = {
  now: { es: 'ahora', en: 'now', pt: 'agora' },
  later: { es: 'más tarde', en: 'later', pt: 'mais tarde' },
  never: { es: 'no', en: 'never', pt: 'não' },
  onRequest: { es: 'solo si lo pide', en: 'on request', pt: 'só se você pedir' },
} as const satisfies Record<'now' | 'later' | 'never' | 'onRequest', Localized>;

/** The words of the Sender Type, Type, Content Type and Subtype columns, in the file's language. */
export const EXPORT_VALUE_LABELS = {
  broadcast: { es: 'transmisión', en: 'broadcast', pt: 'transmissão' },
  text: { es: 'texto', en: 'text', pt: 'texto' },
  template: { es: 'plantilla', en: 'template', pt: 'modelo' },
  failed: { es: 'fallido', en: 'failed', pt: 'com falha' },
  excluded: { es: 'excluido', en: 'excluded', pt: 'excluída' },
  unconfirmed: { es: 'sin confirmar', en: 'unconfirmed', pt: 'não confirmada' },
} as const satisfies Record<string, Localized>;

/** The key of a header written in any of our languages, or undefined ("Fecha y hora" → dateTime). */
export function exportColumnKey<K extends string>(columns: readonly ExportColumn<K>[], header: string): K | undefined {
  const wanted = header.trim().toLowerCase();
  return columns.find((column) => LANGUAGES.some((language) => column[language].toLowerCase() === wanted))?.key;
}

export function exportHeaders(columns: readonly ExportColumn[], language: Language): string[] {
  return columns.map((column) => column[language]);
}

const formulaStart = /^'*[=+\-@\t\r]/;
const plainNumber = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * Inside a cell, a semicolon, a tab or a line break before = + - @: Excel in a decimal-comma locale
 * (es-AR, es-MX, pt-BR) splits a .csv on ";" and on line breaks whatever the quotes of a comma CSV say,
 * so what follows would start a cell of its own there, and run as a formula.
 */
const formulaAfterSeparator = /([;\t\r\n])('*[=+\-@])/g;
const neutralizedAfterSeparator = /([;\t\r\n])'('*[=+\-@])/g;

/**
 * A cell a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return) gets a
 * leading single quote, and so does what follows a semicolon, a tab or a line break inside it.
 * Plain numbers such as an E.164 phone (+5491155551234) stay as they are: a spreadsheet reads them as
 * numbers, never as formulas. Quotes already there before such a character get one more, so
 * restoreFormulaCell() undoes this exactly.
 */
export function neutralizeFormulaCell(value: string): string {
  const inside = value.replace(formulaAfterSeparator, "$1'$2");
  return formulaStart.test(inside) && !plainNumber.test(inside) ? `'${inside}` : inside;
}

/** The importer's inverse of neutralizeFormulaCell(). */
export function restoreFormulaCell(value: string): string {
  const start =
    value.startsWith("'") && formulaStart.test(value.slice(1)) && !plainNumber.test(value.slice(1))
      ? value.slice(1)
      : value;
  return start.replace(neutralizedAfterSeparator, '$1$2');
}

const booleanQuery = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1')
  .optional();

export const FailedExportQuerySchema = FailureFiltersSchema.extend({
  bom: booleanQuery.meta({ description: 'true: start with a UTF-8 byte order mark, so Excel reads the accents.' }),
});
export type FailedExportQuery = z.infer<typeof FailedExportQuerySchema>;

export const ContactExportQuerySchema = z.object({
  tag: cleanText().trim().min(1).max(100).optional().meta({ description: 'Only contacts with this tag.' }),
  bom: booleanQuery.meta({ description: 'true: start with a UTF-8 byte order mark, so Excel reads the accents.' }),
});
export type ContactExportQuery = z.infer<typeof ContactExportQuerySchema>;
