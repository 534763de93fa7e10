import { type Broadcast, BroadcastListQuerySchema, needingAttention } from '@rebound/shared';
import { describe, expect, it } from 'vitest';
import { badgesFor, badgeOf as badgeWithCatalog, bundledCatalog } from '../../background/badges';
import type { Api } from '../../lib/api';
import { badgeView } from '../../lib/badges';
import { failedAndUnconfirmed, lite, reachesAll } from '../../lib/report';

/** The catalog as the server serves it (GET /failure-reasons), which the background reads. */
const catalog = bundledCatalog('es');
const badgeOf = (b: Broadcast, resend: Broadcast | undefined) => badgeWithCatalog(b, resend, catalog);

function broadcast(id: number, status: Broadcast['status'], extra: Partial<Broadcast> = {}): Broadcast {
  const b: Broadcast = {
    id,
    name: `B${id}`,
    channelId: 1,
    segmentId: 1,
    content: { text: 'hola' },
    sendRate: null,
    status,
    error: null,
    pause: null,
    scheduledAt: null,
    startedAt: null,
    finishedAt: null,
    unconfirmedWaitEndsAt: null,
    unconfirmedLeft: 0,
    targetCount: 10,
    completedCount: 10,
    counts: {} as Broadcast['counts'],
    funnel: { sent: 0, delivered: 0, read: 0, failed: 0 },
    failedByReason: {},
    reconciliation: null,
    resendOfId: null,
    autoRecovery: 0,
    recovery: null,
    lateFailedAt: null,
    cost: null,
    channelLimits: {
      dailyQuota: 1000,
      quotaUsed: 0,
      quotaRemaining: 1000,
      capacityFreesAt: null,
      messagesPerSecond: 80,
      portfolio: null,
      hold: null,
    },
    createdAt: '2026-11-25T00:00:00.000Z',
    updatedAt: '2026-11-25T00:00:00.000Z',
    ...extra,
  };
  // No re-send took any of its unconfirmed recipients, unless the test says otherwise.
  const unconfirmed = (b.counts.uncertain ?? 0) + (b.failedByReason.uncertain ?? 0);
  return { ...b, unconfirmedLeft: extra.unconfirmedLeft ?? unconfirmed };
}

describe('a re-send as the background hands it on (lite)', () => {
  it('holds those it was for unless it never went out: failed at its start, or taken back before it', () => {
    const of1 = { resendOfId: 1 };
    expect(lite(broadcast(2, 'scheduled', of1)).holds).toBe(true);
    expect(lite(broadcast(3, 'failed', { ...of1, error: { code: 'broadcast_all_failed', message: '' } })).holds).toBe(
      true,
    );
    expect(
      lite(broadcast(4, 'failed', { ...of1, error: { code: 'broadcast_channel_missing', message: '' } })).holds,
    ).toBe(false);
    expect(lite(broadcast(5, 'cancelled', of1)).holds).toBe(false);
    expect(lite(broadcast(6, 'cancelled', { ...of1, startedAt: '2026-11-25T01:00:00.000Z' })).holds).toBe(true);
  });
});

describe('what needs an agent', () => {
  // The rule lives in @rebound/shared (attention.ts); the server's GET /broadcasts/attention applies it too.
  it('failed and partly failed broadcasts, until a re-send of them exists', () => {
    const recent = [
      broadcast(1, 'partially_failed'),
      broadcast(2, 'failed'),
      broadcast(3, 'completed'),
      broadcast(4, 'sending'),
      broadcast(5, 'partially_failed'),
      broadcast(6, 'scheduled', { resendOfId: 5 }),
    ];
    expect(needingAttention(recent).map((b) => b.id)).toEqual([1, 2]);
    // A re-send taken back (cancelled) leaves its broadcast needing an agent again.
    expect(needingAttention([...recent, broadcast(7, 'cancelled', { resendOfId: 1 })]).map((b) => b.id)).toEqual([
      1, 2,
    ]);
  });

  it('a badge counts the failed messages, the unconfirmed and the left-out apart, with its latest re-send', () => {
    expect(
      badgeOf(
        broadcast(1, 'partially_failed', {
          counts: { sent: 1000, failed: 500, uncertain: 3, excluded: 7 } as Broadcast['counts'],
        }),
        broadcast(9, 'scheduled', { resendOfId: 1 }),
      ),
    ).toMatchObject({
      id: 1,
      name: 'B1',
      status: 'partially_failed',
      failed: 500,
      uncertain: 3,
      excluded: 7,
      resend: { id: 9, status: 'scheduled', failed: 0, retryable: false },
    });
  });

  it("a badge is amber only when every failure's reason is one a re-send can help (the catalog's advice)", () => {
    const quota = broadcast(1, 'partially_failed', {
      counts: { sent: 1000, failed: 500 } as Broadcast['counts'],
      failedByReason: { quota_reached: 480, provider_error: 20 },
    });
    expect(badgeView({ id: 1, name: 'B1' }, [badgeOf(quota, undefined)])).toMatchObject({
      kind: 'failed',
      count: 500,
      tone: 'later',
    });
    // Ten blocked the business: a re-send cannot reach them, the badge is red.
    const someBlocked = broadcast(2, 'partially_failed', {
      counts: { sent: 1000, failed: 500 } as Broadcast['counts'],
      failedByReason: { quota_reached: 490, blocked: 10 },
    });
    expect(badgeView({ id: 2, name: 'B2' }, [badgeOf(someBlocked, undefined)])).toMatchObject({ tone: 'never' });
    // Three opted out before sending: the badge counts the 500 failures, which a re-send all reaches (amber);
    // the pill, which counts the three too, is red (buildReport).
    const someLeftOut = broadcast(5, 'partially_failed', {
      counts: { sent: 1000, failed: 500, excluded: 3 } as Broadcast['counts'],
      failedByReason: { quota_reached: 500 },
    });
    expect(badgeView({ id: 5, name: 'B5' }, [badgeOf(someLeftOut, undefined)])).toMatchObject({ tone: 'later' });
    expect(reachesAll(someLeftOut, catalog)).toBe(true);
    // Final "unknown" receipts beside quota failures are unconfirmed, not failures a re-send cannot help.
    const withUnknown = broadcast(3, 'partially_failed', {
      counts: { sent: 10, failed: 7 } as Broadcast['counts'],
      failedByReason: { throttled: 5, uncertain: 2 },
    });
    expect(badgeView({ id: 3, name: 'B3' }, [badgeOf(withUnknown, undefined)])).toMatchObject({
      count: 5,
      tone: 'later',
    });
    // Failures of no known reason (a stored row without one, a code this version does not know): red.
    const unexplained = broadcast(4, 'partially_failed', {
      counts: { sent: 10, failed: 3 } as Broadcast['counts'],
      failedByReason: { quota_reached: 2 },
    });
    expect(badgeView({ id: 4, name: 'B4' }, [badgeOf(unexplained, undefined)])).toMatchObject({ tone: 'never' });
  });

  it('a log page of 700 rows naming three broadcasts: each looked up once, each badged once', async () => {
    const asked: { ids?: number[]; names?: string[]; resendOfIds?: number[] }[] = [];
    const stored = [1, 2, 3].map((id) =>
      broadcast(id, 'partially_failed', {
        counts: { sent: 10, failed: 5 } as Broadcast['counts'],
        failedByReason: { quota_reached: 5 },
      }),
    );
    const api = {
      broadcasts: async (query: { ids?: number[]; resendOfIds?: number[] }) => {
        asked.push(query);
        return { data: query.ids ? stored.filter((b) => query.ids?.includes(b.id)) : [] };
      },
      attention: async () => ({ data: [] }),
    } as unknown as Api;
    // The third broadcast is first named on row 650.
    const rows = Array.from({ length: 700 }, (_, i) => {
      const id = i < 650 ? (i % 2) + 1 : (i % 3) + 1;
      return { id, name: `B${id}` };
    });
    const views = await badgesFor(api, rows, catalog, 'es');
    expect(views).toHaveLength(700);
    // The first row of each broadcast gets its badge, worded; the page draws one per broadcast anyway.
    expect(views[0]).toMatchObject({ kind: 'failed', text: '5 fallidos', colour: 'later' });
    expect(views[0]?.label).toBe('B1: 5 fallidos (un reenvío puede alcanzarlos)');
    expect(views.flatMap((v, i) => (v ? [[i, v.kind === 'ambiguous' ? 0 : v.broadcast.id]] : []))).toEqual([
      [0, 1],
      [1, 2],
      [650, 3],
    ]);
    expect(asked[0]?.ids).toEqual([1, 2, 3]);
  });

  it('a broadcast whose re-send failed in its turn: the badge says how many it missed, in words and colour', async () => {
    const original = broadcast(1, 'partially_failed', {
      counts: { sent: 500, failed: 500 } as Broadcast['counts'],
      failedByReason: { quota_reached: 500 },
    });
    // The re-send reached 380; 120 hit the daily limit again (a re-send of it can reach them: amber).
    const resend = broadcast(2, 'partially_failed', {
      resendOfId: 1,
      counts: { delivered: 380, failed: 120 } as Broadcast['counts'],
      failedByReason: { quota_reached: 120 },
    });
    const api = {
      broadcasts: async (query: { ids?: number[]; resendOfIds?: number[] }) => ({
        data: query.ids ? [original] : query.resendOfIds ? [resend] : [],
      }),
    } as unknown as Api;
    const [es] = await badgesFor(api, [{ id: 1, name: 'B1' }], catalog, 'es');
    expect(es).toMatchObject({
      kind: 'resend-failed',
      text: '500 fallidos · el reenvío no llegó a 120',
      colour: 'later',
    });
    expect(es?.label).toBe('B1: 500 fallidos · el reenvío no llegó a 120 (un reenvío puede alcanzarlos)');
    const [en] = await badgesFor(api, [{ id: 1, name: 'B1' }], catalog, 'en');
    expect(en?.text).toBe('500 failed · the re-send missed 120');
    // Of 1.500, 1.200 blocked the business this time: red, numbers as a Latin-American agent reads them.
    const big = {
      ...original,
      counts: { failed: 1500 } as Broadcast['counts'],
      failedByReason: { quota_reached: 1500 },
    };
    const blocked = { ...resend, counts: { failed: 1200 } as Broadcast['counts'], failedByReason: { blocked: 1200 } };
    const red = { broadcasts: async (q: { ids?: number[] }) => ({ data: q.ids ? [big] : [blocked] }) };
    expect((await badgesFor(red as unknown as Api, [{ id: 1, name: 'B1' }], catalog, 'es'))[0]).toMatchObject({
      text: '1.500 fallidos · el reenvío no llegó a 1.200',
      colour: 'never',
    });
  });

  it("a page's names the API would refuse are not asked, and the page's other badges still come", async () => {
    const asked: { ids?: number[]; names?: string[] }[] = [];
    const api = {
      broadcasts: async (query: { ids?: number[]; names?: string[] }) => {
        asked.push(query);
        // As the API validates its filters (shared/src/schemas/broadcasts.ts): a 400 loses every badge.
        if (query.names && !BroadcastListQuerySchema.shape.name.safeParse(query.names).success) throw new Error('400');
        if ((query.ids?.length ?? 0) > 100) throw new Error('400');
        return {
          data: query.ids?.includes(7)
            ? [broadcast(7, 'partially_failed', { counts: { failed: 2 } as Broadcast['counts'] })]
            : [],
        };
      },
    } as unknown as Api;
    const rows = [
      { name: 'x'.repeat(300) },
      { name: 'Aviso\u0007' },
      ...Array.from({ length: 150 }, (_, i) => ({ id: i + 1, name: `B${i + 1}` })),
      ...Array.from({ length: 150 }, (_, i) => ({ name: `Nombre ${i}` })),
    ];
    const views = await badgesFor(api, rows, catalog, 'es');
    expect(views.filter(Boolean).map((v) => v?.kind !== 'ambiguous' && v?.broadcast.id)).toEqual([7]);
    // IDs and names asked 100 at a time; the two names the API would refuse, never.
    const lookups = asked.filter((q) => q.ids ?? q.names);
    expect(lookups.map((q) => q.ids?.length ?? q.names?.length)).toEqual([100, 50, 100, 50]);
  });

  it('a final "unknown" receipt counts as unconfirmed, never as failed: it may have arrived', () => {
    const sms = broadcast(2, 'partially_failed', {
      counts: { delivered: 1, failed: 3 } as Broadcast['counts'],
      failedByReason: { uncertain: 2, provider_error: 1 },
    });
    expect(failedAndUnconfirmed(sms)).toEqual({ failed: 1, unconfirmed: 2 });
    expect(badgeOf(sms, undefined)).toMatchObject({ failed: 1, uncertain: 2 });
    // Only "unknown" receipts: the badge says unconfirmed, not failed.
    const unknownOnly = broadcast(3, 'partially_failed', {
      counts: { delivered: 1, failed: 2 } as Broadcast['counts'],
      failedByReason: { uncertain: 2 },
    });
    expect(badgeView({ id: 3, name: 'B3' }, [badgeOf(unknownOnly, undefined)])).toMatchObject({
      kind: 'unconfirmed',
      count: 2,
    });
    // Every receipt said "unknown" (the server calls it failed): unconfirmed, never "not sent".
    const allUnknown = broadcast(4, 'failed', {
      counts: { failed: 3 } as Broadcast['counts'],
      failedByReason: { uncertain: 3 },
    });
    expect(badgeView({ id: 4, name: 'B4' }, [badgeOf(allUnknown, undefined)])).toMatchObject({
      kind: 'unconfirmed',
      count: 3,
    });
    // Failed before any message still says so.
    expect(badgeView({ id: 5, name: 'B5' }, [badgeOf(broadcast(5, 'failed'), undefined)])).toMatchObject({
      kind: 'not-sent',
    });
  });
});
