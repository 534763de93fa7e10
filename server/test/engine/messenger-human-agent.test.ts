/**
 * Messenger's HUMAN_AGENT tag lets a person reply up to 7 days after the contact's last message, never
 * after (channels.md): the pre-flight, the engine and the re-send all read it so, where it was treated
 * as a tag that carries a message outside the window whenever it was sent.
 */
import { startMessengerSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { harness } from './harness';

const h = await harness();
const FB = {
  pageAccessToken: 'fb-page-token',
  pageId: '555000222',
  appSecret: 'fb-app-secret',
  verifyToken: 'fb-verify',
};
const HOUR = 3_600_000;

describe("Messenger's HUMAN_AGENT tag", () => {
  it('reaches those who wrote within 7 days; the ones silent for longer fail outside the window and are not re-sent at once', async () => {
    const fb = await startMessengerSimulator(FB);
    h.simulators.push(fb);
    const channel = await h.channel({ type: 'messenger', name: 'Página', credentials: FB, baseUrl: fb.baseUrl });
    // Wrote 2 hours, 3 days and 10 days ago.
    const wrote = [2 * HOUR, 72 * HOUR, 240 * HOUR];
    for (const [i, ago] of wrote.entries()) {
      const res = await h.server.request('POST', '/api/v1/contacts', {
        token: h.ws.tokens.agent,
        body: {
          firstName: `Cliente ${i}`,
          tags: ['soporte fb'],
          identifiers: [{ channelId: channel.id, identifier: `psid-${i}` }],
        },
      });
      expect(res.status, res.text).toBe(201);
      await h.server.database.db.run(sql`INSERT INTO conversation_windows (channel_id, identifier, last_inbound_at)
        VALUES (${channel.id}, ${`psid-${i}`}, ${Date.now() - ago})`);
    }
    const segment = await h.segment('Soporte FB', 'soporte fb');
    const broadcast = await h.broadcast({
      name: 'Respuesta del equipo',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Le escribe Lucía, del equipo de soporte.', messengerTag: 'HUMAN_AGENT' },
    });
    const pre = await h.server.request('GET', `/api/v1/broadcasts/${broadcast.id}/preflight`, {
      token: h.ws.tokens.agent,
    });
    expect(pre.body).toMatchObject({ outsideWindow: 1, willSend: 2 });

    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const messages = await h.messages(broadcast.id);
    expect(messages.map((m) => [m.identifier, m.state, m.reason])).toEqual([
      ['psid-0', 'sent', null],
      ['psid-1', 'sent', null],
      ['psid-2', 'failed', 'outside_window'],
    ]);
    // Sent again with the same tag, it would be refused again: the one-click re-send leaves it.
    const plan = await h.server.request('POST', `/api/v1/broadcasts/${broadcast.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { dryRun: true },
    });
    expect(plan.status).toBe(422);
    expect(plan.body.error).toMatchObject({ code: 'resend_nothing', details: { skipped: { outside_window: 1 } } });
  });
});
