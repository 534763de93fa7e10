/**
 * The failed-message log's summary by text checks each failure's text where it is read (textMatcher): it
 * counts exactly what the log's pages (SQLite's GLOB with the folding classes) find, accents, case, GLOB's
 * own characters, phones by their digits; and a summary a workspace crafted against its own names (200 "a"
 * and a "b" typed) is answered at once: GLOB took the name's length times the text's on each of the
 * workspace's failures, minutes, while every other workspace's heavy work waited.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { foldPattern } from '../src/segments/fold';
import { foldContacts } from '../src/services/contact-store';
import { draftBroadcast } from './failed-log-helpers';
import { startTestServer } from './helpers';

const server = await startTestServer();
const { db } = server.database;

/** Failures of `names` (first, last, identifier, provider message) in a new workspace's broadcast. */
async function seed(name: string, rows: [string | null, string | null, string, string | null][]) {
  const ws = await server.workspace(name);
  const { broadcastId, channelId } = await draftBroadcast(server, ws.tokens.manager, name);
  await db.run(sql`INSERT INTO contacts (workspace_id, first_name, last_name, phone, phone_valid, custom_fields, created_at, updated_at)
    SELECT ${ws.id}, value ->> 0, value ->> 1, value ->> 2, 1, '{}', 0, 0 FROM json_each(${JSON.stringify(rows)})`);
  await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
      provider_code, attempts, next_attempt_at, failed_at, created_at, updated_at)
    SELECT workspace_id, ${broadcastId}, ${channelId}, id, phone, 'failed', 'provider_error', 'x', 1, 0, 1000 + id, 0, 0
    FROM contacts WHERE workspace_id = ${ws.id}`);
  for (const [, , identifier, words] of rows)
    if (words !== null)
      await db.run(sql`UPDATE messages SET provider_message = ${words}
        WHERE broadcast_id = ${broadcastId} AND identifier = ${identifier}`);
  return { ws, broadcastId };
}

describe("the log's text search", () => {
  it('finds what the GLOB of folding classes found: accents, case, its own characters, phones by their digits', async () => {
    const phone = (n: number) => `+5491155551${String(n).padStart(3, '0')}`;
    const names: [string | null, string | null, string, string | null][] = [
      ['José', 'Núñez', phone(1), null],
      ['JOSÉ', 'NUÑEZ', phone(2), 'Recipient blocked'],
      ['Ángel', null, phone(3), null],
      [null, 'Øystein', phone(4), null],
      ['Straße', 'Çelik', phone(5), null],
      ['a*b', 'x?y', phone(6), '[z] rechazado'],
      ['María del Carmen', 'Gómez', phone(7), 'Número inválido: año'],
      ['Ÿves', 'ýo', phone(8), null],
      ['Ana', 'Gomez', phone(9), 'ERROR 131026 NÚMERO'],
    ];
    const { ws, broadcastId } = await seed('Pliegues', names);
    const queries = [
      'jose',
      'NUÑEZ',
      'nunez',
      'ángel',
      'ANGEL',
      'ø',
      'Ø',
      'ß',
      'strasse',
      '*',
      '?',
      '[z',
      'a*b',
      'x?y',
    ];
    queries.push(
      'del c',
      'gomez',
      'numero',
      'AÑO',
      'ÿ',
      'yves',
      '11 5555-1005',
      '155551007',
      '+5491155551009',
      'celik',
    );
    // The contacts as written straight into the table (no folded copies: the GLOB), then folded (instr).
    for (const folded of [false, true]) {
      if (folded) expect(await foldContacts(db)).toBeGreaterThanOrEqual(names.length);
      await expectAsGlob(ws.tokens.agent, broadcastId, queries);
    }
  });

  /** Each query's page and summary find what the GLOB of folding classes finds, row for row. */
  async function expectAsGlob(token: string, broadcastId: number, queries: string[]) {
    for (const q of queries) {
      const pattern = foldPattern(q, true);
      const digits = /^[\d\s().+-]+$/.test(q) ? q.replace(/\D/g, '') : '';
      const expected = await db.all<{
        id: number;
      }>(sql`SELECT m.id FROM messages m LEFT JOIN contacts ct ON ct.id = m.contact_id
        WHERE m.broadcast_id = ${broadcastId} AND ((coalesce(ct.first_name, '') || ' ' || coalesce(ct.last_name, '')) GLOB ${pattern}
          OR instr(coalesce(m.identifier, ''), ${q}) > 0
          OR (${digits.length >= 3} AND instr(coalesce(m.identifier, ''), ${digits}) > 0)
          OR coalesce(m.provider_message, '') GLOB ${pattern})
        ORDER BY m.failed_at DESC, m.id DESC`);
      const search = encodeURIComponent(q);
      const page = await server.request('GET', `/api/v1/failed-messages?q=${search}&limit=100`, { token });
      expect(page.status, page.text).toBe(200);
      expect(
        page.body.data.map((m: { messageId: number }) => m.messageId),
        q,
      ).toEqual(expected.map((r) => r.id));
      const summary = await server.request('GET', `/api/v1/failed-messages/summary?q=${search}`, { token });
      expect(summary.body.total, q).toBe(expected.length);
    }
  }

  it('a summary by a search crafted against names of 200 letters answers at once', async () => {
    // 20,000 failures of contacts named "aaa…a aaa…ab"; typed: 198 "a" and a "b". Under GLOB each row
    // cost about 300 µs: the summary, which reads every failure, 6 s, the test's 5 s gone.
    // The last name ends in the "b" typed, so that no cheaper test in SQL can leave these rows out.
    const a = 'a'.repeat(100);
    const last = `${'a'.repeat(99)}b`;
    const rows = Array.from(
      { length: 20_000 },
      (_, i) => [a, last, `+54911${40_000_000 + i}`, null] as [string, string, string, null],
    );
    const { ws } = await seed('Nombres largos', rows);
    const q = `${'a'.repeat(198)}b`;
    const summary = await server.request('GET', `/api/v1/failed-messages/summary?q=${q}`, { token: ws.tokens.agent });
    expect(summary.status, summary.text).toBe(200);
    expect(summary.body.total).toBe(0);
    // A query that is there is found among them, as typed or with accents and capitals.
    const found = await server.request('GET', `/api/v1/failed-messages/summary?q=${'Á'.repeat(100)}`, {
      token: ws.tokens.agent,
    });
    expect(found.body.total).toBe(20_000);
  }, 5_000);
});
