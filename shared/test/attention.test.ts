/** The attention rule (attention.ts), which the server and the popup both read: the wait for unconfirmed recipients, late failures after a re-send. */
import { describe, expect, it } from 'vitest';
import { needingAttention, unconfirmedWaitEnds } from '../src/attention';

const HOUR = 3_600_000;
const finishedAt = '2026-12-01T12:00:00.000Z';

describe('when the wait for unconfirmed recipients ends', () => {
  it('counts a final "unknown" receipt as unconfirmed, alone or with recipients that had no answer', () => {
    const ends = Date.parse(finishedAt) + 24 * HOUR;
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 0, failedUncertain: 2 }, 24 * HOUR)).toBe(ends);
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 1, failedUncertain: 2 }, 24 * HOUR)).toBe(ends);
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 2 }, 24 * HOUR)).toBe(ends);
  });

  it('has no end when there is none, it has not finished, or re-sends took them all', () => {
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 0, failedUncertain: 0 }, HOUR)).toBeNull();
    expect(unconfirmedWaitEnds({ finishedAt: null, uncertain: 0, failedUncertain: 2 }, HOUR)).toBeNull();
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 0, failedUncertain: 2, taken: 2 }, HOUR)).toBeNull();
    // A re-send that holds without a note took them all.
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 1, failedUncertain: 2, taken: null }, HOUR)).toBeNull();
    // Some taken, some left: the wait still ends for those left.
    expect(unconfirmedWaitEnds({ finishedAt, uncertain: 1, failedUncertain: 2, taken: 2 }, HOUR)).toBe(
      Date.parse(finishedAt) + HOUR,
    );
  });

  it('runs from the latest recipient to become unconfirmed when that came after the end (a late receipt)', () => {
    const receipt = '2026-12-02T09:00:00.000Z';
    expect(unconfirmedWaitEnds({ finishedAt, unconfirmedAt: receipt, uncertain: 0, failedUncertain: 1 }, HOUR)).toBe(
      Date.parse(receipt) + HOUR,
    );
    // One that became unconfirmed while it was sending: from the end, as before.
    const during = '2026-12-01T11:59:00.000Z';
    expect(unconfirmedWaitEnds({ finishedAt, unconfirmedAt: during, uncertain: 1 }, HOUR)).toBe(
      Date.parse(finishedAt) + HOUR,
    );
  });
});

describe('a failure a delivery report brought after the latest re-send', () => {
  const original = { id: 1, status: 'partially_failed' as const, resendOfId: null, lateFailedAt: null };
  const resend = { id: 2, status: 'scheduled' as const, resendOfId: 1, startedAt: null };

  it('brings a re-sent broadcast back until the next re-send is written; a broadcast still sending waits', () => {
    expect(needingAttention([original, resend]).map((b) => b.id)).toEqual([]);
    const late = { ...original, lateFailedAt: '2026-12-02T09:00:00.000Z' };
    expect(needingAttention([late, resend]).map((b) => b.id)).toEqual([1]);
    expect(needingAttention([{ ...late, status: 'completed' as const }, resend]).map((b) => b.id)).toEqual([1]);
    expect(needingAttention([{ ...late, status: 'sending' as const }, resend]).map((b) => b.id)).toEqual([]);
  });
});
