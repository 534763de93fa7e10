/**
 * The failure catalog: every way a message can fail, in words an agent understands, with what to do
 * and whether re-sending can help. Provider codes are mapped to these reasons in ./failure-codes/.
 * THIS IS WHERE A FAILURE REASON IS DECIDED: classifyProviderFailure() below.
 */
import { type ChannelType, channelCapabilities } from './channels';
import { providerClassifiers } from './failure-codes';
import type { Language, Localized } from './i18n';

/** The per-provider code tables, so the mapping can be listed, and the adapters read their retry classes. */
export {
  messagebirdCodes,
  messengerCodes,
  type ProviderCodeEntry,
  type ProviderCodeTable,
  type ProviderFailureCodes,
  providerCodeTables,
  providerFailureCodes,
  type RetryClass,
  retryClass,
  telegramCodes,
  twilioCodes,
  vonageCodes,
  whatsappCodes,
} from './failure-codes';

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
  'marketing_held',
  'outside_window',
  'template_problem',
  'spam_filtered',
  'carrier_rejected',
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
 * "ustedes"); English is plain; Brazilian Portuguese speaks to the agent as "você". Titles are short;
 * explanations say what happened; actions say what to do.
 */
export const failureReasons: Record<FailureReason, FailureReasonInfo> = {
  quota_reached: {
    resend: 'later',
    title: {
      es: 'Se alcanzó el límite diario del canal',
      en: 'Daily messaging limit reached',
      pt: 'Limite diário do canal atingido',
    },
    explanation: {
      es: 'El canal ya envió la cantidad máxima de mensajes que permite en 24 horas (por ejemplo, el nivel de mensajería de WhatsApp), así que estos mensajes no salieron.',
      en: 'The channel already sent as many messages as it allows in 24 hours (for example, its WhatsApp messaging tier), so these messages did not go out.',
      pt: 'O canal já enviou o máximo de mensagens permitido em 24 horas (por exemplo, o nível de mensagens do WhatsApp), então estas mensagens não foram enviadas.',
    },
    action: {
      es: 'Reenvíelos cuando se libere capacidad: programe el reenvío para ese momento, no antes. Si pasa seguido, pida a un gerente que revise el nivel del canal.',
      en: "Re-send them once capacity frees up: schedule the re-send for that time, not before. If it happens often, ask a manager to review the channel's tier.",
      pt: 'Reenvie quando houver capacidade de novo: agende o reenvio para esse momento, não antes. Se isso acontecer com frequência, peça a um gerente para revisar o nível do canal.',
    },
  },
  throttled: {
    resend: 'later',
    title: { es: 'Se envió demasiado rápido', en: 'Sent too fast', pt: 'Envio rápido demais' },
    explanation: {
      es: 'El proveedor recibió demasiados mensajes en poco tiempo (en total o para la misma persona) y rechazó algunos por un momento. No es un problema del contacto.',
      en: 'The provider got too many messages in a short time (overall or to the same person) and turned some away for a moment. Nothing is wrong with the contact.',
      pt: 'O provedor recebeu muitas mensagens em pouco tempo (no total ou para a mesma pessoa) e recusou algumas por um momento. Não há nenhum problema com o contato.',
    },
    action: {
      es: 'Espere unos minutos y reenvíe. No hace falta cambiar el mensaje ni el contacto.',
      en: 'Wait a few minutes and re-send. Nothing about the message or the contact needs to change.',
      pt: 'Aguarde alguns minutos e reenvie. Não é preciso mudar a mensagem nem o contato.',
    },
  },
  blocked: {
    resend: 'never',
    title: {
      es: 'El contacto bloqueó o se dio de baja',
      en: 'Contact blocked you or opted out',
      pt: 'O contato bloqueou ou cancelou o recebimento',
    },
    explanation: {
      es: 'El contacto bloqueó a su empresa o pidió no recibir más mensajes (por ejemplo, respondió STOP o desactivó los mensajes de marketing), o su operador no permite enviarle mensajes.',
      en: 'The contact blocked your business or asked not to get more messages (for example, replied STOP or turned off marketing messages), or their carrier does not allow messages to this number.',
      pt: 'O contato bloqueou sua empresa ou pediu para não receber mais mensagens (por exemplo, respondeu STOP ou desativou as mensagens de marketing), ou a operadora dele não permite mensagens para este número.',
    },
    action: {
      es: 'No lo reenvíe: volver a enviar no sirve y puede dañar la reputación del canal. Escríbale de nuevo solo si el contacto les escribe primero o vuelve a aceptar sus mensajes.',
      en: "Don't re-send: it cannot help and can hurt the channel's reputation. Only message this contact again if they write to you first or agree to get your messages again.",
      pt: 'Não reenvie: isso não ajuda e pode prejudicar a reputação do canal. Só volte a escrever para este contato se ele escrever primeiro ou aceitar receber suas mensagens de novo.',
    },
  },
  opted_out: {
    resend: 'never',
    title: {
      es: 'El contacto se dio de baja en este canal',
      en: 'Contact opted out on this channel',
      pt: 'O contato cancelou o recebimento neste canal',
    },
    explanation: {
      es: 'El contacto pidió no recibir más mensajes en este canal (respondió STOP o BAJA, bloqueó al negocio o desactivó los mensajes de marketing), así que Rebound no le envió esta transmisión.',
      en: 'The contact asked not to get more messages on this channel (replied STOP, blocked the business or turned off marketing messages), so Rebound did not send this broadcast to them.',
      pt: 'O contato pediu para não receber mais mensagens neste canal (respondeu STOP ou PARAR, bloqueou a empresa ou desativou as mensagens de marketing), então o Rebound não enviou esta transmissão para ele.',
    },
    action: {
      es: 'No lo reenvíe. Si el contacto vuelve a aceptar sus mensajes, un gerente puede quitar la baja en la ficha del contacto, dejando una nota.',
      en: "Don't re-send. If the contact agrees to get your messages again, a manager can remove the opt-out on the contact's page, with a note.",
      pt: 'Não reenvie. Se o contato aceitar receber suas mensagens de novo, um gerente pode remover o cancelamento no cadastro do contato, deixando uma observação.',
    },
  },
  invalid_identifier: {
    resend: 'never',
    title: {
      es: 'Número o identificador no válido',
      en: 'Invalid number or ID',
      pt: 'Número ou identificador inválido',
    },
    explanation: {
      es: 'El teléfono o el identificador del contacto tiene un formato incorrecto o el canal no lo reconoce, así que el mensaje no tenía a quién llegar.',
      en: "The contact's phone number or ID is badly formatted or the channel does not recognize it, so the message had nowhere to go.",
      pt: 'O telefone ou o identificador do contato está em formato incorreto ou não é reconhecido pelo canal, então a mensagem não tinha para onde ir.',
    },
    action: {
      es: 'Corrija el dato en la ficha del contacto y reenvíe. Escriba los teléfonos en formato internacional E.164: signo +, código de país y número, sin espacios ni guiones (por ejemplo, +5491155551234).',
      en: "Fix it on the contact's profile, then re-send. Write phone numbers in international E.164 format: a +, the country code and the number, with no spaces or dashes (for example, +5491155551234).",
      pt: 'Corrija o dado no cadastro do contato e reenvie. Escreva os telefones no formato internacional E.164: sinal +, código do país e número, sem espaços nem hífens (por exemplo, +5511987654321).',
    },
  },
  no_identifier: {
    resend: 'never',
    title: {
      es: 'Sin número ni identificador para este canal',
      en: 'No number or ID for this channel',
      pt: 'Sem número nem identificador para este canal',
    },
    explanation: {
      es: 'La ficha del contacto no tiene el dato que este canal necesita para escribirle (por ejemplo, un teléfono para WhatsApp o SMS), así que no se intentó el envío.',
      en: "The contact's profile lacks what this channel needs to reach them (for example, a phone number for WhatsApp or SMS), so nothing was sent.",
      pt: 'O cadastro do contato não tem o dado de que este canal precisa para alcançá-lo (por exemplo, um telefone para WhatsApp ou SMS), então nada foi enviado.',
    },
    action: {
      es: 'Agregue el dato en la ficha del contacto y reenvíe. Si es un teléfono, use el formato E.164 (por ejemplo, +5491155551234).',
      en: "Add it to the contact's profile, then re-send. For a phone number, use E.164 format (for example, +5491155551234).",
      pt: 'Adicione o dado no cadastro do contato e reenvie. Se for um telefone, use o formato E.164 (por exemplo, +5511987654321).',
    },
  },
  not_on_channel: {
    resend: 'never',
    title: {
      es: 'El contacto no usa este canal',
      en: "Contact isn't on this channel",
      pt: 'O contato não usa este canal',
    },
    explanation: {
      es: 'El número no tiene cuenta en este canal (por ejemplo, no usa WhatsApp o es un teléfono fijo), la cuenta o la línea ya no existe, o el contacto nunca inició una conversación con el bot.',
      en: "The number has no account on this channel (for example, it doesn't use WhatsApp or is a landline), the account or line no longer exists, or the contact never started a conversation with the bot.",
      pt: 'O número não tem conta neste canal (por exemplo, não usa WhatsApp ou é um telefone fixo), a conta ou a linha não existe mais, ou o contato nunca iniciou uma conversa com o bot.',
    },
    action: {
      es: 'Confirme el número con el contacto o escríbale por otro canal. En Telegram, el contacto primero debe abrir el bot y tocar «Iniciar».',
      en: 'Confirm the number with the contact or reach them on another channel. On Telegram, the contact must first open the bot and tap Start.',
      pt: 'Confirme o número com o contato ou fale com ele por outro canal. No Telegram, o contato precisa primeiro abrir o bot e tocar em "Iniciar".',
    },
  },
  unreachable: {
    resend: 'later',
    title: {
      es: 'El teléfono del contacto no estaba disponible',
      en: "Contact's phone was unreachable",
      pt: 'O celular do contato estava indisponível',
    },
    explanation: {
      es: 'El teléfono estaba apagado, sin señal o sin servicio por un tiempo, y el mensaje venció antes de poder entregarse.',
      en: 'The phone was off, had no signal or was out of service for a while, and the message expired before it could be delivered.',
      pt: 'O celular estava desligado, sem sinal ou fora de serviço por um tempo, e a mensagem expirou antes de ser entregue.',
    },
    action: {
      es: 'Reenvíe más tarde, por ejemplo en una o dos horas. Si falla varias veces seguidas, confirme el número con el contacto.',
      en: 'Re-send later, for example in an hour or two. If it fails several times in a row, confirm the number with the contact.',
      pt: 'Reenvie mais tarde, por exemplo daqui a uma ou duas horas. Se falhar várias vezes seguidas, confirme o número com o contato.',
    },
  },
  recipient_limit: {
    resend: 'later',
    title: {
      es: 'El contacto ya recibió muchos mensajes de marketing',
      en: 'Contact got too many marketing messages',
      pt: 'O contato já recebeu muitas mensagens de marketing',
    },
    explanation: {
      es: 'WhatsApp limita cuántos mensajes de marketing recibe cada persona, sumando los de todas las empresas, y esta vez decidió no entregar el suyo. No es un problema de su cuenta.',
      en: 'WhatsApp limits how many marketing messages each person gets from all businesses combined, and chose not to deliver yours this time. Nothing is wrong with your account.',
      pt: 'O WhatsApp limita quantas mensagens de marketing cada pessoa recebe, somando as de todas as empresas, e desta vez decidiu não entregar a sua. Não há nenhum problema com a sua conta.',
    },
    action: {
      es: 'No lo reenvíe enseguida: espere unas 24 horas, use una plantilla de utilidad si el mensaje no es promocional, o espere a que el contacto les escriba.',
      en: "Don't re-send right away: wait about 24 hours, use a utility template if the message isn't promotional, or wait for the contact to write to you.",
      pt: 'Não reenvie logo: aguarde cerca de 24 horas, use um modelo de utilidade se a mensagem não for promocional, ou espere o contato escrever para você.',
    },
  },
  marketing_held: {
    resend: 'never',
    title: {
      es: 'WhatsApp no le entrega marketing a este contacto',
      en: "WhatsApp doesn't deliver marketing to this contact",
      pt: 'O WhatsApp não entrega marketing a este contato',
    },
    explanation: {
      es: 'Meta incluyó el número del contacto en una prueba en la que no recibe mensajes de marketing de empresas. El número es válido y no es un problema de su cuenta; este mensaje no se cobra.',
      en: "Meta put the contact's number in a test in which it gets no marketing messages from businesses. The number is valid and nothing is wrong with your account; this message is not billed.",
      pt: 'A Meta incluiu o número do contato em um teste no qual ele não recebe mensagens de marketing de empresas. O número é válido e não há problema com a sua conta; esta mensagem não é cobrada.',
    },
    action: {
      es: 'No lo reenvíe por WhatsApp: volvería a fallar. Respóndale cuando el contacto les escriba, o llegue a él por otro canal, como SMS.',
      en: "Don't re-send it on WhatsApp: it would fail again. Reply when the contact writes to you, or reach them on another channel, such as SMS.",
      pt: 'Não reenvie pelo WhatsApp: falharia de novo. Responda quando o contato escrever para você, ou fale com ele por outro canal, como SMS.',
    },
  },
  outside_window: {
    resend: 'never',
    title: {
      es: 'Fuera de la ventana de 24 horas',
      en: 'Outside the 24-hour window',
      pt: 'Fora da janela de 24 horas',
    },
    explanation: {
      es: 'Pasaron más de 24 horas desde el último mensaje del contacto, y después de ese plazo el canal no permite enviar mensajes libres.',
      en: "More than 24 hours have passed since the contact's last message, and after that the channel does not allow free-form messages.",
      pt: 'Já se passaram mais de 24 horas desde a última mensagem do contato e, depois desse prazo, o canal não permite enviar mensagens livres.',
    },
    action: {
      es: 'En WhatsApp, reenvíe con una plantilla aprobada. En Messenger, reenvíe con una etiqueta de mensaje adecuada (sin contenido promocional). También puede esperar a que el contacto les escriba.',
      en: 'On WhatsApp, re-send with an approved template. On Messenger, re-send with a suitable message tag (no promotional content). You can also wait for the contact to write to you.',
      pt: 'No WhatsApp, reenvie com um modelo de mensagem aprovado. No Messenger, reenvie com uma etiqueta de mensagem adequada (sem conteúdo promocional). Você também pode esperar o contato escrever para você.',
    },
  },
  template_problem: {
    resend: 'never',
    title: {
      es: 'Problema con la plantilla o el contenido',
      en: 'Problem with the template or content',
      pt: 'Problema com o modelo ou o conteúdo',
    },
    explanation: {
      es: 'El canal rechazó el mensaje por su contenido: la plantilla no existe en ese idioma, está pausada o desactivada, faltan variables o tienen un formato incorrecto, o el tipo de mensaje no está permitido.',
      en: "The channel refused the message because of its content: the template doesn't exist in that language, is paused or disabled, variables are missing or badly formatted, or the message type isn't allowed.",
      pt: 'O canal recusou a mensagem por causa do conteúdo: o modelo não existe nesse idioma, está pausado ou desativado, faltam variáveis ou elas estão em formato incorreto, ou o tipo de mensagem não é permitido.',
    },
    action: {
      es: 'Pida a un gerente que corrija la plantilla o el mensaje, o que elija otra plantilla aprobada, y después reenvíe.',
      en: 'Ask a manager to fix the template or message, or to pick another approved template, then re-send.',
      pt: 'Peça a um gerente para corrigir o modelo ou a mensagem, ou para escolher outro modelo aprovado, e depois reenvie.',
    },
  },
  spam_filtered: {
    resend: 'never',
    title: {
      es: 'Bloqueado por un filtro de spam',
      en: 'Blocked by a spam filter',
      pt: 'Bloqueada por um filtro de spam',
    },
    explanation: {
      es: 'El operador o la plataforma filtró el mensaje como posible spam, o restringió el número porque muchos contactos bloquearon o denunciaron mensajes anteriores.',
      en: 'The carrier or platform filtered the message as possible spam, or restricted the number because many contacts blocked or reported earlier messages.',
      pt: 'A operadora ou a plataforma filtrou a mensagem como possível spam, ou restringiu o número porque muitos contatos bloquearam ou denunciaram mensagens anteriores.',
    },
    action: {
      es: 'No lo reenvíe igual: pida a un gerente que revise el contenido, el registro del remitente y la calidad del número antes de volver a enviar.',
      en: "Don't re-send it as is: ask a manager to review the content, the sender registration and the number's quality before sending again.",
      pt: 'Não reenvie do jeito que está: peça a um gerente para revisar o conteúdo, o registro do remetente e a qualidade do número antes de enviar de novo.',
    },
  },
  carrier_rejected: {
    resend: 'never',
    title: {
      es: 'El operador rechazó el mensaje sin decir por qué',
      en: 'The carrier refused the message without saying why',
      pt: 'A operadora recusou a mensagem sem dizer por quê',
    },
    explanation: {
      es: 'El operador del contacto no entregó el mensaje y su informe de entrega no dice la causa: puede ser una línea dada de baja, un filtro del operador o un bloqueo. No es una falla pasajera del proveedor; enviarlo igual por el mismo canal suele fallar de la misma manera.',
      en: "The contact's carrier did not deliver the message and its delivery report gives no cause: a line no longer in service, a carrier filter or a block. It is not a passing provider fault; sending it the same way on the same channel usually fails the same way.",
      pt: 'A operadora do contato não entregou a mensagem e o relatório de entrega não diz a causa: pode ser uma linha desativada, um filtro da operadora ou um bloqueio. Não é uma falha passageira do provedor; enviar igual pelo mesmo canal costuma falhar do mesmo jeito.',
    },
    action: {
      es: 'No lo reenvíe igual por este canal. Confirme el número con el contacto o llegue a él por otro canal, como WhatsApp. Si les pasa a muchos contactos a la vez, pida a un gerente que lo consulte con el proveedor.',
      en: "Don't re-send it as is on this channel. Confirm the number with the contact or reach them on another channel, such as WhatsApp. If it happens to many contacts at once, ask a manager to raise it with the provider.",
      pt: 'Não reenvie igual por este canal. Confirme o número com o contato ou fale com ele por outro canal, como o WhatsApp. Se acontecer com muitos contatos ao mesmo tempo, peça a um gerente para consultar o provedor.',
    },
  },
  account_problem: {
    resend: 'never',
    title: {
      es: 'Problema con la cuenta del canal',
      en: 'Problem with the channel account',
      pt: 'Problema com a conta do canal',
    },
    explanation: {
      es: 'La cuenta del proveedor tiene un problema: no tiene saldo, está suspendida o restringida, sus credenciales vencieron o su configuración no permite este envío.',
      en: "The provider account has a problem: it has no balance, is suspended or restricted, its credentials expired, or its settings don't allow this send.",
      pt: 'A conta do provedor tem um problema: está sem saldo, suspensa ou restrita, as credenciais expiraram ou a configuração não permite este envio.',
    },
    action: {
      es: 'Avise a su administrador para que primero resuelva la cuenta o la facturación. Después, reenvíe eligiendo este motivo.',
      en: 'Tell your administrator to fix the account or billing first. Then re-send, choosing this reason.',
      pt: 'Avise o seu administrador para resolver primeiro a conta ou o faturamento. Depois, reenvie escolhendo este motivo.',
    },
  },
  unsupported_channel: {
    resend: 'never',
    title: {
      es: 'El canal no admite transmisiones',
      en: "Channel doesn't support broadcasts",
      pt: 'O canal não permite transmissões',
    },
    explanation: {
      es: 'Instagram, el chat del sitio web, WeChat y el correo electrónico solo permiten responder conversaciones, no enviar transmisiones.',
      en: 'Instagram, website chat, WeChat and e-mail only let you reply to conversations, not send broadcasts.',
      pt: 'Instagram, chat do site, WeChat e e-mail só permitem responder a conversas, não enviar transmissões.',
    },
    action: {
      es: 'Envíe la transmisión por un canal que sí las admita, como WhatsApp, Messenger, Telegram o SMS.',
      en: 'Send the broadcast through a channel that supports it, such as WhatsApp, Messenger, Telegram or SMS.',
      pt: 'Envie a transmissão por um canal que permita transmissões, como WhatsApp, Messenger, Telegram ou SMS.',
    },
  },
  duplicate: {
    resend: 'never',
    title: { es: 'Contacto duplicado', en: 'Duplicate contact', pt: 'Contato duplicado' },
    explanation: {
      es: 'Esta persona está cargada en más de un contacto con el mismo teléfono o correo, y ya recibió el mensaje por otro de ellos.',
      en: 'This person is saved as more than one contact with the same phone or e-mail, and already got the message through another one.',
      pt: 'Esta pessoa está cadastrada como mais de um contato com o mesmo telefone ou e-mail e já recebeu a mensagem por outro deles.',
    },
    action: {
      es: 'No hace falta reenviar. Si quiere, fusione los contactos duplicados para que no vuelva a pasar.',
      en: "No need to re-send. If you like, merge the duplicate contacts so it doesn't happen again.",
      pt: 'Não é preciso reenviar. Se quiser, mescle os contatos duplicados para que isso não aconteça de novo.',
    },
  },
  provider_error: {
    resend: 'now',
    title: { es: 'Falla temporal del proveedor', en: 'Temporary provider error', pt: 'Falha temporária do provedor' },
    explanation: {
      es: 'El proveedor del canal tuvo una falla al procesar el mensaje. Suele ser pasajera y no tiene que ver con el contacto.',
      en: "The channel's provider had a fault while handling the message. It is usually brief and has nothing to do with the contact.",
      pt: 'O provedor do canal teve uma falha ao processar a mensagem. Costuma ser passageira e não tem a ver com o contato.',
    },
    action: {
      es: 'Reenvíe ahora. Si vuelve a fallar, espere un rato o avise a su administrador.',
      en: 'Re-send now. If it fails again, wait a while or tell your administrator.',
      pt: 'Reenvie agora. Se falhar de novo, aguarde um pouco ou avise o seu administrador.',
    },
  },
  uncertain: {
    resend: 'never',
    title: { es: 'No se sabe si llegó', en: 'Delivery unknown', pt: 'Não se sabe se a mensagem chegou' },
    explanation: {
      es: 'No se sabe si el mensaje llegó: el proveedor no confirmó el envío a tiempo o su informe de entrega no lo dice. Puede haber llegado igual.',
      en: 'Nobody knows whether the message arrived: the provider did not confirm the send in time or its delivery report does not say. It may have arrived anyway.',
      pt: 'Não se sabe se a mensagem chegou: o provedor não confirmou o envio a tempo ou o relatório de entrega não diz. Pode ter chegado mesmo assim.',
    },
    action: {
      es: 'No lo reenvíe todavía, porque podría llegar dos veces. Espere; si ningún informe de entrega confirma que llegó, reenvíe solo a este contacto.',
      en: "Don't re-send yet, as it could arrive twice. Wait; if no delivery report confirms it arrived, re-send to this contact only.",
      pt: 'Não reenvie ainda, porque a mensagem pode chegar duas vezes. Aguarde; se nenhum relatório de entrega confirmar que chegou, reenvie só para este contato.',
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
