/**
 * The collapsed panel's pill on a helpdesk page counts what failed as the headline and the badge do:
 * recipients whose outcome is unconfirmed are not "fallidos".
 */
import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import type { BroadcastReport } from '../../lib/report';
import { Overlay } from '../../overlay/Overlay';
import { createOverlayState } from '../../overlay/state';

function report(failed: number, unconfirmed: number): BroadcastReport {
  return {
    broadcast: {
      id: 7,
      name: 'Aviso',
      status: failed > 0 ? 'partially_failed' : 'completed',
      targetCount: 100,
      completedCount: 100,
      counts: {
        sent: 100 - failed - unconfirmed,
        failed,
        uncertain: unconfirmed,
      } as BroadcastReport['broadcast']['counts'],
      failedByReason: {},
      funnel: { sent: 100 - failed - unconfirmed, delivered: 0, read: 0, failed },
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
    // The failure summary's total holds the unconfirmed too.
    notSent: failed + unconfirmed,
    reasons: [],
    resendable: 0,
    unconfirmed: { count: unconfirmed, left: unconfirmed, waitEndsAt: null },
    channelLimits: null,
    resend: null,
  } as unknown as BroadcastReport;
}

function pill(r: BroadcastReport): HTMLButtonElement | null {
  const state = createOverlayState('es');
  state.content.value = { kind: 'report', report: r };
  const root = document.createElement('div');
  render(<Overlay state={state} />, root);
  return root.querySelector('button.rb-pill');
}

describe('the pill on a helpdesk page', () => {
  it('3 failed and 20 unconfirmed: "3 fallidos", as the headline says', () => {
    expect(pill(report(3, 20))?.textContent).toBe('Rebound: 3 fallidos');
  });

  it('none failed, 20 unconfirmed: no red "20 fallidos"', () => {
    const quiet = pill(report(0, 20));
    expect(quiet?.textContent).not.toMatch(/fallido/);
    expect(quiet?.classList.contains('rb-pill-alert')).toBe(false);
  });
});
