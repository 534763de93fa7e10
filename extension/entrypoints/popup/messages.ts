/** The popup's own words: its list of recent broadcasts. */
import { withOwnWords } from '../../lib/i18n';

export const popupText = withOwnWords({
  es: {
    rowSent: '{sent, number} de {total, number} enviados',
    rowPlanned: '{total, plural, one {# destinatario} other {# destinatarios}}',
    recent: 'Transmisiones recientes',
    noBroadcasts: 'Aún no hay transmisiones.',
    back: 'Volver',
  },
  en: {
    rowSent: '{sent, number} of {total, number} sent',
    rowPlanned: '{total, plural, one {# recipient} other {# recipients}}',
    recent: 'Recent broadcasts',
    noBroadcasts: 'No broadcasts yet.',
    back: 'Back',
  },
});
