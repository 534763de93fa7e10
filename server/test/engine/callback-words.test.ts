/**
 * A provider's words in a delivery callback reach the failed-message log, the extension and the CSV
 * export as the send path's own do: markup, control characters and bidirectional overrides become
 * spaces, and a long text is capped, whatever the (signed) callback carried.
 */
import { describe, expect, it } from 'vitest';
import { harness, whatsappBroadcast, whatsappReport, whatsappSimulator } from './harness';

const h = await harness();

describe("a failed status with hostile words in Meta's error details", () => {
  it('is stored cleaned and capped, and still classified by its code', async () => {
    const sim = await whatsappSimulator(h);
    const { id } = await whatsappBroadcast(h, sim, { tag: 'palabras', count: 1, rate: 1000, start: 880_000 });
    await h.schedule(id);
    await h.engine().runUntilIdle();
    const hostile = `<b>Bloqueado</b>\u202e\u0007 por el usuario ${'x'.repeat(10_000)}`;
    expect(await whatsappReport(h, id, '5491150880000', { status: 'failed', code: '131050', message: hostile })).toBe(
      200,
    );
    const [row] = await h.messages(id);
    expect(row).toMatchObject({ state: 'failed', reason: 'blocked', provider_code: '131050' });
    const log = await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${id}`, {
      token: h.ws.tokens.agent,
    });
    const [shown] = log.body.data as { providerMessage: string }[];
    expect(shown?.providerMessage.startsWith('Bloqueado por el usuario x')).toBe(true);
    // No markup, no bidirectional override, no bell.
    for (const hidden of ['<', '>', '\u202e', '\u0007']) expect(shown?.providerMessage).not.toContain(hidden);
    expect(shown?.providerMessage.length).toBeLessThanOrEqual(300);
  });
});
