/** The words of "enseñar esta página": loaded with it, on demand, never with the overlay. */
import { withOwnWords } from '../../lib/i18n';

export const teachText = withOwnWords({
  es: {
    teachTitle: 'Enseñar esta página a Rebound',
    teachPick: 'Haga clic en el nombre de una transmisión de esta página.',
    teachPickHint: 'Rebound buscará los demás nombres de la misma lista. Esc para cancelar.',
    teachFound:
      '{count, plural, one {Encontré # nombre de transmisión} other {Encontré # nombres de transmisiones}} en esta página:',
    teachFoundLinked: 'Cada nombre lleva a su transmisión: las insignias serán de la transmisión exacta.',
    teachNone:
      'No encontré una forma estable de reconocer ese nombre (la página solo usa nombres generados). Pruebe con otro nombre de la lista.',
    teachSave: 'Guardar para {origin}',
    teachAgain: 'Elegir otro nombre',
    teachCancel: 'Cancelar',
    teachSaved:
      'Guardado. Rebound ya marca las transmisiones de esta página; puede cambiarlo o quitarlo en las opciones de Rebound.',
    teachClose: 'Cerrar',
    teachMore: 'y {count, number} más',
  },
  en: {
    teachTitle: 'Teach Rebound this page',
    teachPick: 'Click the name of a broadcast on this page.',
    teachPickHint: 'Rebound will look for the other names of the same list. Esc to cancel.',
    teachFound: '{count, plural, one {Found # broadcast name} other {Found # broadcast names}} on this page:',
    teachFoundLinked: 'Each name links to its broadcast: badges will be those of the exact broadcast.',
    teachNone:
      'Could not find a stable way to recognise that name (the page only uses generated names). Try another name of the list.',
    teachSave: 'Save for {origin}',
    teachAgain: 'Pick another name',
    teachCancel: 'Cancel',
    teachSaved:
      "Saved. Rebound now marks the broadcasts on this page; you can change or remove it in Rebound's options.",
    teachClose: 'Close',
    teachMore: 'and {count, number} more',
  },
  pt: {
    teachTitle: 'Ensinar esta página ao Rebound',
    teachPick: 'Clique no nome de uma transmissão nesta página.',
    teachPickHint: 'O Rebound vai procurar os outros nomes da mesma lista. Esc para cancelar.',
    teachFound:
      '{count, plural, =0 {Nenhum nome de transmissão encontrado} one {Encontrei # nome de transmissão} other {Encontrei # nomes de transmissões}} nesta página:',
    teachFoundLinked: 'Cada nome leva à sua transmissão: os selos serão da transmissão exata.',
    teachNone:
      'Não encontrei uma forma estável de reconhecer esse nome (a página só usa nomes gerados). Tente outro nome da lista.',
    teachSave: 'Salvar para {origin}',
    teachAgain: 'Escolher outro nome',
    teachCancel: 'Cancelar',
    teachSaved:
      'Salvo. O Rebound já marca as transmissões desta página; você pode alterar ou remover isso nas opções do Rebound.',
    teachClose: 'Fechar',
    teachMore: 'e mais {count, number}',
  },
});
