/**
 * A text search of the failed-message log reads a budget of failures per page at most, smaller for a
 * longer search (searchBudget: letters typed times failures read within 30,000): a rare
 * name deep in a big broadcast is found by following nextCursor (pages may be short, even empty), and
 * following the cursors gives exactly the matching failures, newest first, once each, for one
 * broadcast and for several.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { searchBudget } from '../src/services/failures';
import { draftBroadcast } from './failed-log-helpers';
import { startTestServer } from './helpers';

const server = await startTestServer();
const { db } = server.database;

const ws = await server.workspace('Búsqueda');
const token = ws.tokens.agent;
const A = await draftBroadcast(server, ws.tokens.manager, 'Grande A');
const B = await draftBroadcast(server, ws.tokens.manager, 'Grande B');
// 25,000 contacts; failures alternate between the two broadcasts, the oldest first. The one "Zoe
// Rara" is the oldest failure of A, behind more than twice the budget of newer ones.
const CONTACTS = 25_000;
await db.run(sql`INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, custom_fields, created_at, updated_at)
  SELECT ${ws.id}, CASE WHEN value = 0 THEN 'Zoe' ELSE 'Cliente ' || value END, CASE WHEN value = 0 THEN 'Rara' END,
    '+54911' || (30000000 + value), 1, '{}', 0, 0 FROM generate_series(0, ${CONTACTS - 1})`);
await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
    provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
  SELECT workspace_id, CASE WHEN id % 2 = 0 OR first_name = 'Zoe' THEN ${A.broadcastId} ELSE ${B.broadcastId} END,
    ${A.channelId}, id, phone, 'failed', 'blocked', '131031', 'blocked by the recipient', 1, 0, 1000 + id, 0, 0
  FROM contacts WHERE workspace_id = ${ws.id}`);

/** Every page of a query, following nextCursor, with how many pages it took. */
async function follow(query: string) {
  const rows: { messageId: number; failedAt: string; contact: { name: string | null } }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await server.request(
      'GET',
      `/api/v1/failed-messages?${query}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    expect(res.status, res.text).toBe(200);
    rows.push(...res.body.data);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 500);
  return { rows, pages };
}

/** The matching failures as the database has them, newest first. */
async function truth(broadcastIds: number[], q: string) {
  const rows = await db.all<{ id: number }>(sql`SELECT m.id FROM messages m JOIN contacts c ON c.id = m.contact_id
    WHERE m.broadcast_id IN ${broadcastIds}
      AND instr(lower(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')), ${q}) > 0
    ORDER BY m.failed_at DESC, m.id DESC`);
  return rows.map((row) => row.id);
}

describe('searching the failed-message log within a budget', () => {
  it('a rare name behind more than twice the budget: short pages with a cursor, then the row', async () => {
    const budget = searchBudget('zoe rara');
    expect(CONTACTS / 2).toBeGreaterThan(budget * 2);
    const first = await server.request('GET', `/api/v1/failed-messages?broadcastId=${A.broadcastId}&q=zoe%20rara`, {
      token,
    });
    expect(first.status).toBe(200);
    // Nothing in the newest `budget` failures of A: the page says so at once and offers to read on.
    expect(first.body.data).toEqual([]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const { rows, pages } = await follow(`broadcastId=${A.broadcastId}&q=zoe%20rara`);
    expect(rows.map((row) => row.contact.name)).toEqual(['Zoe Rara']);
    expect(pages).toBe(Math.ceil(CONTACTS / 2 / budget));
  });

  it('a page of several broadcasts shares the budget: it reads as much as a page of one', async () => {
    // Nobody matches: each page reads its budget and says so. One broadcast of 12,500: a page per budget;
    // two of 12,500 each, read half the budget a page each: twice the pages (reading the budget of each,
    // a page read twice the budget).
    const budget = searchBudget('nadie asi');
    const one = await follow(`broadcastId=${A.broadcastId}&q=nadie%20asi`);
    expect(one.pages).toBe(Math.ceil(CONTACTS / 2 / budget));
    const both = await follow(`broadcastId=${A.broadcastId}&broadcastId=${B.broadcastId}&q=nadie%20asi`);
    expect(both.rows).toEqual([]);
    expect(both.pages).toBe(Math.ceil(CONTACTS / 2 / Math.ceil(budget / 2)));
  });

  it('a long search reads fewer failures a page: letters typed times failures read stay within 30,000', async () => {
    // A name's GLOB costs its length times the typed text's on each row: 39 letters read 769 failures a
    // page, not 10,000 (names crafted to almost match held the read thread 1 to 3 s a page).
    const long = 'cliente '.repeat(5).trim();
    expect([...long].length).toBe(39);
    const read = Math.floor(30_000 / 39);
    expect(searchBudget('abc')).toBe(10_000);
    const first = await server.request(
      'GET',
      `/api/v1/failed-messages?broadcastId=${A.broadcastId}&q=${encodeURIComponent(long)}`,
      { token },
    );
    expect(first.body.data).toEqual([]);
    // The page's cursor stops after `read` failures of A, newest first.
    const newest = await db.all<{ failed_at: number; id: number }>(sql`SELECT failed_at, id FROM messages
      WHERE broadcast_id = ${A.broadcastId} ORDER BY failed_at DESC, id DESC LIMIT 1 OFFSET ${read - 1}`);
    const edge = newest[0] as { failed_at: number; id: number };
    expect(Buffer.from(first.body.nextCursor, 'base64url').toString()).toBe(`${edge.failed_at}:${edge.id}`);
    expect((await follow(`broadcastId=${A.broadcastId}&q=${encodeURIComponent(long)}`)).pages).toBe(
      Math.ceil(CONTACTS / 2 / read),
    );
    // A long search still finds what is there.
    const words = await server.request(
      'GET',
      `/api/v1/failed-messages?broadcastId=${A.broadcastId}&q=${encodeURIComponent('Blocked by the recipient')}&limit=50`,
      { token },
    );
    expect(words.body.data).toHaveLength(50);
  });

  it('following the cursors gives every match once, newest first: one broadcast and two', async () => {
    // "cliente 1" matches about one contact in nine, spread over both broadcasts.
    const one = await follow(`broadcastId=${A.broadcastId}&q=cliente%201`);
    expect(one.rows.map((row) => row.messageId)).toEqual(await truth([A.broadcastId], 'cliente 1'));
    const both = await follow(`broadcastId=${A.broadcastId}&broadcastId=${B.broadcastId}&q=cliente%201`);
    const expected = await truth([A.broadcastId, B.broadcastId], 'cliente 1');
    expect(expected.length).toBeGreaterThan(2000);
    expect(both.rows.map((row) => row.messageId)).toEqual(expected);
    // A rare match across both: the one row, after the pages the budget cut.
    const rare = await follow(`broadcastId=${A.broadcastId}&broadcastId=${B.broadcastId}&q=zoe`);
    expect(rare.rows.map((row) => row.contact.name)).toEqual(['Zoe Rara']);
    // The summary of the search counts each match once, over one broadcast and over both.
    const summary = async (query: string) =>
      (await server.request('GET', `/api/v1/failed-messages/summary?${query}&q=cliente%201`, { token })).body.total;
    expect(await summary(`broadcastId=${A.broadcastId}`)).toBe(one.rows.length);
    expect(await summary(`broadcastId=${A.broadcastId}&broadcastId=${B.broadcastId}`)).toBe(expected.length);
  });

  it('the whole workspace, no broadcast named: the same rows as the database', async () => {
    const all = await follow('q=cliente%202499');
    expect(all.rows.map((row) => row.messageId)).toEqual(await truth([A.broadcastId, B.broadcastId], 'cliente 2499'));
    expect(all.rows.length).toBe(11);
  });

  it('a broadcast whose failures are all newer than the rest does not end the pages early (log and CSV export)', async () => {
    // C's three failures are newer than all of A's 12,500: after the first page only A has rows left,
    // and a page of A alone filled to the limit used to come back with no cursor.
    const C = await draftBroadcast(server, ws.tokens.manager, 'Pequeña C');
    await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
        attempts, next_attempt_at, failed_at, created_at, updated_at)
      SELECT workspace_id, ${C.broadcastId}, ${C.channelId}, id, phone, 'failed', 'blocked', 1, 0, 10000000 + id, 0, 0
      FROM contacts WHERE workspace_id = ${ws.id} ORDER BY id LIMIT 3`);
    const expected = await db.all<{ id: number }>(sql`SELECT id FROM messages
      WHERE broadcast_id IN (${A.broadcastId}, ${C.broadcastId}) ORDER BY failed_at DESC, id DESC`);
    expect(expected.length).toBeGreaterThan(CONTACTS / 2);
    const both = await follow(`broadcastId=${A.broadcastId}&broadcastId=${C.broadcastId}`);
    expect(both.rows.map((row) => row.messageId)).toEqual(expected.map((row) => row.id));
    const exported = await server.request(
      'GET',
      `/api/v1/exports/failed-messages.csv?broadcastId=${A.broadcastId}&broadcastId=${C.broadcastId}`,
      { token },
    );
    expect(exported.status).toBe(200);
    const lines = exported.text.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length - 1).toBe(expected.length);
  }, 60_000);
});

describe('searching the log as agents type', () => {
  it('accents and case folded as a segment folds them, and a phone found by its digits as people write it', async () => {
    const other = await server.workspace('Acentos');
    const C = await draftBroadcast(server, other.tokens.manager, 'Acentos');
    const people: [string, string, string][] = [
      ['Ángel', 'Pérez', '+5491155551234'],
      ['José', 'Gómez', '+5491155559999'],
      ['Ana', 'Ruiz', '+5491144440000'],
    ];
    for (const [first, last, phone] of people)
      await db.run(sql`INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, custom_fields, created_at, updated_at)
        VALUES (${other.id}, ${first}, ${last}, ${phone}, 1, '{}', 0, 0)`);
    await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
        provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
      SELECT workspace_id, ${C.broadcastId}, ${C.channelId}, id, phone, 'failed', 'unreachable', '30003', 'Teléfono apagado',
        1, 0, 1000 + id, 0, 0 FROM contacts WHERE workspace_id = ${other.id}`);
    const names = async (q: string) => {
      const res = await server.request(
        'GET',
        `/api/v1/failed-messages?broadcastId=${C.broadcastId}&q=${encodeURIComponent(q)}`,
        { token: other.tokens.agent },
      );
      expect(res.status, res.text).toBe(200);
      return res.body.data.map((row: { contact: { name: string } }) => row.contact.name).sort();
    };
    expect(await names('Ángel')).toEqual(['Ángel Pérez']);
    expect(await names('angel perez')).toEqual(['Ángel Pérez']);
    expect(await names('GOMEZ')).toEqual(['José Gómez']);
    expect(await names('11 5555-1234')).toEqual(['Ángel Pérez']);
    expect(await names('telefono apagado')).toHaveLength(3);
  });
});
