/**
 * Disconnecting a channel: refused while a broadcast on it is unfinished (a disconnected channel went on
 * sending with its stored credentials); once disconnected, the reports of what it sent still land.
 */
import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDueRecoveries } from '../../src/engine/recovery';
import { gatedEngine, type Harness, harness, rowCounts, WA, whatsappBroadcast, whatsappSimulator } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});

describe('disconnecting a channel', () => {
  it('is refused while its broadcast sends; once it has finished it disconnects, a late failure of what it sent still lands, and nothing is re-sent on it', async () => {
    const sim = await whatsappSimulator(h);
    const broadcast = await whatsappBroadcast(h, sim, {
      tag: 'desconectar',
      count: 10,
      rate: 50,
      start: 500_000,
      autoRecovery: 1,
    });
    const channel = { id: broadcast.channelId };
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`;
    await h.schedule(broadcast.id);
    const { engine, open } = gatedEngine(h, 3);
    engine.start();
    const deadline = Date.now() + 10_000;
    while (sim.requests.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    const manager = { token: h.ws.tokens.manager, language: 'es' as const };
    const refused = await h.server.request('DELETE', `/api/v1/channels/${channel.id}`, manager);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'channel_in_use',
      message:
        'Este canal todavía tiene transmisiones sin terminar (programadas, enviándose o pausadas): 1. Cancélelas o espere a que terminen antes de desconectarlo.',
    });
    expect((await h.server.request('GET', `/api/v1/channels/${channel.id}`, manager)).status).toBe(200);

    // Once it has finished, the channel may go.
    open();
    while ((await h.get(broadcast.id)).status === 'sending' && Date.now() < deadline + 10_000)
      await new Promise((r) => setTimeout(r, 20));
    await engine.stop();
    expect((await h.get(broadcast.id)).status).toBe('completed');
    expect((await h.server.request('DELETE', `/api/v1/channels/${channel.id}`, manager)).status).toBe(200);

    // Meta reports later that one of the sent messages failed: the failed log still gets it.
    const [sent] = await h.server.database.db.all<{ id: number; identifier: string; provider_message_id: string }>(
      sql`SELECT id, identifier, provider_message_id FROM messages WHERE broadcast_id = ${broadcast.id}
        AND provider_message_id IS NOT NULL ORDER BY id LIMIT 1`,
    );
    expect(sent).toBeDefined();
    const signed = whatsappStatusWebhook({
      appSecret: WA.appSecret,
      phoneNumberId: WA.phoneNumberId,
      providerMessageId: String(sent?.provider_message_id),
      recipient: String(sent?.identifier).slice(1),
      status: 'failed',
      error: { code: '131000' },
    });
    const answer = await fetch(sim.webhookUrl ?? '', { method: 'POST', headers: signed.headers, body: signed.body });
    expect(answer.status).toBe(200);
    const after = (await h.messages(broadcast.id)).find((m) => m.id === sent?.id);
    expect(after).toMatchObject({ state: 'failed', provider_code: '131000' });
    // Automatic recovery would re-send it (a provider error), but not on a disconnected channel: no
    // re-send is planned there, however late it comes due.
    await runDueRecoveries(h.server.database.db, Date.now() + 7 * 24 * 3_600_000, () => {});
    const resends = await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${broadcast.id}`, manager);
    expect(resends.body.data).toEqual([]);
    // Nor by hand: the agent is told to choose another channel, and nothing is planned.
    for (const body of [{ when: 'now', force: true }, { dryRun: true }]) {
      const manual = await h.server.request('POST', `/api/v1/broadcasts/${broadcast.id}/resend`, {
        token: h.ws.tokens.agent,
        language: 'es',
        body,
      });
      expect(manual.status).toBe(409);
      expect(manual.body.error).toMatchObject({
        code: 'resend_channel_disconnected',
        message: 'El canal de esta transmisión fue desconectado: elija otro canal para el reenvío.',
      });
    }
  }, 30_000);

  it('a token rotated during a send is used from the next batch on, not after the whole broadcast', async () => {
    const sim = await whatsappSimulator(h);
    // Four a second, four a batch: three seconds of sending.
    const broadcast = await whatsappBroadcast(h, sim, { tag: 'rotado', count: 12, rate: 4, start: 510_000 });
    const channel = { id: broadcast.channelId };
    await h.schedule(broadcast.id);
    // Two sends in flight, four a batch: the lane goes on batch by batch, as a long broadcast does.
    const engine = h.engine({ maxBatch: 4, concurrency: 2 });
    engine.start();
    const deadline = Date.now() + 10_000;
    while (sim.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // The owner rotates the token (the old one leaked): this simulator knows only the old one, so every
    // send made with the new one is refused, which shows which token each send carried.
    const rotated = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.owner,
      body: { credentials: { accessToken: 'rotated-token' } },
    });
    expect(rotated.status).toBe(200);
    while (
      !['completed', 'partially_failed', 'failed'].includes((await h.get(broadcast.id)).status) &&
      Date.now() < deadline + 10_000
    )
      await new Promise((r) => setTimeout(r, 50));
    await engine.stop();
    // The sends in hand when it changed went with the old token; every one after carried the new one,
    // which this simulator refuses (an account problem, as Meta's 190 is).
    const states = await rowCounts(h, broadcast.id);
    const sent = states.find((r) => r.state === 'sent')?.n ?? 0;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(8);
    expect(states.find((r) => r.state === 'failed')).toMatchObject({ reason: 'account_problem', n: 12 - sent });
  }, 30_000);

  it('a rename during a send delays nobody: the batch claimed next is not held for the pair rate', async () => {
    const sim = await whatsappSimulator(h);
    // One message per contact an hour: a batch handed back after its claim noted the contacts as sent to
    // would wait that hour.
    const broadcast = await whatsappBroadcast(h, sim, {
      tag: 'renombrado',
      count: 12,
      rate: 4,
      start: 520_000,
      pairRatePerRecipientSeconds: 3600,
    });
    const channel = { id: broadcast.channelId };
    await h.schedule(broadcast.id);
    const engine = h.engine({ maxBatch: 4, concurrency: 2 });
    engine.start();
    const deadline = Date.now() + 15_000;
    while (sim.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const renamed = await h.server.request('PATCH', `/api/v1/channels/${channel.id}`, {
      token: h.ws.tokens.manager,
      body: { name: 'WhatsApp ventas' },
    });
    expect(renamed.status).toBe(200);
    while ((await h.get(broadcast.id)).status === 'sending' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await engine.stop();
    expect(await h.get(broadcast.id)).toMatchObject({ status: 'completed' });
    expect(sim.requests).toHaveLength(12);
  }, 30_000);
});
