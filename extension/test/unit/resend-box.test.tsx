/**
 * The re-send box after a re-send cancelled while sending (it kept what it reached): the offer for the rest
 * counts what the server would plan, whether the cancel happened before the panel opened or while open,
 * and after the agent takes back a follow-up re-send. The server here is the resend state's own deps,
 * answering as the API does (a dry run plans the 4 the cancelled re-send never sent).
 */
import type { ResendResult } from '@rebound/shared';
import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { ResendBox } from '../../components/ResendBox';
import { UnconfirmedOffer } from '../../components/UnconfirmedOffer';
import { formatWhen } from '../../lib/i18n';
import type { BroadcastLite, BroadcastReport } from '../../lib/report';
import { createResendState, type ResendDeps } from '../../lib/resend-state';

const broadcast = (over: Partial<BroadcastLite>): BroadcastLite => ({
  id: 7,
  name: 'Corte',
  status: 'failed',
  targetCount: 6,
  completedCount: 6,
  counts: { failed: 6 } as BroadcastLite['counts'],
  failedByReason: {},
  funnel: { sent: 0, delivered: 0, read: 0, failed: 6 },
  error: null,
  pause: null,
  recovery: null,
  lateFailedAt: null,
  scheduledAt: null,
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:01:00.000Z',
  resendOfId: null,
  channelId: 2,
  ...over,
});

const cancelledMidSend = broadcast({
  id: 8,
  name: 'Corte (reenvío)',
  status: 'cancelled',
  resendOfId: 7,
  counts: { sent: 2, cancelled: 4 } as BroadcastLite['counts'],
});

function plan(recipients: number, options: { broadcastId?: number; reused?: boolean } = {}): ResendResult {
  return {
    tag: 'transmisión fallida',
    tagged: recipients,
    newlyTagged: 0,
    skipped: {},
    segmentId: 1,
    broadcastId: options.broadcastId ?? null,
    scheduledAt: '2026-12-02T10:00:00.000Z',
    reused: options.reused ?? false,
    recipients,
    plan: [{ broadcastId: options.broadcastId ?? 0, at: '2026-12-02T10:00:00.000Z', count: recipients, byReason: {} }],
    warnings: [],
  } as unknown as ResendResult;
}

function report(resend: BroadcastLite): BroadcastReport {
  return {
    broadcast: broadcast({}),
    notSent: 6,
    reasons: [
      {
        code: 'recipient_limit',
        title: 'El contacto ya recibió muchos mensajes de marketing',
        explanation: '',
        action: '',
        resend: 'later',
        count: 6,
      },
    ],
    resendable: 6,
    retryable: true,
    unconfirmed: { count: 0, left: 0, waitEndsAt: null },
    channelLimits: null as unknown as BroadcastReport['channelLimits'],
    resend,
  };
}

const tick = (ms = 30) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const buttons = (root: HTMLElement) =>
  [...root.querySelectorAll('button')].map((b) => `${b.textContent}${b.disabled ? ' (disabled)' : ''}`);

describe('a finished re-send whose SMS receipts said "unknown"', () => {
  it('calls them unconfirmed, not failed, and links to its report for them', async () => {
    const finished = broadcast({
      id: 10,
      name: 'Corte (reenvío)',
      // What the server says of it: completed (a final "unknown" makes nothing failed), 2 of them unconfirmed.
      status: 'completed',
      resendOfId: 7,
      counts: { delivered: 1, failed: 2 } as BroadcastLite['counts'],
      failedByReason: { uncertain: 2 },
    });
    const state = createResendState({
      resend: async () => plan(0, { broadcastId: 10, reused: true }),
      broadcast: async () => finished,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const root = document.createElement('div');
    render(
      <ResendBox report={report(finished)} language="es" resend={state} onOpenBroadcast={() => undefined} />,
      root,
    );
    await tick(100);
    expect([...root.querySelectorAll('p')].map((p) => p.textContent)).toEqual(
      expect.arrayContaining(['Reenvío terminado: 1 enviado, 0 fallidos.', '2 sin confirmar']),
    );
    expect(buttons(root)).toContain('Ver los 2 sin confirmar del reenvío');
    render(null, root);
  });
});

describe('the re-send box after a re-send cancelled while sending', () => {
  it('cancelled while the panel is open: it asks the server for the rest and offers them', async () => {
    const dryRuns: unknown[] = [];
    const state = createResendState({
      resend: async (_id, body) => {
        dryRuns.push(body);
        return plan(4);
      },
      broadcast: async () => cancelledMidSend,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const sending = { ...cancelledMidSend, status: 'sending' as const, counts: { sent: 2, queued: 4 } };
    const root = document.createElement('div');
    render(<ResendBox report={report(sending as BroadcastLite)} language="es" resend={state} />, root);
    await tick(200);
    expect(dryRuns).toHaveLength(1);
    expect(root.textContent).toContain('Ya se reenvió: «Corte (reenvío)» (cancelada).');
    expect(buttons(root)).toContain('Etiquetar y reenviar 4');
    render(null, root);
  });

  it('a re-send that fails at its start while the panel is open holds nobody: the offer comes back', async () => {
    const failedAtStart = broadcast({
      id: 9,
      name: 'Corte (reenvío)',
      status: 'failed',
      resendOfId: 7,
      counts: {} as BroadcastLite['counts'],
      error: { code: 'broadcast_channel_missing', message: 'El canal ya no existe.' },
      // As the background reads it (lite: shared resendHolds).
      holds: false,
    });
    const state = createResendState({
      resend: async () => plan(6),
      broadcast: async () => failedAtStart,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const scheduled = { ...failedAtStart, status: 'scheduled' as const, error: null, counts: {} };
    const root = document.createElement('div');
    render(<ResendBox report={report(scheduled as BroadcastLite)} language="es" resend={state} />, root);
    await tick(200);
    expect(buttons(root)).toContain('Etiquetar y reenviar 6');
    render(null, root);
  });

  it('the server would only reuse it (it had sent everyone): nothing to click', async () => {
    const state = createResendState({
      resend: async () => plan(3, { broadcastId: 8, reused: true }),
      broadcast: async () => cancelledMidSend,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const root = document.createElement('div');
    render(<ResendBox report={report(cancelledMidSend)} language="es" resend={state} />, root);
    await tick(100);
    expect(buttons(root)).toContain('Etiquetar y reenviar 0 (disabled)');
    render(null, root);
  });

  it('a follow-up re-send taken back: the offer counts the server plan again, not the 6 failures', async () => {
    const cancels: [number, (number | null | undefined)[]][] = [];
    const followUp = broadcast({
      id: 9,
      name: 'Corte (reenvío 2)',
      status: 'scheduled',
      resendOfId: 7,
      counts: {} as BroadcastLite['counts'],
    });
    const state = createResendState({
      resend: async (_id, body) => ((body as { dryRun?: boolean }).dryRun ? plan(4) : plan(4, { broadcastId: 9 })),
      broadcast: async (id) => (id === 9 ? followUp : cancelledMidSend),
      wait: () => tick(5),
      cancel: async (id, resendIds) => {
        cancels.push([id, resendIds]);
        return { cancelled: [9] };
      },
    });
    const root = document.createElement('div');
    render(<ResendBox report={report(cancelledMidSend)} language="es" resend={state} />, root);
    await tick(100);
    expect(buttons(root)).toContain('Etiquetar y reenviar 4');
    // Followed until it goes (it stays scheduled here), until the cancel below ends the following.
    void state.start(7, { reasons: ['recipient_limit'] });
    await tick(50);
    expect(buttons(root)).not.toContain('Etiquetar y reenviar 4');
    await state.cancel(7);
    // Only the parts of the plan this click made: another agent's re-send of the broadcast stays.
    expect(cancels).toEqual([[7, [9]]]);
    await tick(100);
    expect(buttons(root)).toContain('Etiquetar y reenviar 4');
    expect(buttons(root)).not.toContain('Etiquetar y reenviar 6');
    render(null, root);
  });
});

describe("the popup's offer for unconfirmed recipients", () => {
  const completed = broadcast({
    status: 'completed',
    counts: { delivered: 4, uncertain: 2 } as BroadcastLite['counts'],
  });
  const unconfirmedReport = (waitEndsAt: string | null): BroadcastReport => ({
    broadcast: completed,
    notSent: 2,
    reasons: [
      { code: 'uncertain', title: 'No se sabe si llegó', explanation: '', action: '', resend: 'never', count: 2 },
    ],
    resendable: 0,
    retryable: false,
    unconfirmed: { count: 2, left: 2, waitEndsAt },
    channelLimits: null as unknown as BroadcastReport['channelLimits'],
    resend: null,
  });
  const server = (answer: () => ResendResult) => {
    const asked: unknown[] = [];
    const state = createResendState({
      resend: async (_id, body) => {
        asked.push(body);
        return answer();
      },
      broadcast: async () => broadcast({ id: 11, status: 'scheduled', resendOfId: 7 }),
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    return { asked, state };
  };

  it('while a report may still come, says when they can be re-sent, and offers nothing', async () => {
    const { asked, state } = server(() => plan(2));
    const root = document.createElement('div');
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    render(<ResendBox report={unconfirmedReport(soon)} language="es" resend={state} Offer={UnconfirmedOffer} />, root);
    await tick();
    expect(root.textContent).toBe(
      `Si ningún informe de entrega lo confirma, podrá reenviar a los 2 sin confirmar ${formatWhen('es', soon)}.`,
    );
    expect(buttons(root)).toEqual([]);
    expect(asked).toEqual([]);
    render(null, root);
  });

  it('while a report may still come, offers only those no re-send took', async () => {
    const { state } = server(() => plan(1));
    const root = document.createElement('div');
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    // Two unconfirmed; a re-send took one (its wait was over first): one is left to offer.
    const report = { ...unconfirmedReport(soon), unconfirmed: { count: 2, left: 1, waitEndsAt: soon } };
    render(<ResendBox report={report} language="es" resend={state} Offer={UnconfirmedOffer} />, root);
    await tick();
    expect(root.textContent).toBe(
      `Si ningún informe de entrega lo confirma, podrá reenviar al destinatario sin confirmar ${formatWhen('es', soon)}.`,
    );
    render(null, root);
  });

  it('once their wait is over, a button of their own counted by the server, saying they may get it twice', async () => {
    // The server takes 3: a late "delivery unknown" report counts as unconfirmed too.
    const { asked, state } = server(() => plan(3));
    const root = document.createElement('div');
    const past = new Date(Date.now() - 1000).toISOString();
    render(<ResendBox report={unconfirmedReport(past)} language="es" resend={state} Offer={UnconfirmedOffer} />, root);
    await tick();
    expect(asked).toEqual([{ reasons: ['uncertain'], includeUnconfirmed: true, dryRun: true }]);
    expect(root.textContent).toBe(
      '3 destinatarios siguen sin confirmar: ningún informe de entrega dijo si les llegó. Si les reenvía, pueden recibirlo dos veces.Reenviar a los 3 sin confirmar',
    );
    // A click that is not the agent's (a page script's) sends nothing; the agent's is in the Chromium test.
    root.querySelector('button')?.click();
    await tick(50);
    expect(asked).toHaveLength(1);
    render(null, root);
  });

  it('says nothing when a re-send already holds them all; the panel leaves them to the popup', async () => {
    const { state } = server(() => plan(2, { broadcastId: 9, reused: true }));
    const root = document.createElement('div');
    const past = new Date(Date.now() - 1000).toISOString();
    render(<ResendBox report={unconfirmedReport(past)} language="es" resend={state} Offer={UnconfirmedOffer} />, root);
    await tick();
    expect(root.textContent).toBe('');
    // The panel leaves the offer to the popup, and never says there is nothing to fix.
    render(<ResendBox report={unconfirmedReport(past)} language="es" resend={state} />, root);
    await tick();
    expect(root.textContent).toBe('');
    render(null, root);
  });
});

describe('the re-send box after a delivery report brought new failures', () => {
  it('follows the earlier re-send and offers what is new, counted by the server', async () => {
    const dryRuns: unknown[] = [];
    const scheduled = broadcast({
      id: 12,
      name: 'Corte (reenvío)',
      status: 'scheduled',
      resendOfId: 7,
      counts: { queued: 6 } as BroadcastLite['counts'],
    });
    const state = createResendState({
      resend: async (_id, body) => {
        dryRuns.push(body);
        return plan(1);
      },
      broadcast: async () => scheduled,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const withLate = { ...report(scheduled), broadcast: broadcast({ lateFailedAt: '2026-12-02T09:00:00.000Z' }) };
    const root = document.createElement('div');
    render(<ResendBox report={withLate} language="es" resend={state} />, root);
    await tick(200);
    // The earlier re-send is still followed (and can be taken back); beside it, the one new failure.
    expect(buttons(root)).toContain('Cancelar este reenvío (podrá elegir otra hora)');
    expect(dryRuns).toHaveLength(1);
    expect(buttons(root)).toContain('Etiquetar y reenviar 1');
    render(null, root);

    // Without a late failure, following the same re-send offers nothing more.
    const quiet = createResendState({
      resend: async () => plan(1),
      broadcast: async () => scheduled,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    render(<ResendBox report={report(scheduled)} language="es" resend={quiet} />, root);
    await tick(200);
    expect(buttons(root)).not.toContain('Etiquetar y reenviar 1');
    render(null, root);
  });
});

describe("the click's answer after a delivery report let a part's recipients go while it was written", () => {
  const answer = (counts: [number, number]): ResendResult => {
    const now = '2026-12-02T10:00:00.000Z';
    const later = '2026-12-03T10:00:00.000Z';
    return {
      ...plan(counts[0] + counts[1], { broadcastId: 20 }),
      plan: [
        { broadcastId: 20, at: now, count: counts[0], byReason: { recipient_limit: counts[0] }, why: 'now' },
        { broadcastId: 21, at: later, count: counts[1], byReason: { recipient_limit: counts[1] }, why: 'later' },
      ],
    } as unknown as ResendResult;
  };
  const clicked = async (result: ResendResult) => {
    const state = createResendState({
      resend: async (_id, body) => ((body as { dryRun?: boolean }).dryRun ? plan(3) : result),
      broadcast: async (id) => broadcast({ id, status: 'completed', resendOfId: 7 }),
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [] }),
    });
    const root = document.createElement('div');
    render(<ResendBox report={report(broadcast({}))} language="es" resend={state} />, root);
    await state.start(7, { reasons: ['recipient_limit'] });
    await tick(50);
    const lines = [...root.querySelectorAll('p')].map((p) => p.textContent ?? '');
    render(null, root);
    return lines.filter((line) => line.startsWith('Plan:'));
  };

  it('names only the part that still sends, not "0" at the emptied one\'s time', async () => {
    expect(await clicked(answer([2, 0]))).toEqual([`Plan: 2 ${formatWhen('es', '2026-12-02T10:00:00.000Z')}.`]);
  });

  it('with every part emptied, says no plan at all rather than "Plan: ."', async () => {
    expect(await clicked(answer([0, 0]))).toEqual([]);
  });
});

/** The re-send state of these tests, its server answering each re-send (and dry run) with `resend`. */
const answering = (resend: ResendDeps['resend']) =>
  createResendState({
    resend,
    broadcast: async () => broadcast({}),
    wait: () => tick(5),
    cancel: async () => ({ cancelled: [] }),
  });

describe('the re-send box as an agent changes their mind', () => {
  const quota = (count: number) => ({
    code: 'quota_reached' as const,
    title: 'Se alcanzó el límite diario del canal',
    explanation: '',
    action: '',
    resend: 'later' as const,
    count,
  });
  const fresh = (over: Partial<BroadcastReport> = {}): BroadcastReport => ({
    ...report(null as unknown as BroadcastLite),
    resend: null,
    reasons: [quota(500), { ...report(broadcast({})).reasons[0], count: 6 }] as BroadcastReport['reasons'],
    notSent: 506,
    resendable: 506,
    ...over,
  });
  const tickBox = (root: HTMLElement, index: number) => {
    const box = root.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')[index] as HTMLInputElement;
    box.checked = !box.checked;
    box.dispatchEvent(new Event('change'));
  };

  it('unticking every reason re-sends nobody: no request without reasons (the server would take its default)', async () => {
    const asked: { reasons?: string[]; dryRun?: boolean }[] = [];
    const state = answering(async (_id, body) => {
      asked.push(body);
      if (!body.reasons?.length) throw Object.assign(new Error('Debe tener al menos 1 elemento.'), { code: 'x' });
      return plan(body.reasons.includes('quota_reached') ? 500 : 6);
    });
    const root = document.createElement('div');
    render(<ResendBox report={fresh()} language="es" resend={state} />, root);
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 500');
    tickBox(root, 0);
    tickBox(root, 1);
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 0 (disabled)');
    expect(asked.every((body) => body.reasons !== undefined)).toBe(true);
    render(null, root);
  });

  it('what the plan warns of is read before the click: unconfirmed recipients ticked in may get it twice', async () => {
    const unconfirmed = 'Un destinatario sin confirmar se reenvía: el proveedor pudo haber recibido el primer mensaje.';
    const state = answering(async (_id, body) => ({
      ...plan(body.reasons?.includes('uncertain') ? 507 : 506),
      warnings: body.reasons?.includes('uncertain') ? [{ code: 'unconfirmed_duplicates', message: unconfirmed }] : [],
    }));
    const root = document.createElement('div');
    const uncertain = {
      code: 'uncertain',
      title: 'No se sabe si llegó',
      explanation: '',
      action: '',
      resend: 'never',
      count: 1,
    };
    render(
      <ResendBox
        report={fresh({ reasons: [...fresh().reasons, uncertain] as BroadcastReport['reasons'] })}
        language="es"
        resend={state}
      />,
      root,
    );
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 506');
    expect(root.querySelectorAll('[data-testid="resend-warning"]')).toHaveLength(0);
    tickBox(root, 2);
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 507');
    expect([...root.querySelectorAll('[data-testid="resend-warning"]')].map((p) => p.textContent)).toEqual([
      unconfirmed,
    ]);
    render(null, root);
  });

  it('the clicked button goes with the click: the focus goes to what it did, not to the page', async () => {
    const state = answering(async () => plan(506));
    const root = document.createElement('div');
    document.body.append(root);
    render(<ResendBox report={fresh()} language="es" resend={state} />, root);
    await tick();
    const primary = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Etiquetar y reenviar 506');
    primary?.focus();
    expect(document.activeElement).toBe(primary);
    primary?.click();
    await tick();
    expect(root.contains(primary ?? null)).toBe(false);
    expect(document.activeElement).toBe(root.querySelector('[data-testid="resend-progress"]'));
    render(null, root);
    root.remove();
  });

  it('a new choice hides the last plan until the new one is in: the button is not clickable under old words', async () => {
    let answer: (value: ResendResult) => void = () => undefined;
    const state = answering((_id, body) =>
      body.reasons?.includes('quota_reached')
        ? Promise.resolve(plan(500))
        : new Promise<ResendResult>((resolve) => {
            answer = resolve;
          }),
    );
    const root = document.createElement('div');
    render(<ResendBox report={fresh()} language="es" resend={state} />, root);
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 500');
    tickBox(root, 0);
    await tick();
    expect(root.querySelector('[data-testid="resend-when"]')?.textContent).toBe('Calculando cuándo saldría…');
    expect(buttons(root).filter((b) => b.startsWith('Etiquetar'))).toEqual(['Etiquetar y reenviar 6 (disabled)']);
    answer(plan(6));
    await tick();
    expect(buttons(root)).toContain('Etiquetar y reenviar 6');
    render(null, root);
  });

  it('a refused click keeps the choices: "too early" offers another time as well as sending anyway', async () => {
    const state = answering(async (_id, body) => {
      if (!body.dryRun && body.when === 'now')
        throw Object.assign(new Error('Todavía no: el límite se libera mañana.'), { code: 'resend_too_early' });
      return plan(500);
    });
    const root = document.createElement('div');
    render(<ResendBox report={fresh()} language="es" resend={state} />, root);
    await tick();
    const now = root.querySelectorAll<HTMLInputElement>('input[type="radio"]')[1] as HTMLInputElement;
    now.checked = true;
    now.dispatchEvent(new Event('change'));
    await tick();
    (root.querySelector('button.rb-primary') as HTMLButtonElement).click();
    await tick();
    expect(root.textContent).toContain('Todavía no: el límite se libera mañana.');
    expect(buttons(root)).toEqual(expect.arrayContaining(['Reenviar a esa hora de todos modos', 'Solo etiquetar']));
    expect(root.querySelectorAll('input[type="radio"]')).toHaveLength(3);
    render(null, root);
  });

  it('a paused broadcast with failures a re-send can help says when, not "nothing to fix"', async () => {
    const state = answering(async () => plan(500));
    const root = document.createElement('div');
    render(
      <ResendBox report={fresh({ broadcast: broadcast({ status: 'paused' }) })} language="es" resend={state} />,
      root,
    );
    await tick();
    expect(root.textContent).toContain('Se podrá reenviar cuando la transmisión termine');
    expect(root.textContent).not.toContain('No hay mensajes que un reenvío pueda arreglar.');
    render(null, root);
    // One of its recipients unconfirmed too: the same, not an offer that shows nothing until it finishes.
    const unconfirmed = { count: 1, left: 1, waitEndsAt: null };
    render(
      <ResendBox
        report={fresh({ broadcast: broadcast({ status: 'paused' }), unconfirmed })}
        language="es"
        resend={state}
        Offer={UnconfirmedOffer}
      />,
      root,
    );
    await tick();
    expect(root.textContent).toContain('Se podrá reenviar cuando la transmisión termine');
    render(null, root);
  });
});

describe('taking back a scheduled re-send', () => {
  it('asks for the plan again: the line says when a new one would go, not "Calculando…" for good', async () => {
    const scheduled = broadcast({ id: 9, name: 'Corte (reenvío)', status: 'scheduled', resendOfId: 7 });
    const state = createResendState({
      resend: async () => plan(6),
      broadcast: async () => scheduled,
      wait: () => tick(5),
      cancel: async () => ({ cancelled: [9] }),
    });
    const root = document.createElement('div');
    render(<ResendBox report={report(scheduled)} language="es" resend={state} />, root);
    await tick();
    const cancel = [...root.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Cancelar este reenvío'));
    cancel?.click();
    await tick(100);
    expect(root.querySelector('[data-testid="resend-when"]')?.textContent).toMatch(/^Saldría: 6 /);
    expect(buttons(root)).toContain('Etiquetar y reenviar 6');
    render(null, root);
  });
});
