/**
 * A channel's longest message (Twilio 1,600 characters, Messenger 2,000): a longer text would fail for
 * every recipient (Twilio 21617, Messenger 100), so it is refused up front with what to do, when the
 * broadcast is written, moved to such a channel, scheduled, or re-sent on one; a broadcast stored longer
 * before is warned of in its pre-flight.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { harness, WA } from './harness';

const h = await harness();
const TWILIO = { accountSid: `AC${'c'.repeat(32)}`, authToken: 'tw', from: '+15005550006' };

const manager = (method: 'POST' | 'PATCH' | 'GET', path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body, language: 'es' });

describe('a text longer than the channel takes in one message', () => {
  it('is refused with what to do when the broadcast is written, or moved to that channel', async () => {
    const sms = await h.channel({ type: 'twilio_sms', name: 'SMS ventas', credentials: TWILIO });
    const wa = await h.channel({ type: 'whatsapp', name: 'WA ventas', credentials: WA });
    await h.seedContacts(1, 'largo', { start: 870_000 });
    const segment = await h.segment('Largo', 'largo');
    const long = { text: 'a'.repeat(1601) };
    const refused = await manager('POST', '/broadcasts', {
      name: 'Largo',
      channelId: sms.id,
      segmentId: segment.id,
      content: long,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('broadcast_text_too_long');
    expect(refused.body.error.message).toBe(
      'El texto tiene 1.601 caracteres y el canal «SMS ventas» acepta como máximo 1.600 por mensaje: acórtelo, o envíelo por otro canal.',
    );
    // Counted as the provider counts: an emoji takes two (1,540 letters and 50 emoji are 1,640 for Twilio).
    const emoji = await manager('POST', '/broadcasts', {
      name: 'Con emojis',
      channelId: sms.id,
      segmentId: segment.id,
      content: { text: `${'a'.repeat(1540)}${'🎉'.repeat(50)}` },
    });
    expect(emoji.status).toBe(422);
    expect(emoji.body.error.message).toContain('El texto tiene 1.640 caracteres');
    const fits = await manager('POST', '/broadcasts', {
      name: 'Justo',
      channelId: sms.id,
      segmentId: segment.id,
      content: { text: 'a'.repeat(1600) },
    });
    expect(fits.status).toBe(201);
    // Fine on WhatsApp (4,096); not once moved to the SMS channel.
    const onWa = await manager('POST', '/broadcasts', {
      name: 'En WA',
      channelId: wa.id,
      segmentId: segment.id,
      content: { text: 'b'.repeat(3000) },
    });
    expect(onWa.status).toBe(201);
    const moved = await manager('PATCH', `/broadcasts/${onWa.body.id}`, { channelId: sms.id });
    expect(moved.status).toBe(422);
    expect((await h.get(onWa.body.id)).channelId).toBe(wa.id);
  });

  it('stored before the check: the pre-flight says so and scheduling is refused', async () => {
    const sms = await h.channel({ type: 'twilio_sms', name: 'SMS viejo', credentials: TWILIO });
    await h.seedContacts(1, 'viejo', { start: 870_100 });
    const segment = await h.segment('Viejo', 'viejo');
    const b = await h.broadcast({ name: 'Viejo', channelId: sms.id, segmentId: segment.id, content: { text: 'Hola' } });
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET content = ${JSON.stringify({ text: 'c'.repeat(1700) })} WHERE id = ${b.id}`,
    );
    const check = await manager('GET', `/broadcasts/${b.id}/preflight`);
    expect(check.body.warnings).toContainEqual({
      code: 'text_too_long',
      message:
        'El texto tiene 1.700 caracteres y este canal acepta como máximo 1.600 por mensaje: todos fallarían. Acórtelo antes de programar.',
    });
    const scheduled = await manager('POST', `/broadcasts/${b.id}/schedule`, {});
    expect(scheduled.status).toBe(422);
    expect(scheduled.body.error.code).toBe('broadcast_text_too_long');
  });

  it('a re-send on an SMS channel of a long WhatsApp text is refused with what to do', async () => {
    const sms = await h.channel({ type: 'twilio_sms', name: 'SMS respaldo', credentials: TWILIO });
    const channel = await h.channel({ type: 'sandbox', name: 'Sandbox largo', limits: { dailyQuota: 1 } });
    await h.seedContacts(2, 'reenvio largo', { start: 870_200 });
    const segment = await h.segment('Reenvío largo', 'reenvio largo');
    const b = await h.broadcast({
      name: 'Reenvío largo',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'd'.repeat(2000) },
    });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    const res = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { channelId: sms.id, reasons: ['quota_reached'], dryRun: true },
      language: 'es',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('broadcast_text_too_long');
  });
});
