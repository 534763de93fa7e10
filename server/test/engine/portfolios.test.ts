/**
 * WhatsApp's messaging limit as it is since October 2025: set on the business portfolio and shared by
 * all its numbers (tiers 250, 2,000, 10,000, 100,000, unlimited). Two numbers in one portfolio of
 * tier 250: what one sends, the other cannot; the pre-flight, the engine and the detail agree.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { harness, S1_TEMPLATE, WA, whatsappSimulator } from './harness';

const h = await harness();
const api = (method: string, path: string, body?: unknown, token = h.ws.tokens.manager, language = 'en') =>
  h.server.request(method, `/api/v1${path}`, { token, body, language: language as 'en' });

/** A WhatsApp number on a fresh simulator, its own limit `dailyQuota` a day. */
async function waNumber(name: string, dailyQuota: number): Promise<number> {
  const sim = await whatsappSimulator(h);
  const limits = { dailyQuota, messagesPerSecond: 5000 };
  return (await h.channel({ type: 'whatsapp', name, credentials: WA, baseUrl: sim.baseUrl, limits })).id;
}

/** The S1 template broadcast on `channelId` to the contacts tagged `tag`, not yet scheduled. */
async function templateTo(name: string, channelId: number, tag: string) {
  const segmentId = (await h.segment(name, tag)).id;
  return h.broadcast({ name, channelId, segmentId, content: S1_TEMPLATE });
}

describe('a business portfolio shared by two numbers', () => {
  let a = 0;
  let b = 0;
  let portfolioId = 0;

  it('a manager creates it at the lowest tier and puts both numbers in it', async () => {
    const sim = await whatsappSimulator(h);
    const number = async (name: string) =>
      (
        await h.channel({
          type: 'whatsapp',
          name,
          credentials: WA,
          baseUrl: sim.baseUrl,
          // Each number alone would allow 1,000 a day: the portfolio's 250 is what applies.
          limits: { dailyQuota: 1000, messagesPerSecond: 5000 },
        })
      ).id;
    a = await number('Ventas');
    b = await number('Soporte');
    const created = await api('POST', '/portfolios', { name: 'Acme', channelIds: [a, b] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tier: '250', dailyQuota: 250, channelIds: [a, b] });
    expect(created.body.usage).toMatchObject({ used: 0, remaining: 250 });
    portfolioId = created.body.id;
  });

  it('200 go out on one number; the other has room for 50: pre-flight, engine and detail agree', async () => {
    await h.seedContacts(200, 'ventas', { start: 700_000 });
    await h.seedContacts(100, 'soporte', { start: 800_000 });
    const first = await h.broadcast({
      name: 'Ventas',
      channelId: a,
      segmentId: (await h.segment('Ventas', 'ventas')).id,
      content: S1_TEMPLATE,
    });
    await h.schedule(first.id);
    await h.engine().runUntilIdle();
    expect((await h.get(first.id)).counts).toEqual({ sent: 200 });

    const second = await h.broadcast({
      name: 'Soporte',
      channelId: b,
      segmentId: (await h.segment('Soporte', 'soporte')).id,
      content: S1_TEMPLATE,
    });
    const pre = (await api('GET', `/broadcasts/${second.id}/preflight`)).body;
    expect(pre.quota).toMatchObject({ limit: 250, used: 200, remaining: 50, needed: 100, fits: false, overflow: 50 });
    expect(pre.willSend).toBe(50);

    await h.schedule(second.id);
    await h.engine().runUntilIdle();
    const sent = await h.get(second.id);
    expect(sent.counts).toEqual({ sent: 50, failed: 50 });
    expect(sent.failedByReason).toEqual({ quota_reached: 50 });
    expect(sent.channelLimits).toMatchObject({
      dailyQuota: 250,
      quotaUsed: 250,
      quotaRemaining: 0,
      portfolio: { id: portfolioId, name: 'Acme' },
    });
    expect((await api('GET', `/channels/${b}`)).body.portfolioId).toBe(portfolioId);

    const portfolio = (await api('GET', `/portfolios/${portfolioId}`, undefined, h.ws.tokens.agent)).body;
    expect(portfolio.usage).toMatchObject({ used: 250, remaining: 0 });
    expect(Date.parse(portfolio.usage.capacityFreesAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it('the tier rises to 2,000: the same number has room again at once', async () => {
    const raised = await api('PATCH', `/portfolios/${portfolioId}`, { tier: '2000' });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ tier: '2000', dailyQuota: 2000, usage: { used: 250, remaining: 1750 } });
    const list = (await api('GET', '/portfolios', undefined, h.ws.tokens.agent)).body.data;
    expect(list).toHaveLength(1);
  });

  it('a number leaving the portfolio goes back to its own limit', async () => {
    const editedAt = async (id: number) =>
      Number(
        (await h.server.database.client.execute({ sql: 'SELECT updated_at FROM channels WHERE id = ?', args: [id] }))
          .rows[0]?.updated_at,
      );
    const [aBefore, bBefore] = [await editedAt(a), await editedAt(b)];
    await new Promise((resolve) => setTimeout(resolve, 5));
    const left = await api('PATCH', `/portfolios/${portfolioId}`, { channelIds: [a] });
    // The one that left counts its limit elsewhere from now: its edit time moves, so a broadcast sending on
    // it claims its next batch under its own limit (engine/claim.ts). The one that stayed is untouched.
    expect(await editedAt(b)).toBeGreaterThan(bBefore);
    expect(await editedAt(a)).toBe(aBefore);
    expect(left.body.channelIds).toEqual([a]);
    expect((await api('GET', `/channels/${b}`)).body.portfolioId).toBeNull();
    const channel = (await api('GET', `/channels/${b}`)).body;
    // Its own 1,000, with what it sent itself (50) counted.
    expect(channel.limits.dailyQuota).toBe(1000);
    expect(channel.usage).toMatchObject({ quotaUsed: 50, quotaRemaining: 950 });
  });

  it('only WhatsApp numbers of this workspace join; agents cannot change portfolios; absurd tiers are refused', async () => {
    const sms = await h.channel({ type: 'sandbox', name: 'Pruebas', credentials: {} });
    const wrong = await api('PATCH', `/portfolios/${portfolioId}`, { channelIds: [a, sms.id] }, undefined, 'es');
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('portfolio_channel_not_whatsapp');
    expect(wrong.body.error.message).toContain('Solo los números de WhatsApp');
    // Nothing half-done: the list is as before.
    expect((await api('GET', `/portfolios/${portfolioId}`)).body.channelIds).toEqual([a]);

    expect((await api('PATCH', `/portfolios/${portfolioId}`, { channelIds: [999_999] })).status).toBe(404);
    expect((await api('POST', '/portfolios', { name: 'X' }, h.ws.tokens.agent)).status).toBe(403);
    expect((await api('POST', '/portfolios', { name: 'X', tier: '5000' })).status).toBe(422);
    expect((await api('POST', '/portfolios', { name: 'X', tier: '250', dailyQuota: 1000 })).status).toBe(422);

    const other = await h.server.workspace('Otra');
    expect((await api('GET', `/portfolios/${portfolioId}`, undefined, other.tokens.manager)).status).toBe(404);
    const theirs = await api('POST', '/portfolios', { name: 'Ajeno', channelIds: [a] }, other.tokens.manager);
    expect(theirs.status).toBe(404);
  });

  it('a custom limit (the reference page’s 1,000) reads as "custom"; deleting frees the numbers', async () => {
    const custom = await api('PATCH', `/portfolios/${portfolioId}`, { dailyQuota: 1000 });
    expect(custom.body).toMatchObject({ tier: 'custom', dailyQuota: 1000 });
    expect((await api('DELETE', `/portfolios/${portfolioId}`)).status).toBe(200);
    expect((await api('GET', `/portfolios/${portfolioId}`)).status).toBe(404);
    expect((await api('GET', `/channels/${a}`)).body.usage).toMatchObject({ quotaUsed: 200, quotaRemaining: 800 });
  });
});

describe('a number disconnected from its portfolio', () => {
  it('what it sent in the last 24 h still counts against the portfolio, as Meta counts it', async () => {
    const c = await waNumber('Cobranzas', 1000);
    const d = await waNumber('Reclamos', 1000);
    const portfolio = (await api('POST', '/portfolios', { name: 'Beta', channelIds: [c, d] })).body;
    await h.seedContacts(30, 'cobranzas', { start: 900_000 });
    const sent = await templateTo('Cobranzas', c, 'cobranzas');
    await h.schedule(sent.id);
    await h.engine().runUntilIdle();
    expect((await h.get(sent.id)).counts).toEqual({ sent: 30 });

    expect((await api('DELETE', `/channels/${c}`)).status).toBe(200);
    const after = (await api('GET', `/portfolios/${portfolio.id}`)).body;
    expect(after.channelIds).toEqual([d]);
    expect(after.usage).toMatchObject({ used: 30, remaining: 220 });
    // Editing the members keeps it counted too; the other number has 220 left, not 250.
    expect((await api('PATCH', `/portfolios/${portfolio.id}`, { channelIds: [d] })).status).toBe(200);
    expect((await api('GET', `/portfolios/${portfolio.id}`)).body.usage).toMatchObject({ used: 30, remaining: 220 });
    expect((await api('GET', `/channels/${d}`)).body.usage).toMatchObject({ quotaUsed: 30, quotaRemaining: 220 });
  });
});

describe('replies inside the 24 h window', () => {
  it('take no place in the daily limit: only business-initiated messages count, as Meta counts them', async () => {
    const channel = await waNumber('Respuestas', 2);
    await h.seedContacts(3, 'escribieron', { start: 910_000 });
    await h.seedContacts(2, 'nuevos', { start: 920_000 });
    // The three wrote to the number an hour ago: their window is open.
    await h.server.database.db.run(sql`INSERT INTO conversation_windows (channel_id, identifier, last_inbound_at)
      SELECT ${channel}, c.phone, ${Date.now() - 3_600_000} FROM contacts c JOIN contact_tags ct ON ct.contact_id = c.id
        JOIN tags t ON t.id = ct.tag_id WHERE t.key = 'escribieron'`);
    const replies = await templateTo('Escribieron', channel, 'escribieron');
    // Free replies: nothing billed either.
    const repliesPre = (await api('GET', `/broadcasts/${replies.id}/preflight`)).body;
    expect(repliesPre.willSend).toBe(3);
    expect(repliesPre.cost.total).toBe(0);
    await h.schedule(replies.id);
    await h.engine().runUntilIdle();
    expect((await h.get(replies.id)).counts).toEqual({ sent: 3 });
    expect((await api('GET', `/channels/${channel}`)).body.usage).toMatchObject({ quotaUsed: 0, quotaRemaining: 2 });

    // Two new people outside the window: the limit of 2 has room for both.
    const templates = await templateTo('Nuevos', channel, 'nuevos');
    const templatesPre = (await api('GET', `/broadcasts/${templates.id}/preflight`)).body;
    expect(templatesPre.willSend).toBe(2);
    expect(templatesPre.cost.total).toBeGreaterThan(0);
    await h.schedule(templates.id);
    await h.engine().runUntilIdle();
    expect((await h.get(templates.id)).counts).toEqual({ sent: 2 });
    expect((await api('GET', `/channels/${channel}`)).body.usage).toMatchObject({ quotaUsed: 2, quotaRemaining: 0 });
  });
});
