/** The popup's own words: its list of recent broadcasts. */
import { withOwnWords } from '../../lib/i18n';

export const popupText = withOwnWords({
  es: {
    rowSent: '{sent, number} de {total, number} enviados',
    rowPlanned: '{total, plural, one {# destinatario} other {# destinatarios}}',
    recent: 'Transmisiones recientes',
    noBroadcasts: 'Aún no hay transmisiones.',
    back: 'Volver',
    reviewedChip: 'revisada',
    markReviewed: 'Marcar como revisada',
    markReviewedHint: 'Deja de contar en el ícono de Rebound hasta que fallen más mensajes.',
    reviewedNote: 'Revisada: no cuenta en el ícono de Rebound mientras no fallen más mensajes.',
    unmarkReviewed: 'Marcar como pendiente',
  },
  en: {
    rowSent: '{sent, number} of {total, number} sent',
    rowPlanned: '{total, plural, one {# recipient} other {# recipients}}',
    recent: 'Recent broadcasts',
    noBroadcasts: 'No broadcasts yet.',
    back: 'Back',
    reviewedChip: 'reviewed',
    markReviewed: 'Mark as reviewed',
    markReviewedHint: 'It stops counting on the Rebound icon until more messages fail.',
    reviewedNote: 'Reviewed: not counted on the Rebound icon unless more messages fail.',
    unmarkReviewed: 'Mark as pending',
  },
  pt: {
    rowSent: '{sent, number} de {total, number} enviadas',
    rowPlanned: '{total, plural, one {# destinatário} other {# destinatários}}',
    recent: 'Transmissões recentes',
    noBroadcasts: 'Ainda não há transmissões.',
    back: 'Voltar',
    reviewedChip: 'revisada',
    markReviewed: 'Marcar como revisada',
    markReviewedHint: 'Deixa de contar no ícone do Rebound até que mais mensagens falhem.',
    reviewedNote: 'Revisada: não conta no ícone do Rebound enquanto mais mensagens não falharem.',
    unmarkReviewed: 'Marcar como pendente',
  },
});
