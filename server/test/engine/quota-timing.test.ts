/**
 * When a full daily limit frees a place, said the same everywhere: over the limit (a tier lowered), the
 * oldest leaving frees nothing; and a place freeing within a minute is waited for, not failed.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/engine/limits';
import { harness, quotaBroadcast, S1_TEMPLATE, until } from './harness';

const h = await harness();
const api = (method: string, path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body, language: 'en' });

/** `count` recipients counted in the channel's rolling window, sent at `at(i)` (oldest first). */
async function counted(channelId: number, count: number, at: (i: number) => number) {
  for (let i = 0; i < count; i++)
    await h.server.database.db.run(
      sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at, last_any_at)
          VALUES (${channelId}, ${`+5491160000${String(100 + i)}`}, ${at(i)}, ${at(i)})`,
    );
}

describe('a number over its daily limit (the tier was lowered after it sent)', () => {
  it('the pre-flight, the channel, the failures and the re-send all wait for enough to age out, not the oldest', async () => {
    const { channelId, broadcastId } = await quotaBroadcast(h, {
      channelName: 'Bajado de nivel',
      dailyQuota: 10,
      count: 5,
      tag: 'bajado',
      segment: 'Bajado',
      name: 'Tras bajar de nivel',
      start: 100_000,
    });
    // 16 counted (the limit was higher), one every ten minutes from 20 h ago: 6 over the new limit of 10.
    const start = Date.now() - 20 * 3_600_000;
    const sentAt = (i: number) => start + i * 600_000;
    await counted(channelId, 16, sentAt);
    // A place frees when the 7th oldest ages out (16 - 10 + 1); all 5 fit when the 11th does (16 + 5 - 10).
    const placeFrees = new Date(sentAt(6) + DAY_MS).toISOString();
    const allFit = new Date(sentAt(10) + DAY_MS).toISOString();

    const pre = (await api('GET', `/broadcasts/${broadcastId}/preflight`)).body;
    expect(pre.quota).toMatchObject({
      used: 16,
      remaining: 0,
      overflow: 5,
      capacityFreesAt: placeFrees,
      allFitAt: allFit,
    });
    expect((await api('GET', `/channels/${channelId}`)).body.usage.capacityFreesAt).toBe(placeFrees);

    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    const messages = await h.messages(broadcastId);
    expect(messages.map((m) => m.reason)).toEqual(Array(5).fill('quota_reached'));
    expect(new Set(messages.map((m) => new Date(Number(m.retry_after_at)).toISOString()))).toEqual(
      new Set([placeFrees]),
    );

    const plan = (await api('POST', `/broadcasts/${broadcastId}/resend`, { dryRun: true })).body.plan as {
      at: string;
      count: number;
    }[];
    // The first wave goes when 5 places are free again: the 11th oldest ageing out, not the 5th.
    expect(plan[0]).toMatchObject({ count: 5 });
    expect(Date.parse(plan[0]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(allFit));
    expect(Date.parse(plan[0]?.at ?? '')).toBeLessThan(Date.parse(allFit) + 120_000);
  });
});

describe('a place that frees within the minute', () => {
  it('the next wave is not refused for the seconds between the last wave’s batches: its recipients wait and go', async () => {
    const { channelId, broadcastId } = await quotaBroadcast(h, {
      channelName: 'Ola siguiente',
      dailyQuota: 3,
      count: 2,
      tag: 'ola',
      segment: 'Ola',
      name: 'Segunda ola',
      start: 200_000,
    });
    // The last wave's three went out 24 h ago less 1.5 s, 3 s and an hour: two places free in seconds.
    const now = Date.now();
    await counted(channelId, 3, (i) => now - DAY_MS + ([1_500, 3_000, 3_600_000][i] ?? 0));
    await h.schedule(broadcastId);
    const engine = h.engine();
    engine.start();
    try {
      const both = async () => {
        const messages = await h.messages(broadcastId);
        return messages.length === 2 && messages.every((m) => m.state === 'sent');
      };
      await until(both, 20_000, 50, async () => JSON.stringify(await h.messages(broadcastId)));
    } finally {
      await engine.stop();
    }
    expect((await h.get(broadcastId)).counts).toEqual({ sent: 2 });
  });
});

describe('a re-send at one time of more than a day’s limit', () => {
  it('says how many do not fit and will fail again, rather than promise them all', async () => {
    const { channelId, broadcastId } = await quotaBroadcast(h, {
      channelName: 'Una sola vez',
      dailyQuota: 10,
      count: 25,
      tag: 'una vez',
      segment: 'Una vez',
      name: 'Todo de una',
      start: 300_000,
    });
    await h.schedule(broadcastId);
    await h.engine().runUntilIdle();
    expect((await h.get(broadcastId)).failedByReason).toEqual({ quota_reached: 15 });
    // A day later: the limit is free again, and the failures' wait is over.
    await h.server.database.db.run(
      sql`UPDATE quota_ledger SET last_sent_at = last_sent_at - ${DAY_MS + 60_000} WHERE channel_id = ${channelId}`,
    );
    await h.server.database.db.run(
      sql`UPDATE messages SET retry_after_at = ${Date.now() - 1_000} WHERE broadcast_id = ${broadcastId}`,
    );
    const res = await h.server.request('POST', `/api/v1/broadcasts/${broadcastId}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', dryRun: true },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.warnings).toEqual([
      {
        code: 'quota_overflow',
        message:
          '5 de 15 destinatarios no caben en el límite diario (10 por día) a esa hora: volverán a fallar. «Cuando el reenvío pueda servir» los envía en tandas diarias.',
      },
    ]);
  });
});

describe('failures outside the window re-sent with a template', () => {
  it('take places in the daily limit: planned in its daily waves, not all at once', async () => {
    // Text alone: nobody wrote in the last 24 h, so all 25 fail outside the window and take no place.
    const { broadcastId } = await quotaBroadcast(h, {
      channelName: 'Sin plantilla',
      dailyQuota: 10,
      count: 25,
      tag: 'ventana',
      segment: 'Ventana',
      name: 'Solo texto',
      start: 400_000,
      content: { text: 'Hola' },
    });
    const b = { id: broadcastId };
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    expect((await h.get(b.id)).failedByReason).toEqual({ outside_window: 25 });

    // A manager re-sends them with an approved template: each takes a place in the 10-a-day limit.
    const res = await api('POST', `/broadcasts/${b.id}/resend`, { content: S1_TEMPLATE, dryRun: true });
    expect(res.status, res.text).toBe(200);
    const plan = res.body.plan as { at: string; count: number }[];
    expect(plan.map((p) => p.count)).toEqual([10, 10, 5]);
    const [first, second, third] = plan.map((p) => Date.parse(p.at)) as [number, number, number];
    expect(first).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(second - first).toBeGreaterThanOrEqual(DAY_MS);
    expect(third - second).toBeGreaterThanOrEqual(DAY_MS);
  });
});

describe('asking again while template waves hold the limit', () => {
  it('the rest waits for the waves ahead, whichever reason they were planned for', async () => {
    const { broadcastId } = await quotaBroadcast(h, {
      channelName: 'Tandas de plantilla',
      dailyQuota: 10,
      count: 75,
      tag: 'tandas',
      segment: 'Tandas',
      name: 'Solo texto, muchos',
      start: 500_000,
      content: { text: 'Hola' },
    });
    const b = { id: broadcastId };
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    // Seven daily waves of 10 with the template; 5 past the last wave stay failed.
    const first = await api('POST', `/broadcasts/${b.id}/resend`, { content: S1_TEMPLATE });
    expect(first.status, first.text).toBe(200);
    expect(first.body.recipients).toBe(70);
    // Asked again: those 5 wait for the waves ahead, which hold the limit; nothing goes now.
    const again = await api('POST', `/broadcasts/${b.id}/resend`, {
      content: S1_TEMPLATE,
      reasons: ['outside_window'],
      dryRun: true,
    });
    // Nothing new is planned: the answer is the plan already written (before, 5 more went now, past the limit).
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ reused: true, recipients: 70 });
  });
});
