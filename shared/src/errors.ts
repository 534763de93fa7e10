/**
 * Every API error code with its message in Spanish, English and Brazilian Portuguese. The segment
 * and broadcast messages use the reference help page's own wording, so agents recognise them.
 */
import { format, type Language, type Localized } from './i18n';

export const apiErrors = {
  unauthorized: {
    es: 'Falta el token de API o no es válido. Envíe el encabezado "Authorization: Bearer <token>" con un token vigente.',
    en: 'The API token is missing or not valid. Send the header "Authorization: Bearer <token>" with a current token.',
    pt: 'O token de API está faltando ou não é válido. Envie o cabeçalho "Authorization: Bearer <token>" com um token vigente.',
  },
  too_many_auth_failures: {
    es: 'Demasiados intentos con tokens no válidos desde esta dirección. Espere {seconds} s y revise el token.',
    en: 'Too many attempts with invalid tokens from this address. Wait {seconds} s and check the token.',
    pt: 'Muitas tentativas com tokens inválidos a partir deste endereço. Aguarde {seconds} s e verifique o token.',
  },
  forbidden: {
    es: 'Su rol ({role}) no permite esta acción; se necesita el rol {required} o superior: pídale a alguien con ese rol que lo haga.',
    en: 'Your role ({role}) may not do this; it needs the {required} role or higher: ask someone with that role to do it.',
    pt: 'Sua função ({role}) não permite esta ação; é necessária a função {required} ou superior: peça a alguém com essa função que faça isso.',
  },
  not_found: {
    es: 'No se encontró {resource}.',
    en: '{resource} was not found.',
    pt: 'Não foi possível encontrar {resource}.',
  },
  route_not_found: {
    es: 'No existe la ruta {method} {path}. Consulte /docs para ver las rutas disponibles.',
    en: 'There is no route {method} {path}. See /docs for the available routes.',
    pt: 'A rota {method} {path} não existe. Consulte /docs para ver as rotas disponíveis.',
  },
  validation_failed: {
    es: 'Los datos enviados no son válidos. Corrija los campos indicados en "details".',
    en: 'The data sent is not valid. Fix the fields listed in "details".',
    pt: 'Os dados enviados não são válidos. Corrija os campos indicados em "details".',
  },
  invalid_json: {
    es: 'El cuerpo de la solicitud no es JSON válido. Revise comillas, comas y llaves.',
    en: 'The request body is not valid JSON. Check quotes, commas and braces.',
    pt: 'O corpo da requisição não é um JSON válido. Verifique aspas, vírgulas e chaves.',
  },
  unsupported_media_type: {
    es: 'Envíe el cuerpo como JSON con el encabezado "Content-Type: application/json".',
    en: 'Send the body as JSON with the header "Content-Type: application/json".',
    pt: 'Envie o corpo como JSON com o cabeçalho "Content-Type: application/json".',
  },
  payload_too_large: {
    es: 'El cuerpo de la solicitud supera el límite de {limit, number} KB. Envíe menos datos por solicitud.',
    en: 'The request body is over the {limit, number} KB limit. Send less data per request.',
    pt: 'O corpo da requisição ultrapassa o limite de {limit, number} KB. Envie menos dados por requisição.',
  },
  too_many_heavy_operations: {
    es: 'Hay demasiadas búsquedas, vistas previas o importaciones en curso: como máximo {perToken} a la vez por token y {perWorkspace} por espacio de trabajo. Espere {seconds} s a que termine alguna e intente de nuevo.',
    en: 'Too many searches, previews or imports are running: at most {perToken} at a time per token and {perWorkspace} per workspace. Wait {seconds} s for one to finish and try again.',
    pt: 'Há muitas buscas, pré-visualizações ou importações em andamento: no máximo {perToken} ao mesmo tempo por token e {perWorkspace} por espaço de trabalho. Aguarde {seconds} s até que alguma termine e tente novamente.',
  },
  too_many_queued_imports: {
    es: 'Este espacio de trabajo ya tiene {queued} importaciones esperando su turno, el máximo. Espere a que termine alguna (unos {seconds} s) e intente de nuevo.',
    en: 'This workspace already has {queued} imports waiting their turn, the most it may. Wait for one to finish (about {seconds} s) and try again.',
    pt: 'Este espaço de trabalho já tem {queued} importações aguardando a vez, o máximo. Aguarde alguma terminar (cerca de {seconds} s) e tente novamente.',
  },
  too_many_workspace_event_streams: {
    es: 'Este espacio de trabajo ya tiene {open} flujos de eventos abiertos en este servidor, el máximo. Cierre los que no use (pestañas, integraciones) y vuelva a intentarlo en {seconds} s.',
    en: 'This workspace already has {open} event streams open on this server, the most it may. Close the ones not in use (tabs, integrations) and try again in {seconds} s.',
    pt: 'Este espaço de trabalho já tem {open} fluxos de eventos abertos neste servidor, o máximo. Feche os que não usa (abas, integrações) e tente novamente em {seconds} s.',
  },
  too_many_event_streams: {
    es: 'Este token ya tiene {open} flujos de eventos abiertos, el máximo. Cierre alguno (otra pestaña u otra integración) y vuelva a intentarlo en {seconds} s.',
    en: 'This token already has {open} event streams open, the most it may. Close one (another tab or integration) and try again in {seconds} s.',
    pt: 'Este token já tem {open} fluxos de eventos abertos, o máximo. Feche algum (outra aba ou integração) e tente novamente em {seconds} s.',
  },
  too_many_downloads: {
    es: 'Hay demasiadas descargas en curso: como máximo {perToken} a la vez por token y {perWorkspace} por espacio de trabajo. Espere {seconds} s a que termine alguna e intente de nuevo.',
    en: 'Too many downloads are running: at most {perToken} at a time per token and {perWorkspace} per workspace. Wait {seconds} s for one to finish and try again.',
    pt: 'Há muitos downloads em andamento: no máximo {perToken} ao mesmo tempo por token e {perWorkspace} por espaço de trabalho. Aguarde {seconds} s até que algum termine e tente novamente.',
  },
  custom_field_keys_limit: {
    es: 'El espacio de trabajo ya tiene {count} campos personalizados distintos y el máximo es {max}; este cambio agregaría {keys}. Use un campo que ya exista, o quite de los contactos (con valor null) un campo que ya no use.',
    en: 'The workspace already has {count} distinct custom fields and the maximum is {max}; this change would add {keys}. Use a field that already exists, or remove a field you no longer use from the contacts (set it to null).',
    pt: 'O espaço de trabalho já tem {count} campos personalizados diferentes e o máximo é {max}; esta alteração adicionaria {keys}. Use um campo que já exista ou remova dos contatos (com valor null) um campo que você não usa mais.',
  },
  contact_identifier_taken: {
    es: 'El identificador {identifier} del canal {channelId} ya pertenece al contacto {contactId}. Use otro identificador, o fusione los dos contactos si son la misma persona.',
    en: 'Identifier {identifier} on channel {channelId} already belongs to contact {contactId}. Use another identifier, or merge the two contacts if they are the same person.',
    pt: 'O identificador {identifier} do canal {channelId} já pertence ao contato {contactId}. Use outro identificador, ou mescle os dois contatos se forem a mesma pessoa.',
  },
  contact_identifier_channel: {
    es: 'El canal {channelId} usa el teléfono del contacto como identificador; escríbalo en "phone".',
    en: 'Channel {channelId} addresses contacts by phone number; put it in "phone" instead.',
    pt: 'O canal {channelId} usa o telefone do contato como identificador; informe-o em "phone".',
  },
  contact_needs_identity: {
    es: 'Un contacto necesita al menos un nombre, un teléfono, un correo o un identificador de canal.',
    en: 'A contact needs at least a first name, a phone, an e-mail or a channel identifier.',
    pt: 'Um contato precisa de pelo menos um nome, um telefone, um e-mail ou um identificador de canal.',
  },
  merge_same_contact: {
    es: 'No se puede fusionar un contacto consigo mismo.',
    en: 'A contact cannot be merged with itself.',
    pt: 'Não é possível mesclar um contato com ele mesmo.',
  },
  contact_merge_resend_planning: {
    es: 'Se está creando un reenvío en este espacio de trabajo y los contactos no se pueden fusionar mientras tanto. Vuelva a intentarlo en unos segundos.',
    en: 'A re-send is being created in this workspace, and contacts cannot be merged meanwhile. Try again in a few seconds.',
    pt: 'Um reenvio está sendo criado neste espaço de trabalho, e os contatos não podem ser mesclados enquanto isso. Tente novamente em alguns segundos.',
  },
  search_too_short: {
    es: 'Escriba al menos {min} caracteres para buscar: parte del nombre, del teléfono o del correo.',
    en: 'Type at least {min} characters to search: part of the name, the phone or the e-mail.',
    pt: 'Digite pelo menos {min} caracteres para buscar: parte do nome, do telefone ou do e-mail.',
  },
  portfolio_channel_not_whatsapp: {
    es: 'Solo los números de WhatsApp comparten el límite de un portafolio comercial: el canal {channelId} es {type}. Quítelo de la lista.',
    en: "Only WhatsApp numbers share a business portfolio's limit: channel {channelId} is {type}. Remove it from the list.",
    pt: 'Somente números de WhatsApp compartilham o limite de um portfólio empresarial: o canal {channelId} é {type}. Remova-o da lista.',
  },
  opt_out_not_found: {
    es: 'El contacto no tiene una baja registrada en el canal {channelId}: no hay nada que quitar.',
    en: 'The contact has no opt-out on channel {channelId}: there is nothing to remove.',
    pt: 'Não há registro de que o contato cancelou o recebimento no canal {channelId}: não há nada para remover.',
  },
  channel_credentials_missing: {
    es: 'Faltan credenciales del canal {type}: {keys}.',
    en: 'The {type} channel is missing credentials: {keys}.',
    pt: 'Faltam credenciais do canal {type}: {keys}.',
  },
  channel_owner_only: {
    es: 'Solo el propietario puede cambiar la URL base o el tipo de un canal, porque las credenciales viajan a esa dirección. Su rol ({role}) puede cambiar el nombre, los límites y las credenciales.',
    en: "Only the owner may change a channel's base URL or type, because its credentials travel to that address. Your role ({role}) may change the name, limits and credentials.",
    pt: 'Somente o proprietário pode alterar a URL base ou o tipo de um canal, porque as credenciais são enviadas para esse endereço. Sua função ({role}) pode alterar o nome, os limites e as credenciais.',
  },
  channel_base_url_internal: {
    es: 'La URL base lleva a {host}, a una dirección interna (loopback, red privada, enlace local o metadatos de la nube): Rebound solo envía las credenciales a los servidores del proveedor. Si es un simulador o un proxy propio, el operador puede agregar {host} a PROVIDER_URL_ALLOWLIST.',
    en: "The base URL leads to {host}, to an internal address (loopback, private network, link-local or cloud metadata): Rebound sends credentials only to the provider's own servers. If it is a simulator or your own proxy, the operator can add {host} to PROVIDER_URL_ALLOWLIST.",
    pt: 'A URL base leva a {host}, a um endereço interno (loopback, rede privada, link-local ou metadados da nuvem): o Rebound só envia as credenciais para os servidores do próprio provedor. Se for um simulador ou um proxy próprio, o administrador do servidor pode adicionar {host} a PROVIDER_URL_ALLOWLIST.',
  },
  segment_not_found: {
    es: 'Segmento de contacto no encontrado',
    en: 'Contact segment not found',
    pt: 'Segmento de contatos não encontrado',
  },
  channel_limit_reached: {
    es: 'Límite alcanzado: un espacio de trabajo tiene como máximo {max, number} canales conectados. Elimine un canal que ya no use antes de conectar uno nuevo.',
    en: 'Limit reached: a workspace keeps at most {max, number} connected channels. Delete a channel you no longer use before connecting a new one.',
    pt: 'Limite atingido: um espaço de trabalho tem no máximo {max, number} canais conectados. Exclua um canal que não usa mais antes de conectar um novo.',
  },
  portfolio_limit_reached: {
    es: 'Límite alcanzado: un espacio de trabajo tiene como máximo {max, number} portafolios. Elimine uno que ya no use antes de crear uno nuevo.',
    en: 'Limit reached: a workspace keeps at most {max, number} portfolios. Delete one you no longer use before creating a new one.',
    pt: 'Limite atingido: um espaço de trabalho tem no máximo {max, number} portfólios. Exclua um que não usa mais antes de criar um novo.',
  },
  segment_limit_reached: {
    es: 'Límite alcanzado: la cantidad máxima de segmentos en un espacio de trabajo es 500. Elimine un segmento antes de crear uno nuevo.',
    en: 'Limit reached: the maximum number of segments in a workspace is 500. Delete a segment before creating a new one.',
    pt: 'Limite atingido: o número máximo de segmentos em um espaço de trabalho é 500. Exclua um segmento antes de criar um novo.',
  },
  segment_name_taken: {
    es: 'El nombre del segmento de contacto debe ser único.',
    en: 'Contact segment name must be unique.',
    pt: 'O nome do segmento de contatos deve ser único.',
  },
  segment_filter_channel: {
    es: 'La condición usa el canal {channelId}, que no existe en este espacio de trabajo.',
    en: 'The condition uses channel {channelId}, which does not exist in this workspace.',
    pt: 'A condição usa o canal {channelId}, que não existe neste espaço de trabalho.',
  },
  broadcast_empty_target: {
    es: 'Falló la transmisión: no hay contactos en el segmento de destino',
    en: 'Broadcast failed: no contacts in target segment',
    pt: 'Falha na transmissão: não há contatos no segmento de destino',
  },
  broadcast_segment_deleted: {
    es: 'Falló la transmisión: no se encontró el segmento de destino.',
    en: 'Broadcast failed: target segment not found.',
    pt: 'Falha na transmissão: o segmento de destino não foi encontrado.',
  },
  broadcast_channel_missing: {
    es: 'Falló la transmisión: el canal fue desconectado.',
    en: 'Broadcast failed: the channel was disconnected.',
    pt: 'Falha na transmissão: o canal foi desconectado.',
  },
  broadcast_unsupported_channel: {
    es: 'Este canal no admite transmisiones (Instagram, chat del sitio web, WeChat y correo electrónico no las admiten). Elija WhatsApp, Messenger, Telegram o SMS.',
    en: 'This channel does not support broadcasts (Instagram, website chat, WeChat and e-mail do not). Choose WhatsApp, Messenger, Telegram or SMS.',
    pt: 'Este canal não permite transmissões (Instagram, chat do site, WeChat e e-mail não permitem). Escolha WhatsApp, Messenger, Telegram ou SMS.',
  },
  broadcast_all_failed: {
    es: 'Falló la transmisión: no salió ningún mensaje. Motivo principal: {reason}. {action}',
    en: 'Broadcast failed: no message went out. Main reason: {reason}. {action}',
    pt: 'Falha na transmissão: nenhuma mensagem foi enviada. Motivo principal: {reason}. {action}',
  },
  broadcast_all_outside_window: {
    es: 'Falló la transmisión: ningún contacto está dentro de la ventana de 24 horas; {fix}',
    en: 'Broadcast failed: no contact is inside the 24-hour window; {fix}',
    pt: 'Falha na transmissão: nenhum contato está dentro da janela de 24 horas; {fix}',
  },
  resend_too_early: {
    es: 'Todavía no conviene reenviar: {reasons}. Programe el reenvío para {at} o más tarde, o envíe "force": true si de verdad quiere enviarlo ahora.',
    en: 'Re-sending now cannot help yet: {reasons}. Schedule the re-send for {at} or later, or send "force": true if you really want to send it now.',
    pt: 'Ainda não vale a pena reenviar: {reasons}. Agende o reenvio para {at} ou mais tarde, ou envie "force": true se quiser mesmo enviar agora.',
  },
  resend_conflict: {
    es: 'Otro reenvío de estos mismos contactos se creó en este momento. Actualice la página para verlo.',
    en: 'Another re-send of these same contacts was just created. Refresh the page to see it.',
    pt: 'Outro reenvio destes mesmos contatos acabou de ser criado. Atualize a página para vê-lo.',
  },
  resend_at_required: {
    es: 'Indique la fecha y hora del reenvío en "at" (por ejemplo 2026-12-02T10:00:00-03:00), o elija "when": "auto".',
    en: 'Give the re-send\'s date and time in "at" (for example 2026-12-02T10:00:00-03:00), or choose "when": "auto".',
    pt: 'Informe a data e a hora do reenvio em "at" (por exemplo 2026-12-02T10:00:00-03:00) ou escolha "when": "auto".',
  },
  resend_at_past: {
    es: 'La hora del reenvío ({at}) ya pasó. Elija una hora futura, o "when": "auto" para que Rebound elija la primera que sirve.',
    en: 'The re-send time ({at}) is in the past. Choose a future time, or "when": "auto" to let Rebound pick the first one that helps.',
    pt: 'O horário do reenvio ({at}) já passou. Escolha um horário futuro ou "when": "auto" para o Rebound escolher o primeiro horário que ajude.',
  },
  broadcast_no_reachable_recipients: {
    es: 'Falló la transmisión: ningún contacto del segmento se puede alcanzar en este canal (sin identificador, identificador inválido o duplicado).',
    en: 'Broadcast failed: no contact in the segment can be reached on this channel (no identifier, invalid identifier or duplicate).',
    pt: 'Falha na transmissão: nenhum contato do segmento pode ser alcançado neste canal (sem identificador, identificador inválido ou duplicado).',
  },
  broadcast_not_editable: {
    es: 'La transmisión está «{status}»: solo se puede cambiar en borrador o programada.',
    en: 'The broadcast is {status}: only a draft or scheduled broadcast can be changed.',
    pt: 'A transmissão está "{status}": só é possível alterar uma transmissão em rascunho ou agendada.',
  },
  preflight_started: {
    es: 'La transmisión ya empezó («{status}»): el pre-flight dice qué pasaría antes de enviarla. Lo que queda por enviar son los destinatarios que fijó al empezar; vea el detalle de la transmisión.',
    en: "The broadcast has already started ({status}): the pre-flight says what would happen before it is sent. What is left to send are the recipients it fixed when it started; see the broadcast's detail.",
    pt: 'A transmissão já começou ("{status}"): o pre-flight diz o que aconteceria antes de enviá-la. O que falta enviar são os destinatários que ela fixou ao começar; veja o detalhe da transmissão.',
  },
  broadcast_paused_resume: {
    es: 'La transmisión está pausada. Reanúdela para que siga donde quedó: programarla otra vez la enviaría de nuevo a quienes ya la recibieron.',
    en: 'The broadcast is paused. Resume it to go on where it stopped: scheduling it again would send it again to those who already got it.',
    pt: 'A transmissão está pausada. Retome-a para continuar de onde parou: agendá-la de novo a enviaria outra vez a quem já a recebeu.',
  },
  broadcast_starting: {
    es: 'Rebound ya está preparando el envío de esta transmisión: su hora, canal y segmento ya no se pueden cambiar. Todavía puede cancelarla.',
    en: 'Rebound is already preparing this broadcast for sending: its time, channel and segment can no longer change. You can still cancel it.',
    pt: 'O Rebound já está preparando o envio desta transmissão: o horário, o canal e o segmento não podem mais mudar. Ainda é possível cancelá-la.',
  },
  channel_in_use: {
    es: 'Este canal todavía tiene transmisiones sin terminar (programadas, enviándose o pausadas): {count}. Cancélelas o espere a que terminen antes de desconectarlo.',
    en: 'This channel still has unfinished broadcasts (scheduled, sending or paused): {count}. Cancel them or wait for them to finish before disconnecting it.',
    pt: 'Este canal ainda tem transmissões não concluídas (agendadas, em envio ou pausadas): {count}. Cancele-as ou espere que terminem antes de desconectá-lo.',
  },
  broadcast_transition: {
    es: 'Una transmisión «{from}» no puede pasar a «{to}».',
    en: 'A broadcast that is {from} cannot become {to}.',
    pt: 'Uma transmissão "{from}" não pode passar para "{to}".',
  },
  channel_fallback_invalid: {
    es: 'El canal de respaldo debe ser otro canal de este espacio de trabajo que pueda enviar transmisiones.',
    en: 'The fallback channel must be another channel of this workspace that can send broadcasts.',
    pt: 'O canal de reserva deve ser outro canal deste espaço de trabalho que possa enviar transmissões.',
  },
  broadcast_not_paused: {
    es: 'Solo una transmisión pausada se puede reanudar; esta está «{status}».',
    en: 'Only a paused broadcast can be resumed; this one is {status}.',
    pt: 'Só uma transmissão pausada pode ser retomada; esta está "{status}".',
  },
  failures_range_reversed: {
    es: 'La fecha "desde" ({from}) no es anterior a la fecha "hasta" ({to}), así que no hay nada entre ellas: inviértalas o corrija una de las dos.',
    en: 'The "from" date ({from}) is not before the "to" date ({to}), so nothing lies between them: swap them or correct one of them.',
    pt: 'A data "de" ({from}) não é anterior à data "até" ({to}), então não há nada entre elas: inverta-as ou corrija uma delas.',
  },
  broadcast_schedule_past: {
    es: 'La fecha de envío ya pasó. Elija una fecha futura o deje "at" vacío para enviar ahora.',
    en: 'The send time is in the past. Choose a future time, or leave "at" empty to send now.',
    pt: 'O horário de envio já passou. Escolha um horário futuro ou deixe "at" vazio para enviar agora.',
  },
  broadcast_schedule_far: {
    es: 'La fecha de envío está a más de {days} días. Revise el año: una transmisión se programa como máximo con un año de anticipación.',
    en: 'The send time is more than {days} days ahead. Check the year: a broadcast can be scheduled at most a year ahead.',
    pt: 'O horário de envio está a mais de {days} dias. Confira o ano: uma transmissão pode ser agendada com no máximo um ano de antecedência.',
  },
  resend_channel_disconnected: {
    es: 'El canal de esta transmisión fue desconectado: elija otro canal para el reenvío.',
    en: "This broadcast's channel was disconnected: choose another channel for the re-send.",
    pt: 'O canal desta transmissão foi desconectado: escolha outro canal para o reenvio.',
  },
  channel_changed: {
    es: 'Alguien cambió este canal mientras usted lo editaba, así que no se guardó nada: vuelva a cargarlo y repita su cambio.',
    en: 'Someone changed this channel while you were editing it, so nothing was saved: reload it and make your change again.',
    pt: 'Alguém alterou este canal enquanto você o editava, então nada foi salvo: recarregue-o e refaça sua alteração.',
  },
  broadcast_text_too_long: {
    es: 'El texto tiene {length, number} caracteres y el canal «{channel}» acepta como máximo {max, number} por mensaje: acórtelo, o envíelo por otro canal.',
    en: 'The text is {length, number} characters long and the channel "{channel}" takes at most {max, number} in one message: shorten it, or send it on another channel.',
    pt: 'O texto tem {length, number} caracteres e o canal “{channel}” aceita no máximo {max, number} por mensagem: encurte-o, ou envie-o por outro canal.',
  },
  broadcast_number_paused: {
    es: 'El número de este canal está en pausa para cuidarlo (bloqueos, reportes o la calidad que marcó Meta). Un gerente debe revisarlo y reanudarlo (una de sus transmisiones en pausa, o el canal) antes de programar otra por este número; mientras tanto puede enviarla por otro canal.',
    en: "This channel's number is paused to protect it (blocks, reports or the quality Meta flagged). A manager has to review it and resume it (one of its paused broadcasts, or the channel) before scheduling another on this number; meanwhile you can send it on another channel.",
    pt: 'O número deste canal está em pausa para protegê-lo (bloqueios, denúncias ou a qualidade que a Meta sinalizou). Um gerente precisa revisá-lo e retomá-lo (uma das transmissões em pausa, ou o canal) antes de agendar outra por este número; enquanto isso, você pode enviá-la por outro canal.',
  },
  resend_number_paused: {
    es: 'El número de esta transmisión está en pausa para cuidarlo (bloqueos, reportes o la calidad que marcó Meta). Un gerente debe revisarlo y reanudarlo (una de sus transmisiones en pausa, o el canal) antes de reenviar por este número; mientras tanto puede reenviar por otro canal.',
    en: "This broadcast's number is paused to protect it (blocks, reports or the quality Meta flagged). A manager has to review it and resume it (one of its paused broadcasts, or the channel) before re-sending on this number; meanwhile you can re-send on another channel.",
    pt: 'O número desta transmissão está em pausa para protegê-lo (bloqueios, denúncias ou a qualidade que a Meta sinalizou). Um gerente precisa revisá-lo e retomá-lo (uma das transmissões em pausa, ou o canal) antes de reenviar por este número; enquanto isso, você pode reenviar por outro canal.',
  },
  resend_not_finished: {
    es: 'La transmisión todavía está «{status}»: espere a que termine para reenviar a los que fallaron.',
    en: 'The broadcast is still {status}: wait until it finishes to re-send to the ones that failed.',
    pt: 'A transmissão ainda está "{status}": aguarde até ela terminar para reenviar as mensagens com falha.',
  },
  resend_of_unsent_resend: {
    es: 'Este reenvío no llegó a enviarse, así que no retiene a nadie: reenvíe desde la transmisión original, que vuelve a ofrecer a esos destinatarios.',
    en: 'This re-send never went out, so it holds nobody: re-send from the original broadcast, which offers those recipients again.',
    pt: 'Este reenvio não chegou a ser enviado, então não retém ninguém: reenvie a partir da transmissão original, que volta a oferecer esses destinatários.',
  },
  resend_cancelled_broadcast: {
    es: 'Esta transmisión fue cancelada: reenviarla a los que fallaron lo decide un gerente (rol {required} o superior), como escribir una transmisión.',
    en: "This broadcast was cancelled: re-sending it to the ones that failed is a manager's decision ({required} role or higher), as writing a broadcast is.",
    pt: 'Esta transmissão foi cancelada: reenviá-la a quem falhou é decisão de um gerente (função {required} ou superior), como escrever uma transmissão.',
  },
  resend_nothing_to_cancel: {
    es: 'Esta transmisión no tiene un reenvío programado que cancelar: o ya salió, o ya se canceló.',
    en: 'This broadcast has no scheduled re-send to cancel: it already went out or was cancelled.',
    pt: 'Esta transmissão não tem um reenvio agendado para cancelar: ele já foi enviado ou já foi cancelado.',
  },
  resend_tag_taken: {
    es: 'Otros contactos ya llevan la etiqueta «{tag}» y sus variantes (o son nombres de otros segmentos): elija otro nombre de etiqueta para este reenvío.',
    en: 'The tag "{tag}" and its variants are already on other contacts (or are other segments\' names): choose another tag name for this re-send.',
    pt: 'A etiqueta "{tag}" e suas variantes já estão em outros contatos (ou são nomes de outros segmentos): escolha outro nome de etiqueta para este reenvio.',
  },
  // {why}: what the plan said of those it left out (its warnings, in these words), else where to read it.
  resend_nothing: {
    es: 'No hay mensajes fallidos que un reenvío pueda ayudar con los motivos elegidos. {why}',
    en: 'No failed message that a re-send can help matches the chosen reasons. {why}',
    pt: 'Entre os motivos escolhidos, não há mensagens com falha que um reenvio possa resolver. {why}',
  },
  webhook_signature: {
    es: 'Firma del webhook ausente o inválida: no se aplicó ningún cambio.',
    en: 'Missing or invalid webhook signature: nothing was changed.',
    pt: 'Assinatura do webhook ausente ou inválida: nenhuma alteração foi aplicada.',
  },
  internal_error: {
    es: 'Error interno del servidor. No se guardó ningún cambio parcial; intente de nuevo.',
    en: 'Internal server error. No partial change was saved; please try again.',
    pt: 'Erro interno do servidor. Nenhuma alteração parcial foi salva; tente novamente.',
  },
  database_unavailable: {
    es: 'La base de datos no responde. Intente de nuevo en unos segundos; si sigue así, avise a quien administra el servidor de Rebound.',
    en: 'The database is not answering. Try again in a few seconds; if it goes on, tell whoever runs the Rebound server.',
    pt: 'O banco de dados não está respondendo. Tente de novo em alguns segundos; se continuar assim, avise quem administra o servidor do Rebound.',
  },
  import_file_too_large: {
    es: 'El archivo supera el límite de {limit}. Divídalo en archivos más pequeños e impórtelos uno por uno.',
    en: 'The file is over the {limit} limit. Split it into smaller files and import them one by one.',
    pt: 'O arquivo ultrapassa o limite de {limit}. Divida-o em arquivos menores e importe-os um por um.',
  },
  import_empty_file: {
    es: 'El archivo está vacío. Exporte de nuevo el CSV con una fila de encabezados y al menos una fila de datos.',
    en: 'The file is empty. Export the CSV again with a header row and at least one data row.',
    pt: 'O arquivo está vazio. Exporte o CSV novamente com uma linha de cabeçalho e pelo menos uma linha de dados.',
  },
  import_not_csv: {
    es: 'El archivo no es un CSV: tiene datos binarios (por ejemplo, un libro de Excel .xlsx o una imagen). Guárdelo como "CSV UTF-8 (delimitado por comas)" e inténtelo de nuevo.',
    en: 'The file is not a CSV: it holds binary data (an Excel .xlsx workbook or an image, for example). Save it as "CSV UTF-8 (Comma delimited)" and try again.',
    pt: 'O arquivo não é um CSV: ele contém dados binários (por exemplo, uma pasta de trabalho do Excel .xlsx ou uma imagem). Salve-o como "CSV UTF-8 (Delimitado por vírgulas)" e tente novamente.',
  },
  import_no_rows: {
    es: 'El archivo solo tiene la fila de encabezados: se necesita al menos una fila de datos.',
    en: 'The file only has the header row: at least one data row is needed.',
    pt: 'O arquivo só tem a linha de cabeçalho: é necessária pelo menos uma linha de dados.',
  },
  import_too_many_rows: {
    es: 'El archivo tiene más de {limit, number} filas de datos. Divídalo en archivos más pequeños.',
    en: 'The file has more than {limit, number} data rows. Split it into smaller files.',
    pt: 'O arquivo tem mais de {limit, number} linhas de dados. Divida-o em arquivos menores.',
  },
  import_too_many_lines: {
    es: 'El archivo tiene más de {limit, number} líneas (muchas de ellas vacías). Quite las líneas vacías o divídalo en archivos más pequeños.',
    en: 'The file has more than {limit, number} lines (many of them empty). Remove the empty lines or split it into smaller files.',
    pt: 'O arquivo tem mais de {limit, number} linhas (muitas delas vazias). Remova as linhas vazias ou divida-o em arquivos menores.',
  },
  import_malformed_header: {
    es: 'La fila de encabezados está mal formada: {message}. Revise las comillas de la primera línea.',
    en: 'The header row is malformed: {message}. Check the quotes on the first line.',
    pt: 'A linha de cabeçalho está mal formatada: {message}. Verifique as aspas da primeira linha.',
  },
  import_too_many_columns: {
    es: 'El archivo tiene {count, number} columnas (máximo {max, number}): quite las columnas vacías o que no necesita y vuelva a subirlo.',
    en: 'The file has {count, number} columns (maximum {max, number}): remove the empty columns and those you do not need, then upload it again.',
    pt: 'O arquivo tem {count, number} colunas (máximo {max, number}): remova as colunas vazias e as que não precisa e envie-o de novo.',
  },
  import_header_too_long: {
    es: 'Un encabezado tiene {size, number} caracteres (máximo {max, number}): la primera línea no parece una fila de encabezados. Revise que la primera línea tenga los nombres de las columnas y que el separador sea el correcto.',
    en: 'A header has {size, number} characters (maximum {max, number}): the first line does not look like a header row. Check that the first line holds the column names and that the delimiter is right.',
    pt: 'Um cabeçalho tem {size, number} caracteres (máximo {max, number}): a primeira linha não parece uma linha de cabeçalho. Verifique se a primeira linha tem os nomes das colunas e se o separador está correto.',
  },
  import_duplicate_headers: {
    es: 'Hay columnas con el mismo encabezado: {columns}. Cada columna necesita un nombre distinto.',
    en: 'Several columns have the same header: {columns}. Each column needs its own name.',
    pt: 'Há colunas com o mesmo cabeçalho: {columns}. Cada coluna precisa de um nome diferente.',
  },
  import_identifier_column_missing: {
    es: 'Falta la columna del identificador ({identifier}) con la que se encuentran los contactos. Columnas encontradas: {columns}. Revise el separador (coma, punto y coma o tabulación) o indique la columna en "mapping".',
    en: 'The identifier column ({identifier}) that finds the contacts is missing. Columns found: {columns}. Check the delimiter (comma, semicolon or tab) or name the column in "mapping".',
    pt: 'Falta a coluna do identificador ({identifier}) usada para encontrar os contatos. Colunas encontradas: {columns}. Verifique o separador (vírgula, ponto e vírgula ou tabulação) ou indique a coluna em "mapping".',
  },
  import_mapping_unknown_column: {
    es: 'El "mapping" nombra la columna "{column}", que no está en el archivo. Columnas encontradas: {columns}.',
    en: 'The "mapping" names column "{column}", which is not in the file. Columns found: {columns}.',
    pt: 'O "mapping" indica a coluna "{column}", que não está no arquivo. Colunas encontradas: {columns}.',
  },
  import_mapping_duplicate_field: {
    es: 'Varias columnas van al mismo campo {field}: {columns}. Indique en "mapping" cuál usar y marque las demás como "ignore".',
    en: 'Several columns go to the same field {field}: {columns}. Say in "mapping" which one to use and set the others to "ignore".',
    pt: 'Várias colunas vão para o mesmo campo {field}: {columns}. Indique em "mapping" qual usar e marque as outras como "ignore".',
  },
  import_add_by_contact_id: {
    es: 'El modo "solo agregar" no puede usar el ID de contacto como identificador: los contactos nuevos reciben su ID al crearse. Use teléfono o correo electrónico.',
    en: '"Add new contacts only" cannot use the contact ID as identifier: new contacts get their ID when created. Use phone or email.',
    pt: 'O modo "somente adicionar" não pode usar o ID do contato como identificador: os contatos novos recebem o ID ao serem criados. Use telefone ou e-mail.',
  },
  import_too_many_custom_fields: {
    es: 'El archivo tiene {count} columnas de campos personalizados; el máximo es {max}. Marque las que sobran como "ignore" en "mapping".',
    en: 'The file has {count} custom field columns; the maximum is {max}. Set the extra ones to "ignore" in "mapping".',
    pt: 'O arquivo tem {count} colunas de campos personalizados; o máximo é {max}. Marque as que sobram como "ignore" em "mapping".',
  },
  import_rows_rejected: {
    es: '{count, plural, one {Se rechazó # fila} other {Se rechazaron # filas}} y no se importó nada (todo o nada). Corrija las filas de rejected.csv o importe con allOrNothing=false.',
    en: '{count, plural, one {# row was} other {# rows were}} rejected and nothing was imported (all or nothing). Fix the rows in rejected.csv or import with allOrNothing=false.',
    pt: '{count, plural, one {# linha foi rejeitada} other {# linhas foram rejeitadas}} e nada foi importado (tudo ou nada). Corrija as linhas de rejected.csv ou importe com allOrNothing=false.',
  },
  import_nul_byte: {
    es: 'El archivo tiene un carácter nulo (byte 0) en la línea {line, number}: un CSV no los lleva. Ábralo en un editor de texto, quite ese carácter (o vuelva a exportar el archivo) e inténtelo de nuevo.',
    en: 'The file has a NUL character (byte 0) on line {line, number}: a CSV has none. Open it in a text editor, remove that character (or export the file again) and try again.',
    pt: 'O arquivo tem um caractere nulo (byte 0) na linha {line, number}: um CSV não tem esse caractere. Abra-o em um editor de texto, remova esse caractere (ou exporte o arquivo de novo) e tente novamente.',
  },
  import_interrupted: {
    es: 'Importación interrumpida: no se importó nada (el proceso que la hacía se detuvo antes de terminar). Vuelva a importar el archivo.',
    en: 'Import interrupted: nothing was imported (the process running it stopped before it finished). Import the file again.',
    pt: 'Importação interrompida: nada foi importado (o processo que a fazia parou antes de terminar). Importe o arquivo novamente.',
  },
} as const satisfies Record<string, Localized>;

export type ApiErrorCode = keyof typeof apiErrors;

/**
 * What an error's details say about one field (`{ path, message }`), in each language like the error's own
 * message: a service names the text (`fieldIssue` in the server), the edge renders it in the request's.
 */
export const detailMessages = {
  badCursor: {
    en: 'Not a cursor from this API; start again without it',
    es: 'No es un cursor de esta API; vuelva a empezar sin él',
    pt: 'Não é um cursor desta API; comece de novo sem ele',
  },
  nameTaken: {
    en: 'Already used: choose another name',
    es: 'Ya está en uso: elija otro nombre',
    pt: 'Já está em uso: escolha outro nome',
  },
  unknownChannel: {
    en: 'No channel {channelId} in this workspace',
    es: 'No hay un canal {channelId} en este espacio de trabajo',
    pt: 'Não há um canal {channelId} neste espaço de trabalho',
  },
  required: { en: 'Required', es: 'Falta este dato', pt: 'Falta este dado' },
  fromNotBeforeTo: {
    en: 'Must be before query.to',
    es: 'Debe ser anterior a query.to',
    pt: 'Deve ser anterior a query.to',
  },
  contactNeedsIdentity: {
    en: 'Give at least one of firstName, phone, email or identifiers',
    es: 'Indique al menos uno de firstName, phone, email o identifiers',
    pt: 'Informe pelo menos um de firstName, phone, email ou identifiers',
  },
  sameContactAsKeep: {
    en: 'The same contact as keep: choose another',
    es: 'Es el mismo contacto que keep: elija otro',
    pt: 'É o mesmo contato que keep: escolha outro',
  },
  inThePast: {
    en: 'Already past: choose a time ahead',
    es: 'Ya pasó: elija un momento futuro',
    pt: 'Já passou: escolha um momento futuro',
  },
  newFieldKeys: { en: 'New fields: {keys}', es: 'Campos nuevos: {keys}', pt: 'Campos novos: {keys}' },
  minCharacters: {
    en: 'Type at least {n, plural, one {# character} other {# characters}}',
    es: 'Escriba al menos {n, plural, one {# carácter} other {# caracteres}}',
    pt: 'Digite pelo menos {n, plural, one {# caractere} other {# caracteres}}',
  },
  channelUsesPhone: {
    en: 'Channel {channelId} reaches the contact by their phone: set the phone, not an identifier',
    es: 'El canal {channelId} llega al contacto por su teléfono: indique el teléfono, no un identificador',
    pt: 'O canal {channelId} chega ao contato pelo telefone: informe o telefone, não um identificador',
  },
  channelUsesEmail: {
    en: 'Channel {channelId} reaches the contact by their e-mail: set the e-mail, not an identifier',
    es: 'El canal {channelId} llega al contacto por su correo electrónico: indique el correo, no un identificador',
    pt: 'O canal {channelId} chega ao contato pelo e-mail: informe o e-mail, não um identificador',
  },
  cannotBroadcast: {
    en: '"{channel}" cannot send broadcasts: choose another channel',
    es: '«{channel}» no puede enviar transmisiones: elija otro canal',
    pt: '"{channel}" não pode enviar transmissões: escolha outro canal',
  },
  textTooLong: {
    en: 'At most {max, plural, one {# character} other {# characters}} on "{channel}"',
    es: 'Como máximo {max, plural, one {# carácter} other {# caracteres}} en «{channel}»',
    pt: 'No máximo {max, plural, one {# caractere} other {# caracteres}} em "{channel}"',
  },
  duplicateHeader: {
    en: 'Repeated column: {headers}',
    es: 'Columna repetida: {headers}',
    pt: 'Coluna repetida: {headers}',
  },
} as const satisfies Record<string, Localized>;

export type DetailMessage = keyof typeof detailMessages;

/** One detail's text in `language`. */
export function detailMessage(
  key: DetailMessage,
  language: Language,
  params: Record<string, string | number> = {},
): string {
  return format(detailMessages[key][language], params, language);
}

/** Names of the things an error can be about, for not_found messages. */
export const resourceNames = {
  contact: { es: 'el contacto', en: 'Contact', pt: 'o contato' },
  channel: { es: 'el canal', en: 'Channel', pt: 'o canal' },
  segment: { es: 'el segmento de contacto', en: 'Contact segment', pt: 'o segmento de contatos' },
  token: { es: 'el token de API', en: 'API token', pt: 'o token de API' },
  broadcast: { es: 'la transmisión', en: 'Broadcast', pt: 'a transmissão' },
  import: { es: 'la importación', en: 'Import', pt: 'a importação' },
  portfolio: { es: 'el portafolio comercial', en: 'Business portfolio', pt: 'o portfólio empresarial' },
} as const satisfies Record<string, Localized>;
export type ResourceName = keyof typeof resourceNames;

/** A role as the message's reader calls it ("agent" reads "agente"). */
const roleNames = {
  agent: { es: 'agente', en: 'agent', pt: 'agente' },
  manager: { es: 'gerente', en: 'manager', pt: 'gerente' },
  owner: { es: 'propietario', en: 'owner', pt: 'proprietário' },
} as const satisfies Record<string, Localized>;

/** A broadcast's status in words ("partially_failed" reads "falló en parte"), as the extension says it. */
const statusNames = {
  draft: { es: 'borrador', en: 'draft', pt: 'rascunho' },
  scheduled: { es: 'programada', en: 'scheduled', pt: 'agendada' },
  sending: { es: 'enviándose', en: 'sending', pt: 'enviando' },
  paused: { es: 'en pausa', en: 'paused', pt: 'pausada' },
  completed: { es: 'completada', en: 'completed', pt: 'concluída' },
  partially_failed: { es: 'falló en parte', en: 'partly failed', pt: 'falhou em parte' },
  failed: { es: 'falló', en: 'failed', pt: 'falhou' },
  cancelled: { es: 'cancelada', en: 'cancelled', pt: 'cancelada' },
} as const satisfies Record<string, Localized>;

/** Params that name a resource, a role or a status by its key, in the message's language. */
const NAMED: Record<string, Record<string, Localized>> = {
  resource: resourceNames,
  role: roleNames,
  required: roleNames,
  status: statusNames,
  from: statusNames,
  to: statusNames,
};

export function errorMessage(
  code: ApiErrorCode,
  language: Language,
  params: Record<string, string | number> = {},
): string {
  // A resource, a role or a status named by its key ("segment", "agent", "partially_failed") reads in the
  // message's language ("el segmento de contacto", "agente", "falló en parte"); other values as they are.
  const localized: Record<string, string | number> = { ...params };
  for (const [param, names] of Object.entries(NAMED)) {
    const value = params[param];
    if (typeof value === 'string' && Object.hasOwn(names, value)) localized[param] = names[value]?.[language] ?? value;
  }
  return format(apiErrors[code][language], localized, language);
}
