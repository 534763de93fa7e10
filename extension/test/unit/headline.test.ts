import { describe, expect, it } from 'vitest';
import { formatAgo } from '../../lib/i18n';
import { type BroadcastLite, type BroadcastReport, headline, notSentFigures, sentFigures } from '../../lib/report';

const now = new Date(2026, 11, 2, 15, 0);

type Counts = Partial<BroadcastLite['counts']>;

function report(
  { counts = {}, ...broadcast }: Omit<Partial<BroadcastLite>, 'counts'> & { counts?: Counts },
  notSent = 0,
): BroadcastReport {
  return {
    broadcast: {
      id: 1,
      name: 'Black Friday',
      status: 'completed',
      targetCount: 1500,
      completedCount: 1500,
      counts: counts as BroadcastLite['counts'],
      failedByReason: {},
      funnel: { sent: 0, delivered: 0, read: 0, failed: 0 },
      error: null,
      pause: null,
      recovery: null,
      lateFailedAt: null,
      scheduledAt: null,
      startedAt: null,
      finishedAt: null,
      resendOfId: null,
      channelId: 1,
      ...broadcast,
    },
    notSent,
    reasons: [],
    resendable: 0,
    retryable: false,
    unconfirmed: { count: 0, left: 0, waitEndsAt: null },
    channelLimits: {} as BroadcastReport['channelLimits'],
    resend: null,
  };
}

describe('the report headline says only what is true', () => {
  it('a scheduled broadcast has sent nothing yet, and says when it goes', () => {
    const at = new Date(2026, 11, 2, 18, 30).toISOString();
    const text = headline(report({ status: 'scheduled', scheduledAt: at, completedCount: null }), 'es', now);
    expect(text).toMatch(/^Programada a las 18:30 .*: todavía no salió ningún mensaje$/);
    expect(text).not.toMatch(/Todos/);
  });

  it('a sending broadcast counts what is done so far', () => {
    expect(headline(report({ status: 'sending', counts: { sent: 700, failed: 20, queued: 780 } }), 'es', now)).toBe(
      'Enviando: 720 de 1.500',
    );
  });

  it('a paused broadcast says how far it got, never that all went out, failures or not', () => {
    expect(headline(report({ status: 'paused', counts: { sent: 180, failed: 20, queued: 1300 } }, 20), 'es', now)).toBe(
      'Se detuvo en 200 de 1.500',
    );
    expect(headline(report({ status: 'paused', counts: { sent: 300, queued: 1200 } }), 'en', now)).toBe(
      'Stopped at 300 of 1,500',
    );
    expect(headline(report({ status: 'paused', counts: { sent: 300, queued: 1200 } }), 'pt', now)).toBe(
      'Parou em 300 de 1.500',
    );
  });

  it('a finished one with failures gives failed of total; one with none, that all went out', () => {
    expect(headline(report({ status: 'partially_failed', counts: { sent: 1000, failed: 500 } }, 500), 'es', now)).toBe(
      '500 de 1.500 no se enviaron',
    );
    expect(headline(report({ counts: { sent: 1500 } }), 'es', now)).toBe('Todos los mensajes salieron');
    // Out of the recipients it went through (1,500), not the segment's size when it was planned (1,600):
    // the notification says the same (it calls notSentFigures too).
    const planned = report({ status: 'partially_failed', targetCount: 1600, counts: { sent: 1000, failed: 500 } }, 500);
    expect(notSentFigures(planned)).toEqual({ failed: 500, total: 1500 });
    expect(headline(planned, 'es', now)).toBe('500 de 1.500 no se enviaron');
    // Left out before sending (20 bad numbers) are among those not sent, and among those it went to: the
    // engine went through 1,480 of the 1,500.
    const leftOut = report(
      { status: 'partially_failed', completedCount: 1480, counts: { sent: 1000, failed: 480, excluded: 20 } },
      500,
    );
    expect(headline(leftOut, 'es', now)).toBe('500 de 1.500 no se enviaron');
    expect(sentFigures(leftOut.broadcast)).toEqual({ sent: 1000, total: 1500 });
    // A re-send's recipient a report said it cannot reach is left out while it sends (queued, then left
    // out): still one of the 500 it went to, never "de 501".
    const releasedMidSend = report({
      status: 'sending',
      completedCount: 500,
      counts: { sent: 300, queued: 199, excluded: 1 },
    });
    expect(headline(releasedMidSend, 'es', now)).toBe('Enviando: 301 de 500');
    // Mid-send, the 20 are done already (never "1.300 de 1.480" with 200 still to go).
    const midSend = report({
      status: 'sending',
      completedCount: 1480,
      counts: { sent: 800, failed: 480, excluded: 20, queued: 200 },
    });
    expect(headline(midSend, 'es', now)).toBe('Enviando: 1.300 de 1.500');
    expect(headline(report({ status: 'cancelled', counts: { sent: 1, cancelled: 1499 } }), 'es', now)).toBe(
      'Cancelada: 1 mensaje salió antes',
    );
  });

  it('unconfirmed recipients went out: never counted as not sent, never "all went out" either', () => {
    // 1,498 sent, 2 with no answer or a final "unknown" receipt.
    const unconfirmed = {
      ...report({ counts: { sent: 1498, uncertain: 2 } }, 2),
      unconfirmed: { count: 2, left: 2, waitEndsAt: null },
    };
    expect(headline(unconfirmed, 'es', now)).toBe('2 sin confirmar');
    expect(notSentFigures(unconfirmed)).toEqual({ failed: 0, total: 1500 });
    // With real failures beside them, only those are "not sent" (the notification says the same).
    const both = {
      ...report({ status: 'partially_failed', counts: { sent: 1493, failed: 5, uncertain: 2 } }, 7),
      unconfirmed: { count: 2, left: 2, waitEndsAt: null },
    };
    expect(headline(both, 'en', now)).toBe('5 of 1,500 were not sent');
  });
});

describe('past times read as past', () => {
  it('a failure of two days ago is not "ahora"', () => {
    const ago = (d: Date) => formatAgo('es', d.toISOString(), now);
    expect(ago(new Date(2026, 10, 30, 9, 5))).toBe('el 30 nov, 09:05');
    expect(ago(new Date(2026, 11, 1, 9, 5))).toBe('ayer a las 09:05');
    expect(ago(new Date(2026, 11, 2, 9, 5))).toBe('hoy a las 09:05');
    expect(ago(new Date(2026, 11, 2, 14, 40))).toBe('hace 20 min');
    expect(ago(new Date(2026, 11, 2, 14, 59, 30))).toBe('hace un momento');
    expect(formatAgo('en', new Date(2026, 11, 1, 9, 5).toISOString(), now)).toBe('yesterday at 09:05 AM');
  });
});
