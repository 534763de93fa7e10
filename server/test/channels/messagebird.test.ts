import { ProviderSimulator } from '@rebound/simulators/base';
import { messageBirdSignatureJwt, messagebirdFormat, startMessageBirdSimulator } from '@rebound/simulators/messagebird';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMessageBirdAdapter, messageBirdOutcome, messagebirdWebhook } from '../../src/channels/messagebird';
import type { ChannelConfig, WebhookRequest } from '../../src/channels/types';
import {
  CallbackRecorder,
  runDuringTests,
  sendIntoHangAndReset,
  signal,
  smsMessage,
  urlOfStoppedSimulator,
} from './support';

const ACCESS_KEY = 'live_0123456789abcdefghijklm';
const SIGNING_KEY = 'messagebird-signing-key-0123456789';
const ORIGINATOR = 'Rebound';
const TO = '+5491155551234';

const format = messagebirdFormat({ accessKey: ACCESS_KEY, signingKey: SIGNING_KEY });
const parseSend = vi.spyOn(format, 'parseSend');
const sim = new ProviderSimulator(format);
/** Rebound's webhook endpoint. */
const receiver = new CallbackRecorder();

function channel(overrides: Record<string, string> = {}, baseUrl: string | null = sim.baseUrl): ChannelConfig {
  return {
    id: 5,
    type: 'messagebird_sms',
    credentials: { accessKey: ACCESS_KEY, originator: ORIGINATOR, signingKey: SIGNING_KEY, ...overrides },
    baseUrl,
  };
}

runDuringTests(sim, receiver);

beforeEach(() => {
  sim.webhookUrl = receiver.url('/webhooks/messagebird/default');
  parseSend.mockClear();
});

describe('MessageBird SMS adapter', () => {
  it('sends the real request and reads the 201 message object', async () => {
    const reportUrl = `${receiver.origin}/webhooks/messagebird/5?token=abc`;
    const outcome = await createMessageBirdAdapter(channel()).send(smsMessage(TO, reportUrl), signal());
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const seen = parseSend.mock.calls[0]?.[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url.pathname).toBe('/messages');
    expect(seen?.headers.authorization).toBe(`AccessKey ${ACCESS_KEY}`);
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.rawBody ?? '')).toEqual({
      originator: ORIGINATOR,
      recipients: [5491155551234],
      body: 'Black Friday: 30% off today',
      reference: '42',
      datacoding: 'auto',
      reportUrl,
    });
    expect(sim.countFor(TO)).toBe(1);
  });

  it('maps request errors to failed api:<code>', async () => {
    const adapter = createMessageBirdAdapter(channel());
    sim.script('5491100000025', { kind: 'fail', code: 'api:25' });
    sim.script('5491100000002', { kind: 'fail', code: 'api:2' });
    sim.script('5491100000009', { kind: 'fail', code: '9' });
    expect(await adapter.send(smsMessage('+5491100000025'), signal())).toEqual({
      kind: 'failed',
      providerCode: 'api:25',
      providerMessage: 'Not enough balance',
    });
    expect(await adapter.send(smsMessage('+5491100000002'), signal())).toEqual({
      kind: 'failed',
      providerCode: 'api:2',
      providerMessage: 'Request not allowed (incorrect access_key) (access_key)',
    });
    expect(await adapter.send(smsMessage('+5491100000009'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: 'api:9',
    });
  });

  it('retries 429 (with Retry-After) and 500 code 99', async () => {
    const adapter = createMessageBirdAdapter(channel());
    sim.script(TO, { kind: 'throttle', retryAfterSeconds: 2, times: 1 });
    expect(await adapter.send(smsMessage(TO), signal())).toMatchObject({
      kind: 'retry',
      providerCode: 'http_429',
      retryAfterMs: 2000,
    });
    expect(await adapter.send(smsMessage(TO), signal())).toMatchObject({ kind: 'accepted' });

    sim.script('5491100000500', { kind: 'serverError' });
    expect(await adapter.send(smsMessage('+5491100000500'), signal())).toEqual({
      kind: 'retry',
      providerCode: 'api:99',
      providerMessage: 'Internal error',
    });
  });

  it('a wrong access key fails with api:2 (401)', async () => {
    const outcome = await createMessageBirdAdapter(channel({ accessKey: 'test_wrong' })).send(smsMessage(TO), signal());
    expect(outcome).toMatchObject({ kind: 'failed', providerCode: 'api:2' });
    expect(sim.countFor(TO)).toBe(0);
  });

  it('is uncertain when the answer never comes or the connection drops, and retries when nothing was sent', async () => {
    const { hung, dropped } = await sendIntoHangAndReset(sim, createMessageBirdAdapter(channel()), smsMessage, TO);
    expect(hung).toMatchObject({ kind: 'uncertain' });
    expect(dropped).toMatchObject({ kind: 'uncertain' });

    const deadUrl = await urlOfStoppedSimulator(
      startMessageBirdSimulator({ accessKey: ACCESS_KEY, signingKey: SIGNING_KEY }),
    );
    expect(await createMessageBirdAdapter(channel({}, deadUrl)).send(smsMessage(TO), signal())).toMatchObject({
      kind: 'retry',
      providerCode: 'connection',
    });
  });

  it('reads odd answers', () => {
    expect(messageBirdOutcome({ status: 201, headers: {}, text: 'oops' })).toMatchObject({ kind: 'uncertain' });
    expect(messageBirdOutcome({ status: 502, headers: {}, text: '<html>Bad Gateway</html>' })).toMatchObject({
      kind: 'retry',
      providerCode: 'http_502',
    });
    expect(messageBirdOutcome({ status: 404, headers: {}, text: '' })).toMatchObject({
      kind: 'failed',
      providerCode: 'http_404',
    });
  });
});

describe('MessageBird status reports', () => {
  it('a delivery_failed report to reportUrl verifies against the exact URL and parses', async () => {
    const reportUrl = `${receiver.origin}/webhooks/messagebird/5?token=abc`;
    sim.script(TO, { kind: 'failLater', code: 'dlr:1' });
    const outcome = await createMessageBirdAdapter(channel()).send(smsMessage(TO, reportUrl), signal());
    expect(outcome.kind).toBe('accepted');
    const providerMessageId = outcome.kind === 'accepted' ? outcome.providerMessageId : '';
    await sim.settle();

    expect(receiver.requests).toHaveLength(1);
    const report = receiver.requests[0] as WebhookRequest;
    expect(report.method).toBe('GET');
    expect(report.rawBody).toBe('');
    expect(report.url.startsWith(`${reportUrl}&`)).toBe(true);
    const query = new URL(report.url).searchParams;
    expect(Object.fromEntries(query)).toMatchObject({
      token: 'abc',
      id: providerMessageId,
      reference: '42',
      recipient: '5491155551234',
      status: 'delivery_failed',
      statusErrorCode: '1',
      statusReason: 'unknown subscriber',
      'price[currency]': 'EUR',
    });
    expect(report.headers.get('messagebird-signature-jwt')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const ch = channel();
    const request = report;
    expect(messagebirdWebhook.verify(request, ch)).toBe(true);
    expect(messagebirdWebhook.verify(request, channel({ signingKey: 'not-the-key' }))).toBe(false);
    expect(
      messagebirdWebhook.verify({ ...request, url: request.url.replace('delivery_failed', 'delivered') }, ch),
    ).toBe(false);
    expect(messagebirdWebhook.verify({ ...request, url: request.url.replace('/5?', '/6?') }, ch)).toBe(false);
    expect(messagebirdWebhook.verify({ ...request, url: request.url.replace('127.0.0.1', 'localhost') }, ch)).toBe(
      false,
    );
    expect(messagebirdWebhook.verify({ ...request, headers: new Headers() }, ch)).toBe(false);
    // A body the signature does not cover.
    expect(messagebirdWebhook.verify({ ...request, method: 'POST', rawBody: '{"status":"delivered"}' }, ch)).toBe(
      false,
    );
    // A token signed with the right key but expired, or not issued by MessageBird.
    const old = messageBirdSignatureJwt(report.url, '', SIGNING_KEY, {
      nowSeconds: Math.floor(Date.now() / 1000) - 900,
    });
    const headers = (jwt: string) => new Headers({ 'MessageBird-Signature-JWT': jwt });
    expect(messagebirdWebhook.verify({ ...request, headers: headers(old) }, ch)).toBe(false);
    const forged = messageBirdSignatureJwt(report.url, '', SIGNING_KEY, { issuer: 'Someone' });
    expect(messagebirdWebhook.verify({ ...request, headers: headers(forged) }, ch)).toBe(false);
    const fresh = messageBirdSignatureJwt(report.url, '', SIGNING_KEY);
    expect(messagebirdWebhook.verify({ ...request, headers: headers(fresh) }, ch)).toBe(true);

    const content = messagebirdWebhook.parse(request, ch);
    expect(content).toEqual({
      updates: [
        {
          providerMessageId,
          messageId: 42,
          status: 'failed',
          providerCode: 'dlr:1',
          providerMessage: 'delivery_failed: unknown subscriber',
          at: expect.any(Date),
        },
      ],
      inbound: [],
    });
  });

  it('a delivered report goes to the default webhook when no reportUrl was given', async () => {
    sim.script(TO, { kind: 'deliverLater' });
    await createMessageBirdAdapter(channel()).send(smsMessage(TO), signal());
    await sim.settle();
    const report = receiver.requests[0] as WebhookRequest;
    expect(report.url.startsWith(`${receiver.origin}/webhooks/messagebird/default?id=`)).toBe(true);
    expect(messagebirdWebhook.verify(report, channel())).toBe(true);
    const [update] = messagebirdWebhook.parse(report, channel()).updates;
    expect(update).toMatchObject({ status: 'delivered', messageId: 42 });
    expect(update?.providerCode).toBeUndefined();
  });

  it('a signed POST report with a body checks payload_hash; expired and in-flight statuses map', () => {
    const ch = channel();
    const url = 'https://rebound.example/webhooks/messagebird/5';
    const body = JSON.stringify({
      id: 'abc',
      reference: '7',
      status: 'expired',
      statusDatetime: '2024-05-01T12:00:00+00:00',
    });
    const request: WebhookRequest = {
      method: 'POST',
      url,
      headers: new Headers({
        'MessageBird-Signature-JWT': messageBirdSignatureJwt(url, body, SIGNING_KEY),
        'content-type': 'application/json',
      }),
      rawBody: body,
    };
    expect(messagebirdWebhook.verify(request, ch)).toBe(true);
    expect(messagebirdWebhook.verify({ ...request, rawBody: body.replace('expired', 'delivered') }, ch)).toBe(false);
    expect(messagebirdWebhook.parse(request, ch).updates).toEqual([
      {
        providerMessageId: 'abc',
        messageId: 7,
        status: 'failed',
        providerCode: 'dlr:expired',
        providerMessage: 'expired',
        at: new Date('2024-05-01T12:00:00Z'),
      },
    ]);
    const get = (status: string): WebhookRequest => ({
      method: 'GET',
      url: `${url}?id=abc&reference=7&status=${status}`,
      headers: new Headers(),
      rawBody: '',
    });
    expect(messagebirdWebhook.parse(get('buffered'), ch).updates[0]).toMatchObject({ status: 'sent' });
    expect(messagebirdWebhook.parse(get('sent'), ch).updates[0]).toMatchObject({ status: 'sent' });
    expect(messagebirdWebhook.parse(get('scheduled'), ch).updates).toEqual([]);
  });

  it('a token whose header is null, an array or an odd alg is refused, never a crash', () => {
    const url = 'https://rebound.example/webhooks/messagebird/5';
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const payload = part({ iss: 'MessageBird', jti: 'x', exp: Math.floor(Date.now() / 1000) + 60 });
    for (const header of [null, [], 'HS256', { alg: 'constructor' }, { alg: '__proto__' }, { alg: 7 }]) {
      const request: WebhookRequest = {
        method: 'GET',
        url,
        headers: new Headers({ 'MessageBird-Signature-JWT': `${part(header)}.${payload}.sig` }),
        rawBody: '',
      };
      expect(messagebirdWebhook.verify(request, channel()), JSON.stringify(header)).toBe(false);
    }
  });
});
