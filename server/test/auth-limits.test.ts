/** Token guessing is slowed per address, and secrets never reach the logs. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app';
import { AuthLimiter } from '../src/lib/auth-limiter';
import { describeError, logError, redact } from '../src/lib/log';
import { startTestServer } from './helpers';

const server = await startTestServer({ maxAuthFailuresPerMinute: 5, trustProxy: true });
const ws = await server.workspace('Límites');

describe("Meta's verify token", () => {
  it('after 5 wrong handshakes an address gets no answer, not even to the right token; another address does', async () => {
    const created = await server.request('POST', '/api/v1/channels', {
      token: ws.tokens.manager,
      body: {
        type: 'whatsapp',
        name: 'WhatsApp verificado',
        credentials: { accessToken: 'EAAG', phoneNumberId: '77', appSecret: 's3cret', verifyToken: 'tok42' },
      },
    });
    expect(created.status).toBe(201);
    const handshake = (id: number, token: string, address: string) =>
      fetch(
        `${server.baseUrl}/webhooks/whatsapp/${id}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${token}`,
        { headers: { 'X-Forwarded-For': address } },
      );
    for (let i = 0; i < 5; i++)
      expect((await handshake(created.body.id, `guess${i}`, '203.0.113.50')).status).toBe(401);
    const blocked = await handshake(created.body.id, 'tok42', '203.0.113.50');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).not.toContain('1158201444');
    const meta = await handshake(created.body.id, 'tok42', '198.51.100.9');
    expect(meta.status).toBe(200);
    expect(await meta.text()).toBe('1158201444');
    // Channels that are not there count too: guessing IDs is guessing.
    for (let i = 0; i < 5; i++) expect((await handshake(999_000 + i, 'tok42', '203.0.113.51')).status).toBe(404);
    expect((await handshake(created.body.id, 'tok42', '203.0.113.51')).status).toBe(429);
  });
});

describe('token brute force', () => {
  it('after 5 wrong tokens an address waits for its next guess; a valid token from the same address (one office behind one NAT) still gets in', async () => {
    const from = (address: string) => ({ 'X-Forwarded-For': address });
    for (let i = 0; i < 5; i++) {
      const res = await server.request('GET', '/api/v1/me', {
        token: `rb_guess${i}xxxxxxxx`,
        headers: from('203.0.113.7'),
      });
      expect(res.status).toBe(401);
    }
    const blocked = await server.request('GET', '/api/v1/me', {
      token: 'rb_guess6xxxxxxxx',
      headers: from('203.0.113.7'),
      language: 'es',
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_auth_failures');
    expect(blocked.body.error.message).toMatch(/Demasiados intentos con tokens no válidos/);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const colleague = await server.request('GET', '/api/v1/me', {
      token: ws.tokens.agent,
      headers: from('203.0.113.7'),
    });
    expect(colleague.status).toBe(200);
    expect(colleague.body.role).toBe('agent');
    const stillBlocked = await server.request('GET', '/api/v1/me', {
      token: 'rb_guess7xxxxxxxx',
      headers: from('203.0.113.7'),
    });
    expect(stillBlocked.status).toBe(429);
    const elsewhere = await server.request('GET', '/api/v1/me', {
      token: ws.tokens.agent,
      headers: from('198.51.100.2'),
    });
    expect(elsewhere.status).toBe(200);
  });

  it('requests without a token count for nothing: the address is not limited after many of them', async () => {
    const from = { 'X-Forwarded-For': '192.0.2.44' };
    for (let i = 0; i < 12; i++) {
      const res = await server.request('GET', '/api/v1/me', { headers: from });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    const guess = await server.request('GET', '/api/v1/me', { token: 'rb_guessAxxxxxxxx', headers: from });
    expect(guess.status).toBe(401);
  });

  it('valid tokens never count against an address', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await server.request('GET', '/api/v1/me', {
        token: ws.tokens.agent,
        headers: { 'X-Forwarded-For': '192.0.2.1' },
      });
      expect(res.status).toBe(200);
    }
  });

  it('the window ends: the address may try again', () => {
    const limiter = new AuthLimiter({ maxFailures: 2, windowMs: 1_000 });
    limiter.recordFailure('a', 0);
    limiter.recordFailure('a', 10);
    expect(limiter.blockedFor('a', 20)).toBe(980);
    expect(limiter.blockedFor('a', 1_000)).toBe(0);
    limiter.recordFailure('a', 1_000);
    expect(limiter.blockedFor('a', 1_001)).toBe(0);
  });

  it('remembers a bounded number of addresses', () => {
    const limiter = new AuthLimiter({ maxFailures: 1, windowMs: 60_000, maxAddresses: 3 });
    for (const address of ['a', 'b', 'c', 'd']) limiter.recordFailure(address, 0);
    expect(limiter.blockedFor('a', 1)).toBe(0);
    expect(limiter.blockedFor('d', 1)).toBeGreaterThan(0);
  });

  it('without a proxy the socket address counts, not a header the client can forge', async () => {
    const app = createApp({ db: server.database.db, maxAuthFailuresPerMinute: 1 });
    const bad = { headers: { Authorization: 'Bearer rb_wrongwrongwrong', 'X-Forwarded-For': '1.2.3.4' } };
    expect((await app.request('/api/v1/me', bad)).status).toBe(401);
    const forged = { headers: { Authorization: 'Bearer rb_wrongwrongwrong', 'X-Forwarded-For': '5.6.7.8' } };
    expect((await app.request('/api/v1/me', forged)).status).toBe(429);
  });
});

describe('logs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('mask API tokens, bearer headers and provider tokens in URLs', () => {
    const text = redact(
      `token ${ws.tokens.owner} Authorization: Bearer abc.def https://api.telegram.org/bot123456:AAE-secret_x/sendMessage ` +
        'https://graph.facebook.com/v21.0/me?access_token=EAAB123&x=1 https://user:pa55@example.com/',
    );
    expect(text).not.toContain(ws.tokens.owner);
    expect(text).not.toMatch(/abc\.def|AAE-secret_x|EAAB123|pa55/);
    expect(text).toContain('/bot***/sendMessage');
  });

  it('an error logged with its causes carries no secret', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    const cause = new Error(`connect ECONNREFUSED for https://api.telegram.org/bot42:tg-SECRET/sendMessage`);
    logError(`[rebound] request with ${ws.tokens.manager} failed`, new Error('send failed', { cause }));
    const printed = lines.join('\n');
    expect(printed).toContain('caused by: Error: connect ECONNREFUSED');
    expect(printed).not.toContain('tg-SECRET');
    expect(printed).not.toContain(ws.tokens.manager);
    expect(describeError('plain')).toBe('plain');
  });
});
