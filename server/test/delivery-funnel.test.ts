/**
 * The delivery funnel (migration 0011): sent → delivered → read from the providers' signed reports,
 * kept per broadcast as the other counts are, whatever order the reports arrive in and however often.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import type { Broadcast } from '@rebound/shared';
import { startMessengerSimulator } from '@rebound/simulators';
import { signedMetaRequest, whatsappStatusWebhook } from '@rebound/simulators/whatsapp';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../src/db/schema';
import { type Harness, harness, S1_TEMPLATE, until, WA, whatsappSimulator } from './engine/harness';
import { ALL_MIGRATIONS, migrationsBefore } from './migrations-before';

let h: Harness;
const phone = (n: number) => `+54911${50000000 + n}`;

beforeAll(async () => {
  h = await harness();
});

describe('the delivery funnel', () => {
  it('counts sent, delivered, read and failed from the reports, out of order and repeated', async () => {
    const sim = await whatsappSimulator(h);
    // The reports are posted below, one by one, rather than by the simulator.
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WhatsApp embudo',
      credentials: WA,
      baseUrl: sim.baseUrl,
    });
    await h.seedContacts(6, 'embudo');
    sim.script(phone(5).slice(1), { kind: 'fail', code: '131026' });
    const segment = await h.segment('Embudo', 'embudo');
    const broadcast = await h.broadcast({
      name: 'Embudo',
      channelId: channel.id,
      segmentId: segment.id,
      content: S1_TEMPLATE,
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();

    const { db } = h.server.database;
    const rows = await db.all<{ id: number; identifier: string; provider_message_id: string | null }>(
      sql`SELECT id, identifier, provider_message_id FROM messages WHERE broadcast_id = ${broadcast.id}`,
    );
    const report = async (n: number, status: 'delivered' | 'read') => {
      const message = rows.find((r) => r.identifier === phone(n));
      const hook = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId: message?.provider_message_id ?? `wamid.none.${n}`,
        recipient: phone(n),
        clientRef: String(message?.id),
        status,
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { changed: number }).changed;
    };
    const funnel = async () => {
      const detail = (await h.get(broadcast.id)) as Broadcast;
      const listed = (
        await h.server.request('GET', '/api/v1/broadcasts?limit=50', { token: h.ws.tokens.agent })
      ).body.data.find((b: Broadcast) => b.id === broadcast.id) as Broadcast;
      expect(listed.funnel).toEqual(detail.funnel);
      return detail.funnel;
    };

    expect(await funnel()).toEqual({ sent: 5, delivered: 0, read: 0, failed: 1 });
    expect(await report(0, 'delivered')).toBe(1);
    expect(await report(1, 'delivered')).toBe(1);
    expect(await report(1, 'read')).toBe(1);
    // A repeated read changes nothing.
    expect(await report(1, 'read')).toBe(0);
    // Read before its "delivered": delivered and read at once; the late "delivered" changes nothing.
    expect(await report(2, 'read')).toBe(1);
    expect(await report(2, 'delivered')).toBe(0);
    // A failed message is never read.
    expect(await report(5, 'read')).toBe(0);
    expect(await funnel()).toEqual({ sent: 5, delivered: 3, read: 2, failed: 1 });

    const stored = await db.all<{ identifier: string; state: string; delivered: number; read: number }>(
      sql`SELECT identifier, state, delivered_at IS NOT NULL AS delivered, read_at IS NOT NULL AS read
        FROM messages WHERE broadcast_id = ${broadcast.id} ORDER BY identifier`,
    );
    expect(stored.map((r) => [r.state, r.delivered, r.read])).toEqual([
      ['delivered', 1, 0],
      ['delivered', 1, 1],
      ['delivered', 1, 1],
      ['sent', 0, 0],
      ['sent', 0, 0],
      ['failed', 0, 0],
    ]);
    // The kept count is what the rows say.
    const kept = await db.all<{ n: number }>(sql`SELECT n FROM broadcast_reads WHERE broadcast_id = ${broadcast.id}`);
    expect(kept[0]?.n).toBe(2);
  });

  it('says nothing of reads a channel never reports: null, not 0 (the sandbox reports deliveries only)', async () => {
    const channel = await h.channel({ type: 'sandbox', name: 'Pruebas embudo' });
    await h.seedContacts(3, 'embudo-sandbox', { start: 100 });
    const segment = await h.segment('Embudo sandbox', 'embudo-sandbox');
    const broadcast = await h.broadcast({
      name: 'Embudo sandbox',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toEqual({
      sent: 3,
      delivered: 3,
      read: null,
      failed: 0,
    });
  });

  it('Messenger: delivery by message ID, reading by watermark (everything sent to that person until then)', async () => {
    const FB = { pageAccessToken: 'fb-funnel', pageId: '555000999', appSecret: 'fb-funnel-secret', verifyToken: 'v' };
    const sim = await startMessengerSimulator({ ...FB });
    h.simulators.push(sim);
    const channel = await h.channel({
      type: 'messenger',
      name: 'Messenger embudo',
      credentials: FB,
      baseUrl: sim.baseUrl,
    });
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/messenger/${channel.id}`;
    // The simulator posts the signed reports itself: every message delivered, every other one read.
    sim.setDefault({ kind: 'deliverLater', delayMs: 20, readShare: 0.5 });
    for (const n of [1, 2, 3, 4]) {
      const res = await h.server.request('POST', '/api/v1/contacts', {
        token: h.ws.tokens.agent,
        body: {
          firstName: `Psid ${n}`,
          tags: ['embudo-fb'],
          identifiers: [{ channelId: channel.id, identifier: `psid-f${n}` }],
        },
      });
      expect(res.status).toBe(201);
    }
    const segment = await h.segment('Embudo Messenger', 'embudo-fb');
    const broadcast = await h.broadcast({
      name: 'Embudo Messenger',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', messengerTag: 'ACCOUNT_UPDATE' },
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    await until(async () => ((await h.get(broadcast.id)) as Broadcast).funnel.read === 2, 10_000);
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toEqual({ sent: 4, delivered: 4, read: 2, failed: 0 });
    const read = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM messages WHERE broadcast_id = ${broadcast.id} AND read_at IS NOT NULL ORDER BY identifier`,
    );
    expect(read).toHaveLength(2);

    // A watermark that is no time in milliseconds (missing, or seconds) marks nothing read.
    const [unread] = await h.server.database.db.all<{ identifier: string }>(
      sql`SELECT identifier FROM messages WHERE broadcast_id = ${broadcast.id} AND read_at IS NULL`,
    );
    for (const watermark of ['soon', Math.floor(Date.now() / 1000)]) {
      const at = Date.now();
      const hook = signedMetaRequest(FB.appSecret, {
        object: 'page',
        entry: [
          {
            id: FB.pageId,
            time: at,
            messaging: [
              { sender: { id: unread?.identifier }, recipient: { id: FB.pageId }, timestamp: at, read: { watermark } },
            ],
          },
        ],
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/messenger/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { changed: number }).changed).toBe(0);
    }
    expect(((await h.get(broadcast.id)) as Broadcast).funnel.read).toBe(2);
  });

  it('Messenger: a delivery receipt without message IDs delivers by its watermark, to that person only', async () => {
    const FB = { pageAccessToken: 'fb-mark', pageId: '555000777', appSecret: 'fb-mark-secret', verifyToken: 'v' };
    const sim = await startMessengerSimulator({ ...FB });
    h.simulators.push(sim);
    const channel = await h.channel({
      type: 'messenger',
      name: 'Messenger marca',
      credentials: FB,
      baseUrl: sim.baseUrl,
    });
    for (const n of [1, 2]) {
      const res = await h.server.request('POST', '/api/v1/contacts', {
        token: h.ws.tokens.agent,
        body: {
          firstName: `Psid ${n}`,
          tags: ['marca-fb'],
          identifiers: [{ channelId: channel.id, identifier: `psid-m${n}` }],
        },
      });
      expect(res.status).toBe(201);
    }
    const segment = await h.segment('Marca Messenger', 'marca-fb');
    const broadcast = await h.broadcast({
      name: 'Marca Messenger',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola', messengerTag: 'ACCOUNT_UPDATE' },
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toMatchObject({ sent: 2, delivered: 0 });
    // An older client's receipt: Meta leaves `mids` out, the watermark is always there.
    const deliver = async (watermark: number) => {
      const hook = signedMetaRequest(FB.appSecret, {
        object: 'page',
        entry: [
          {
            id: FB.pageId,
            time: Date.now(),
            messaging: [
              {
                sender: { id: 'psid-m1' },
                recipient: { id: FB.pageId },
                timestamp: Date.now(),
                delivery: { watermark },
              },
            ],
          },
        ],
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/messenger/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { changed: number }).changed;
    };
    // In seconds, it is no time at all: nothing moves.
    expect(await deliver(Math.floor(Date.now() / 1000))).toBe(0);
    expect(await deliver(Date.now())).toBe(1);
    const states = await h.server.database.db.all<{ identifier: string; state: string }>(
      sql`SELECT identifier, state FROM messages WHERE broadcast_id = ${broadcast.id} ORDER BY identifier`,
    );
    expect(states).toEqual([
      { identifier: 'psid-m1', state: 'delivered' },
      { identifier: 'psid-m2', state: 'sent' },
    ]);
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toMatchObject({ sent: 2, delivered: 1 });
  });

  it('a message the log holds as failed "uncertain" leaves the log when the provider says it was delivered or read', async () => {
    const sim = await whatsappSimulator(h);
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WhatsApp incierto',
      credentials: WA,
      baseUrl: sim.baseUrl,
    });
    await h.seedContacts(2, 'incierto', { start: 300 });
    const segment = await h.segment('Incierto', 'incierto');
    const broadcast = await h.broadcast({
      name: 'Incierto',
      channelId: channel.id,
      segmentId: segment.id,
      content: S1_TEMPLATE,
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const { db } = h.server.database;
    // Both reported failed with an unknown final state (as MessageBird's dlr:unknown is).
    await db.run(
      sql`UPDATE messages SET state = 'failed', reason = 'uncertain', failed_at = ${Date.now()} WHERE broadcast_id = ${broadcast.id}`,
    );
    const messages = await db.all<{ id: number; identifier: string; provider_message_id: string }>(
      sql`SELECT id, identifier, provider_message_id FROM messages WHERE broadcast_id = ${broadcast.id} ORDER BY id`,
    );
    const unconfirmed = async () =>
      (
        await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${broadcast.id}`, {
          token: h.ws.tokens.agent,
        })
      ).body.data.length;
    expect(await unconfirmed()).toBe(2);
    for (const [i, status] of [
      [0, 'delivered'],
      [1, 'read'],
    ] as const) {
      const message = messages[i];
      const hook = whatsappStatusWebhook({
        appSecret: WA.appSecret,
        phoneNumberId: WA.phoneNumberId,
        providerMessageId: message?.provider_message_id ?? '',
        recipient: message?.identifier ?? '',
        clientRef: String(message?.id),
        status,
      });
      const res = await fetch(`${h.server.baseUrl}/webhooks/whatsapp/${channel.id}`, {
        method: 'POST',
        headers: hook.headers,
        body: hook.body,
      });
      expect(await res.json()).toEqual({ ok: true, changed: 1 });
    }
    expect(await unconfirmed()).toBe(0);
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toEqual({ sent: 2, delivered: 2, read: 1, failed: 0 });
    expect(((await h.get(broadcast.id)) as Broadcast).failedByReason).toEqual({});
  });

  it('a broadcast made before reads were kept says its reads are unknown (null), not 0', async () => {
    // The migrations up to 0010 on a fresh file, a broadcast written, then 0011 applied.
    const dir = mkdtempSync(join(tmpdir(), 'rebound-0011-'));
    try {
      const all = ALL_MIGRATIONS;
      const before = migrationsBefore(dir, '0011');
      const client = createClient({ url: `file:${join(dir, 'old.db')}`, intMode: 'number' });
      const db = drizzle(client, { schema });
      await migrate(db, { migrationsFolder: before });
      await client.execute("INSERT INTO workspaces (name, created_at) VALUES ('w', 0)");
      await client.execute(
        "INSERT INTO channels (workspace_id, type, name, messages_per_second, created_at, updated_at) VALUES (1, 'whatsapp', 'c', 10, 0, 0)",
      );
      await client.execute(
        "INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at) VALUES (1, 'old', 1, '{}', 'completed', 0, 0)",
      );
      await migrate(db, { migrationsFolder: all });
      await client.execute(
        "INSERT INTO broadcasts (workspace_id, name, channel_id, content, status, created_at, updated_at) VALUES (1, 'new', 1, '{}', 'completed', 0, 0)",
      );
      const kept = (await client.execute('SELECT name, reads_kept FROM broadcasts ORDER BY id')).rows;
      expect(kept.map((r) => [r.name, r.reads_kept])).toEqual([
        ['old', 0],
        ['new', 1],
      ]);
      client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // And the API: such a broadcast on WhatsApp (which reports reads) shows read as null.
    const sim = await whatsappSimulator(h);
    sim.webhookUrl = undefined;
    const channel = await h.channel({
      type: 'whatsapp',
      name: 'WhatsApp antiguo',
      credentials: WA,
      baseUrl: sim.baseUrl,
    });
    await h.seedContacts(2, 'antiguo', { start: 200 });
    const segment = await h.segment('Antiguo', 'antiguo');
    const broadcast = await h.broadcast({
      name: 'Antiguo',
      channelId: channel.id,
      segmentId: segment.id,
      content: S1_TEMPLATE,
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    await h.server.database.db.run(sql`UPDATE broadcasts SET reads_kept = 0 WHERE id = ${broadcast.id}`);
    expect(((await h.get(broadcast.id)) as Broadcast).funnel).toEqual({ sent: 2, delivered: 0, read: null, failed: 0 });
  });
});
