/**
 * A contact left out as a duplicate shares its number with a contact the broadcast sent to: that contact's
 * own row is the number's. A re-send the agent asks for duplicates must not send the number the message a
 * second time; a duplicate given a number of its own since is reached.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, rowCounts, whatsappBroadcast, whatsappSimulator } from './engine/harness';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});

const digits = (n: number) => `54911${50000000 + n}`;

async function sentWithADuplicate(tag: string, start: number) {
  const sim = await whatsappSimulator(h);
  const { id } = await whatsappBroadcast(h, sim, { tag, count: 3, rate: 5000, start });
  const { db } = h.server.database;
  // The second contact shares the first one's number: the broadcast sends it once, to the first.
  await db.run(sql`UPDATE contacts SET phone = ${`+${digits(start)}`} WHERE phone = ${`+${digits(start + 1)}`}`);
  await h.schedule(id);
  await h.engine().runUntilIdle();
  expect(await rowCounts(h, id)).toEqual([
    { state: 'excluded', reason: 'duplicate', n: 1 },
    { state: 'sent', reason: null, n: 2 },
  ]);
  return { sim, id, db };
}

const resendDuplicates = (id: number) =>
  h.server.request('POST', `/api/v1/broadcasts/${id}/resend`, {
    token: h.ws.tokens.agent,
    body: { when: 'now', reasons: ['duplicate'] },
  });

describe('a re-send of duplicate contacts', () => {
  it('still sharing the number that got the message: nothing to send, and the answer says why', async () => {
    const { sim, id } = await sentWithADuplicate('dup-shared', 1100);
    const before = sim.requests.length;
    const resend = await resendDuplicates(id);
    expect(resend.status, resend.text).toBe(422);
    expect(resend.body.error.code).toBe('resend_nothing');
    expect(resend.body.error.details).toMatchObject({ skipped: { duplicate: 1 } });
    await h.engine().runUntilIdle();
    expect(sim.requests.slice(before).map((r) => r.recipient)).toEqual([]);
    expect(sim.requests.filter((r) => r.recipient === digits(1100))).toHaveLength(1);
  });

  it('given a number of its own since: the re-send reaches that number', async () => {
    const { sim, id, db } = await sentWithADuplicate('dup-fixed', 1200);
    const [duplicate] = await db.all<{ contact_id: number }>(
      sql`SELECT contact_id FROM messages WHERE broadcast_id = ${id} AND reason = 'duplicate'`,
    );
    await db.run(sql`UPDATE contacts SET phone = ${`+${digits(1203)}`} WHERE id = ${duplicate?.contact_id}`);
    const before = sim.requests.length;
    const resend = await resendDuplicates(id);
    expect(resend.status, resend.text).toBe(200);
    expect(resend.body.recipients).toBe(1);
    await h.engine().runUntilIdle();
    expect(sim.requests.slice(before).map((r) => r.recipient)).toEqual([digits(1203)]);
  });
});
