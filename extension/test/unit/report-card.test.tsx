import type { ResendResult } from '@rebound/shared';
/**
 * The report card as an agent reads it: the limit section (whose limit it is, how much is used, when it
 * frees), the delivery funnel, the re-send box, a paused broadcast.
 */
import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { ReportCard } from '../../components/ReportCard';
import type { BroadcastReport } from '../../lib/report';
import { createResendState } from '../../lib/resend-state';

function report(portfolio: { id: number; name: string } | null): BroadcastReport {
  return {
    broadcast: {
      id: 7,
      name: 'Soporte',
      status: 'partially_failed',
      targetCount: 100,
      completedCount: 100,
      counts: { sent: 50, failed: 50 } as BroadcastReport['broadcast']['counts'],
      failedByReason: {},
      funnel: { sent: 50, delivered: 40, read: 25, failed: 50 },
      error: null,
      pause: null,
      recovery: null,
      lateFailedAt: null,
      scheduledAt: null,
      startedAt: null,
      finishedAt: null,
      resendOfId: null,
      channelId: 2,
    },
    notSent: 50,
    reasons: [],
    resendable: 0,
    retryable: false,
    unconfirmed: { count: 0, left: 0, waitEndsAt: null },
    channelLimits: {
      dailyQuota: 250,
      quotaUsed: 250,
      quotaRemaining: 0,
      capacityFreesAt: null,
      messagesPerSecond: 80,
      portfolio,
      hold: null,
    },
    resend: null,
  };
}

const resend = createResendState({
  resend: async () => {
    throw new Error('not used');
  },
  broadcast: async () => {
    throw new Error('not used');
  },
  wait: async () => undefined,
  cancel: async () => ({ cancelled: [] }),
});

function limitText(r: BroadcastReport): string {
  const root = document.createElement('div');
  render(<ReportCard report={r} language="es" resend={resend} />, root);
  const text = root.querySelector('[data-testid="channel-limit"]')?.textContent ?? '';
  render(null, root);
  return text;
}

describe('the channel limit in the panel', () => {
  it("names the business portfolio whose limit the number shares, with the portfolio's use", () => {
    const text = limitText(report({ id: 3, name: 'Acme' }));
    expect(text).toContain('Compartido por los números del portafolio «Acme»');
    expect(text).toContain('250 de 250 usados en 24 h');
  });

  it('says nothing of a portfolio for a number with its own limit', () => {
    expect(limitText(report(null))).not.toContain('portafolio');
  });
});

describe('the delivery funnel', () => {
  const steps = (r: BroadcastReport, language: 'es' | 'en') => {
    const root = document.createElement('div');
    render(<ReportCard report={r} language={language} resend={resend} />, root);
    const found = [...root.querySelectorAll('[data-testid="funnel"] [data-step]')].map((step) =>
      [...step.querySelectorAll('dt, dd > span')].map((part) => part.textContent),
    );
    render(null, root);
    return found;
  };

  it('shows sent, delivered, read and failed, delivered and read as a share of those sent', () => {
    expect(steps(report(null), 'es')).toEqual([
      ['Enviados', '50'],
      ['Entregados', '40', '80 % de los enviados'],
      ['Leídos', '25', '50 % de los enviados'],
      ['Fallidos', '50'],
    ]);
    expect(steps(report(null), 'en')[2]).toEqual(['Read', '25', '50% of those sent']);
  });

  it('leaves out the steps the channel never reports (an SMS is never "read")', () => {
    const sms = report(null);
    sms.broadcast = { ...sms.broadcast, funnel: { sent: 50, delivered: 45, read: null, failed: 50 } };
    expect(steps(sms, 'es').map(([label]) => label)).toEqual(['Enviados', 'Entregados', 'Fallidos']);
  });

  it('no read reported at all is left out (the app may not be subscribed to reads)', () => {
    const unread = report(null);
    unread.broadcast = { ...unread.broadcast, funnel: { sent: 50, delivered: 45, read: 0, failed: 50 } };
    expect(steps(unread, 'es').map(([label]) => label)).toEqual(['Enviados', 'Entregados', 'Fallidos']);
  });

  it('a share is never 100 % before all, nor 0 % for some', () => {
    const near = report(null);
    near.broadcast = { ...near.broadcast, funnel: { sent: 1000, delivered: 999, read: 4, failed: 0 } };
    expect(steps(near, 'en').map((step) => step[2])).toEqual([
      undefined,
      '99% of those sent',
      '1% of those sent',
      undefined,
    ]);
  });

  it('sent with no report back yet: says so instead of "0 entregados"', () => {
    const waiting = report(null);
    waiting.broadcast = { ...waiting.broadcast, funnel: { sent: 50, delivered: 0, read: 0, failed: 50 } };
    expect(steps(waiting, 'es').map(([label]) => label)).toEqual(['Enviados', 'Fallidos']);
    const root = document.createElement('div');
    render(<ReportCard report={waiting} language="es" resend={resend} />, root);
    expect(root.querySelector('[data-testid="funnel-awaiting"]')?.textContent).toMatch(
      /^El proveedor todavía no avisó entregas ni lecturas/,
    );
    render(null, root);
  });

  it('shows the unconfirmed apart from the failed: no answer, and a final "unknown" report', () => {
    const sms = report(null);
    sms.broadcast = {
      ...sms.broadcast,
      counts: { sent: 50, failed: 50, uncertain: 4 } as BroadcastReport['broadcast']['counts'],
      failedByReason: { uncertain: 20, provider_error: 30 },
      funnel: { sent: 50, delivered: 45, read: null, failed: 50 },
    };
    expect(steps(sms, 'es')).toEqual([
      ['Enviados', '50'],
      ['Entregados', '45', '90 % de los enviados'],
      ['Sin confirmar', '24'],
      ['Fallidos', '30'],
    ]);
  });
  it('is not there before anything went out or failed', () => {
    const scheduled = report(null);
    scheduled.broadcast = { ...scheduled.broadcast, funnel: { sent: 0, delivered: 0, read: 0, failed: 0 } };
    expect(steps(scheduled, 'es')).toEqual([]);
  });
});

describe('after the re-send box', () => {
  it('"Solo etiquetar" does not end at a tag name: the next step is offered, counted and timed by the plan', async () => {
    const asked: { tagOnly?: boolean; dryRun?: boolean }[] = [];
    const taggedOnly = createResendState({
      // The tag already carried 500 contacts from an earlier re-send: it counts 503; the plan reaches 3.
      resend: async (_id, body) => {
        asked.push(body);
        return {
          tag: 'revisar',
          tagged: body.tagOnly ? 503 : 3,
          newlyTagged: 3,
          skipped: {},
          segmentId: body.tagOnly ? null : 4,
          broadcastId: null,
          scheduledAt: null,
          reused: false,
          recipients: 3,
          plan: body.tagOnly ? [] : [{ broadcastId: 0, at: '2026-12-02T10:00:00.000Z', count: 3, byReason: {} }],
          summary: '',
          warnings: body.tagOnly ? [] : [{ code: 'forced', message: 'Se envía aunque todavía no ayude.' }],
        } as unknown as ResendResult;
      },
      broadcast: async () => {
        throw new Error('not used');
      },
      wait: async () => undefined,
      cancel: async () => ({ cancelled: [] }),
    });
    await taggedOnly.start(7, { tagOnly: true });
    const root = document.createElement('div');
    const withFailures: BroadcastReport = {
      ...report(null),
      resendable: 3,
      reasons: [
        { code: 'quota_reached', title: 'Límite diario', explanation: '', action: '', resend: 'later', count: 3 },
      ] as BroadcastReport['reasons'],
    };
    render(<ReportCard report={withFailures} language="es" resend={taggedOnly} />, root);
    expect(root.textContent).toContain('503 contactos etiquetados con «revisar».');
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Asked of the server as a dry run, as the first click was: its count, its time, its warnings.
    expect(asked.at(-1)).toMatchObject({ dryRun: true });
    const labels = [...root.querySelectorAll('button')].map((b) => b.textContent);
    expect(labels).toContain('Reenviar también a estos 3 contactos');
    expect(labels).not.toContain('Solo etiquetar');
    expect(root.querySelector('[data-testid="resend-warning"]')?.textContent).toBe('Se envía aunque todavía no ayude.');
    render(null, root);
  });
});

describe('a paused broadcast', () => {
  const paused = (canResume: boolean): BroadcastReport => {
    const base = report(null);
    return {
      ...base,
      canResume,
      broadcast: {
        ...base.broadcast,
        status: 'paused',
        pause: {
          kind: 'quality',
          scope: 'broadcast',
          at: 0,
          outcomes: 200,
          harmful: 20,
          message: 'Pausamos «Soporte»: el 10 % de los contactos bloqueó o reportó el número en los últimos 200 envíos',
        },
      },
    };
  };

  it('says why, and a manager resumes it from the panel; a refusal shows in its place', async () => {
    const root = document.createElement('div');
    const resumed: number[] = [];
    let refuse = false;
    const onResume = async (id: number) => {
      if (refuse) throw new Error('Solo una transmisión pausada se puede reanudar; esta está en estado sending.');
      resumed.push(id);
    };
    render(<ReportCard report={paused(true)} language="es" resend={resend} onResume={onResume} />, root);
    const line = root.querySelector('[data-testid="paused"]');
    expect(line?.getAttribute('role')).toBe('alert');
    expect(line?.textContent).toContain('el 10 % de los contactos bloqueó o reportó el número');
    expect(root.querySelector('.rb-status')?.textContent).toBe('en pausa');
    const button = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Reanudar');
    button?.click();
    await Promise.resolve();
    expect(resumed).toEqual([7]);
    refuse = true;
    button?.click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(root.querySelector('[data-testid="paused"]')?.textContent).toContain('Solo una transmisión pausada');
    render(null, root);
  });

  it('an agent sees why and who can resume it, and no button', () => {
    const root = document.createElement('div');
    render(<ReportCard report={paused(false)} language="en" resend={resend} onResume={async () => undefined} />, root);
    const line = root.querySelector('[data-testid="paused"]')?.textContent ?? '';
    expect(line).toContain('Pausamos');
    expect(line).toMatch(/A manager can resume it\.$/);
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Resume')).toBe(false);
    render(null, root);
  });

  it('a manager is not told to ask a manager', () => {
    const root = document.createElement('div');
    render(<ReportCard report={paused(true)} language="es" resend={resend} onResume={async () => undefined} />, root);
    expect(root.querySelector('[data-testid="paused"]')?.textContent).not.toContain('Un gerente puede');
    render(null, root);
  });

  it('offers no re-send while paused (the server refuses one until it finishes), and asks for no plan', async () => {
    const asked: number[] = [];
    const watching = createResendState({
      resend: async (id) => {
        asked.push(id);
        throw new Error('resend_not_finished');
      },
      broadcast: async () => {
        throw new Error('not used');
      },
      wait: async () => undefined,
      cancel: async () => ({ cancelled: [] }),
    });
    const blocked = {
      code: 'quota_reached' as const,
      title: 'Se alcanzó el límite diario del canal',
      explanation: '',
      action: '',
      resend: 'later' as const,
      count: 20,
    };
    const root = document.createElement('div');
    const r = { ...paused(true), reasons: [blocked], resendable: 20 };
    render(<ReportCard report={r} language="es" resend={watching} onResume={async () => undefined} />, root);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const buttons = () => [...root.querySelectorAll('button')].map((b) => b.textContent);
    expect(root.querySelector('[data-testid="resend-when"]')).toBeNull();
    expect(buttons()).not.toContain('Etiquetar y reenviar 20');
    expect(asked).toEqual([]);
    // The same report once resumed and finished offers it (the panel shows a new report in a new card).
    render(null, root);
    render(
      <ReportCard
        report={{ ...r, broadcast: { ...r.broadcast, status: 'partially_failed', pause: null } }}
        language="es"
        resend={watching}
      />,
      root,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(buttons()).toContain('Etiquetar y reenviar 20');
    expect(asked).toEqual([7]);
    render(null, root);
  });
});

describe('the reasons by colour (ux.md: later amber, permanent red, uncertain grey)', () => {
  it('unconfirmed recipients are grey, not "No se reenvía: reenviar no ayuda" beside the offer to re-send them', () => {
    const line = (code: string, resend: 'now' | 'later' | 'never', count: number) => ({
      code: code as BroadcastReport['reasons'][number]['code'],
      title: code,
      explanation: '',
      action: '',
      resend,
      count,
    });
    const r = {
      ...report(null),
      reasons: [line('blocked', 'never', 3), line('quota_reached', 'later', 20), line('uncertain', 'never', 5)],
    };
    const root = document.createElement('div');
    render(<ReportCard report={r} language="es" resend={resend} />, root);
    const item = (code: string) => root.querySelector(`[data-reason="${code}"]`) as HTMLElement;
    expect(item('blocked').className).toContain('rb-resend-never');
    expect(item('blocked').textContent).toContain('No se reenvía: reenviar no ayuda');
    expect(item('quota_reached').className).toContain('rb-resend-later');
    expect(item('uncertain').className).not.toContain('rb-resend-never');
    expect(item('uncertain').textContent).not.toContain('reenviar no ayuda');
    render(null, root);
  });
});
