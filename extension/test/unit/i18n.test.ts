import { BROADCAST_STATUSES } from '@rebound/shared';
import { setRegion } from '@rebound/shared/i18n';
import { describe, expect, it } from 'vitest';
import { backgroundText } from '../../background/messages';
import { optionsText } from '../../entrypoints/options/messages';
import { popupText } from '../../entrypoints/popup/messages';
import {
  formatAgo,
  formatNumber,
  formatRelative,
  formatWhen,
  resolveLanguage,
  statusLabel,
  translate,
} from '../../lib/i18n';
import { words } from '../../lib/words';

describe('numbers and times as agents read them', () => {
  it('groups thousands the Spanish and the English way', () => {
    expect(formatNumber('es', 1500)).toBe('1.500');
    expect(formatNumber('en', 1500)).toBe('1,500');
    expect(translate('es', 'notDelivered', { failed: 500, total: 1500 })).toBe('500 de 1.500 no se enviaron');
  });

  it("numbers follow the browser's region: es-MX writes 1,500, es-AR 1.500", () => {
    try {
      setRegion('es-MX');
      expect(formatNumber('es', 1500)).toBe('1,500');
      expect(translate('es', 'failedBadge', { count: 1500 })).toBe('1,500 fallidos');
      setRegion('es-AR');
      expect(translate('es', 'failedBadge', { count: 1500 })).toBe('1.500 fallidos');
      // Another language's region changes nothing.
      setRegion('pt-BR');
      expect(formatNumber('es', 1500)).toBe('1.500');
    } finally {
      setRegion('es');
    }
  });

  it('counts agree with their noun: "1 fallido", "2 fallidos", numbers grouped as the language writes them', () => {
    expect(translate('es', 'failedBadge', { count: 1 })).toBe('1 fallido');
    expect(translate('es', 'badgeUnconfirmed', { count: 1500 })).toBe('1.500 sin confirmar');
    expect(translate('en', 'badgeUnconfirmed', { count: 1500 })).toBe('1,500 unconfirmed');
    expect(translate('pt', 'badgeUnconfirmed', { count: 1500 })).toBe('1.500 sem confirmação');
    expect(translate('es', 'failedBadge', { count: 1500 })).toBe('1.500 fallidos');
    expect(translate('en', 'failedBadge', { count: 1500 })).toBe('1,500 failed');
    expect(translate('es', 'expand', { count: 1 })).toBe('Rebound: 1 fallido');
    expect(translate('es', 'tagged', { count: 1, tag: 'bf' })).toBe('1 contacto etiquetado con «bf».');
    expect(translate('es', 'tagged', { count: 500, tag: 'bf' })).toBe('500 contactos etiquetados con «bf».');
    expect(translate('en', 'tagged', { count: 1, tag: 'bf' })).toBe('1 contact tagged "bf".');
    expect(translate('es', 'resendDone', { sent: 1, failed: 0 })).toBe('Reenvío terminado: 1 enviado, 0 fallidos.');
    expect(translate('pt', 'resendDone', { sent: 40, failed: 0 })).toBe('Reenvio concluído: 40 enviadas, 0 falhas.');
    // One failure, one channel that sends one message a second: singular, in the headline and the notification.
    expect(translate('es', 'notDelivered', { failed: 1, total: 1500 })).toBe('1 de 1.500 no se envió');
    expect(translate('en', 'notDelivered', { failed: 1, total: 1500 })).toBe('1 of 1,500 was not sent');
    expect(translate('pt', 'notDelivered', { failed: 1, total: 40 })).toBe('1 de 40 não foi enviada');
    expect(backgroundText('es', 'notifyPartial', { failed: 1, total: 40, reason: 'x' })).toBe(
      '1 de 40 no se envió — x',
    );
    expect(translate('es', 'rate', { rate: 1 })).toBe('Hasta 1 mensaje por segundo');
    expect(translate('en', 'rate', { rate: 1000 })).toBe('Up to 1,000 messages per second');
    expect(popupText('es', 'rowPlanned', { total: 1 })).toBe('1 destinatario');
    expect(popupText('es', 'rowSent', { sent: 1000, total: 1500 })).toBe('1.000 de 1.500 enviados');
    expect(popupText('es', 'lineageLeft', { n: 1, reasons: 'x' })).toBe('Queda 1: x');
    expect(popupText('es', 'lineageLeft', { n: 1500, reasons: 'x' })).toBe('Quedan 1.500: x');
    expect(popupText('pt', 'lineageLeft', { n: 1, reasons: 'x' })).toBe('Resta 1: x');
    // A disconnected channel is no longer named: the offer still reads as a sentence.
    expect(popupText('es', 'otherChannelGone', { channel: 'SMS', n: 3 })).toBe(
      'Enviar por SMS a los 3 contactos que el canal de la transmisión no alcanzó',
    );
  });

  it('says "transmisión", as the reference help page does, never "difusión"', () => {
    for (const key of ['recent', 'noBroadcasts'] as const) expect(popupText('es', key)).toMatch(/transmisi[oó]n/i);
    for (const key of ['badgeAmbiguousLabel', 'headlineDraft'] as const)
      expect(translate('es', key, { name: 'BF' })).toMatch(/transmisi[oó]n|mensaje/i);
    expect(optionsText('es', 'notifyFailedOption')).toMatch(/transmisi[oó]n/i);
  });

  it('says when, relative where it helps', () => {
    const now = new Date(2026, 10, 25, 10, 0);
    expect(formatWhen('es', new Date(2026, 10, 25, 14, 5).toISOString(), now)).toBe('a las 14:05 (dentro de 4 h)');
    expect(formatWhen('es', new Date(2026, 10, 26, 9, 0).toISOString(), now)).toBe('mañana a las 09:00');
    expect(formatWhen('en', new Date(2026, 10, 26, 9, 0).toISOString(), now)).toBe('tomorrow at 09:00 AM');
    expect(formatWhen('es', new Date(2026, 10, 25, 9, 0).toISOString(), now)).toBe('ahora');
    // Next year says its year: 2027 typed for 2026 does not read as "in two days".
    const nextYear = formatWhen('es', new Date(2027, 10, 27, 9, 0).toISOString(), now);
    expect(nextYear).toContain('2027');
    expect(formatWhen('es', new Date(2026, 10, 27, 9, 0).toISOString(), now)).not.toContain('2026');
    expect(formatRelative('en', 25 * 60_000)).toBe('in 25 min.');
  });
});

describe('language', () => {
  it('automatic follows the browser, then the workspace, then Spanish', () => {
    expect(resolveLanguage('auto', 'en-US', 'es')).toBe('en');
    // A Brazilian browser reads Portuguese whatever the workspace speaks (a pt-BR browser got Spanish before).
    expect(resolveLanguage('auto', 'pt-BR', 'en')).toBe('pt');
    expect(resolveLanguage('auto', 'pt-BR')).toBe('pt');
    expect(resolveLanguage('auto', 'fr-FR', 'en')).toBe('en');
    expect(resolveLanguage('auto', 'fr-FR')).toBe('es');
    expect(resolveLanguage('es', 'en-US', 'en')).toBe('es');
  });

  it('every status has words in each language', () => {
    // The server's own list: a status added there (paused was) needs its words here.
    for (const status of BROADCAST_STATUSES) {
      expect(statusLabel('es', status)).not.toBe(status);
      expect(statusLabel('en', status)).not.toContain('_');
      expect(statusLabel('pt', status)).not.toContain('_');
    }
  });

  it('a paused broadcast reads as paused, with Resume for a manager and who can resume it for an agent', () => {
    const languages = ['es', 'en', 'pt'] as const;
    expect(languages.map((l) => statusLabel(l, 'paused'))).toEqual(['en pausa', 'paused', 'pausada']);
    expect(languages.map((l) => translate(l, 'resume'))).toEqual(['Reanudar', 'Resume', 'Retomar']);
    expect(translate('es', 'resumeByManager')).toBe('Un gerente puede reanudarla.');
    expect(translate('en', 'resumeByManager')).toBe('A manager can resume it.');
    // Brazilian Portuguese, with você's verbs: "retomá-la", not Spanish "reanudarla".
    expect(translate('pt', 'resumeByManager')).toBe('Um gerente pode retomá-la.');
  });

  it('a cancelled broadcast that sent nothing says so, not "0 mensajes salieron"', () => {
    expect(translate('es', 'headlineCancelled', { sent: 0 })).toBe('Cancelada: no había salido ningún mensaje antes');
    expect(translate('en', 'headlineCancelled', { sent: 0 })).toBe('Cancelled: no message had gone out before');
    expect(translate('es', 'headlineCancelled', { sent: 1 })).toBe('Cancelada: 1 mensaje salió antes');
    expect(translate('en', 'headlineCancelled', { sent: 1500 })).toBe('Cancelled: 1,500 messages went out before');
  });
});

describe('Brazilian Portuguese', () => {
  // The popup's, options' and background's own tables are typed per language; the shared one is checked here.
  it('has every word the Spanish has, with the same placeholders', () => {
    const names = (text: string) => [...text.matchAll(/\{(\w+)(?=[,}])/g)].map((m) => m[1]).sort();
    const es: Record<string, string> = words.es;
    const pt: Record<string, string> = words.pt;
    expect(Object.keys(pt)).toEqual(Object.keys(es));
    for (const key of Object.keys(es)) expect(names(pt[key] ?? ''), key).toEqual(names(es[key] ?? ''));
  });

  it('counts, numbers and times as Brazilians write them', () => {
    expect(translate('pt', 'failedBadge', { count: 1 })).toBe('1 falha');
    expect(translate('pt', 'failedBadge', { count: 1500 })).toBe('1.500 falhas');
    expect(translate('pt', 'notDelivered', { failed: 500, total: 1500 })).toBe('500 de 1.500 não foram enviadas');
    expect(translate('pt', 'tagged', { count: 1, tag: 'bf' })).toBe('1 contato etiquetado com “bf”.');
    expect(popupText('pt', 'rowSent', { sent: 1000, total: 1500 })).toBe('1.000 de 1.500 enviadas');
    expect(optionsText('pt', 'notifyFailedOption')).toBe('uma transmissão falhar');
    const now = new Date(2026, 10, 25, 10, 0);
    expect(formatWhen('pt', new Date(2026, 10, 25, 14, 5).toISOString(), now)).toBe('às 14:05 (em 4 h)');
    expect(formatWhen('pt', new Date(2026, 10, 26, 9, 0).toISOString(), now)).toBe('amanhã às 09:00');
    expect(formatWhen('pt', new Date(2026, 10, 25, 9, 0).toISOString(), now)).toBe('agora');
    expect(formatAgo('pt', new Date(2026, 10, 24, 16, 30).toISOString(), now)).toBe('ontem às 16:30');
  });
});
