import { describe, expect, it } from 'vitest';
import { badgeView } from '../../lib/badges';
import type { BroadcastBadge } from '../../lib/report';

function badge(id: number, extra: Partial<BroadcastBadge> = {}): BroadcastBadge {
  return {
    id,
    name: 'Black Friday',
    status: 'completed',
    failed: 0,
    uncertain: 0,
    // No re-send took any: all of them are left.
    unconfirmedLeft: extra.uncertain ?? 0,
    excluded: 0,
    scheduledAt: null,
    resend: null,
    lateFailedAt: null,
    retryable: false,
    attention: false,
    ...extra,
  };
}

describe('the badge beside a broadcast name', () => {
  it("by the page's ID: a fully sent broadcast never wears a namesake's failures", () => {
    const old = badge(1);
    const fresh = badge(2, { status: 'partially_failed', failed: 500 });
    expect(badgeView({ id: 1, name: 'Black Friday' }, [old, fresh])).toBeNull();
    expect(badgeView({ id: 2, name: 'Black Friday' }, [old, fresh])).toMatchObject({ kind: 'failed', count: 500 });
  });

  it('by a name two broadcasts share: ambiguous, never a guess', () => {
    const view = badgeView({ name: 'Black Friday' }, [badge(1), badge(2, { status: 'partially_failed', failed: 500 })]);
    expect(view).toMatchObject({ kind: 'ambiguous', name: 'Black Friday' });
    expect(view?.kind === 'ambiguous' && view.candidates.map((b) => b.id)).toEqual([1, 2]);
    // Two namesakes with nothing wrong need no badge at all.
    expect(badgeView({ name: 'Black Friday' }, [badge(1), badge(2)])).toBeNull();
  });

  it('failed as a whole, left-out contacts, and a re-send scheduled or done each say so', () => {
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { status: 'failed' })])).toMatchObject({ kind: 'not-sent' });
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { excluded: 12 })])).toMatchObject({
      kind: 'left-out',
      count: 12,
    });
    expect(
      badgeView({ id: 1, name: 'x' }, [
        badge(1, { failed: 500, resend: { id: 2, status: 'scheduled', failed: 0, retryable: false } }),
      ]),
    ).toMatchObject({ kind: 'resending' });
    expect(
      badgeView({ id: 1, name: 'x' }, [
        badge(1, { failed: 500, resend: { id: 2, status: 'completed', failed: 0, retryable: false } }),
      ]),
    ).toMatchObject({ kind: 'resent' });
    // Reports brought failures after the re-send: red again, as the toolbar counts it.
    expect(
      badgeView({ id: 1, name: 'x' }, [
        badge(1, {
          failed: 540,
          resend: { id: 2, status: 'completed', failed: 0, retryable: false },
          lateFailedAt: '2026-12-01T10:00:00.000Z',
        }),
      ]),
    ).toMatchObject({ kind: 'failed', count: 540 });
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { status: 'scheduled', excluded: 3 })])).toBeNull();
  });

  it('a finished broadcast with unconfirmed recipients never looks fully delivered', () => {
    const unconfirmed = badge(1, { uncertain: 3, excluded: 1 });
    expect(badgeView({ id: 1, name: 'x' }, [unconfirmed])).toMatchObject({ kind: 'unconfirmed', count: 3 });
    // Failures come first; a broadcast still sending may yet hear back; a re-send follows them from then on.
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { uncertain: 3, failed: 2 })])).toMatchObject({
      kind: 'failed',
      count: 2,
    });
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { status: 'sending', uncertain: 3 })])).toBeNull();
    expect(
      badgeView({ id: 1, name: 'x' }, [
        badge(1, { uncertain: 3, resend: { id: 2, status: 'scheduled', failed: 0, retryable: false } }),
      ]),
    ).toBeNull();
    // Two namesakes, one of them unconfirmed: the page must say which.
    expect(badgeView({ name: 'Black Friday' }, [badge(1), badge(2, { uncertain: 3 })])).toMatchObject({
      kind: 'ambiguous',
    });
  });

  it('a re-send stopped mid-send with unconfirmed recipients it never sent: the badge comes back', () => {
    // The server put the broadcast back on the attention list (lateFailedAt): the toolbar counts it, so
    // its row says why.
    const stopped = badge(1, {
      uncertain: 3,
      resend: { id: 2, status: 'cancelled', failed: 0, retryable: false },
      lateFailedAt: '2026-12-07T10:00:00.000Z',
      attention: true,
    });
    expect(badgeView({ id: 1, name: 'x' }, [stopped])).toMatchObject({ kind: 'unconfirmed', count: 3 });
  });

  it('failures a re-send can help are amber, any it cannot help make the badge red', () => {
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { failed: 500, retryable: true })])).toMatchObject({
      kind: 'failed',
      tone: 'later',
    });
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { failed: 500 })])).toMatchObject({
      kind: 'failed',
      tone: 'never',
    });
  });

  it('failures re-sent, the unconfirmed left and their wait over: the badge says unconfirmed, as the toolbar counts it', () => {
    const resent = {
      failed: 500,
      uncertain: 3,
      resend: { id: 2, status: 'completed' as const, failed: 0, retryable: false },
    };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { ...resent, attention: true })])).toMatchObject({
      kind: 'unconfirmed',
      count: 3,
    });
    // Before their wait is over (not on the list), the re-send is what the badge follows.
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, resent)])).toMatchObject({ kind: 'resent' });
  });

  it('a re-send that failed in its turn is never the grey "re-sent": it says how many it missed, amber or red', () => {
    const resend = { id: 2, status: 'partially_failed' as const, failed: 120, retryable: true };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { failed: 500, resend })])).toMatchObject({
      kind: 'resend-failed',
      count: 500,
      again: 120,
      tone: 'later',
    });
    // Blocked or not on the channel this time: a re-send of it cannot help them all.
    const blocked = { ...resend, status: 'failed' as const, failed: 500, retryable: false };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { failed: 500, resend: blocked })])).toMatchObject({
      kind: 'resend-failed',
      again: 500,
      tone: 'never',
    });
    // On the attention list for unconfirmed recipients whose wait is over: that is what its row is counted
    // for on the toolbar (the re-send's own row shows what the re-send missed).
    const waiting = { failed: 500, resend, attention: true, uncertain: 2, unconfirmedLeft: 2 };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, waiting)])).toMatchObject({ kind: 'unconfirmed', count: 2 });
    // Still under way: what it will miss is not known yet.
    expect(
      badgeView({ id: 1, name: 'x' }, [badge(1, { failed: 500, resend: { ...resend, status: 'sending' } })]),
    ).toMatchObject({ kind: 'resending' });
  });

  it("counts only the unconfirmed recipients no re-send took: those it took are the re-send's to follow", () => {
    // Three unconfirmed; a re-send took two of them (after their wait) and the failures; one is left.
    const taken = {
      uncertain: 3,
      unconfirmedLeft: 1,
      resend: { id: 2, status: 'completed' as const, failed: 0, retryable: false },
      attention: true,
    };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, { ...taken, failed: 500 })])).toMatchObject({
      kind: 'unconfirmed',
      count: 1,
    });
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, taken)])).toMatchObject({ kind: 'unconfirmed', count: 1 });
    // A re-send stopped mid-send after sending two of them: the one it never sent.
    const stopped = {
      ...taken,
      resend: { id: 2, status: 'cancelled' as const, failed: 0, retryable: false },
      lateFailedAt: '2026-12-07T10:00:00.000Z',
    };
    expect(badgeView({ id: 1, name: 'x' }, [badge(1, stopped)])).toMatchObject({ kind: 'unconfirmed', count: 1 });
  });
});
