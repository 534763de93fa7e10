/**
 * The adapters' one HTTP client (src/channels/http.ts), against real servers on 127.0.0.1: what it
 * answers, how much of an answer it keeps, and what each way of failing means for the recipient.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, MAX_ANSWER_BYTES, MaybeSentError, NotSentError, networkOutcome } from '../../src/channels/http';

const ALLOW = ['127.0.0.1'];
/** A self-signed certificate (CN rebound-test, valid for a century): no client trusts it. */
const SELF_SIGNED = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgixBrbtWf0I0FwGQp
6fhLtQpACf0Zdudjczyq2AHMtPehRANCAARdLdq4nd0OfYDHPwp+gSm8yfrAdmxl
VIn3tjBYdJR+rpgE+ZSRtZU4pY8x4tNxqc62VP/ZctQgRd+zOFerxe3N
-----END PRIVATE KEY-----`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBhDCCASugAwIBAgIUEiuGKybTWtCDglV9LwIUjQMJpZ8wCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMcmVib3VuZC10ZXN0MCAXDTI2MTIwNzAxMTYzOVoYDzIxMjYx
MTEzMDExNjM5WjAXMRUwEwYDVQQDDAxyZWJvdW5kLXRlc3QwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAARdLdq4nd0OfYDHPwp+gSm8yfrAdmxlVIn3tjBYdJR+rpgE
+ZSRtZU4pY8x4tNxqc62VP/ZctQgRd+zOFerxe3No1MwUTAdBgNVHQ4EFgQUu+nJ
IA4gAYQi+NytBs2gg5dbcd4wHwYDVR0jBBgwFoAUu+nJIA4gAYQi+NytBs2gg5db
cd4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAdjAJncIaljTlE
Ui0e20grnzdTG5PVrhWOpZm2Cp2MDgIgehzJeH6ECRHmSLRgrgLsnMIo8SNXOePk
hZpuIGMFlsc=
-----END CERTIFICATE-----`,
};
let server: Server;
let origin = '';
/** Requests the server has read, with their bodies. */
const seen: { method: string; url: string; body: string; type: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      body: Buffer.concat(chunks).toString('utf8'),
      type: req.headers['content-type'],
    });
    if (req.url?.startsWith('/huge')) {
      // Streams more than the client keeps, in 64 KiB pieces, and would go on for 8 MiB.
      res.writeHead(200, { 'content-type': 'application/json' });
      const piece = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const more = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    if (req.url?.startsWith('/slow')) return; // never answers
    if (req.url?.startsWith('/split')) {
      // "ñandú ✓" with a multi-byte character cut across two writes.
      const bytes = Buffer.from('{"text":"ñandú ✓"}', 'utf8');
      res.writeHead(201, { 'content-type': 'application/json', 'x-test': 'one', 'set-cookie': ['a=1', 'b=2'] });
      res.write(bytes.subarray(0, 11));
      setTimeout(() => res.end(bytes.subarray(11)), 20);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the adapters’ HTTP client', () => {
  it('sends the method, path with its query, headers and body, and answers status, headers and the whole text', async () => {
    const answer = await httpRequest(`${origin}/split/v1/messages?x=1&y=%C3%B1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"to":"5491155550001"}',
      allowlist: ALLOW,
    });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('{"text":"ñandú ✓"}');
    expect(answer.headers['x-test']).toBe('one');
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/split/v1/messages?x=1&y=%C3%B1',
      body: '{"to":"5491155550001"}',
      type: 'application/json',
    });
  });

  it('keeps at most MAX_ANSWER_BYTES of an answer: a host that streams more is cut off, and the send is uncertain', async () => {
    const error = await httpRequest(`${origin}/huge`, { allowlist: ALLOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaybeSentError);
    expect((error as Error).message).toContain(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
    expect(networkOutcome(error).kind).toBe('uncertain');
  });

  it('gives up waiting after timeoutMs (uncertain) and stops at once when its signal aborts (uncertain)', async () => {
    const started = performance.now();
    const timedOut = await httpRequest(`${origin}/slow`, { timeoutMs: 200, allowlist: ALLOW }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(MaybeSentError);
    expect(performance.now() - started).toBeLessThan(5_000);

    const controller = new AbortController();
    const pending = httpRequest(`${origin}/slow`, { signal: controller.signal, allowlist: ALLOW }).catch(
      (e: unknown) => e,
    );
    setTimeout(() => controller.abort(), 50);
    const aborted = await pending;
    expect(aborted).toBeInstanceOf(MaybeSentError);
    expect(networkOutcome(aborted).kind).toBe('uncertain');

    // Aborted while the connection is still being made: nothing is written either.
    const beforeConnect = seen.length;
    const connecting = new AbortController();
    const early = httpRequest(`${origin}/ok?fresh=${Date.now()}`, {
      signal: connecting.signal,
      allowlist: ['127.0.0.1', 'localhost'],
    }).catch((e: unknown) => e);
    connecting.abort();
    expect(await early).toBeInstanceOf(MaybeSentError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.length).toBe(beforeConnect);

    // A signal already aborted: nothing is sent.
    const before = seen.length;
    const refused = await httpRequest(`${origin}/ok`, { signal: AbortSignal.abort(), allowlist: ALLOW }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(seen.length).toBe(before);
  });

  it('a host that refuses the connection never got the request: safe to send again', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await httpRequest(`http://127.0.0.1:${port}/x`, { allowlist: ALLOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSentError);
    expect(networkOutcome(error).kind).toBe('retry');
  });

  it('a TLS handshake that fails (a plain HTTP port, a self-signed certificate) sent nothing: safe to send again', async () => {
    // A base URL with https:// on a plain HTTP port (a proxy set up without TLS).
    const plain = await httpRequest(`${origin.replace('http:', 'https:')}/x`, { allowlist: ALLOW }).catch(
      (e: unknown) => e,
    );
    expect(plain).toBeInstanceOf(NotSentError);
    expect(networkOutcome(plain).kind).toBe('retry');
    // A host whose certificate nobody vouches for: refused in the handshake, before any request.
    const before = seen.length;
    const tls = createHttpsServer({ key: SELF_SIGNED.key, cert: SELF_SIGNED.cert }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls.address() as AddressInfo).port;
      const refused = await httpRequest(`https://127.0.0.1:${port}/x`, { allowlist: ALLOW }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(NotSentError);
      expect(networkOutcome(refused).kind).toBe('retry');
    } finally {
      await new Promise((resolve) => tls.close(resolve));
    }
    expect(seen.length).toBe(before);
  });

  it('refuses another scheme and an internal host outside the allowlist, before connecting', async () => {
    const before = seen.length;
    const scheme = await httpRequest('ftp://127.0.0.1/x', { allowlist: ALLOW }).catch((e: unknown) => e);
    expect(networkOutcome(scheme)).toMatchObject({ kind: 'failed', providerCode: 'connection' });
    const internal = await httpRequest(`${origin}/ok`, { allowlist: [] }).catch((e: unknown) => e);
    expect(networkOutcome(internal)).toMatchObject({ kind: 'failed', providerCode: 'connection' });
    expect(seen.length).toBe(before);
  });
});
