import { classifyProviderFailure } from '@rebound/shared';
import { ProviderSimulator } from '@rebound/simulators/base';
import { startVonageSimulator, vonageFormat, vonageInboundSms, vonageSign } from '@rebound/simulators/vonage';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelConfig, WebhookRequest } from '../../src/channels/types';
import { createVonageAdapter, isGsm7, vonageOutcome, vonageWebhook } from '../../src/channels/vonage';
import {
  CallbackRecorder,
  runDuringTests,
  sendIntoHangAndReset,
  signal,
  smsMessage,
  urlOfStoppedSimulator,
} from './support';

const API_KEY = 'a1b2c3d4';
const API_SECRET = 'VonageSecret123';
const SIGNATURE_SECRET = 'vonage-signature-secret-0123456789';
const FROM = '+15005550006';
const TO = '+5491155551234';

const format = vonageFormat({ apiKey: API_KEY, apiSecret: API_SECRET, signatureSecret: SIGNATURE_SECRET });
const parseSend = vi.spyOn(format, 'parseSend');
const sim = new ProviderSimulator(format);
/** Rebound's webhook endpoint. */
const receiver = new CallbackRecorder();

function channel(overrides: Record<string, string> = {}, baseUrl: string | null = sim.baseUrl): ChannelConfig {
  return {
    id: 3,
    type: 'vonage_sms',
    credentials: {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      from: FROM,
      signatureSecret: SIGNATURE_SECRET,
      ...overrides,
    },
    baseUrl,
  };
}

/** A callback whose JSON body was changed after signing. */
function withBody(c: WebhookRequest, change: (params: Record<string, string>) => void): WebhookRequest {
  const params = JSON.parse(c.rawBody) as Record<string, string>;
  change(params);
  return { ...c, rawBody: JSON.stringify(params) };
}

runDuringTests(sim, receiver);

beforeEach(() => {
  sim.webhookUrl = receiver.url('/webhooks/vonage/default');
  parseSend.mockClear();
});

describe('Vonage SMS adapter', () => {
  it('sends the real request and reads the accepted answer', async () => {
    const callback = `${receiver.origin}/webhooks/vonage/3?k=v`;
    const outcome = await createVonageAdapter(channel()).send(smsMessage(TO, callback), signal());
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: expect.stringMatching(/^[0-9A-F]{16}$/) });

    const seen = parseSend.mock.calls[0]?.[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url.pathname).toBe('/sms/json');
    expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen?.rawBody))).toEqual({
      api_key: API_KEY,
      api_secret: API_SECRET,
      from: '15005550006',
      to: '5491155551234',
      text: 'Black Friday: 30% off today',
      'client-ref': '42',
      callback,
    });
    expect(sim.countFor(TO)).toBe(1);
  });

  it('asks for UCS-2 only when the text leaves the GSM-7 alphabet, and keeps alphanumeric senders', async () => {
    expect(isGsm7('¡Oferta! Año nuevo, 30% €')).toBe(true);
    expect(isGsm7('Promoción 🎉')).toBe(false);
    await createVonageAdapter(channel({ from: 'Rebound' })).send(smsMessage(TO, undefined, 'Promoción 🎉'), signal());
    const params = new URLSearchParams(parseSend.mock.calls[0]?.[0].rawBody);
    expect(params.get('type')).toBe('unicode');
    expect(params.get('from')).toBe('Rebound');
    expect(params.has('callback')).toBe(false);
  });

  it('maps refused submits to failed status:<n>', async () => {
    const adapter = createVonageAdapter(channel());
    sim.script('5491100000007', { kind: 'fail', code: 'status:7' });
    sim.script('5491100000006', { kind: 'fail', code: '6' });
    sim.script('5491100000009', { kind: 'fail', code: 'status:9' });
    expect(await adapter.send(smsMessage('+5491100000007'), signal())).toEqual({
      kind: 'failed',
      providerCode: 'status:7',
      providerMessage: 'Number Barred',
    });
    expect(await adapter.send(smsMessage('+5491100000006'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: 'status:6',
    });
    expect(await adapter.send(smsMessage('+5491100000009'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: 'status:9',
      providerMessage: 'Partner Quota Violation',
    });
  });

  it('retries throttling (status 1, no Retry-After), internal errors (status 5) and HTTP 5xx', async () => {
    const adapter = createVonageAdapter(channel());
    sim.script(TO, { kind: 'throttle', times: 1 });
    const throttled = await adapter.send(smsMessage(TO), signal());
    expect(throttled).toEqual({ kind: 'retry', providerCode: 'status:1', providerMessage: 'Throttled' });
    expect(await adapter.send(smsMessage(TO), signal())).toMatchObject({ kind: 'accepted' });

    sim.script('5491100000005', { kind: 'fail', code: 'status:5' });
    expect(await adapter.send(smsMessage('+5491100000005'), signal())).toMatchObject({
      kind: 'retry',
      providerCode: 'status:5',
    });

    sim.script('5491100000500', { kind: 'serverError' });
    expect(await adapter.send(smsMessage('+5491100000500'), signal())).toMatchObject({
      kind: 'retry',
      providerCode: 'http_500',
    });
  });

  it('wrong credentials fail with status:4 Bad Credentials', async () => {
    const outcome = await createVonageAdapter(channel({ apiSecret: 'wrong' })).send(smsMessage(TO), signal());
    expect(outcome).toEqual({ kind: 'failed', providerCode: 'status:4', providerMessage: 'Bad Credentials' });
    expect(sim.countFor(TO)).toBe(0);
  });

  it('is uncertain when the answer never comes or the connection drops, and retries when nothing was sent', async () => {
    const { hung, dropped } = await sendIntoHangAndReset(sim, createVonageAdapter(channel()), smsMessage, TO);
    expect(hung).toMatchObject({ kind: 'uncertain' });
    expect(dropped).toMatchObject({ kind: 'uncertain' });

    const deadUrl = await urlOfStoppedSimulator(
      startVonageSimulator({ apiKey: API_KEY, apiSecret: API_SECRET, signatureSecret: SIGNATURE_SECRET }),
    );
    expect(await createVonageAdapter(channel({}, deadUrl)).send(smsMessage(TO), signal())).toMatchObject({
      kind: 'retry',
      providerCode: 'connection',
    });
  });

  it('reads multi-part answers and unreadable ones', () => {
    const parts = {
      'message-count': '2',
      messages: [
        { to: '5491155551234', 'message-id': 'AAA1', status: '0' },
        { to: '5491155551234', 'message-id': 'AAA2', status: '0' },
      ],
    };
    expect(vonageOutcome({ status: 200, headers: {}, text: JSON.stringify(parts) })).toEqual({
      kind: 'accepted',
      providerMessageId: 'AAA1',
    });
    expect(vonageOutcome({ status: 200, headers: {}, text: '<html>' })).toMatchObject({ kind: 'uncertain' });
    expect(vonageOutcome({ status: 429, headers: { 'retry-after': '3' }, text: '' })).toMatchObject({
      kind: 'retry',
      providerCode: 'http_429',
      retryAfterMs: 3000,
    });
    expect(vonageOutcome({ status: 401, headers: {}, text: '' })).toMatchObject({
      kind: 'failed',
      providerCode: 'http_401',
    });
  });
});

describe('Vonage delivery receipts and inbound SMS', () => {
  it('a failed DLR posted to the per-message callback verifies and parses', async () => {
    const callback = `${receiver.origin}/webhooks/vonage/3?k=v`;
    sim.script(TO, { kind: 'failLater', code: 'dlr:6' });
    const outcome = await createVonageAdapter(channel()).send(smsMessage(TO, callback), signal());
    expect(outcome.kind).toBe('accepted');
    await sim.settle();

    expect(receiver.requests).toHaveLength(1);
    const dlr = receiver.requests[0] as WebhookRequest;
    expect(dlr.method).toBe('POST');
    expect(dlr.url).toBe(callback);
    expect(dlr.headers.get('content-type')).toBe('application/json');
    const body = JSON.parse(dlr.rawBody) as Record<string, string>;
    expect(body).toMatchObject({
      msisdn: '5491155551234',
      to: '15005550006',
      messageId: outcome.kind === 'accepted' ? outcome.providerMessageId : '',
      status: 'rejected',
      'err-code': '6',
      'client-ref': '42',
      'api-key': API_KEY,
    });
    expect(body.sig).toMatch(/^[0-9A-F]{64}$/);

    const ch = channel();
    expect(vonageWebhook.verify(dlr, ch)).toBe(true);
    expect(vonageWebhook.verify(dlr, channel({ signatureSecret: 'not-the-secret' }))).toBe(false);
    expect(
      vonageWebhook.verify(
        withBody(dlr, (p) => Object.assign(p, { 'err-code': '0' })),
        ch,
      ),
    ).toBe(false);
    expect(
      vonageWebhook.verify(
        withBody(dlr, (p) => Object.assign(p, { 'client-ref': '43' })),
        ch,
      ),
    ).toBe(false);
    expect(
      vonageWebhook.verify(
        withBody(dlr, (p) => delete p.sig),
        ch,
      ),
    ).toBe(false);
    expect(
      vonageWebhook.verify(
        withBody(dlr, (p) => Object.assign(p, { sig: '' })),
        ch,
      ),
    ).toBe(false);

    // A receipt signed correctly but ten minutes ago is a replay.
    const { sig: _sig, timestamp: _ts, nonce: _nonce, ...fields } = body;
    const stale = vonageSign({ ...fields, timestamp: String(Math.floor(Date.now() / 1000) - 600) }, SIGNATURE_SECRET);
    expect(vonageWebhook.verify({ ...dlr, rawBody: JSON.stringify(stale) }, ch)).toBe(false);
    const fresh = vonageSign(fields, SIGNATURE_SECRET);
    expect(vonageWebhook.verify({ ...dlr, rawBody: JSON.stringify(fresh) }, ch)).toBe(true);

    const content = vonageWebhook.parse(dlr, ch);
    expect(content.inbound).toEqual([]);
    expect(content.updates).toEqual([
      {
        providerMessageId: body.messageId,
        messageId: 42,
        status: 'failed',
        providerCode: 'dlr:6',
        providerMessage: 'rejected: Anti-Spam Rejection',
        at: expect.any(Date),
      },
    ]);
  });

  it('a delivered DLR goes to the default webhook when the message named no callback', async () => {
    sim.script(TO, { kind: 'deliverLater' });
    await createVonageAdapter(channel()).send(smsMessage(TO), signal());
    await sim.settle();
    const dlr = receiver.requests[0] as WebhookRequest;
    expect(dlr.url).toBe(`${receiver.origin}/webhooks/vonage/default`);
    expect(vonageWebhook.verify(dlr, channel())).toBe(true);
    const [update] = vonageWebhook.parse(dlr, channel()).updates;
    expect(update).toMatchObject({ status: 'delivered', messageId: 42 });
    expect(update?.providerCode).toBeUndefined();
  });

  it('failed and expired receipts without an err-code use the status as the code', () => {
    const ch = channel();
    const dlr = (status: string, extra: Record<string, string> = {}): WebhookRequest => {
      const params = vonageSign(
        { messageId: 'ABC', status, 'client-ref': '9', msisdn: '5491155551234', ...extra },
        SIGNATURE_SECRET,
      );
      return {
        method: 'GET',
        url: `https://rebound.example/webhooks/vonage/3?${new URLSearchParams(params)}`,
        headers: new Headers(),
        rawBody: '',
      };
    };
    expect(vonageWebhook.verify(dlr('expired'), ch)).toBe(true);
    expect(vonageWebhook.parse(dlr('expired'), ch).updates[0]).toMatchObject({
      status: 'failed',
      providerCode: 'dlr:expired',
      messageId: 9,
    });
    expect(vonageWebhook.parse(dlr('failed', { 'err-code': '0' }), ch).updates[0]).toMatchObject({
      providerCode: 'dlr:failed',
    });
    expect(vonageWebhook.parse(dlr('buffered'), ch).updates[0]).toMatchObject({ status: 'sent' });
    expect(vonageWebhook.parse(dlr('accepted'), ch).updates[0]).toMatchObject({ status: 'sent' });
  });

  it("receipts in the SMPP spelling of Vonage's DLR article: delivered is delivered, unknown stays unconfirmed", () => {
    const ch = channel();
    const parse = (status: string, errCode = '0') => {
      const params = vonageSign(
        { messageId: 'ABC', status, 'client-ref': '9', msisdn: '5491155551234', 'err-code': errCode },
        SIGNATURE_SECRET,
      );
      const request: WebhookRequest = {
        method: 'GET',
        url: `https://rebound.example/webhooks/vonage/3?${new URLSearchParams(params)}`,
        headers: new Headers(),
        rawBody: '',
      };
      expect(vonageWebhook.verify(request, ch)).toBe(true);
      return vonageWebhook.parse(request, ch).updates;
    };
    expect(parse('DELIVRD')).toEqual([expect.objectContaining({ status: 'delivered', messageId: 9 })]);
    expect(parse('ACCEPTD')).toEqual([expect.objectContaining({ status: 'sent', messageId: 9 })]);
    expect(parse('UNDELIV', '2')).toEqual([expect.objectContaining({ status: 'failed', providerCode: 'dlr:2' })]);
    // "Unknown" (err-code 1) is no failure of the contact's: its reason is the unconfirmed one.
    const [unknown] = parse('unknown', '1');
    expect(unknown).toMatchObject({
      status: 'failed',
      providerCode: 'dlr:unknown',
      providerMessage: 'unknown: Unknown',
    });
    expect(classifyProviderFailure('vonage_sms', unknown?.providerCode ?? '')).toBe('uncertain');
    // A word no table has, and no error: nothing changes.
    expect(parse('ENROUTE')).toEqual([]);
  });

  it('inbound SMS (GET query or POST form) verify and parse; STOP is an opt-out', () => {
    const ch = channel();
    const stop = vonageInboundSms({
      apiKey: API_KEY,
      signatureSecret: SIGNATURE_SECRET,
      msisdn: '5491155551234',
      to: '15005550006',
      text: 'Stop',
    });
    const get: WebhookRequest = {
      method: 'GET',
      url: `https://rebound.example/webhooks/vonage/3?${new URLSearchParams(stop)}`,
      headers: new Headers(),
      rawBody: '',
    };
    expect(vonageWebhook.verify(get, ch)).toBe(true);
    expect(vonageWebhook.verify(get, channel({ signatureSecret: 'nope' }))).toBe(false);
    const content = vonageWebhook.parse(get, ch);
    expect(content.updates).toEqual([]);
    expect(content.inbound).toEqual([{ from: '5491155551234', at: expect.any(Date), to: '15005550006' }]);
    expect(content.optOuts).toEqual([
      { from: '5491155551234', at: expect.any(Date), to: '15005550006', source: 'inbound_word', detail: 'STOP' },
    ]);

    const hello = vonageInboundSms({
      apiKey: API_KEY,
      signatureSecret: SIGNATURE_SECRET,
      msisdn: '5491155551234',
      to: '15005550006',
      text: 'Hola, ¿a qué hora abren?',
    });
    const post: WebhookRequest = {
      method: 'POST',
      url: 'https://rebound.example/webhooks/vonage/3',
      headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      rawBody: new URLSearchParams(hello).toString(),
    };
    expect(vonageWebhook.verify(post, ch)).toBe(true);
    expect(vonageWebhook.verify({ ...post, rawBody: post.rawBody.replace('Hola', 'Chau') }, ch)).toBe(false);
    expect(vonageWebhook.parse(post, ch).optOuts).toBeUndefined();
    expect(vonageWebhook.parse(post, ch).inbound).toHaveLength(1);

    const stale = vonageInboundSms({
      apiKey: API_KEY,
      signatureSecret: SIGNATURE_SECRET,
      msisdn: '5491155551234',
      to: '15005550006',
      text: 'Hola',
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(
      vonageWebhook.verify(
        { ...get, url: `https://rebound.example/webhooks/vonage/3?${new URLSearchParams(stale)}` },
        ch,
      ),
    ).toBe(false);
  });

  it('checks the other signing methods the dashboard offers', () => {
    const params = { msisdn: '5491155551234', to: '15005550006', text: 'a&b=c', type: 'text', messageId: 'X1' };
    for (const method of ['md5hash', 'md5', 'sha1', 'sha512'] as const) {
      const signed = vonageSign(params, SIGNATURE_SECRET, method);
      const request: WebhookRequest = {
        method: 'POST',
        url: 'https://rebound.example/webhooks/vonage/3',
        headers: new Headers({ 'content-type': 'application/json' }),
        rawBody: JSON.stringify(signed),
      };
      expect(vonageWebhook.verify(request, channel()), method).toBe(true);
      expect(vonageWebhook.verify(request, channel({ signatureMethod: method })), method).toBe(true);
      expect(vonageWebhook.verify(request, channel({ signatureMethod: 'sha256' })), method).toBe(false);
    }
  });
});
