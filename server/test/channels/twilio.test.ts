import { ProviderSimulator } from '@rebound/simulators/base';
import { twilioFormat, twilioInboundWebhook } from '@rebound/simulators/twilio';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createTwilioAdapter, twilioSignature, twilioWebhook } from '../../src/channels/twilio';
import type { ChannelConfig, WebhookRequest } from '../../src/channels/types';
import {
  CallbackRecorder,
  runDuringTests,
  sendIntoHangAndReset,
  signal,
  smsMessage,
  urlOfStoppedSimulator,
} from './support';

const ACCOUNT_SID = `AC${'1a'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef';
const FROM = '+15005550006';
/** A Twilio message SID (SM and 32 hex digits), as the simulator makes one for each inbound SMS. */
const SID = expect.stringMatching(/^SM[0-9a-f]{32}$/);

const format = twilioFormat({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
const parseSend = vi.spyOn(format, 'parseSend');
const sim = new ProviderSimulator(format);
/** Rebound's webhook endpoint: Twilio's status callbacks get an empty 204. */
const receiver = new CallbackRecorder({ status: 204 });

function channel(overrides: Record<string, string> = {}, baseUrl: string | null = sim.baseUrl): ChannelConfig {
  return {
    id: 7,
    type: 'twilio_sms',
    credentials: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, ...overrides },
    baseUrl,
  };
}

runDuringTests(sim, receiver);

beforeEach(() => {
  parseSend.mockClear();
});

describe('Twilio adapter against the simulator', () => {
  it('sends the real Messages.json request with Basic auth and a form body', async () => {
    const callback = `${receiver.origin}/webhooks/twilio/7?messageId=42`;
    const outcome = await createTwilioAdapter(channel()).send(smsMessage('+5491155550001', callback), signal());
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) });

    const seen = parseSend.mock.calls[0]?.[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url.pathname).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(seen?.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`);
    expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen?.rawBody))).toEqual({
      To: '+5491155550001',
      From: FROM,
      Body: 'Black Friday: 30% off today',
      StatusCallback: callback,
    });
    expect(sim.countFor('5491155550001')).toBe(1);
  });

  it('a Messaging Service SID goes as MessagingServiceSid; a number without + gets one', async () => {
    const service = `MG${'2b'.repeat(16)}`;
    await createTwilioAdapter(channel({ from: service })).send(smsMessage('15551230000'), signal());
    const form = new URLSearchParams(parseSend.mock.calls[0]?.[0].rawBody);
    expect(form.get('To')).toBe('+15551230000');
    expect(form.get('MessagingServiceSid')).toBe(service);
    expect(form.has('From')).toBe(false);
    expect(form.has('StatusCallback')).toBe(false);
  });

  it('an unsubscribed recipient and an invalid number fail with the Twilio code', async () => {
    sim.script('+15551110001', { kind: 'fail', code: '21610' });
    sim.script('+15551110002', { kind: 'fail', code: '21211' });
    const adapter = createTwilioAdapter(channel());
    expect(await adapter.send(smsMessage('+15551110001'), signal())).toEqual({
      kind: 'failed',
      providerCode: '21610',
      providerMessage: 'Attempt to send to unsubscribed recipient',
    });
    expect(await adapter.send(smsMessage('+15551110002'), signal())).toEqual({
      kind: 'failed',
      providerCode: '21211',
      providerMessage: "The 'To' number +15551110002 is not a valid phone number.",
    });
  });

  it('429 / 20429 is a retry after Retry-After; 5xx is a retry', async () => {
    sim.script('+15551110003', { kind: 'throttle', retryAfterSeconds: 3, times: 1 });
    sim.script('+15551110004', { kind: 'serverError', times: 1 });
    const adapter = createTwilioAdapter(channel());
    expect(await adapter.send(smsMessage('+15551110003'), signal())).toEqual({
      kind: 'retry',
      providerCode: '20429',
      providerMessage: 'Too Many Requests',
      retryAfterMs: 3000,
    });
    expect((await adapter.send(smsMessage('+15551110003'), signal())).kind).toBe('accepted');
    expect(await adapter.send(smsMessage('+15551110004'), signal())).toMatchObject({
      kind: 'retry',
      providerCode: '20500',
    });
    expect((await adapter.send(smsMessage('+15551110004'), signal())).kind).toBe('accepted');
  });

  it('no answer in time and a dropped connection are uncertain', async () => {
    const { hung, dropped } = await sendIntoHangAndReset(
      sim,
      createTwilioAdapter(channel()),
      smsMessage,
      '+15551110005',
      '+15551110006',
    );
    expect(hung.kind).toBe('uncertain');
    expect(dropped.kind).toBe('uncertain');
  });

  it('a simulator that is not running is a connection retry', async () => {
    const baseUrl = await urlOfStoppedSimulator(
      new ProviderSimulator(twilioFormat({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })).start(),
    );
    const outcome = await createTwilioAdapter(channel({}, baseUrl)).send(smsMessage('+15551110007'), signal());
    expect(outcome).toMatchObject({ kind: 'retry', providerCode: 'connection' });
  });

  it('wrong credentials are failed 20003, as Twilio answers them', async () => {
    const outcome = await createTwilioAdapter(channel({ authToken: 'wrong' })).send(
      smsMessage('+15551110008'),
      signal(),
    );
    expect(outcome).toEqual({
      kind: 'failed',
      providerCode: '20003',
      providerMessage: 'Authenticate: Your AccountSid or AuthToken was incorrect.',
    });
    expect(sim.requests).toHaveLength(0);

    const res = await fetch(`${sim.baseUrl}/2010-04-01/Accounts/${ACCOUNT_SID}/Nope.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
  });

  it('sends nothing without credentials or sender', async () => {
    expect(await createTwilioAdapter(channel({ authToken: '' })).send(smsMessage('+1555'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: '20003',
    });
    expect(await createTwilioAdapter(channel({ from: '' })).send(smsMessage('+1555'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: '21603',
    });
    expect(parseSend).not.toHaveBeenCalled();
  });
});

describe('Twilio status callbacks and inbound SMS', () => {
  it('failLater posts a signed "undelivered" callback that verifies and parses', async () => {
    sim.script('+15552220001', { kind: 'failLater', code: '30003', delayMs: 5 });
    const callback = `${receiver.origin}/webhooks/twilio/7?messageId=42`;
    const outcome = await createTwilioAdapter(channel()).send(smsMessage('+15552220001', callback), signal());
    await sim.settle();

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0] as WebhookRequest;
    expect(request.url).toBe(callback);
    expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    const params = Object.fromEntries(new URLSearchParams(request.rawBody));
    expect(params).toMatchObject({
      MessageSid: outcome.kind === 'accepted' ? outcome.providerMessageId : 'none',
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
      To: '+15552220001',
      From: FROM,
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
    });

    expect(twilioWebhook.verify(request, channel())).toBe(true);
    expect(twilioWebhook.verify(request, channel({ authToken: 'another-token' }))).toBe(false);
    expect(
      twilioWebhook.verify({ ...request, url: `${receiver.origin}/webhooks/twilio/8?messageId=42` }, channel()),
    ).toBe(false);
    expect(twilioWebhook.verify({ ...request, rawBody: request.rawBody.replace('30003', '30007') }, channel())).toBe(
      false,
    );
    expect(twilioWebhook.verify({ ...request, headers: new Headers() }, channel())).toBe(false);

    const content = twilioWebhook.parse(request, channel());
    expect(content.inbound).toEqual([]);
    expect(content.updates).toEqual([
      {
        providerMessageId: params.MessageSid,
        messageId: 42,
        status: 'failed',
        providerCode: '30003',
        providerMessage: 'Message undelivered',
        at: expect.any(Date),
      },
    ]);
  });

  it('deliverLater posts a signed "delivered" callback', async () => {
    sim.script('+15552220002', { kind: 'deliverLater', delayMs: 5 });
    const callback = `${receiver.origin}/webhooks/twilio/7?messageId=43`;
    const outcome = await createTwilioAdapter(channel()).send(smsMessage('+15552220002', callback), signal());
    await sim.settle();

    const request = receiver.requests[0] as WebhookRequest;
    expect(twilioWebhook.verify(request, channel())).toBe(true);
    expect(twilioWebhook.parse(request, channel()).updates).toEqual([
      {
        providerMessageId: outcome.kind === 'accepted' ? outcome.providerMessageId : 'none',
        messageId: 43,
        status: 'delivered',
        at: expect.any(Date),
      },
    ]);
    expect(sim.callbacks).toEqual([
      { url: callback, status: 204, body: '', request: expect.objectContaining({ url: callback }) },
    ]);
  });

  it('without a StatusCallback, callbacks go to the simulator webhook URL', async () => {
    sim.webhookUrl = `${receiver.origin}/webhooks/twilio/7`;
    try {
      sim.script('+15552220003', { kind: 'failLater', code: '30007', delayMs: 5 });
      await createTwilioAdapter(channel()).send(smsMessage('+15552220003'), signal());
      await sim.settle();
      const request = receiver.requests[0] as WebhookRequest;
      expect(twilioWebhook.verify(request, channel())).toBe(true);
      const [update] = twilioWebhook.parse(request, channel()).updates;
      expect(update).toMatchObject({ status: 'failed', providerCode: '30007' });
      expect(update?.messageId).toBeUndefined();
    } finally {
      sim.webhookUrl = undefined;
    }
  });

  it('an inbound SMS is inbound activity; STOP, its synonyms and the Spanish words are opt-outs', () => {
    const url = 'https://rebound.example/webhooks/twilio/7/inbound';
    const inbound = (body: string, optOutType?: 'STOP' | 'START') => {
      const built = twilioInboundWebhook({
        authToken: AUTH_TOKEN,
        url,
        from: '+15553330001',
        to: FROM,
        body,
        ...(optOutType && { optOutType }),
      });
      return { method: 'POST', url, headers: new Headers(built.headers), rawBody: built.body } satisfies WebhookRequest;
    };

    const hello = inbound('Hola, tienen talle M?');
    expect(twilioWebhook.verify(hello, channel())).toBe(true);
    expect(twilioWebhook.verify({ ...hello, url: `${url}?x=1` }, channel())).toBe(false);
    expect(twilioWebhook.parse(hello, channel())).toEqual({
      updates: [],
      inbound: [{ from: '+15553330001', at: expect.any(Date), to: FROM }],
      optOuts: [],
    });

    const words: [string, string][] = [
      ['STOP', 'STOP'],
      [' stop ', 'STOP'],
      ['Unsubscribe', 'UNSUBSCRIBE'],
      ['stopall', 'STOPALL'],
      ['CANCEL', 'CANCEL'],
      ['end', 'END'],
      ['QUIT', 'QUIT'],
      ['revoke', 'REVOKE'],
      ['BAJA', 'BAJA'],
      ['baja.', 'BAJA'],
      ['¡Alto!', 'ALTO'],
      ['parar', 'PARAR'],
      ['Cancelar', 'CANCELAR'],
    ];
    for (const [word, detail] of words) {
      const request = inbound(word);
      expect(twilioWebhook.verify(request, channel())).toBe(true);
      expect(twilioWebhook.parse(request, channel()), word).toEqual({
        updates: [],
        inbound: [],
        // Its MessageSid names it: applied once, however often the callback comes.
        optOuts: [
          { from: '+15553330001', at: expect.any(Date), to: FROM, eventId: SID, source: 'inbound_word', detail },
        ],
      });
    }
    // A custom Advanced Opt-Out keyword: Twilio says it opted the number out.
    expect(twilioWebhook.parse(inbound('DESUSCRIBIR', 'STOP'), channel()).optOuts).toEqual([
      {
        from: '+15553330001',
        at: expect.any(Date),
        to: FROM,
        eventId: SID,
        source: 'inbound_word',
        detail: 'DESUSCRIBIR',
      },
    ]);
    expect(twilioWebhook.parse(inbound('please stop'), channel()).optOuts).toEqual([]);
    expect(twilioWebhook.parse(inbound('dar de baja mi pedido'), channel()).optOuts).toEqual([]);
  });

  it('START (and YES, UNSTOP) is an opt-in that also opens the window', () => {
    const url = 'https://rebound.example/webhooks/twilio/7/inbound';
    for (const word of ['START', 'yes', 'Unstop']) {
      const built = twilioInboundWebhook({ authToken: AUTH_TOKEN, url, from: '+15553330001', to: FROM, body: word });
      const request: WebhookRequest = { method: 'POST', url, headers: new Headers(built.headers), rawBody: built.body };
      const content = twilioWebhook.parse(request, channel());
      const eventId = new URLSearchParams(built.body).get('MessageSid');
      expect(eventId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(content.optIns, word).toEqual([
        { from: '+15553330001', at: expect.any(Date), to: FROM, eventId, detail: word.toUpperCase() },
      ]);
      expect(content.inbound).toEqual([{ from: '+15553330001', at: expect.any(Date), to: FROM }]);
      expect(content.optOuts).toEqual([]);
    }
  });

  it('the simulator posts a contact’s SMS signed to the inbound URL, and refuses sends (21610) after STOP', async () => {
    const inboundUrl = `${receiver.origin}/webhooks/twilio/7/inbound`;
    const answer = await sim.emit({ kind: 'message', from: '+15553330002', text: 'BAJA' }, inboundUrl);
    expect(answer.status).toBe(204);
    const request = receiver.requests.at(-1) as WebhookRequest;
    expect(request.url).toBe(inboundUrl);
    expect(twilioWebhook.verify(request, channel())).toBe(true);
    expect(twilioWebhook.parse(request, channel()).optOuts).toEqual([
      { from: '+15553330002', at: expect.any(Date), to: FROM, eventId: SID, source: 'inbound_word', detail: 'BAJA' },
    ]);
    // Twilio does not honour BAJA itself: sends still go through; after STOP they fail with 21610.
    const adapter = createTwilioAdapter(channel());
    expect((await adapter.send(smsMessage('+15553330002'), signal())).kind).toBe('accepted');
    await sim.emit({ kind: 'optOut', from: '+15553330002' }, inboundUrl);
    const stop = new URLSearchParams((receiver.requests.at(-1) as WebhookRequest).rawBody);
    expect([stop.get('Body'), stop.get('OptOutType')]).toEqual(['STOP', 'STOP']);
    expect(await adapter.send(smsMessage('+15553330002'), signal())).toMatchObject({
      kind: 'failed',
      providerCode: '21610',
    });
    await sim.emit({ kind: 'optIn', from: '+15553330002' }, inboundUrl);
    expect((await adapter.send(smsMessage('+15553330002'), signal())).kind).toBe('accepted');
  });

  it('the signature matches Twilio’s documented example', () => {
    // TwilioDevEd/api-snippets security/signature_validation (PHP and Node examples).
    const params = (phone: string): [string, string][] => [
      ['To', '+18005551212'],
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', phone],
      ['Digits', '1234'],
      ['From', phone],
    ];
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(twilioSignature('12345', url, params('+14158675310'))).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(twilioSignature('12345', url, params('+14158675309'))).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });
});
