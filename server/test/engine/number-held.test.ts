/**
 * A number paused for its own sake (the quality guard, or Meta's flag) takes nothing new until a manager
 * weighs it: a new broadcast is refused with what to do (and the pre-flight says so first), one moved
 * onto the number too, and one that was already due waits paused with the number, unless a manager
 * resumed it after the pause began.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { harness } from './harness';

const h = await harness();

/** A sandbox number with one broadcast paused as Meta's FLAGGED pauses it; returns the channel. */
async function flaggedNumber(name: string, tag: string, start: number) {
  const channel = await h.channel({ type: 'sandbox', name });
  await h.seedContacts(3, tag, { start });
  const segment = await h.segment(`${name} en pausa`, tag);
  const paused = await h.broadcast({
    name: `${name} en pausa`,
    channelId: channel.id,
    segmentId: segment.id,
    content: { text: 'Hola' },
  });
  const pause = { kind: 'number_quality', event: 'FLAGGED', at: Date.now() - 1000, scope: 'channel' };
  await h.server.database.db.run(
    sql`UPDATE broadcasts SET status = 'paused', pause = ${JSON.stringify(pause)} WHERE id = ${paused.id}`,
  );
  return { channel, segment, paused };
}

const manager = (method: 'POST' | 'PATCH' | 'GET', path: string, body?: unknown) =>
  h.server.request(method, `/api/v1${path}`, { token: h.ws.tokens.manager, body, language: 'es' });

describe('a new broadcast on a paused number', () => {
  it('is refused with what to do, and the pre-flight says so before; another channel takes it', async () => {
    const { channel, segment } = await flaggedNumber('Sandbox marcado nuevo', 'marcado nuevo', 790_000);
    const fresh = await h.broadcast({
      name: 'Nueva',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const check = await manager('GET', `/broadcasts/${fresh.id}/preflight`);
    expect(check.status, check.text).toBe(200);
    expect(check.body.warnings.map((w: { code: string }) => w.code)).toContain('number_paused');
    for (const body of [{}, { at: new Date(Date.now() + 3_600_000).toISOString() }]) {
      const refused = await manager('POST', `/broadcasts/${fresh.id}/schedule`, body);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('broadcast_number_paused');
      expect(refused.body.error.message).toMatch(/^El número de este canal está en pausa/);
    }
    expect((await h.get(fresh.id)).status).toBe('draft');
    // On another number it goes.
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox sano' });
    expect((await manager('PATCH', `/broadcasts/${fresh.id}`, { channelId: other.id })).status).toBe(200);
    expect((await manager('POST', `/broadcasts/${fresh.id}/schedule`, {})).status).toBe(200);
    await h.engine().runUntilIdle();
    expect((await h.get(fresh.id)).status).toBe('completed');
  });

  it('is refused when a scheduled broadcast is moved onto the number', async () => {
    const { channel, segment } = await flaggedNumber('Sandbox marcado destino', 'marcado destino', 790_100);
    const other = await h.channel({ type: 'sandbox', name: 'Sandbox origen' });
    const later = await h.broadcast({
      name: 'Más tarde',
      channelId: other.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    expect(
      (
        await manager('POST', `/broadcasts/${later.id}/schedule`, {
          at: new Date(Date.now() + 3_600_000).toISOString(),
        })
      ).status,
    ).toBe(200);
    const moved = await manager('PATCH', `/broadcasts/${later.id}`, { channelId: channel.id });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('broadcast_number_paused');
    expect((await h.get(later.id)).channelId).toBe(other.id);
  });
});

describe('a broadcast already due on a paused number', () => {
  it('waits paused with the number; once a manager resumes it, it goes', async () => {
    const { channel, segment } = await flaggedNumber('Sandbox marcado debido', 'marcado debido', 790_200);
    const due = await h.broadcast({
      name: 'Debida',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    // Scheduled while the pause tripped (written before it, seen by nothing that paused the number).
    await h.server.database.db.run(
      sql`UPDATE broadcasts SET status = 'scheduled', scheduled_at = ${Date.now() - 1000}, target_count = 3 WHERE id = ${due.id}`,
    );
    await h.engine().runUntilIdle();
    const waiting = await h.get(due.id);
    expect(waiting.status).toBe('paused');
    expect(waiting.pause).toMatchObject({ kind: 'number_quality', event: 'FLAGGED' });
    expect(await h.messages(due.id)).toEqual([]);
    // The manager weighed it: resumed, it sends, though the number's other broadcast is still paused.
    expect((await manager('POST', `/broadcasts/${due.id}/resume`)).status).toBe(200);
    await h.engine().runUntilIdle();
    const sent = await h.get(due.id);
    expect(sent.status).toBe('completed');
    expect(sent.counts).toEqual({ delivered: 3 });
  });
});
