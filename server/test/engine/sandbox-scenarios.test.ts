/** Scenarios that need no provider: S2, S3, S4, S5, S8 on the sandbox channel. */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness } from './harness';

let h: Harness;
let sandbox: number;

beforeAll(async () => {
  h = await harness();
  sandbox = (await h.channel({ type: 'sandbox', name: 'Pruebas' })).id;
});

describe('S2: a dynamic segment changes between scheduling and sending', () => {
  it('target 100, completed 103: +5 entered, -2 left, and the reconciliation says so', async () => {
    await h.seedContacts(100, 'promo s2', { start: 0 });
    const segment = await h.segment('S2 promo', 'promo s2');
    // Its own channel: this test moves the engine's clock two days ahead, and send slots follow that clock.
    const future = (await h.channel({ type: 'sandbox', name: 'S2 sandbox' })).id;
    const broadcast = await h.broadcast({
      name: 'S2',
      channelId: future,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000);
    await h.schedule(broadcast.id, inTwoDays.toISOString());
    expect((await h.get(broadcast.id)).targetCount).toBe(100);
    // Before it sends, 5 contacts enter the segment and 2 leave it.
    await h.seedContacts(5, 'promo s2', { start: 1000 });
    const two = await h.server.database.db.all<{ id: number }>(
      sql`SELECT c.id FROM contacts c JOIN contact_tags ct ON ct.contact_id = c.id JOIN tags t ON t.id = ct.tag_id WHERE t.key = 'promo s2' ORDER BY c.id LIMIT 2`,
    );
    for (const { id } of two) {
      await h.server.request('DELETE', `/api/v1/contacts/${id}/tags`, {
        token: h.ws.tokens.agent,
        body: { tags: ['promo s2'] },
      });
    }
    // Nothing goes out before its time.
    await h.engine().runUntilIdle();
    expect((await h.get(broadcast.id)).status).toBe('scheduled');
    await h.engine({ clock: () => inTwoDays.getTime() + 60_000 }).runUntilIdle();
    const done = await h.get(broadcast.id);
    expect(done).toMatchObject({ status: 'completed', targetCount: 100, completedCount: 103 });
    expect(done.reconciliation).toEqual({
      target: 100,
      entered: 5,
      left: 2,
      duplicates: 0,
      invalidIdentifiers: 0,
      noIdentifier: 0,
      completed: 103,
    });
    expect(done.counts).toEqual({ delivered: 103 });
  });
});

describe('S3 and S4: duplicates and malformed numbers are left out, counted and listed', () => {
  it('one message per phone; a malformed phone is not attempted and says to use E.164', async () => {
    const post = (body: unknown) => h.server.request('POST', '/api/v1/contacts', { token: h.ws.tokens.agent, body });
    const ana = (await post({ firstName: 'Ana', phone: '+54 9 11 4000-0001', tags: ['s3'] })).body;
    const anaAgain = (await post({ firstName: 'Ana (duplicada)', phone: '011 15 4000-0001', tags: ['s3'] })).body;
    const bad = (await post({ firstName: 'Malo', phone: '12345', tags: ['s3'] })).body;
    const noPhone = (await post({ firstName: 'Sin teléfono', email: 'sin@example.com', tags: ['s3'] })).body;
    const beto = (await post({ firstName: 'Beto', phone: '+5491140000002', tags: ['s3'] })).body;
    const segment = await h.segment('S3', 's3');
    const broadcast = await h.broadcast({
      name: 'S3',
      channelId: sandbox,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });

    const preflight = (
      await h.server.request('GET', `/api/v1/broadcasts/${broadcast.id}/preflight`, {
        token: h.ws.tokens.agent,
        language: 'es',
      })
    ).body;
    expect(preflight.willSend).toBe(2);
    expect(preflight.excluded).toEqual({ duplicate: 1, invalid_identifier: 1, no_identifier: 1 });
    expect(preflight.warnings.map((w: { code: string }) => w.code)).toContain('excluded');
    // One of each, said as one: "1 duplicado", not "1 duplicados".
    expect(preflight.warnings.find((w: { code: string }) => w.code === 'excluded').message).toBe(
      '3 contactos quedan fuera: 1 duplicado, 1 con identificador inválido (use el formato E.164, p. ej. +5491155551234), 1 sin identificador en este canal.',
    );

    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const done = await h.get(broadcast.id);
    expect(done).toMatchObject({ status: 'completed', targetCount: 5, completedCount: 2 });
    expect(done.reconciliation).toMatchObject({ duplicates: 1, invalidIdentifiers: 1, noIdentifier: 1, completed: 2 });
    const byContact = Object.fromEntries(
      (
        await h.server.database.db.all<{ contact_id: number; state: string; reason: string | null }>(
          sql`SELECT contact_id, state, reason FROM messages WHERE broadcast_id = ${broadcast.id}`,
        )
      ).map((m) => [m.contact_id, [m.state, m.reason]]),
    );
    expect(byContact[ana.id]).toEqual(['delivered', null]);
    expect(byContact[anaAgain.id]).toEqual(['excluded', 'duplicate']);
    expect(byContact[bad.id]).toEqual(['excluded', 'invalid_identifier']);
    expect(byContact[noPhone.id]).toEqual(['excluded', 'no_identifier']);
    expect(byContact[beto.id]).toEqual(['delivered', null]);
    const reasons = (
      await h.server.request('GET', '/api/v1/failure-reasons', { token: h.ws.tokens.agent, language: 'es' })
    ).body.data;
    expect(reasons.find((r: { code: string }) => r.code === 'invalid_identifier').action).toMatch(/E\.164/);
  });
});

describe('S5: channels that cannot broadcast are refused up front', () => {
  it.each(['instagram', 'webchat', 'wechat', 'email'])('%s', async (type) => {
    const channel = await h.channel({ type, name: type });
    const segment = await h.segment(`S5 ${type}`, 's3');
    const res = await h.server.request('POST', '/api/v1/broadcasts', {
      token: h.ws.tokens.manager,
      language: 'es',
      body: { name: 'S5', channelId: channel.id, segmentId: segment.id, content: { text: 'Hola' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('broadcast_unsupported_channel');
    expect(res.body.error.message).toMatch(/no admite transmisiones/);
    const list = (await h.server.request('GET', '/api/v1/broadcasts?limit=200', { token: h.ws.tokens.agent })).body
      .data;
    expect(list.some((b: { channelId: number }) => b.channelId === channel.id)).toBe(false);
  });
});

describe('S8: segment errors in the broadcast status and details, with the reference wording', () => {
  it('segment not found when creating', async () => {
    const res = await h.server.request('POST', '/api/v1/broadcasts', {
      token: h.ws.tokens.manager,
      language: 'es',
      body: { name: 'S8', channelId: sandbox, segmentId: 987654, content: { text: 'Hola' } },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('Segmento de contacto no encontrado');
  });

  it('empty target: the broadcast fails with "no contacts in target segment"', async () => {
    const segment = await h.segment('S8 empty', 'nobody has this tag');
    const broadcast = await h.broadcast({
      name: 'S8 empty',
      channelId: sandbox,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    await h.schedule(broadcast.id);
    await h.engine().runUntilIdle();
    const es = await h.get(broadcast.id, 'es');
    expect(es.status).toBe('failed');
    expect(es.error).toEqual({
      code: 'broadcast_empty_target',
      message: 'Falló la transmisión: no hay contactos en el segmento de destino',
    });
    expect((await h.get(broadcast.id, 'en')).error.message).toBe('Broadcast failed: no contacts in target segment');
  });

  it('target deleted after scheduling: the broadcast fails with "target segment not found"', async () => {
    const segment = await h.segment('S8 deleted', 's3');
    const future = (await h.channel({ type: 'sandbox', name: 'S8 sandbox' })).id;
    const broadcast = await h.broadcast({
      name: 'S8 deleted',
      channelId: future,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const at = new Date(Date.now() + 3_600_000);
    await h.schedule(broadcast.id, at.toISOString());
    await h.server.request('DELETE', `/api/v1/segments/${segment.id}`, { token: h.ws.tokens.manager });
    await h.engine({ clock: () => at.getTime() + 1000 }).runUntilIdle();
    const es = await h.get(broadcast.id, 'es');
    expect(es.status).toBe('failed');
    expect(es.error.message).toBe('Falló la transmisión: no se encontró el segmento de destino.');
    const events = await h.server.database.db.all<{ type: string }>(
      sql`SELECT type FROM events WHERE broadcast_id = ${broadcast.id} ORDER BY id`,
    );
    expect(events.map((e) => e.type)).toEqual(['broadcast.scheduled', 'broadcast.failed']);
  });
});

describe('the state machine', () => {
  it('a cancelled broadcast never sends; a sent one cannot be rescheduled or edited', async () => {
    const segment = await h.segment('cancel', 's3');
    const future = (await h.channel({ type: 'sandbox', name: 'cancel sandbox' })).id;
    const b = await h.broadcast({
      name: 'cancel me',
      channelId: future,
      segmentId: segment.id,
      content: { text: 'x' },
    });
    await h.schedule(b.id, new Date(Date.now() + 60_000).toISOString());
    const cancelled = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/cancel`, {
      token: h.ws.tokens.manager,
    });
    expect(cancelled.body.status).toBe('cancelled');
    await h.engine({ clock: () => Date.now() + 120_000 }).runUntilIdle();
    expect((await h.get(b.id)).counts).toEqual({});
    const again = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/schedule`, {
      token: h.ws.tokens.manager,
      body: {},
      language: 'en',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe('A broadcast that is cancelled cannot become scheduled.');
    const edit = await h.server.request('PATCH', `/api/v1/broadcasts/${b.id}`, {
      token: h.ws.tokens.manager,
      body: { name: 'x' },
    });
    expect(edit.status).toBe(409);
  });

  it('agents may read broadcasts but not send them', async () => {
    const segment = await h.segment('roles', 's3');
    const res = await h.server.request('POST', '/api/v1/broadcasts', {
      token: h.ws.tokens.agent,
      body: { name: 'x', channelId: sandbox, segmentId: segment.id, content: { text: 'x' } },
    });
    expect(res.status).toBe(403);
  });
});

describe('the broadcast list finds broadcasts by the names a helpdesk page shows', () => {
  it('name= (repeatable) returns exactly the broadcasts with those names', async () => {
    const segment = await h.segment('by name', 's3');
    const names = ['Black Friday 2026', 'Promo <b>Navidad</b> ñ', 'Otra difusión'];
    for (const name of names)
      await h.broadcast({ name, channelId: sandbox, segmentId: segment.id, content: { text: 'x' } });
    const query = new URLSearchParams([
      ['name', names[0] as string],
      ['name', names[1] as string],
      ['name', 'No existe'],
    ]);
    const res = await h.server.request('GET', `/api/v1/broadcasts?${query}`, { token: h.ws.tokens.agent });
    expect(res.status).toBe(200);
    expect(res.body.data.map((b: { name: string }) => b.name).sort()).toEqual([names[0], names[1]].sort());
    const one = await h.server.request('GET', `/api/v1/broadcasts?name=${encodeURIComponent('Otra difusión')}`, {
      token: h.ws.tokens.agent,
    });
    expect(one.body.data.map((b: { name: string }) => b.name)).toEqual(['Otra difusión']);
  });
});

describe('cancelling while it sends', () => {
  it('what was claimed but not sent is cancelled, not left uncertain', async () => {
    await h.seedContacts(20_000, 'cancel mid-send', { start: 200_000 });
    const segment = await h.segment('cancel mid-send', 'cancel mid-send');
    const channel = (
      await h.channel({ type: 'sandbox', name: 'cancel mid-send', limits: { messagesPerSecond: 50_000 } })
    ).id;
    const b = await h.broadcast({
      name: 'cancel mid-send',
      channelId: channel,
      segmentId: segment.id,
      content: { text: 'x' },
    });
    await h.schedule(b.id);
    const engine = h.engine({ pollIntervalMs: 5 });
    engine.start();
    const done = (counts: Record<string, number>) => (counts.sent ?? 0) + (counts.delivered ?? 0);
    await expect.poll(async () => done((await h.get(b.id)).counts) > 0, { timeout: 10_000, interval: 5 }).toBe(true);
    await h.server.request('POST', `/api/v1/broadcasts/${b.id}/cancel`, { token: h.ws.tokens.manager });
    await engine.stop();
    const counts = (await h.get(b.id)).counts;
    expect(counts.uncertain ?? 0).toBe(0);
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.queued ?? 0).toBe(0);
    expect(done(counts) + (counts.cancelled ?? 0)).toBe(20_000);
    expect(counts.cancelled).toBeGreaterThan(0);
  });
});
