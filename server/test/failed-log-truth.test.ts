/**
 * Every failure tells the truth: the content really sent (the template when it went out as one), the
 * provider's code and words only when the provider gave them, and every word Rebound writes in the
 * reader's language (the Spanish export holds no English text of ours).
 */
import { describeFailure, FAILED_EXPORT_COLUMNS } from '@rebound/shared';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness, WA } from './engine/harness';
import { draftBroadcast, parseCsv, seedRows } from './failed-log-helpers';

const TEMPLATE = {
  text: '¡Black Friday! 30% de descuento',
  template: { name: 'black_friday', language: 'es_AR', parameters: ['30%'] },
};
const REBOUND_CODES = ['quota_reached', 'outside_window', 'opt_out', 'opted_out', 'uncertain', 'timeout', 'connection'];
/** What older engine versions wrote in English as if the provider had said it. */
const OLD_TEXTS = [
  'The contact blocked the business or opted out on this channel.',
  'More than 24 h since the contact last wrote: WhatsApp only takes an approved template.',
  'The channel reached its limit of 1 unique recipients in 24 h.',
  "The engine stopped while this message was being sent; waiting for the provider's delivery report.",
];
const col = (key: string) => FAILED_EXPORT_COLUMNS.findIndex((column) => column.key === key);
const phone = (n: number) => `+54911${43000000 + n}`;

let h: Harness;
let quotaBroadcast: number;
let windowBroadcast: number;
let old: { channelId: number; broadcastId: number };
let oldIds: number[];
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
type Row = any;

async function log(query: string, language: 'es' | 'en'): Promise<Row[]> {
  const res = await h.server.request('GET', `/api/v1/failed-messages?limit=500&${query}`, {
    token: h.ws.tokens.agent,
    language,
  });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

async function exportCsv(query: string, language: 'es' | 'en') {
  const res = await h.server.request('GET', `/api/v1/exports/failed-messages.csv?${query}`, {
    token: h.ws.tokens.agent,
    language,
  });
  expect(res.status).toBe(200);
  return parseCsv(res.text);
}

beforeAll(async () => {
  h = await harness();
  const sim = await startWhatsAppSimulator({ ...WA, phoneNumberId: '1055500091' });
  h.simulators.push(sim);
  sim.webhookUrl = undefined;
  const channel = await h.channel({
    type: 'whatsapp',
    name: 'WhatsApp verdad',
    credentials: { ...WA, phoneNumberId: '1055500091' },
    baseUrl: sim.baseUrl,
    limits: { dailyQuota: 2, messagesPerSecond: 1000, pairRatePerRecipientSeconds: null },
  });
  const add = async (n: number, tag: string) => {
    const res = await h.server.request('POST', '/api/v1/contacts', {
      token: h.ws.tokens.agent,
      body: { firstName: `Cliente ${n}`, phone: phone(n), tags: [tag] },
    });
    if (res.status !== 201) throw new Error(res.text);
  };
  // A template broadcast: one opted out, one sent, one failed by the provider, two over the daily limit.
  for (let n = 1; n <= 5; n++) await add(n, 'verdad');
  await h.server.database.db.run(
    sql`INSERT INTO opt_outs (channel_id, identifier, at) VALUES (${channel.id}, ${phone(1)}, ${Date.now()})`,
  );
  sim.script(phone(3).slice(1), { kind: 'fail', code: '131026' });
  const segment = await h.segment('Verdad', 'verdad');
  quotaBroadcast = (
    await h.broadcast({ name: 'Verdad plantilla', channelId: channel.id, segmentId: segment.id, content: TEMPLATE })
  ).id;
  await h.schedule(quotaBroadcast);
  await h.engine().runUntilIdle();
  // Text only, nobody inside the 24 h window: the engine stops them all (outside_window).
  await add(10, 'ventana');
  const windowSegment = await h.segment('Ventana', 'ventana');
  windowBroadcast = (
    await h.broadcast({
      name: 'Verdad texto',
      channelId: channel.id,
      segmentId: windowSegment.id,
      content: { text: 'Hola' },
    })
  ).id;
  await h.schedule(windowBroadcast);
  await h.engine().runUntilIdle();

  // Rows as older engine versions left them: Rebound's codes and English sentences in the provider columns.
  old = await draftBroadcast(h.server, h.ws.tokens.manager, 'Filas viejas', TEMPLATE);
  const at = Date.now() - 60_000;
  oldIds = await seedRows(h.server, h.ws.id, old, [
    { state: 'failed', reason: 'blocked', providerCode: 'opt_out', providerMessage: OLD_TEXTS[0], failedAt: at },
    {
      state: 'failed',
      reason: 'outside_window',
      providerCode: 'outside_window',
      providerMessage: OLD_TEXTS[1],
      failedAt: at + 1,
    },
    {
      state: 'failed',
      reason: 'quota_reached',
      providerCode: 'quota_reached',
      providerMessage: OLD_TEXTS[2],
      useTemplate: true,
      retryAfterAt: at + 86_400_000,
      failedAt: at + 2,
    },
    { state: 'uncertain', reason: 'uncertain', providerCode: null, providerMessage: OLD_TEXTS[3], failedAt: at + 3 },
    {
      state: 'uncertain',
      reason: 'uncertain',
      providerCode: 'timeout',
      providerMessage: 'TimeoutError: The operation was aborted due to timeout',
      useTemplate: true,
      failedAt: at + 4,
    },
    {
      state: 'failed',
      reason: 'provider_error',
      providerCode: 'connection',
      providerMessage: 'connect ECONNREFUSED 127.0.0.1:9 (gave up after 5 attempts)',
      failedAt: at + 5,
    },
    {
      state: 'failed',
      reason: 'recipient_limit',
      providerCode: '131049',
      providerMessage:
        'This message was not delivered to maintain healthy ecosystem engagement. (gave up after 3 attempts)',
      useTemplate: true,
      failedAt: at + 6,
    },
  ]);
}, 60_000);

describe('the content really sent', () => {
  it('a message that went out as a template shows the template, its language and parameters', async () => {
    const quota = (await log(`broadcastId=${quotaBroadcast}&reason=quota_reached`, 'en')).filter(
      (m: Row) => m.subtype === 'failed',
    );
    expect(quota).toHaveLength(2);
    for (const m of quota) {
      expect(m.contentType).toBe('template');
      expect(m.template).toEqual({ name: 'black_friday', language: 'es_AR', parameters: ['30%'] });
      expect(m.content).toBe('black_friday [es_AR] (30%)');
      expect(m.content).not.toContain('Black Friday! 30% de descuento');
    }
    // The same broadcast's text-only rows (the seeded ones without use_template) show the text, no template.
    const seeded = await log(`broadcastId=${old.broadcastId}`, 'en');
    const blocked = seeded.find((m: Row) => m.messageId === oldIds[0]);
    expect(blocked).toMatchObject({ contentType: 'text', content: TEMPLATE.text, template: null });
    const limited = seeded.find((m: Row) => m.messageId === oldIds[6]);
    expect(limited).toMatchObject({ contentType: 'template', template: TEMPLATE.template });
  });
});

describe("the provider's words, and only the provider's", () => {
  it("Rebound's own reasons never show as a provider code or provider text, in new and old rows", async () => {
    const rows = [
      ...(await log(`broadcastId=${quotaBroadcast}`, 'en')),
      ...(await log(`broadcastId=${windowBroadcast}`, 'en')),
      ...(await log(`broadcastId=${old.broadcastId}`, 'en')),
    ];
    const byReason = (code: string) => rows.filter((m: Row) => m.reason.code === code);
    expect(byReason('quota_reached').length).toBeGreaterThanOrEqual(3);
    expect(byReason('outside_window').length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((m: Row) => m.reason.code === 'opted_out' || m.reason.code === 'blocked').length).toBe(2);
    for (const m of rows) {
      expect(REBOUND_CODES).not.toContain(m.providerCode);
      for (const text of OLD_TEXTS) expect(m.providerMessage ?? '').not.toContain(text.slice(0, 30));
      if (['quota_reached', 'outside_window', 'opted_out', 'uncertain'].includes(m.reason.code)) {
        expect(m.providerCode, JSON.stringify(m)).toBeNull();
        expect(m.providerMessage, JSON.stringify(m)).toBeNull();
      }
    }
    // The HTTP client's words are not the provider's either.
    const connection = rows.find((m: Row) => m.messageId === oldIds[5]);
    expect(connection).toMatchObject({ providerCode: null, providerMessage: null, reason: { code: 'provider_error' } });
  });

  it("keeps the provider's code and words as the provider wrote them, beside our reason", async () => {
    const provider = (await log(`broadcastId=${quotaBroadcast}&reason=not_on_channel`, 'es'))[0];
    expect(provider).toBeDefined();
    expect(provider.providerCode).toBe('131026');
    expect(provider.providerMessage).toMatch(/^\(#131026\)/);
    expect(provider.reason.title).toBe(describeFailure('not_on_channel', 'es').title);
    // Only what older versions appended to the provider's words goes.
    const limited = (await log(`broadcastId=${old.broadcastId}&reason=recipient_limit`, 'es'))[0];
    expect(limited.providerCode).toBe('131049');
    expect(limited.providerMessage).toBe('This message was not delivered to maintain healthy ecosystem engagement.');
  });
});

describe('the Spanish export', () => {
  it("holds no English text Rebound wrote, and no Rebound reason as the provider's code", async () => {
    const { header, rows } = await exportCsv('', 'es');
    expect(header).toEqual(FAILED_EXPORT_COLUMNS.map((column) => column.es));
    expect(rows.length).toBeGreaterThanOrEqual(12);
    const english = [
      ...OLD_TEXTS.map((text) => text.slice(0, 30)),
      'TimeoutError',
      'ECONNREFUSED',
      'gave up after',
      ...['quota_reached', 'outside_window', 'opted_out', 'blocked', 'uncertain', 'provider_error'].map(
        (code) => describeFailure(code as 'blocked', 'en').title,
      ),
    ];
    // Every column but the provider's own words and the codes meant for machines.
    const ours = FAILED_EXPORT_COLUMNS.map((column, i) => ({ key: column.key, i })).filter(
      ({ key }) => !['reasonCode', 'providerCode'].includes(key),
    );
    for (const row of rows) {
      for (const { key, i } of ours) {
        const cell = row[i] ?? '';
        for (const text of english) expect(cell, `${key}: ${cell}`).not.toContain(text);
        if (['senderType', 'type', 'subtype', 'contentType', 'resend'].includes(key))
          expect([
            'broadcast',
            'failed',
            'excluded',
            'unconfirmed',
            'text',
            'template',
            'later',
            'never',
            'now',
          ]).not.toContain(cell);
      }
      expect(REBOUND_CODES).not.toContain(row[col('providerCode')]);
    }
    // Where Rebound decided, the Error column is our reason in Spanish.
    const quota = rows.find((row) => row[col('messageId')] === String(oldIds[2]));
    expect(quota?.[col('error')]).toBe('Se alcanzó el límite diario del canal');
    expect(quota?.[col('providerCode')]).toBe('');
    expect(quota?.[col('contentType')]).toBe('plantilla');
    const window = rows.find((row) => row[col('messageId')] === String(oldIds[1]));
    expect(window?.[col('error')]).toBe(describeFailure('outside_window', 'es').title);
    const stopped = rows.find((row) => row[col('messageId')] === String(oldIds[3]));
    expect(stopped?.[col('error')]).toBe(describeFailure('uncertain', 'es').title);
    expect(stopped?.[col('subtype')]).toBe('sin confirmar');
    // The provider's words stay as it wrote them, its code beside them.
    const provider = rows.find((row) => row[col('providerCode')] === '131026');
    expect(provider?.[col('error')]).toMatch(/^\(#131026\)/);
    expect(provider?.[col('reason')]).toBe(describeFailure('not_on_channel', 'es').title);
  });

  it('the English export says the same in English', async () => {
    const { rows } = await exportCsv(`broadcastId=${old.broadcastId}`, 'en');
    const quota = rows.find((row) => row[col('messageId')] === String(oldIds[2]));
    expect(quota?.[col('error')]).toBe('Daily messaging limit reached');
    expect(quota?.[col('providerCode')]).toBe('');
    expect(quota?.[col('subtype')]).toBe('failed');
    expect(quota?.[col('contentType')]).toBe('template');
  });
});
