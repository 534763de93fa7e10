/** A revoked token loses its open event stream: nothing more reaches it, and the stream closes. */
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/engine/events';
import { startTestServer } from './helpers';

// Streams look for events every 30 ms, and an idle stream asks about its token every 200 ms (10 s in
// production, inside the 30 s promised), so these tests take seconds, not minutes.
const previous = { poll: process.env.REBOUND_EVENTS_POLL_MS, check: process.env.REBOUND_EVENTS_TOKEN_CHECK_MS };
process.env.REBOUND_EVENTS_POLL_MS = '30';
process.env.REBOUND_EVENTS_TOKEN_CHECK_MS = '200';
afterAll(() => {
  for (const [name, value] of [
    ['REBOUND_EVENTS_POLL_MS', previous.poll],
    ['REBOUND_EVENTS_TOKEN_CHECK_MS', previous.check],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const server = await startTestServer();
const ws = await server.workspace('Tokens');
const db = server.database.db;

/** A new agent token made by the owner through the API, as a person would for a dashboard. */
async function newToken(name: string): Promise<{ id: number; token: string }> {
  const res = await server.request('POST', '/api/v1/tokens', {
    token: ws.tokens.owner,
    body: { name, role: 'agent' },
  });
  expect(res.status).toBe(201);
  return { id: res.body.id, token: res.body.token };
}

/** An open event stream and everything it has received so far, as text. */
async function openStream(token: string) {
  const res = await fetch(`${server.baseUrl}/api/v1/events?since=now`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream', 'Accept-Language': 'en' },
  });
  expect(res.status).toBe(200);
  const reader = res.body?.getReader();
  if (!reader) throw new Error('no body');
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  let pending: Promise<void> | undefined;
  const readMore = () => {
    pending ??= reader.read().then((chunk) => {
      pending = undefined;
      if (chunk.done) ended = true;
      else text += decoder.decode(chunk.value, { stream: true });
    });
    return pending;
  };
  /** Reads until the condition holds, the stream ends or the time is up; returns the condition. */
  async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && !ended && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([readMore(), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    return condition();
  }
  return {
    text: () => text,
    ended: () => ended,
    until,
    close: () => reader.cancel().catch(() => {}),
  };
}

const cancelled = (name: string) =>
  recordEvent(db, { workspaceId: ws.id, type: 'broadcast.cancelled', data: { name }, at: Date.now() });

describe('revoking a token', () => {
  it('closes its open event stream at once, with nothing sent after the revocation', async () => {
    const { id, token } = await newToken('Tablero');
    const stream = await openStream(token);
    await cancelled('Antes');
    expect(await stream.until(() => stream.text().includes('Antes'), 10_000)).toBe(true);

    const revoked = await server.request('DELETE', `/api/v1/tokens/${id}`, { token: ws.tokens.owner });
    expect(revoked.status).toBe(200);
    await cancelled('Después');

    // The stream ends by itself; the client is told why and never sees the later event.
    expect(await stream.until(() => stream.ended(), 20_000)).toBe(true);
    expect(stream.text()).not.toContain('Después');
    expect(stream.text()).toMatch(/event: error\ndata: \{"code":"unauthorized"/);
    // Its reconnection is refused.
    expect((await server.request('GET', '/api/v1/me', { token })).status).toBe(401);
    // Other tokens' streams go on.
    const other = await openStream(ws.tokens.agent);
    await cancelled('Otra');
    expect(await other.until(() => other.text().includes('Otra'), 10_000)).toBe(true);
    await other.close();
  });

  it('revoked by another process (straight in the database): the stream gets nothing more and closes', async () => {
    const { id, token } = await newToken('Otro proceso');
    const stream = await openStream(token);
    await cancelled('Visible');
    expect(await stream.until(() => stream.text().includes('Visible'), 10_000)).toBe(true);

    // Another server process sharing the database revokes it: no in-process notice reaches this one.
    await db.run(sql`UPDATE api_tokens SET revoked_at = ${Date.now()} WHERE id = ${id}`);
    await cancelled('Tarde');

    expect(await stream.until(() => stream.ended(), 20_000)).toBe(true);
    expect(stream.text()).not.toContain('Tarde');
    expect(stream.text()).toContain('"code":"unauthorized"');
  });

  it('an idle stream of a token revoked elsewhere closes too, without any event to trigger it', async () => {
    const { id, token } = await newToken('Inactivo');
    const stream = await openStream(token);
    expect(await stream.until(() => stream.text().includes(': connected'), 10_000)).toBe(true);
    await db.run(sql`UPDATE api_tokens SET revoked_at = ${Date.now()} WHERE id = ${id}`);
    expect(await stream.until(() => stream.ended(), 20_000)).toBe(true);
  });
});
