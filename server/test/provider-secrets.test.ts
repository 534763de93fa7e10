/**
 * Provider secrets: a channel's credentials go only where its owner pointed it, never into Rebound's own
 * network, and whatever answers there is never shown to agents verbatim. Real listeners on 127.0.0.1 stand
 * in for the places a hostile manager would point a channel at.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ChannelType, channelCapabilities } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapter } from '../src/channels';
import { loadConfig } from '../src/config';
import { channels } from '../src/db/schema';
import { describeProviderUrlRefusal } from '../src/lib/provider-url';
import { updateChannel } from '../src/services/channels';
import { type Harness, harness } from './engine/harness';
import { startTestServer, type TestServer, type TestWorkspace } from './helpers';

interface Listener {
  origin: string;
  requests: { headers: IncomingHttpHeaders; body: string }[];
}

/** A server on 127.0.0.1 that records every request and answers each the same way; closed after the file. */
async function listen(status: number, body: string): Promise<Listener> {
  const listener: Listener = { origin: '', requests: [] };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    listener.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listener.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return listener;
}

const OLD = { accountSid: `AC${'a'.repeat(32)}`, authToken: 'old-secret-auth-token', from: '+15005550006' };
const NEW = { accountSid: `AC${'b'.repeat(32)}`, authToken: 'new-auth-token', from: '+15005550006' };
const basic = (creds: typeof OLD) =>
  `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;
const TWILIO_SID = JSON.stringify({ sid: `SM${'0'.repeat(32)}`, status: 'queued' });
const SECRET_PAGE = '<html><title>INTERNAL-SECRET-PAGE</title><body>db password: hunter2</body></html>';

/** Sends a one-off broadcast of `count` new contacts through the channel and waits for the engine to finish. */
async function broadcastThrough(h: Harness, channelId: number, tag: string, engine = h.engine()): Promise<number> {
  await h.seedContacts(2, tag, { start: 9000 + Math.floor(Math.random() * 100_000) });
  const segment = await h.segment(tag, tag);
  const broadcast = await h.broadcast({ name: tag, channelId, segmentId: segment.id, content: { text: 'Hola' } });
  await h.schedule(broadcast.id);
  await engine.runUntilIdle();
  return broadcast.id;
}

describe('only the owner moves a channel (a server without PROVIDER_URL_ALLOWLIST)', () => {
  let server: TestServer;
  let ws: TestWorkspace;
  let listener: Listener;
  let id: number;

  beforeAll(async () => {
    server = await startTestServer({ providerUrlAllowlist: [] });
    ws = await server.workspace();
    listener = await listen(201, TWILIO_SID);
    const created = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.owner,
      body: { type: 'twilio_sms', name: 'Twilio', credentials: OLD },
    });
    expect(created.status).toBe(201);
    id = created.body.id;
  });

  it('a manager gets 403 for the base URL, even with credentials, and the channel keeps its place and secrets', async () => {
    for (const body of [{ baseUrl: listener.origin }, { baseUrl: listener.origin, credentials: NEW }]) {
      const moved = await server.request('PATCH', `/api/v1/channels/${id}`, {
        token: ws.tokens.manager,
        body,
        language: 'es',
      });
      expect(moved.status).toBe(403);
      expect(moved.body.error.code).toBe('channel_owner_only');
      expect(moved.body.error.message).toContain('Solo el propietario puede cambiar la URL base');
    }
    const english = await server.request('PATCH', `/api/v1/channels/${id}`, {
      token: ws.tokens.manager,
      body: { baseUrl: listener.origin },
      language: 'en',
    });
    expect(english.body.error.message).toContain("Only the owner may change a channel's base URL");

    const channel = (await server.request('GET', `/api/v1/channels/${id}`, { token: ws.tokens.owner })).body;
    expect(channel).toMatchObject({ baseUrl: null, credentialsSet: ['accountSid', 'authToken', 'from'] });
    expect(listener.requests).toEqual([]);
  });

  it('a manager still renames the channel and changes its limits', async () => {
    const renamed = await server.request('PATCH', `/api/v1/channels/${id}`, {
      token: ws.tokens.manager,
      body: { name: 'Twilio AR', limits: { messagesPerSecond: 5 } },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Twilio AR', limits: { messagesPerSecond: 5 }, baseUrl: null });
  });

  it('the owner cannot point it at the listener either: 422, and nothing changes', async () => {
    const moved = await server.request('PATCH', `/api/v1/channels/${id}`, {
      token: ws.tokens.owner,
      body: { baseUrl: listener.origin, credentials: NEW },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.error.code).toBe('channel_base_url_internal');
    const channel = (await server.request('GET', `/api/v1/channels/${id}`, { token: ws.tokens.owner })).body;
    expect(channel).toMatchObject({ baseUrl: null, credentialsSet: ['accountSid', 'authToken', 'from'] });
  });
});

describe('internal base URLs are refused with 422 and nothing is written', () => {
  let server: TestServer;
  let ws: TestWorkspace;

  beforeAll(async () => {
    server = await startTestServer({ providerUrlAllowlist: [] });
    ws = await server.workspace();
  });

  const INTERNAL = [
    'http://127.0.0.1:9999',
    'http://localhost:3000/',
    'http://[::1]/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0.0.0.0:8080',
    'http://10.0.0.5',
    'http://172.16.3.4',
    'http://192.168.1.10',
    'http://100.64.0.1',
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://[fd00:ec2::254]/',
    'http://[fe80::1]/',
    'http://[fc00::5]/',
    'http://[::ffff:169.254.169.254]/',
  ];

  it.each(INTERNAL)('POST with %s: 422, no channel', async (baseUrl) => {
    const before = (await server.request('GET', '/api/v1/channels', { token: ws.tokens.owner })).body.data.length;
    const res = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.owner,
      body: { type: 'whatsapp', name: 'WA', credentials: { accessToken: 'secret', phoneNumberId: '1' }, baseUrl },
      language: 'es',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('channel_base_url_internal');
    expect(res.body.error.message).toContain('PROVIDER_URL_ALLOWLIST');
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'body.baseUrl' })]);
    // Said by the host as written, never by the address a name resolved to (a map of the server's network).
    const host = new URL(baseUrl).hostname.replace(/^\[|\]$/g, '');
    expect(res.body.error.message).toContain(`La URL base lleva a ${host}, a una dirección interna`);
    if (host === 'localhost') expect(res.text).not.toMatch(/127\.0\.0\.1|::1/);
    const after = (await server.request('GET', '/api/v1/channels', { token: ws.tokens.owner })).body.data.length;
    expect(after).toBe(before);
  });

  it('PATCH by the owner to each of them: 422, and the channel keeps its base URL and credentials', async () => {
    const created = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.owner,
      body: { type: 'twilio_sms', name: 'Twilio', credentials: OLD },
    });
    for (const baseUrl of INTERNAL) {
      const res = await server.request('PATCH', `/api/v1/channels/${created.body.id}`, {
        token: ws.tokens.owner,
        body: { baseUrl, credentials: NEW },
      });
      expect(res.status, baseUrl).toBe(422);
    }
    const stored = await server.database.db.all<{ base_url: string | null; credentials: string }>(
      sql`SELECT base_url, credentials FROM channels WHERE id = ${created.body.id}`,
    );
    expect(stored).toEqual([{ base_url: null, credentials: JSON.stringify(OLD) }]);
  });

  it('a public address is accepted; an allowlisted host:port is, another port on it is not', async () => {
    const publicUrl = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.owner,
      body: { type: 'telegram', name: 'TG', baseUrl: 'http://93.184.215.14' },
    });
    expect(publicUrl.status).toBe(201);

    const narrow = await startTestServer({ providerUrlAllowlist: ['127.0.0.1:4010'] });
    const owner = (await narrow.workspace()).tokens.owner;
    const post = (baseUrl: string) =>
      narrow.request('POST', '/api/v1/channels', { token: owner, body: { type: 'telegram', name: 'TG', baseUrl } });
    expect((await post('http://127.0.0.1:4010')).status).toBe(201);
    expect((await post('http://127.0.0.1:4011')).status).toBe(422);
  });

  it('a bad PROVIDER_URL_ALLOWLIST stops the server at start with the variable named', () => {
    expect(() => loadConfig({ PROVIDER_URL_ALLOWLIST: 'http://127.0.0.1/' })).toThrow(/PROVIDER_URL_ALLOWLIST/);
    expect(
      loadConfig({ PROVIDER_URL_ALLOWLIST: '127.0.0.1, sims.internal:8080,[::1]:9000' }).PROVIDER_URL_ALLOWLIST,
    ).toEqual(['127.0.0.1', 'sims.internal:8080', '[::1]:9000']);
  });
});

describe('the owner moves a channel: its credentials stay behind (a server that allows 127.0.0.1)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('the next send carries no old Authorization; only credentials sent with or after the move travel', async () => {
    const listener = await listen(201, TWILIO_SID);
    const channel = await h.channel({ type: 'twilio_sms', name: 'Twilio', credentials: OLD });
    const patch = (body: unknown) =>
      h.server.request('PATCH', `/api/v1/channels/${channel.id}`, { token: h.ws.tokens.owner, body });

    const moved = await patch({ baseUrl: listener.origin });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      baseUrl: listener.origin,
      credentialsSet: [],
      credentialsMissing: ['accountSid', 'authToken', 'from'],
    });
    const first = await broadcastThrough(h, channel.id, 'moved once');
    expect(listener.requests).toEqual([]);
    expect((await h.get(first)).counts).toEqual({ failed: 2 });

    // Moving again with only some credentials keeps exactly those: nothing merges with what was stored.
    const elsewhere = await listen(201, TWILIO_SID);
    const partial = await patch({ baseUrl: elsewhere.origin, credentials: { authToken: 'only-this' } });
    expect(partial.body.credentialsSet).toEqual(['authToken']);

    const back = await patch({ baseUrl: listener.origin, credentials: NEW });
    expect(back.body.credentialsSet).toEqual(['accountSid', 'authToken', 'from']);
    await broadcastThrough(h, channel.id, 'moved with new credentials');
    expect(listener.requests).toHaveLength(2);
    for (const { headers, body } of listener.requests) {
      expect(headers.authorization).toBe(basic(NEW));
      expect(`${headers.authorization} ${body}`).not.toContain(OLD.accountSid);
    }
    expect(elsewhere.requests).toEqual([]);
  });

  it("a manager's edit that read the channel before the owner's move changes nothing: the old secrets never come back", async () => {
    const listener = await listen(201, TWILIO_SID);
    const channel = await h.channel({ type: 'twilio_sms', name: 'Twilio carrera', credentials: OLD });
    const db = h.server.database.db;
    // The owner moves the channel (new host, new credentials) between the manager's read and write.
    let raced = false;
    const racing = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'transaction') return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          if (!raced) {
            raced = true;
            await updateChannel(
              db,
              h.ws.id,
              channel.id,
              { baseUrl: listener.origin, credentials: NEW },
              {
                role: 'owner',
                providerUrlAllowlist: ['127.0.0.1'],
                language: 'es',
              },
            );
          }
          return (target.transaction as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as typeof db;
    const manager = { role: 'manager' as const, providerUrlAllowlist: ['127.0.0.1'], language: 'es' as const };
    await expect(
      updateChannel(racing, h.ws.id, channel.id, { credentials: { from: '+15005550007' } }, manager),
    ).rejects.toMatchObject({ status: 409, code: 'channel_changed' });
    await broadcastThrough(h, channel.id, 'after the race');
    expect(listener.requests).toHaveLength(2);
    for (const { headers } of listener.requests) expect(headers.authorization).toBe(basic(NEW));
  });
});

describe('the engine refuses internal addresses at send time', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('a base URL stored before the check (inserted directly) never receives the credentials', async () => {
    const listener = await listen(201, TWILIO_SID);
    const port = new URL(listener.origin).port;
    const stored = [listener.origin, `http://localhost:${port}`, `http://2130706433:${port}`];
    for (const [index, baseUrl] of stored.entries()) {
      listener.requests.length = 0;
      const [row] = await h.server.database.db
        .insert(channels)
        .values({
          workspaceId: h.ws.id,
          type: 'twilio_sms',
          name: `Stored ${baseUrl}`,
          credentials: OLD,
          baseUrl,
          ...channelCapabilities.twilio_sms.defaultLimits,
        })
        .returning();
      // The engine as the server runs it, with no PROVIDER_URL_ALLOWLIST.
      const engine = h.engine({ adapterFor: (channel) => createAdapter(channel, { providerUrlAllowlist: [] }) });
      const id = await broadcastThrough(h, row?.id ?? 0, `stored ${index}`, engine);
      expect(listener.requests, baseUrl).toEqual([]);
      const messages = await h.messages(id);
      expect(messages.map((m) => m.state)).toEqual(['failed', 'failed']);
      const [message] = await h.server.database.db.all<{ provider_message: string }>(
        sql`SELECT provider_message FROM messages WHERE broadcast_id = ${id} LIMIT 1`,
      );
      expect(message?.provider_message).toMatch(/^Not sent: the channel's base URL leads to .*a loopback address/);
    }
  });
});

describe('a refusal at send time, as the failure log shows it', () => {
  it('names the host as stored, never the address its name resolved to (a map of the network for its readers)', () => {
    const text = describeProviderUrlRefusal({ reason: 'private', host: 'db.internal.corp', address: '10.0.3.7' });
    expect(text).toBe(
      "Not sent: the channel's base URL leads to db.internal.corp, to a private-network address, and Rebound sends credentials only to a provider's own servers. An operator can allow it in PROVIDER_URL_ALLOWLIST.",
    );
  });
});

describe("an answer not in the provider's format is never shown verbatim", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  it('GET /failed-messages shows the status, not the internal page; recognised fields are capped and stripped', async () => {
    const page = await listen(404, SECRET_PAGE);
    const noisy = await listen(
      400,
      JSON.stringify({
        code: 21211,
        message: `<b>Invalid</b> 'To'\u0007\u009b number ${'x'.repeat(1000)}`,
        status: 400,
      }),
    );
    const ids: number[] = [];
    for (const listener of [page, noisy]) {
      const channel = await h.channel({ type: 'twilio_sms', name: 'T', credentials: OLD, baseUrl: listener.origin });
      ids.push(await broadcastThrough(h, channel.id, `answer ${ids.length}`));
    }
    const failed = async (broadcastId: number | undefined) =>
      (
        await h.server.request('GET', `/api/v1/failed-messages?broadcastId=${broadcastId}`, {
          token: h.ws.tokens.agent,
        })
      ).body.data;

    const fromPage = await failed(ids[0]);
    expect(fromPage).toHaveLength(2);
    for (const row of fromPage) {
      expect(row.providerCode).toBe('http_404');
      expect(row.providerMessage).toBe("HTTP 404 (the answer was not in the provider's format)");
    }
    expect(JSON.stringify(fromPage)).not.toMatch(/INTERNAL-SECRET-PAGE|hunter2/);

    const [fromNoisy] = await failed(ids[1]);
    expect(fromNoisy.providerCode).toBe('21211');
    expect(fromNoisy.providerMessage).toMatch(/^Invalid 'To' number x+…$/);
    expect(fromNoisy.providerMessage.length).toBeLessThanOrEqual(300);
  });

  const SEND_CREDENTIALS: Partial<Record<ChannelType, Record<string, string>>> = {
    whatsapp: { accessToken: 'wa', phoneNumberId: '1' },
    messenger: { pageAccessToken: 'fb' },
    telegram: { botToken: '1:tg' },
    twilio_sms: OLD,
    vonage_sms: { apiKey: 'k', apiSecret: 's', from: 'Rebound' },
    messagebird_sms: { accessKey: 'mb', originator: 'Rebound' },
  };

  it.each(Object.entries(SEND_CREDENTIALS))(
    '%s: 200, 404 and 502 with a foreign body say only the status',
    async (type, credentials) => {
      for (const status of [200, 404, 502]) {
        const listener = await listen(status, SECRET_PAGE);
        const adapter = createAdapter(
          { id: 1, type: type as ChannelType, credentials, baseUrl: listener.origin },
          { providerUrlAllowlist: ['127.0.0.1'] },
        );
        const outcome = await adapter.send(
          { messageId: 7, to: '+5491150000001', content: { text: 'Hola' }, useTemplate: false },
          AbortSignal.timeout(5_000),
        );
        expect(listener.requests, `${type} ${status}`).toHaveLength(1);
        expect(outcome.kind, `${type} ${status}`).not.toBe('accepted');
        const text = 'providerMessage' in outcome ? outcome.providerMessage : '';
        expect(text, `${type} ${status}`).toContain(`HTTP ${status}`);
        expect(text, `${type} ${status}`).not.toMatch(/INTERNAL|hunter2|<|>/);
      }
    },
  );
});
