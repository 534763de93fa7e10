/**
 * A contact merged into another while a re-send of its failure is scheduled: the re-send's audience is
 * its targets' contacts, and the merged one no longer exists. Its recipient silently dropped out (3
 * planned, 2 sent, nobody left), unless the target follows the person as the message history does.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resendFailed } from '../src/services/resend';
import { type Harness, harness, rowCounts, whatsappBroadcast, whatsappSimulator } from './engine/harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
const digits = (n: number) => `54911${50000000 + n}`;
const truth = (broadcastId: number) => rowCounts(h, broadcastId);

describe('merge during a re-send', () => {
  it('the merged contact’s failure goes out to the contact it was merged into', async () => {
    const sim = await whatsappSimulator(h);
    const o = await whatsappBroadcast(h, sim, { tag: 'merge', name: 'O', count: 3, rate: 5000 });
    // A contact outside the segment, to keep.
    await h.seedContacts(1, 'other', { start: 50, firstName: 'Keep' });
    for (let i = 0; i < 3; i++) sim.script(digits(i), { kind: 'fail', code: '131049' });
    await h.schedule(o.id);
    await h.engine().runUntilIdle();
    expect(await truth(o.id)).toEqual([{ state: 'failed', reason: 'recipient_limit', n: 3 }]);
    for (let i = 0; i < 3; i++) sim.script(digits(i), { kind: 'accept' });
    sim.script(digits(50), { kind: 'accept' });

    const resend = await h.server.request('POST', `/api/v1/broadcasts/${o.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['recipient_limit'] },
    });
    expect(resend.status, resend.text).toBe(200);
    const r = resend.body.broadcastId as number;

    const { db } = h.server.database;
    const [m] = await db.all<{ contact_id: number }>(
      sql`SELECT contact_id FROM messages WHERE broadcast_id = ${o.id} ORDER BY id LIMIT 1`,
    );
    const [k] = await db.all<{ id: number }>(sql`SELECT id FROM contacts WHERE first_name LIKE 'Keep%'`);
    const merged = await h.server.request('POST', '/api/v1/contacts/merge', {
      token: h.ws.tokens.manager,
      body: { keep: k?.id, merge: m?.contact_id },
    });
    expect(merged.status, merged.text).toBe(200);

    await h.engine().runUntilIdle();
    // The kept contact's own number got the message for the merged one.
    expect(await truth(r)).toEqual([{ state: 'sent', reason: null, n: 3 }]);
    expect(sim.requests.filter((req) => req.recipient === digits(50))).toHaveLength(1);
    const detailO = await h.get(o.id);
    expect(detailO.recovery?.attempts[0]?.recovered).toBe(3);
    expect(detailO.recovery?.left.total).toBe(0);
  });

  it('a merge asked while the re-send is being written waits for it, and the failure still goes to the contact kept', async () => {
    const sim = await whatsappSimulator(h);
    const o = await whatsappBroadcast(h, sim, { tag: 'merge-written', name: 'W', count: 3, rate: 5000, start: 200 });
    await h.seedContacts(1, 'other-written', { start: 250, firstName: 'Kept' });
    for (let i = 200; i < 203; i++) sim.script(digits(i), { kind: 'fail', code: '131049' });
    await h.schedule(o.id);
    await h.engine().runUntilIdle();
    for (let i = 200; i < 203; i++) sim.script(digits(i), { kind: 'accept' });
    sim.script(digits(250), { kind: 'accept' });
    const { db } = h.server.database;
    const [m] = await db.all<{ contact_id: number }>(
      sql`SELECT contact_id FROM messages WHERE broadcast_id = ${o.id} ORDER BY id LIMIT 1`,
    );
    const [k] = await db.all<{ id: number }>(sql`SELECT id FROM contacts WHERE first_name LIKE 'Kept%'`);

    // The plan has read its three; a manager merges one of them into another contact before they are written.
    let merged: Promise<{ status: number; text: string }> | undefined;
    const planned = await resendFailed(
      db,
      { workspaceId: h.ws.id, defaultCountry: 'AR' },
      o.id,
      { when: 'now', force: true, reasons: ['recipient_limit'] },
      Date.now(),
      {
        writeRows: 1,
        beforeWrite: async () => {
          merged = h.server.request('POST', '/api/v1/contacts/merge', {
            token: h.ws.tokens.manager,
            body: { keep: k?.id, merge: m?.contact_id },
          });
          // Long enough for a merge that does not wait to be done before the plan writes anything.
          await new Promise((resolve) => setTimeout(resolve, 500));
        },
      },
    );
    expect(planned.recipients).toBe(3);
    const answer = await merged;
    expect(answer?.status, answer?.text).toBe(200);

    await h.engine().runUntilIdle();
    expect(await truth(planned.broadcastId as number)).toEqual([{ state: 'sent', reason: null, n: 3 }]);
    expect(sim.requests.filter((req) => req.recipient === digits(250))).toHaveLength(1);
    expect((await h.get(o.id)).recovery?.left.total).toBe(0);
  });
});
