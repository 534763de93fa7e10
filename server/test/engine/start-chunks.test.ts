/**
 * A broadcast's audience is frozen a chunk per transaction under a start lease: the result is the
 * same recipients, reasons and duplicates as a freeze in one go, two engines starting it at once freeze
 * each contact once, and an engine that dies mid-freeze leaves the rest to another once its lease ran out.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client';
import { type Harness, harness } from './harness';

let h: Harness;
let sandbox: number;
let segmentId: number;
const AUDIENCE = 40;

beforeAll(async () => {
  h = await harness();
  sandbox = (await h.channel({ type: 'sandbox', name: 'Trozos' })).id;
  await h.seedContacts(AUDIENCE, 'trozos', { start: 70_000 });
  // Duplicates across the whole list (contacts 0-4 share their phone with 20-24), five invalid numbers,
  // five without a phone, one opted out.
  const ids = (
    await h.server.database.db.all<{ id: number }>(
      sql`SELECT c.id FROM contacts c JOIN contact_tags ct ON ct.contact_id = c.id JOIN tags t ON t.id = ct.tag_id
        WHERE t.key = 'trozos' ORDER BY c.id`,
    )
  ).map((r) => Number(r.id));
  const db = h.server.database.db;
  for (let i = 0; i < 5; i++) {
    await db.run(
      sql`UPDATE contacts SET phone = (SELECT phone FROM contacts WHERE id = ${ids[i]}) WHERE id = ${ids[20 + i]}`,
    );
    await db.run(sql`UPDATE contacts SET phone = ${`abc${i}`}, phone_valid = 0 WHERE id = ${ids[10 + i]}`);
    await db.run(sql`UPDATE contacts SET phone = NULL, phone_valid = NULL WHERE id = ${ids[30 + i]}`);
  }
  await db.run(sql`INSERT INTO opt_outs (channel_id, identifier, at, source)
    SELECT ${sandbox}, phone, 0, 'api' FROM contacts WHERE id = ${ids[39]}`);
  segmentId = (await h.segment('Trozos', 'trozos')).id;
});

async function scheduled(name: string): Promise<number> {
  const broadcast = await h.broadcast({ name, channelId: sandbox, segmentId, content: { text: 'Hola' } });
  await h.schedule(broadcast.id);
  return broadcast.id;
}

/** Each contact's frozen row: state and reason, by contact. */
async function frozen(broadcastId: number) {
  return h.server.database.db.all<{ contact_id: number; state: string; reason: string | null; n: number }>(
    sql`SELECT contact_id, state, reason, count(*) AS n FROM messages WHERE broadcast_id = ${broadcastId}
      GROUP BY contact_id ORDER BY contact_id`,
  );
}

async function status(broadcastId: number) {
  return (await h.get(broadcastId)) as { status: string; reconciliation: Record<string, number> };
}

/** The test database as a process sees it that is killed after `transactions` transactions. */
function dyingAfter(transactions: number): Database {
  let count = 0;
  return new Proxy(h.server.database.db, {
    get(target, property, receiver) {
      if (property === 'transaction') {
        return (...args: unknown[]) => {
          if (++count > transactions) return Promise.reject(new Error('process killed'));
          return (target.transaction as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  }) as Database;
}

describe('starting a broadcast a chunk at a time', () => {
  it('three contacts per chunk freeze what one chunk does: duplicates, invalid, no phone, opted out', async () => {
    const whole = await scheduled('De una vez');
    await h.engine({ workerId: 'whole' }).startBroadcast(whole);
    const chunked = await scheduled('En trozos');
    await h.engine({ workerId: 'chunks', freezeRows: 3 }).startBroadcast(chunked);
    const a = await frozen(whole);
    const b = await frozen(chunked);
    expect(a).toHaveLength(AUDIENCE);
    expect(b).toEqual(a);
    const reasons = a.reduce<Record<string, number>>((all, r) => {
      all[r.reason ?? r.state] = (all[r.reason ?? r.state] ?? 0) + 1;
      return all;
    }, {});
    expect(reasons).toEqual({ queued: 24, duplicate: 5, invalid_identifier: 5, no_identifier: 5, opted_out: 1 });
    expect((await status(chunked)).status).toBe('sending');
    expect((await status(chunked)).reconciliation).toEqual((await status(whole)).reconciliation);
    // Counted by country three recipients at a time too: the 24 who will receive it, each once.
    const mixes = await h.server.database.db.all<{ mix: string }>(
      sql`SELECT country_mix AS mix FROM broadcasts WHERE id IN (${whole}, ${chunked}) ORDER BY id`,
    );
    const [wholeMix, chunkedMix] = mixes.map((r) => JSON.parse(r.mix) as Record<string, number>);
    expect(chunkedMix).toEqual(wholeMix);
    expect(Object.values(chunkedMix ?? {}).reduce((a, b) => a + b, 0)).toBe(24);
    const starts = await h.server.database.db.all(sql`SELECT * FROM broadcast_starts`);
    expect(starts).toEqual([]);
  });

  it('two engines starting it at once freeze each contact once', async () => {
    const id = await scheduled('Dos a la vez');
    await Promise.all([
      h.engine({ workerId: 'uno', freezeRows: 2 }).startBroadcast(id),
      h.engine({ workerId: 'dos', freezeRows: 2 }).startBroadcast(id),
    ]);
    const rows = await frozen(id);
    expect(rows).toHaveLength(AUDIENCE);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect((await status(id)).status).toBe('sending');
  });

  it('an engine that dies mid-freeze: nothing sends, and another finishes it once its lease ran out', async () => {
    const id = await scheduled('Interrumpida');
    const reference = await frozen(
      (await h.server.database.db.get<{ id: number }>(sql`SELECT id FROM broadcasts WHERE name = 'De una vez'`))?.id ??
        0,
    );
    // Its database stops taking transactions after the claim and two chunks.
    const dying = dyingAfter(3);
    const leaseMs = 60_000;
    await expect(h.engine({ db: dying, workerId: 'muere', freezeRows: 4, leaseMs }).startBroadcast(id)).rejects.toThrow(
      'process killed',
    );
    const partial = await frozen(id);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(AUDIENCE);
    expect((await status(id)).status).toBe('scheduled');
    // Another engine right away: the lease is still held, it leaves the start alone.
    await h.engine({ workerId: 'otra', freezeRows: 4, leaseMs }).startBroadcast(id);
    expect(await frozen(id)).toEqual(partial);
    // Once the lease ran out it goes on from where the first stopped.
    await h
      .engine({ workerId: 'otra', freezeRows: 4, leaseMs, clock: () => Date.now() + leaseMs + 1000 })
      .startBroadcast(id);
    const rows = await frozen(id);
    expect(rows.map(({ state, reason, n }) => ({ state, reason, n }))).toEqual(
      reference.map(({ state, reason, n }) => ({ state, reason, n })),
    );
    expect((await status(id)).status).toBe('sending');
  });

  /**
   * Eight contacts (phones from +54911 500 `start`) frozen three at a time: the start and the first chunk,
   * then the process dies; `move` changes the first contact's phone meanwhile; another engine finishes
   * once the lease ran out. Returns each contact's frozen rows.
   */
  async function freezeAroundAMove(tag: string, start: number, move: (contactId: number) => Promise<void>) {
    await h.seedContacts(8, tag, { start });
    const segment = await h.segment(tag, tag);
    const broadcast = await h.broadcast({
      name: tag,
      channelId: sandbox,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcast.id);
    const leaseMs = 60_000;
    await expect(
      h.engine({ db: dyingAfter(2), workerId: `${tag} muere`, freezeRows: 3, leaseMs }).startBroadcast(broadcast.id),
    ).rejects.toThrow('process killed');
    const [first] = await h.server.database.db.all<{ contact_id: number }>(
      sql`SELECT contact_id FROM messages WHERE broadcast_id = ${broadcast.id} AND identifier = ${`+54911500${start}`}`,
    );
    expect(first).toBeDefined();
    await move(Number(first?.contact_id));
    await h
      .engine({ workerId: `${tag} sigue`, freezeRows: 3, leaseMs, clock: () => Date.now() + leaseMs + 1000 })
      .startBroadcast(broadcast.id);
    return frozen(broadcast.id);
  }

  it('a contact whose phone moves past the chunks frozen so far is frozen once, not twice', async () => {
    // Meanwhile an agent corrects the first contact's phone to one after every other.
    const rows = await freezeAroundAMove('mueve', 71_000, async (contactId) => {
      const patched = await h.server.request('PATCH', `/api/v1/contacts/${contactId}`, {
        token: h.ws.tokens.agent,
        body: { phone: '+5491150071009' },
      });
      expect(patched.status, patched.text).toBe(200);
    });
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('a phone an import undo puts back mid-freeze (with its old updated_at) is frozen once too', async () => {
    // As services/import-undo.ts writes it: the phone the import had changed, and the contact's old updated_at.
    const rows = await freezeAroundAMove('deshecho', 72_000, async (contactId) => {
      await h.server.database.db.run(
        sql`UPDATE contacts SET phone = '+5491150072009', updated_at = 0 WHERE id = ${contactId}`,
      );
    });
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('cancelled mid-freeze: nothing it froze stays queued, and nobody goes on with it', async () => {
    const id = await scheduled('Cancelada a medias');
    const dying = dyingAfter(3);
    await expect(h.engine({ db: dying, workerId: 'corta', freezeRows: 4 }).startBroadcast(id)).rejects.toThrow();
    expect((await frozen(id)).length).toBeGreaterThan(0);
    const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${id}/cancel`, { token: h.ws.tokens.manager });
    expect(cancelled.status, cancelled.text).toBe(200);
    await h.engine({ workerId: 'despues', freezeRows: 4, clock: () => Date.now() + 120_000 }).startBroadcast(id);
    const states = await h.server.database.db.all<{ state: string }>(
      sql`SELECT DISTINCT state FROM messages WHERE broadcast_id = ${id} ORDER BY state`,
    );
    expect(states.map((r) => r.state)).not.toContain('queued');
    expect((await status(id)).status).toBe('cancelled');
    expect(await h.server.database.db.all(sql`SELECT * FROM broadcast_starts WHERE broadcast_id = ${id}`)).toEqual([]);
  });
});
