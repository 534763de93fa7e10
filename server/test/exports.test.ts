/** The CSV exports: failed messages (the reference columns) and contacts, streamed with flat memory. */
import { CONTACT_EXPORT_COLUMNS, FAILED_EXPORT_COLUMNS, restoreFormulaCell } from '@rebound/shared';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { contactsCsv, failedMessagesCsv } from '../src/csv/export';
import type { Database } from '../src/db/client';
import { type Harness, harness, WA } from './engine/harness';
import { FAILED_EXPORT_EN as EN_HEADERS, FAILED_EXPORT_ES as ES_HEADERS } from './failed-export-headers';
import type { TestWorkspace } from './helpers';

const col = (header: string) => EN_HEADERS.indexOf(header);

let h: Harness;
let sandbox: number;
let other: TestWorkspace;
const ids: Record<string, number> = {};
let broadcastA: number;
let broadcastB: number;
let broadcastQuota: number;
let otherBroadcast: number;

async function post(token: string, path: string, body: unknown) {
  const res = await h.server.request('POST', path, { token, body });
  if (res.status >= 300) throw new Error(`${path} → ${res.status} ${res.text}`);
  return res.body;
}

/** A broadcast to everyone with the tag, run to the end. */
async function run(token: string, channelId: number, tag: string, content: Record<string, unknown> = { text: 'Hola' }) {
  const segment = await post(token, '/api/v1/segments', {
    name: `seg ${tag}`,
    filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: [tag] }] }] },
  });
  const broadcast = await post(token, '/api/v1/broadcasts', {
    name: `Export ${tag}`,
    channelId,
    segmentId: segment.id,
    content,
  });
  await post(token, `/api/v1/broadcasts/${broadcast.id}/schedule`, {});
  await h.engine().runUntilIdle();
  return broadcast.id as number;
}

/** GET a CSV (English unless asked) and parse it back with papaparse. */
async function csv(path: string, options: { token?: string; language?: 'es' | 'en' } = {}) {
  const res = await h.server.request('GET', path, {
    token: options.token ?? h.ws.tokens.agent,
    language: options.language ?? 'en',
  });
  const rows = Papa.parse<string[]>(res.text.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
  return { res, header: rows[0] ?? [], rows: rows.slice(1) };
}

beforeAll(async () => {
  h = await harness();
  sandbox = (await h.channel({ type: 'sandbox', name: 'Pruebas' })).id;
  const agent = h.ws.tokens.agent;
  const contact = async (key: string, body: Record<string, unknown>) => {
    ids[key] = (await post(agent, '/api/v1/contacts', body)).id;
  };
  // Broadcast A: one delivered, one duplicate, two malformed phones, one without a phone.
  await contact('ana', { firstName: 'Ana', phone: '+54 9 11 4000-0001', tags: ['exp a'] });
  await contact('anaAgain', { firstName: 'Ana', lastName: 'bis', phone: '011 15 4000-0001', tags: ['exp a'] });
  await contact('bad', { firstName: 'Malo', phone: '12345', tags: ['exp a'] });
  await contact('evil', { firstName: '=HYPERLINK("http://x")', phone: '999', tags: ['exp a'] });
  await contact('noPhone', { firstName: 'Sin teléfono', email: 'sin@example.com', tags: ['exp a'] });
  broadcastA = await run(h.ws.tokens.manager, sandbox, 'exp a');

  // Broadcast B on a second channel; its content starts like a formula.
  const second = (await h.channel({ type: 'sandbox', name: 'Pruebas 2' })).id;
  ids.second = second;
  await contact('badB', { firstName: 'Carla', phone: '4', tags: ['exp b'] });
  await contact('okB', { firstName: 'Dora', phone: '+5491140000009', tags: ['exp b'] });
  broadcastB = await run(h.ws.tokens.manager, second, 'exp b', { text: '=1+1 promo' });

  // Provider failures: a WhatsApp channel with room for one recipient a day.
  const sim = await startWhatsAppSimulator({
    accessToken: WA.accessToken,
    phoneNumberId: WA.phoneNumberId,
    appSecret: WA.appSecret,
  });
  h.simulators.push(sim);
  sim.webhookUrl = undefined;
  const wa = await h.channel({
    type: 'whatsapp',
    name: 'WhatsApp',
    credentials: WA,
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: 1, messagesPerSecond: 1000 },
  });
  ids.wa = wa.id;
  for (let i = 0; i < 3; i++)
    await contact(`wa${i}`, { firstName: `Wa ${i}`, phone: `+549114100000${i}`, tags: ['q'] });
  broadcastQuota = await run(h.ws.tokens.manager, wa.id, 'q', {
    text: '¡Black Friday!',
    template: { name: 'black_friday', language: 'es_AR', parameters: ['30%'] },
  });
  // What providers sometimes answer: text that starts like a formula.
  const quotaRows = await h.messages(broadcastQuota);
  const failedQuota = quotaRows.filter((m) => m.state === 'failed');
  const words = ['+SUM(1,2)', '-2+3', '@cmd'];
  for (const [i, m] of failedQuota.entries()) {
    await h.server.database.db.run(
      sql`UPDATE messages SET provider_message = ${words[i % words.length]}, provider_code = ${`@${i}`} WHERE id = ${m.id}`,
    );
  }

  // Another workspace with failures of its own.
  other = await h.server.workspace('Otra');
  const otherChannel = (await post(other.tokens.manager, '/api/v1/channels', { type: 'sandbox', name: 'Otra' })).id;
  await post(other.tokens.agent, '/api/v1/contacts', { firstName: 'Ajeno', phone: '77', tags: ['exp a'] });
  await post(other.tokens.agent, '/api/v1/contacts', {
    firstName: 'Ajeno 2',
    phone: '+5491149990000',
    tags: ['exp a'],
  });
  otherBroadcast = await run(other.tokens.manager, otherChannel, 'exp a');
});

describe('failed-messages export', () => {
  it('has the reference columns in order, in English and in Spanish', async () => {
    const en = await csv('/api/v1/exports/failed-messages.csv', { language: 'en' });
    expect(en.res.status).toBe(200);
    expect(en.res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(en.res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="failed-messages-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(en.header).toEqual(EN_HEADERS);
    expect(en.res.text.split('\r\n')[0]).toBe(EN_HEADERS.join(','));
    const es = await csv('/api/v1/exports/failed-messages.csv', { language: 'es' });
    expect(es.header).toEqual(ES_HEADERS);
    // The shared module the importer reads says the same.
    expect(FAILED_EXPORT_COLUMNS.map((c) => c.en)).toEqual(EN_HEADERS);
    expect(FAILED_EXPORT_COLUMNS.map((c) => c.es)).toEqual(ES_HEADERS);
    expect(es.rows.length).toBe(en.rows.length);
  });

  it('one row per failed or left-out message, newest first, with the values of the log', async () => {
    const { rows } = await csv('/api/v1/exports/failed-messages.csv', { language: 'en' });
    const count = await h.server.database.db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM messages WHERE workspace_id = ${h.ws.id} AND state IN ('failed', 'excluded', 'uncertain')`,
    );
    expect(rows.length).toBe(count?.n);
    // A: duplicate + two malformed + no phone; B: one malformed; WhatsApp: two over the daily limit.
    expect(rows.length).toBe(4 + 1 + 2);
    for (const row of rows) expect(row.length).toBe(EN_HEADERS.length);
    const times = rows.map((row) => Date.parse(row[col('Date Time')] ?? ''));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const log = (
      await h.server.request('GET', '/api/v1/failed-messages?limit=100', { token: h.ws.tokens.agent, language: 'en' })
    ).body.data;
    expect(rows.map((row) => Number(row[col('Message ID')]))).toEqual(
      log.map((m: { messageId: number }) => m.messageId),
    );

    const bad = rows.find((row) => row[col('Contact ID')] === String(ids.bad));
    expect(bad).toBeDefined();
    const message = log.find((m: { contact: { id: number } }) => m.contact.id === ids.bad);
    expect(bad).toEqual([
      message.failedAt,
      String(broadcastA),
      'broadcast',
      String(ids.bad),
      String(message.messageId),
      'text',
      'Hola',
      String(sandbox),
      'broadcast',
      'excluded',
      'Invalid number or ID',
      'invalid_identifier',
      'Invalid number or ID',
      'never',
      '',
      'Export exp a',
      'Malo',
      '12345',
      '',
    ]);
    expect(bad?.[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const duplicate = rows.find((row) => row[col('Contact ID')] === String(ids.anaAgain));
    expect(duplicate?.[col('Reason Code')]).toBe('duplicate');
    const noPhone = rows.find((row) => row[col('Contact ID')] === String(ids.noPhone));
    expect(noPhone?.[col('Reason Code')]).toBe('no_identifier');
    const quota = rows.filter((row) => row[col('Sender ID')] === String(broadcastQuota));
    expect(quota).toHaveLength(2);
    for (const row of quota) {
      expect(row[col('Subtype')]).toBe('failed');
      expect(row[col('Reason Code')]).toBe('quota_reached');
      expect(row[col('Reason')]).toBe('Daily messaging limit reached');
      expect(row[col('Resend')]).toBe('later');
      expect(Date.parse(row[col('Resend After')] ?? '')).toBeGreaterThan(Date.now());
      expect(row[col('Channel ID')]).toBe(String(ids.wa));
      // Outside the 24 h window the template would have gone: the row shows it, not the broadcast's text.
      expect(row[col('Content Type')]).toBe('template');
      expect(row[col('Content')]).toBe('black_friday [es_AR] (30%)');
      // Error is the provider's word when there is one; here it began with + - @ and was neutralized.
      expect(["'+SUM(1,2)", "'-2+3", "'@cmd"]).toContain(row[col('Error')]);
      expect(row[col('Provider Code')]).toMatch(/^'@\d$/);
    }

    const es = await csv('/api/v1/exports/failed-messages.csv', { language: 'es' });
    const badEs = es.rows.find((row) => row[col('Contact ID')] === String(ids.bad));
    expect(badEs?.[col('Error')]).toBe('Número o identificador no válido');
    expect(badEs?.[col('Resend')]).toBe('no');
    // Every word Rebound writes is in the file's language.
    expect(badEs?.[col('Sender Type')]).toBe('transmisión');
    expect(badEs?.[col('Type')]).toBe('transmisión');
    expect(badEs?.[col('Content Type')]).toBe('texto');
    expect(badEs?.[col('Subtype')]).toBe('excluido');
    expect(es.rows.find((row) => row[col('Sender ID')] === String(broadcastQuota))?.[col('Content Type')]).toBe(
      'plantilla',
    );
    expect(es.rows.find((row) => row[col('Sender ID')] === String(broadcastQuota))?.[col('Reason')]).toBe(
      'Se alcanzó el límite diario del canal',
    );
  });

  it('neutralizes every cell a spreadsheet would run as a formula, and parses back to the same values', async () => {
    const { res, rows } = await csv('/api/v1/exports/failed-messages.csv');
    const evil = rows.find((row) => row[col('Contact ID')] === String(ids.evil));
    expect(evil?.[col('Contact Name')]).toBe('\'=HYPERLINK("http://x")');
    expect(res.text).toContain('"\'=HYPERLINK(""http://x"")"');
    const promo = rows.find((row) => row[col('Sender ID')] === String(broadcastB));
    expect(promo?.[col('Content')]).toBe("'=1+1 promo");
    for (const row of rows) {
      for (const cell of row) {
        // Only plain numbers (E.164 phones) may start with + or -.
        if (/^[=+\-@\t\r]/.test(cell)) expect(cell).toMatch(/^[+-]\d+$/);
      }
    }
    // What the importer does: restore the cells and get the original values back.
    expect(restoreFormulaCell(evil?.[col('Contact Name')] ?? '')).toBe('=HYPERLINK("http://x")');
    expect(restoreFormulaCell(promo?.[col('Content')] ?? '')).toBe('=1+1 promo');
    expect(restoreFormulaCell('+5491140000001')).toBe('+5491140000001');
  });

  it('filters by broadcast, channel and date range', async () => {
    const byBroadcast = await csv(`/api/v1/exports/failed-messages.csv?broadcastId=${broadcastA}`);
    expect(byBroadcast.rows).toHaveLength(4);
    expect(new Set(byBroadcast.rows.map((row) => row[col('Sender ID')]))).toEqual(new Set([String(broadcastA)]));
    const two = await csv(`/api/v1/exports/failed-messages.csv?broadcastId=${broadcastA}&broadcastId=${broadcastB}`);
    expect(two.rows).toHaveLength(5);
    const byChannel = await csv(`/api/v1/exports/failed-messages.csv?channelId=${ids.second}`);
    expect(byChannel.rows).toHaveLength(1);
    expect(byChannel.rows[0]?.[col('Contact ID')]).toBe(String(ids.badB));
    const byReason = await csv('/api/v1/exports/failed-messages.csv?reason=quota_reached');
    expect(byReason.rows).toHaveLength(2);

    const hour = 3_600_000;
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const now = Date.now();
    const inside = await csv(`/api/v1/exports/failed-messages.csv?from=${iso(now - hour)}&to=${iso(now + hour)}`);
    expect(inside.rows).toHaveLength(7);
    const later = await csv(`/api/v1/exports/failed-messages.csv?from=${iso(now + hour)}`);
    expect(later.rows).toHaveLength(0);
    expect(later.header).toEqual(EN_HEADERS);
    const earlier = await csv(`/api/v1/exports/failed-messages.csv?to=${iso(now - hour)}`);
    expect(earlier.rows).toHaveLength(0);
    const bad = await h.server.request('GET', '/api/v1/exports/failed-messages.csv?from=yesterday', {
      token: h.ws.tokens.agent,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('query.from');
  });

  it('starts with a UTF-8 BOM only when asked', async () => {
    const plain = await fetch(`${h.server.baseUrl}/api/v1/exports/failed-messages.csv`, {
      headers: { Authorization: `Bearer ${h.ws.tokens.agent}` },
    });
    const plainBytes = new Uint8Array(await plain.arrayBuffer());
    expect([...plainBytes.slice(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
    const withBom = await fetch(`${h.server.baseUrl}/api/v1/exports/failed-messages.csv?bom=true`, {
      headers: { Authorization: `Bearer ${h.ws.tokens.agent}` },
    });
    const bytes = new Uint8Array(await withBom.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.slice(3))).toBe(
      new TextDecoder().decode(plainBytes),
    );
    const noBom = await h.server.request('GET', '/api/v1/exports/failed-messages.csv?bom=false', {
      token: h.ws.tokens.agent,
      language: 'en',
    });
    expect(noBom.text.startsWith('Date Time')).toBe(true);
  });

  it("never shows another workspace's rows; needs a token", async () => {
    const mine = await csv('/api/v1/exports/failed-messages.csv');
    expect(mine.rows.some((row) => row[col('Sender ID')] === String(otherBroadcast))).toBe(false);
    const theirs = await csv('/api/v1/exports/failed-messages.csv', { token: other.tokens.agent });
    expect(theirs.rows).toHaveLength(1);
    expect(theirs.rows[0]?.[col('Contact Name')]).toBe('Ajeno');
    // Asking for our broadcast with their token gives nothing.
    const peek = await csv(`/api/v1/exports/failed-messages.csv?broadcastId=${broadcastA}`, {
      token: other.tokens.agent,
    });
    expect(peek.rows).toHaveLength(0);
    // The log, its search and its summary too; with their own broadcast beside ours, only theirs.
    const read = async (path: string) =>
      (await h.server.request('GET', path, { token: other.tokens.agent, language: 'en' })).body;
    expect((await read(`/api/v1/failed-messages?broadcastId=${broadcastA}`)).data).toEqual([]);
    expect((await read(`/api/v1/failed-messages?broadcastId=${broadcastA}&q=ana`)).data).toEqual([]);
    expect((await read(`/api/v1/failed-messages/summary?broadcastId=${broadcastA}&q=ana`)).total).toBe(0);
    const both = await read(`/api/v1/failed-messages?broadcastId=${broadcastA}&broadcastId=${otherBroadcast}`);
    expect(both.data.map((m: { sender: { id: number } }) => m.sender.id)).toEqual([otherBroadcast]);
    const anonymous = await h.server.request('GET', '/api/v1/exports/failed-messages.csv');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await h.server.request('GET', '/api/v1/exports/contacts.csv')).status).toBe(401);
  });
});

describe('contacts export', () => {
  let ws: TestWorkspace;
  const made: number[] = [];

  beforeAll(async () => {
    ws = await h.server.workspace('Contactos');
    const add = async (body: Record<string, unknown>) =>
      made.push((await post(ws.tokens.agent, '/api/v1/contacts', body)).id);
    await add({
      firstName: 'Ana',
      lastName: 'Pérez',
      phone: '+5491140001111',
      email: 'ana@example.com',
      language: 'es',
      tags: ['vip', 'Black Friday'],
      customFields: { plan: 'oro', ciudad: 'Córdoba, AR' },
    });
    await add({ firstName: '=HYPERLINK("http://x")', tags: ['VIP'], customFields: { plan: '@SUM(A1)' } });
    await add({ firstName: 'Beto', email: 'beto@example.com', customFields: { zona: '-1+1', saldo: -5 } });
  });

  it('has the fixed columns then one per custom field, in English and Spanish, in id order', async () => {
    const en = await csv('/api/v1/exports/contacts.csv', { token: ws.tokens.agent, language: 'en' });
    expect(en.res.status).toBe(200);
    expect(en.res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(en.res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="contacts-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(en.header).toEqual([
      'Contact ID',
      'First Name',
      'Last Name',
      'Phone',
      'Email',
      'Language',
      'Tags',
      'ciudad',
      'plan',
      'saldo',
      'zona',
    ]);
    expect(CONTACT_EXPORT_COLUMNS.map((c) => c.en)).toEqual(en.header.slice(0, 7));
    expect(en.rows).toEqual([
      [
        String(made[0]),
        'Ana',
        'Pérez',
        '+5491140001111',
        'ana@example.com',
        'es',
        'Black Friday, vip',
        'Córdoba, AR',
        'oro',
        '',
        '',
      ],
      [String(made[1]), '\'=HYPERLINK("http://x")', '', '', '', '', 'vip', '', "'@SUM(A1)", '', ''],
      [String(made[2]), 'Beto', '', '', 'beto@example.com', '', '', '', '', '-5', "'-1+1"],
    ]);
    const es = await csv('/api/v1/exports/contacts.csv', { token: ws.tokens.agent, language: 'es' });
    expect(es.header).toEqual([
      'ID de contacto',
      'Nombre',
      'Apellido',
      'Teléfono',
      'Correo electrónico',
      'Idioma',
      'Etiquetas',
      'ciudad',
      'plan',
      'saldo',
      'zona',
    ]);
    expect(es.rows).toEqual(en.rows);
  });

  it('filters by tag (custom columns follow the contacts exported), BOM on request', async () => {
    const vip = await csv('/api/v1/exports/contacts.csv?tag=VIP', { token: ws.tokens.agent });
    expect(vip.rows.map((row) => Number(row[0]))).toEqual([made[0], made[1]]);
    expect(vip.header.slice(7)).toEqual(['ciudad', 'plan']);
    const none = await csv('/api/v1/exports/contacts.csv?tag=nadie', { token: ws.tokens.agent });
    expect(none.rows).toHaveLength(0);
    expect(none.header).toEqual(CONTACT_EXPORT_COLUMNS.map((c) => c.en));
    const bom = await fetch(`${h.server.baseUrl}/api/v1/exports/contacts.csv?bom=1`, {
      headers: { Authorization: `Bearer ${ws.tokens.agent}`, 'Accept-Language': 'en' },
    });
    const bytes = new Uint8Array(await bom.arrayBuffer());
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).startsWith('\uFEFFContact ID,')).toBe(true);
  });

  it("pages through keyset pages, and never shows another workspace's contacts", async () => {
    const file = await contactsCsv(h.server.database.db, ws.id, {}, { language: 'en', pageSize: 2 });
    const text = await new Response(file.stream).text();
    const rows = Papa.parse<string[]>(text, { skipEmptyLines: true }).data.slice(1);
    expect(rows.map((row) => Number(row[0]))).toEqual(made);
    const mine = await csv('/api/v1/exports/contacts.csv', { token: h.ws.tokens.agent });
    const theirIds = new Set(made.map(String));
    expect(mine.rows.length).toBeGreaterThan(0);
    expect(mine.rows.some((row) => theirIds.has(row[0] ?? ''))).toBe(false);
    expect(mine.rows.some((row) => row[1] === 'Ajeno')).toBe(false);
  });
});

describe('a large export', () => {
  const TOTAL = 50_000;
  let big: TestWorkspace;

  beforeAll(async () => {
    big = await h.server.workspace('Grande');
    const channel = (await post(big.tokens.manager, '/api/v1/channels', { type: 'sandbox', name: 'Grande' })).id;
    const { db } = h.server.database;
    const [broadcast] = await db.all<{ id: number }>(sql`INSERT INTO broadcasts
      (workspace_id, name, channel_id, content, status, created_at, updated_at)
      VALUES (${big.id}, 'Masiva', ${channel}, ${JSON.stringify({ text: 'Oferta' })}, 'partially_failed', 0, 0)
      RETURNING id`);
    const base = Date.now() - 86_400_000;
    await db.run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
        provider_code, provider_message, failed_at, created_at, updated_at)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${TOTAL} - 1)
      SELECT ${big.id}, ${broadcast?.id}, ${channel}, NULL, '+54911' || (60000000 + i), 'failed', 'quota_reached',
        'quota_reached', NULL, ${base} + i, ${base}, ${base} FROM n`);
  });

  it('streams 50,000 rows in many chunks, newest first', async () => {
    const res = await fetch(`${h.server.baseUrl}/api/v1/exports/failed-messages.csv`, {
      headers: { Authorization: `Bearer ${big.tokens.agent}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let chunks = 0;
    let lines = 0;
    let first = '';
    let tail = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      const text = tail + decoder.decode(value, { stream: true });
      const parts = text.split('\r\n');
      tail = parts.pop() ?? '';
      if (!first && parts.length > 1) first = parts[1] ?? '';
      lines += parts.length;
    }
    expect(tail).toBe('');
    expect(lines).toBe(TOTAL + 1);
    expect(chunks).toBeGreaterThan(10);
    // Newest first: the last failure seeded comes first.
    expect(first).toContain(`+54911${60000000 + TOTAL - 1}`);
  });

  it('reads a page from the database only when the reader asks for it', async () => {
    const { db } = h.server.database;
    let reads = 0;
    const counting = new Proxy(db, {
      get(target, property, receiver) {
        if (property === 'all')
          return (...args: Parameters<Database['all']>) => {
            reads++;
            return target.all(...args);
          };
        return Reflect.get(target, property, receiver);
      },
    });
    const file = failedMessagesCsv(counting, big.id, {}, { language: 'en', pageSize: 1000 });
    const reader = file.stream.getReader();
    const header = await reader.read();
    expect(new TextDecoder().decode(header.value)).toBe(`${EN_HEADERS.join(',')}\r\n`);
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One page read for one chunk asked for: nothing piles up in memory ahead of the reader.
    expect(reads).toBe(1);
    let rows = 1000;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rows += new TextDecoder().decode(value).split('\r\n').length - 1;
    }
    expect(rows).toBe(TOTAL);
    expect(reads).toBe(TOTAL / 1000);
  });

  it('stops reading when the client goes away', async () => {
    const { db } = h.server.database;
    let reads = 0;
    const counting = new Proxy(db, {
      get(target, property, receiver) {
        if (property === 'all')
          return (...args: Parameters<Database['all']>) => {
            reads++;
            return target.all(...args);
          };
        return Reflect.get(target, property, receiver);
      },
    });
    const file = failedMessagesCsv(counting, big.id, {}, { language: 'en', pageSize: 1000 });
    const reader = file.stream.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads).toBe(1);
  });
});
