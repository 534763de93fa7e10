import type { ResendResult } from '@rebound/shared';
import { describe, expect, it } from 'vitest';
import type { BroadcastLite } from '../../lib/report';
import { createResendState, type ResendProgress } from '../../lib/resend-state';

const result: ResendResult = {
  tag: 'transmisión fallida 112526 (#1)',
  tagged: 500,
  newlyTagged: 500,
  skipped: {},
  segmentId: 9,
  broadcastId: 2,
  scheduledAt: '2026-11-26T14:05:00.000Z',
  reused: false,
  recipients: 500,
  plan: [
    { broadcastId: 2, at: '2026-11-26T14:05:00.000Z', count: 500, byReason: { quota_reached: 500 }, why: 'ahora' },
  ],
  summary: '500 ahora',
  warnings: [],
};

function resendBroadcast(status: BroadcastLite['status'], counts: Record<string, number> = {}): BroadcastLite {
  return {
    id: 2,
    name: 'Black Friday (reenvío)',
    status,
    targetCount: 500,
    completedCount: status === 'scheduled' ? null : 500,
    counts,
    failedByReason: {},
    funnel: { sent: 0, delivered: 0, read: 0, failed: 0 },
    error: null,
    pause: null,
    recovery: null,
    lateFailedAt: null,
    scheduledAt: result.scheduledAt,
    startedAt: null,
    finishedAt: null,
    resendOfId: 1,
    channelId: 1,
  };
}

describe('one tag and re-send, click to end', () => {
  it('goes working → done and follows the re-send until it has run', async () => {
    const seen: ResendProgress['phase'][] = [];
    const statuses: BroadcastLite[] = [
      resendBroadcast('scheduled'),
      resendBroadcast('sending', { sent: 200, queued: 300 }),
      resendBroadcast('completed', { sent: 500 }),
    ];
    const state = createResendState({
      resend: async () => result,
      broadcast: async () => statuses.shift() ?? resendBroadcast('completed', { sent: 500 }),
      wait: async () => undefined,
      cancel: async () => ({ cancelled: [] }),
    });
    state.progress.subscribe((p) => seen.push(p.phase));
    await state.start(1, {});
    expect(seen).toEqual(['idle', 'working', 'done', 'done', 'done']);
    const last = state.progress.value;
    expect(last.phase === 'done' && last.resend?.status).toBe('completed');
    expect(last.phase === 'done' && last.result?.tagged).toBe(500);
  });

  it("shows the server's error and keeps nothing half-done on screen", async () => {
    const state = createResendState({
      resend: async () => {
        throw new Error('La difusión todavía se está enviando; reenvíe cuando termine.');
      },
      broadcast: async () => resendBroadcast('scheduled'),
      wait: async () => undefined,
      cancel: async () => ({ cancelled: [] }),
    });
    await state.start(1, {});
    expect(state.progress.value).toEqual({
      phase: 'error',
      message: 'La difusión todavía se está enviando; reenvíe cuando termine.',
      broadcastId: 1,
      body: {},
    });
  });

  it('a re-send refused as too early keeps the code and what was asked, so the agent can force it', async () => {
    const asked: unknown[] = [];
    const state = createResendState({
      resend: async (_id, body) => {
        asked.push(body);
        if (!body.force)
          throw Object.assign(new Error('Reenviar ahora no sirve todavía para: Cupo diario agotado.'), {
            code: 'resend_too_early',
          });
        return result;
      },
      broadcast: async () => resendBroadcast('completed', { sent: 500 }),
      wait: async () => undefined,
      cancel: async () => ({ cancelled: [] }),
    });
    await state.start(1, { when: 'now' });
    const refused = state.progress.value;
    expect(refused).toMatchObject({ phase: 'error', code: 'resend_too_early', broadcastId: 1, body: { when: 'now' } });
    if (refused.phase !== 'error' || !refused.body) throw new Error('no body kept');
    await state.start(1, { ...refused.body, force: true });
    expect(asked).toEqual([{ when: 'now' }, { when: 'now', force: true }]);
    expect(state.progress.value.phase).toBe('done');
  });

  it('stops following when the panel closes', async () => {
    let reads = 0;
    const state = createResendState({
      resend: async () => result,
      broadcast: async () => {
        reads++;
        return resendBroadcast('scheduled');
      },
      wait: async () => {
        if (reads >= 3) state.stop();
      },
      cancel: async () => ({ cancelled: [] }),
    });
    await state.start(1, {});
    expect(reads).toBe(3);
  });
});

describe('following one re-send after another', () => {
  it('an older follow never writes over a newer one', async () => {
    const other = { ...resendBroadcast('scheduled'), id: 3, name: 'Navidad (reenvío)' };
    const sleeping: (() => void)[] = [];
    const state = createResendState({
      resend: async () => result,
      broadcast: async (id) => (id === 2 ? resendBroadcast('sending', { sent: 1 }) : other),
      wait: () => new Promise<void>((resolve) => sleeping.push(resolve)),
      cancel: async () => ({ cancelled: [] }),
    });
    // The first follow sleeps; meanwhile the panel moves on to another broadcast's re-send.
    const first = state.follow(resendBroadcast('scheduled'));
    state.stop();
    void state.follow(other);
    sleeping[0]?.();
    await first;
    const shown = state.progress.value;
    expect(shown.phase === 'done' && shown.resend?.id).toBe(3);
    state.stop();
  });
});
