/**
 * A status report without Rebound's own message ID (a WhatsApp failed status, Messenger, Twilio) finds
 * its recipient by the provider's message ID, through an index of the ID's last characters (migration
 * 0017): the right recipient only, and never by reading every message the channel sent.
 */

import { whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { providerIdMatch } from '../src/db/schema';
import { type Harness, harness, WA, whatsappBroadcast, whatsappSimulator } from './engine/harness';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});

describe('finding a recipient by the provider message ID', () => {
  it('moves only the recipient with that whole ID, even when another shares its last characters', async () => {
    const sim = await whatsappSimulator(h);
    // The reports are posted below, one by one, rather than by the simulator.
    sim.webhookUrl = undefined;
    const broadcast = await whatsappBroadcast(h, sim, { tag: 'colas', count: 3, rate: 1000 });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const { db } = h.server.database;
    const ids = async () =>
      db.all<{ id: number; channel_id: number; identifier: string; state: string }>(
        sql`SELECT id, channel_id, identifier, state FROM messages WHERE broadcast_id = ${broadcast.id} ORDER BY id`,
      );
    const [a, b] = await ids();
    if (!a || !b) throw new Error('the broadcast has no recipients');
    // Two IDs that differ only before their last 16 characters.
    const tail = 'RjVCM0Q0Q0Q2RTcA';
    await db.run(
      sql`UPDATE messages SET provider_message_id = ${`wamid.HBgLAAAAAAAAAAAAAAAAAAAAAAAA${tail}`} WHERE id = ${a.id}`,
    );
    await db.run(
      sql`UPDATE messages SET provider_message_id = ${`wamid.HBgLBBBBBBBBBBBBBBBBBBBBBBBB${tail}`} WHERE id = ${b.id}`,
    );

    const failedStatus = async (providerMessageId: string, recipient: string) => {
      // No biz_opaque_callback_data: Meta sends it on sent, delivered and read statuses, not failed ones.
      const hook = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId,
        recipient,
        status: 'failed',
        error: { code: '131026' },
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${b.channel_id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      return ((await res.json()) as { changed: number }).changed;
    };
    // An ID with the same tail that no recipient has moves nobody.
    expect(await failedStatus(`wamid.HBgLCCCCCCCCCCCCCCCCCCCCCCCC${tail}`, b.identifier)).toBe(0);
    expect(await failedStatus(`wamid.HBgLBBBBBBBBBBBBBBBBBBBBBBBB${tail}`, b.identifier)).toBe(1);
    const after = await ids();
    expect(after.map((m) => m.state)).toEqual(['sent', 'failed', 'sent']);
  });

  it('reads the index of the ID, not every message of the channel', async () => {
    const plan = await h.server.database.db.all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN SELECT id FROM messages WHERE ${providerIdMatch(1, 'wamid.HBgLMTIxMjU1NTEyMzQVAgARGBIyQjE2MTc1QjRDMjVBNzk4QTIA')}`,
    );
    const text = plan.map((row) => row.detail).join('\n');
    expect(text).toContain('USING INDEX messages_provider_tail_idx');
    expect(text).not.toMatch(/SCAN messages/);
  });
});
