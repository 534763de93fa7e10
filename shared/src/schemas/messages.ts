/**
 * The validation messages the shared schemas write themselves, in each language (Spanish, English and
 * Brazilian Portuguese). Zod carries the English; the API's validation hook (server/src/lib/body.ts)
 * shows the Spanish or the Portuguese from this same table, so a message changed here changes in both.
 */
import type { Localized } from '../i18n';

export const schemaMessages = {
  dayOrTime: {
    en: 'Use a day such as 2026-12-01 or an ISO 8601 time such as 2026-12-01T09:00:00-03:00',
    pt: 'Use um dia como 2026-12-01 ou uma data e hora ISO 8601 como 2026-12-01T09:00:00-03:00',
    es: 'Use un día como 2026-12-01 o una fecha y hora ISO 8601 como 2026-12-01T09:00:00-03:00',
  },
  dayInRange: {
    en: 'Use a date between 1970 and 9998, or leave it out for no limit',
    pt: 'Use uma data entre 1970 e 9998, ou deixe em branco para não limitar',
    es: 'Use una fecha entre 1970 y 9998, o déjela vacía para no poner límite',
  },
  tagEmpty: {
    en: 'A tag needs at least one character',
    pt: 'Uma etiqueta precisa de pelo menos um caractere',
    es: 'Una etiqueta necesita al menos un carácter',
  },
  tooManyImportTags: { en: 'At most 50 tags', pt: 'No máximo 50 etiquetas', es: 'Como máximo 50 etiquetas' },
  customKey: {
    en: 'Use 1-64 letters, digits, spaces, "_" or "-"',
    pt: 'Use de 1 a 64 letras, dígitos, espaços, "_" ou "-"',
    es: 'Use de 1 a 64 letras, dígitos, espacios, "_" o "-"',
  },
  tooManyCustomFields: {
    en: 'At most 100 custom fields',
    pt: 'No máximo 100 campos personalizados',
    es: 'Como máximo 100 campos personalizados',
  },
  optOutNote: {
    en: 'Say why the opt-out is removed (e.g. how the contact agreed to get messages again)',
    pt: 'Informe por que o cancelamento do recebimento está sendo removido (por exemplo, como o contato aceitou voltar a receber mensagens)',
    es: 'Indique por qué quita la baja (por ejemplo, cómo aceptó el contacto volver a recibir mensajes)',
  },
  contactRef: {
    en: 'Use a contact ID, phone:<number> or email:<address>',
    pt: 'Use um ID de contato, phone:<número> ou email:<endereço>',
    es: 'Use un ID de contacto, phone:<número> o email:<dirección>',
  },
  eventCursor: {
    en: 'An event id from this API, or "now"',
    pt: 'Um ID de evento desta API, ou "now"',
    es: 'Un ID de evento de esta API, o "now"',
  },
  customColumn: {
    en: 'Use custom.<key> with 1-64 letters, digits, spaces, "_" or "-"',
    pt: 'Use custom.<chave> com 1 a 64 letras, dígitos, espaços, "_" ou "-"',
    es: 'Use custom.<clave> con 1 a 64 letras, dígitos, espacios, "_" o "-"',
  },
  trueOrFalse: { en: 'Use true or false', pt: 'Use true ou false', es: 'Use true o false' },
  csvFile: {
    en: 'Send the CSV as a file in the "file" field (multipart/form-data)',
    pt: 'Envie o CSV como arquivo no campo "file" (multipart/form-data)',
    es: 'Envíe el CSV como archivo en el campo "file" (multipart/form-data)',
  },
  mappingJson: {
    en: 'Not valid JSON: send an object such as {"Celular": "phone"}',
    pt: 'Não é um JSON válido: envie um objeto como {"Celular": "phone"}',
    es: 'No es un JSON válido: envíe un objeto como {"Celular": "phone"}',
  },
  customFieldRef: {
    en: 'Custom fields are written custom.<key>, the key 1-64 letters, digits, spaces, "_" or "-"',
    pt: 'Os campos personalizados são escritos custom.<chave>, com uma chave de 1 a 64 letras, dígitos, espaços, "_" ou "-"',
    es: 'Los campos personalizados se escriben custom.<clave>, con una clave de 1 a 64 letras, dígitos, espacios, "_" o "-"',
  },
  controlCharacters: {
    en: 'Remove the control characters (such as NUL) from this text',
    pt: 'Remova os caracteres de controle (como NUL) deste texto',
    es: 'Quite los caracteres de control (como NUL) de este texto',
  },
  /** The API's wording of the same refusal, naming the field and the characters found. */
  controlCharactersIn: {
    en: 'Remove the control characters ({chars}) from the field "{field}"',
    pt: 'Remova os caracteres de controle ({chars}) do campo "{field}"',
    es: 'Quite los caracteres de control ({chars}) del campo «{field}»',
  },
  channelTypeFixed: {
    en: "A channel's type cannot change: connect a new channel of the other type",
    pt: 'O tipo de um canal não pode mudar: conecte um novo canal do outro tipo',
    es: 'El tipo de un canal no se puede cambiar: conecte un canal nuevo del otro tipo',
  },
  credentialCharacters: {
    en: 'A credential holds only visible ASCII letters, digits and signs: remove any invisible or accented character pasted with it (such as U+200B)',
    pt: 'Uma credencial só tem letras, dígitos e sinais ASCII visíveis: remova qualquer caractere invisível ou acentuado colado junto (como U+200B)',
    es: 'Una credencial solo lleva letras, dígitos y signos ASCII visibles: quite cualquier carácter invisible o acentuado pegado con ella (como U+200B)',
  },
  tooManyCredentials: {
    en: 'At most 20 credentials',
    pt: 'No máximo 20 credenciais',
    es: 'Como máximo 20 credenciales',
  },
  id: {
    en: 'Use an ID written with digits only, such as 42 (no sign, spaces, leading zeros or exponent)',
    pt: 'Use um ID escrito só com dígitos, por exemplo 42 (sem sinal, espaços, zeros à esquerda nem expoente)',
    es: 'Use un ID escrito solo con dígitos, por ejemplo 42 (sin signo, espacios, ceros a la izquierda ni exponente)',
  },
  wholeNumber: {
    en: 'Use a whole number written with digits only, such as 50',
    pt: 'Use um número inteiro escrito só com dígitos, por exemplo 50',
    es: 'Use un número entero escrito solo con dígitos, por ejemplo 50',
  },
} as const satisfies Record<string, Localized>;
