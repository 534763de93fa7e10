/** The background's own words: notifications and the connection's trouble. */
import { withOwnWords } from '../lib/i18n';

export const backgroundText = withOwnWords({
  es: {
    seeReasons: 'Ver motivos',
    reviewResendAction: 'Revisar y reenviar {count, number}',
    moreReasons: '{count, plural, one {# motivo más} other {# motivos más}}',
    notifyPartial:
      '{failed, plural, one {# de {total, number} no se envió} other {# de {total, number} no se enviaron}} — {reason}',
    notifyFailed: 'No se envió — {reason}',
    resendFinishedTitle: '{name}: reenvío terminado',
    pausedTitle: '{name}: en pausa',
    seePause: 'Ver la transmisión',
    tokenRefused:
      'El servidor de Rebound rechazó el token. Pida uno nuevo al propietario del espacio de trabajo y péguelo en las opciones de Rebound.',
    serverTrouble: 'El servidor de Rebound no respondió bien ({code}).',
  },
  en: {
    seeReasons: 'See reasons',
    reviewResendAction: 'Review and re-send {count, number}',
    moreReasons: '{count, plural, one {# more reason} other {# more reasons}}',
    notifyPartial:
      '{failed, plural, one {# of {total, number} was not sent} other {# of {total, number} were not sent}} — {reason}',
    notifyFailed: 'Nothing was sent — {reason}',
    resendFinishedTitle: '{name}: re-send finished',
    pausedTitle: '{name}: paused',
    seePause: 'Open the broadcast',
    tokenRefused:
      "The Rebound server refused the token. Ask the workspace owner for a new one and paste it in Rebound's options.",
    serverTrouble: 'The Rebound server did not answer properly ({code}).',
  },
  pt: {
    seeReasons: 'Ver motivos',
    reviewResendAction: 'Revisar e reenviar {count, number}',
    moreReasons: '{count, plural, one {mais # motivo} other {mais # motivos}}',
    notifyPartial:
      '{failed, plural, one {# de {total, number} não foi enviada} other {# de {total, number} não foram enviadas}} — {reason}',
    notifyFailed: 'Nada foi enviado — {reason}',
    resendFinishedTitle: '{name}: reenvio concluído',
    pausedTitle: '{name}: pausada',
    seePause: 'Ver a transmissão',
    tokenRefused:
      'O servidor do Rebound recusou o token. Peça um novo ao proprietário do espaço de trabalho e cole-o nas opções do Rebound.',
    serverTrouble: 'O servidor do Rebound não respondeu corretamente ({code}).',
  },
});
