import { ProviderSimulator } from '@rebound/simulators/base';
import {
  startWhatsAppSimulator,
  whatsappAccountWebhook,
  whatsappFormat,
  whatsappInboundWebhook,
  whatsappStatusWebhook,
  whatsappUserPreferencesWebhook,
} from '@rebound/simulators/whatsapp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChannelConfig, OutboundMessage, WebhookRequest } from '../../src/channels/types';
import {
  createWhatsAppAdapter,
  whatsappMessageBody,
  whatsappMessageJson,
  whatsappWebhook,
} from '../../src/channels/whatsapp';
import {
  adapterSend,
  CallbackRecorder,
  postedRequest,
  runDuringTests,
  startCallbackRecorder,
  urlOfStoppedSimulator,
} from './support';

const credentials = {
  accessToken: 'EAAGm0PX4ZCpsBAtest',
  phoneNumberId: '106540352242922',
  appSecret: 'whatsapp-app-secret',
  verifyToken: 'verify-me-please',
};

const sim = new ProviderSimulator(whatsappFormat({ ...credentials }));
/** Rebound's webhook endpoint, as Meta sees it. */
const hook = new CallbackRecorder({ status: 200, body: 'EVENT_RECEIVED' });
let channel: ChannelConfig;

const message = (to: string, extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: 42,
  to,
  content: { text: '¡Black Friday! 30% de descuento hoy.' },
  useTemplate: false,
  ...extra,
});
const send = adapterSend(createWhatsAppAdapter, () => channel);

runDuringTests(sim, hook);

beforeAll(() => {
  sim.webhookUrl = hook.url('/webhooks/whatsapp/1');
  channel = { id: 1, type: 'whatsapp', credentials, baseUrl: sim.baseUrl };
});

describe('WhatsApp adapter', () => {
  it('sends a text message in the Cloud API format and takes the wamid', async () => {
    const outcome = await send(message('+5491155550001'));
    expect(outcome).toMatchObject({ kind: 'accepted' });
    expect(outcome.kind === 'accepted' && outcome.providerMessageId).toMatch(/^wamid\./);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5491155550001',
      type: 'text',
      text: { preview_url: false, body: '¡Black Friday! 30% de descuento hoy.' },
      biz_opaque_callback_data: '42',
    });
  });

  it('sends the template when the window is closed, with body parameters', async () => {
    const content = {
      text: 'Hola Ana, 30% hoy',
      template: { name: 'black_friday', language: 'es_AR', parameters: ['Ana', '30%'] },
    };
    const outcome = await send(message('+5491155550002', { content, useTemplate: true, messageId: 7 }));
    expect(outcome.kind).toBe('accepted');
    expect(sim.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5491155550002',
      type: 'template',
      template: {
        name: 'black_friday',
        language: { code: 'es_AR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ana' },
              { type: 'text', text: '30%' },
            ],
          },
        ],
      },
      biz_opaque_callback_data: '7',
    });
    // Inside the window the same content goes as free text.
    await send(message('+5491155550002', { content, useTemplate: false }));
    expect(sim.requests[1]?.body).toMatchObject({ type: 'text', text: { body: 'Hola Ana, 30% hoy' } });
  });

  it("writes each recipient's body as the full body would be written, with the shared part written once per content", () => {
    const content = {
      text: 'Hola "Ana"\n\u2028 ¡30 %! <b>\\</b> 👋',
      template: { name: 'black_friday', language: 'es_AR', parameters: ['Ana "la" \u0000', '30%'] },
    };
    const bare = { text: 'Sin plantilla' };
    const cases: OutboundMessage[] = [
      message('+5491155550002', { content, useTemplate: true, messageId: 7 }),
      message('+5491155550003', { content, useTemplate: true, messageId: 8 }),
      message('+54 9 11 5555-0004', { content, useTemplate: false, messageId: 9 }),
      message('+5491155550005', { content, useTemplate: true, messageId: 10 }),
      message('+5491155550006', { content: bare, useTemplate: true, messageId: 11 }),
      message('+5491155550007', {
        content: { ...content, template: { ...content.template, parameters: [] } },
        useTemplate: true,
      }),
    ];
    for (const m of cases) expect(whatsappMessageJson(m)).toBe(JSON.stringify(whatsappMessageBody(m)));
    // Each recipient keeps its own number and reference, whatever was written before it with the same content.
    expect(JSON.parse(whatsappMessageJson(cases[1] as OutboundMessage))).toMatchObject({
      to: '5491155550003',
      biz_opaque_callback_data: '8',
    });
  });

  it.each([
    ['131026', 'Message undeliverable'],
    ['131050', 'stopped marketing messages'],
    ['131049', 'healthy ecosystem engagement'],
    ['131047', 'Re-engagement message'],
    ['100', 'Invalid parameter'],
    ['190', 'access token'],
  ])('a refusal with code %s is failed with that code', async (code, text) => {
    sim.script('+5491155550010', { kind: 'fail', code });
    const outcome = await send(message('+5491155550010'));
    expect(outcome).toMatchObject({ kind: 'failed', providerCode: code });
    expect(outcome.kind === 'failed' && outcome.providerMessage).toContain(text);
  });

  it('keeps Graph error details in the message', async () => {
    sim.script('+5491155550011', { kind: 'fail', code: '131026' });
    const outcome = await send(message('+5491155550011'));
    expect(outcome.kind === 'failed' && outcome.providerMessage).toMatch(
      /^\(#131026\) Message undeliverable: Unable to deliver/,
    );
  });

  it('throttling is a retry with the wait from Retry-After, then the send goes through', async () => {
    sim.script('+5491155550020', { kind: 'throttle', retryAfterSeconds: 7, times: 1 });
    expect(await send(message('+5491155550020'))).toMatchObject({
      kind: 'retry',
      providerCode: '130429',
      retryAfterMs: 7000,
    });
    expect((await send(message('+5491155550020'))).kind).toBe('accepted');
  });

  it('pair-rate and transient Graph codes are retries', async () => {
    for (const code of ['131056', '131000', '131016', '1', '2']) {
      sim.script('+5491155550021', { kind: 'fail', code });
      expect(await send(message('+5491155550021')), code).toMatchObject({ kind: 'retry', providerCode: code });
    }
  });

  it('a 5xx answer is a retry', async () => {
    sim.script('+5491155550030', { kind: 'serverError' });
    expect(await send(message('+5491155550030'))).toMatchObject({ kind: 'retry', providerCode: '2' });
  });

  it('no answer before the signal fires is uncertain', async () => {
    sim.script('+5491155550040', { kind: 'hang' });
    const outcome = await send(message('+5491155550040'), AbortSignal.timeout(300));
    expect(outcome.kind).toBe('uncertain');
  });

  it('a connection dropped after the request is uncertain', async () => {
    sim.script('+5491155550041', { kind: 'reset' });
    expect((await send(message('+5491155550041'))).kind).toBe('uncertain');
  });

  it('a wrong access token is failed 190; a wrong phone number ID is failed 100', async () => {
    const wrongToken = { ...channel, credentials: { ...credentials, accessToken: 'EAAG-revoked' } };
    expect(await send(message('+5491155550050'), undefined, wrongToken)).toMatchObject({
      kind: 'failed',
      providerCode: '190',
    });
    const wrongNumber = { ...channel, credentials: { ...credentials, phoneNumberId: '999' } };
    expect(await send(message('+5491155550050'), undefined, wrongNumber)).toMatchObject({
      kind: 'failed',
      providerCode: '100',
    });
    expect(sim.requests).toHaveLength(0);
  });

  it('a token that cannot go in a header (stored before credentials were checked) is not sent: a retry, never "unconfirmed"', async () => {
    const pasted = { ...channel, credentials: { ...credentials, accessToken: `${credentials.accessToken}\u200b` } };
    const outcome = await send(message('+5491155550055'), undefined, pasted);
    expect(outcome.kind).toBe('retry');
    expect(sim.requests).toHaveLength(0);
  });

  it('a provider that is not listening is a retry "connection"', async () => {
    const baseUrl = await urlOfStoppedSimulator(startWhatsAppSimulator({ ...credentials }));
    expect(await send(message('+5491155550060'), undefined, { ...channel, baseUrl })).toMatchObject({
      kind: 'retry',
      providerCode: 'connection',
    });
  });

  it('answers without a Graph error body become http_<status>', async () => {
    const gateway = await startCallbackRecorder({ status: 502, body: '<html>Bad Gateway</html>' });
    const forbidden = await startCallbackRecorder({ status: 403, body: 'Forbidden' });
    try {
      expect(await send(message('+5491155550070'), undefined, { ...channel, baseUrl: gateway.origin })).toMatchObject({
        kind: 'retry',
        providerCode: 'http_502',
      });
      expect(await send(message('+5491155550070'), undefined, { ...channel, baseUrl: forbidden.origin })).toMatchObject(
        {
          kind: 'failed',
          providerCode: 'http_403',
        },
      );
      expect(gateway.requests[0]?.url).toContain(`/v21.0/${credentials.phoneNumberId}/messages`);
      expect(gateway.requests[0]?.headers.get('authorization')).toBe(`Bearer ${credentials.accessToken}`);
    } finally {
      await gateway.stop();
      await forbidden.stop();
    }
  });
});

describe('WhatsApp webhook', () => {
  it("a number's quality event pauses the channel that knows its display number only when it is its own", () => {
    const request = (display: string): WebhookRequest => {
      const signed = whatsappAccountWebhook(
        { appSecret: credentials.appSecret, displayPhoneNumber: display },
        { kind: 'numberQuality', event: 'FLAGGED' },
      );
      return {
        method: 'POST',
        url: 'https://rebound.example/webhooks/whatsapp/1',
        headers: new Headers(signed.headers),
        rawBody: signed.body,
      };
    };
    const known = { ...channel, credentials: { ...credentials, displayPhoneNumber: '+1 555-078-3881' } };
    expect(whatsappWebhook.verify(request('15550783881'), known)).toBe(true);
    expect(whatsappWebhook.parse(request('15550783881'), known).numberQuality).toMatchObject([{ event: 'FLAGGED' }]);
    // Another number of the same Meta app: not this channel's.
    expect(whatsappWebhook.parse(request('15550009999'), known).numberQuality).toBeUndefined();
    // A channel that does not know its display number takes every quality event of its app, as before.
    expect(whatsappWebhook.parse(request('15550009999'), channel).numberQuality).toMatchObject([{ event: 'FLAGGED' }]);
  });

  it('a later failure arrives signed, and parses to the message (by biz_opaque_callback_data) with its code', async () => {
    sim.script('+5491155550100', { kind: 'failLater', code: '131026', delayMs: 5 });
    const outcome = await send(message('+5491155550100', { messageId: 4242 }));
    expect(outcome.kind).toBe('accepted');
    await sim.settle();
    expect(sim.callbacks).toMatchObject([{ status: 200 }]);
    const request = hook.requests[0] as WebhookRequest;
    expect(request.method).toBe('POST');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    const { updates, inbound } = whatsappWebhook.parse(request, channel);
    expect(inbound).toEqual([]);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      messageId: 4242,
      providerMessageId: outcome.kind === 'accepted' ? outcome.providerMessageId : '',
      status: 'failed',
      providerCode: '131026',
    });
    expect(updates[0]?.providerMessage).toContain('Message undeliverable');
    expect(updates[0]?.providerMessage).toContain('not a WhatsApp phone number');
    expect(Math.abs((updates[0]?.at.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
  });

  it('a later delivery parses to a delivered update', async () => {
    sim.script('+5491155550101', { kind: 'deliverLater', delayMs: 5 });
    await send(message('+5491155550101', { messageId: 77 }));
    await sim.settle();
    const request = hook.requests[0] as WebhookRequest;
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    expect(whatsappWebhook.parse(request, channel).updates).toMatchObject([{ messageId: 77, status: 'delivered' }]);
  });

  it('refuses a changed body, a wrong secret and a missing signature', async () => {
    sim.script('+5491155550102', { kind: 'deliverLater', delayMs: 1 });
    await send(message('+5491155550102'));
    await sim.settle();
    const request = hook.requests[0] as WebhookRequest;
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    const flipped = request.rawBody.replace('"delivered"', '"deliverEd"');
    expect(flipped).not.toBe(request.rawBody);
    expect(whatsappWebhook.verify({ ...request, rawBody: flipped }, channel)).toBe(false);
    expect(whatsappWebhook.verify({ ...request, rawBody: `${request.rawBody} ` }, channel)).toBe(false);
    expect(whatsappWebhook.verify(request, { ...channel, credentials: { ...credentials, appSecret: 'other' } })).toBe(
      false,
    );
    expect(whatsappWebhook.verify(request, { ...channel, credentials: { ...credentials, appSecret: '' } })).toBe(false);
    const unsigned = new Headers(request.headers);
    unsigned.delete('x-hub-signature-256');
    expect(whatsappWebhook.verify({ ...request, headers: unsigned }, channel)).toBe(false);
    const garbage = new Headers(request.headers);
    garbage.set('x-hub-signature-256', 'sha256=00');
    expect(whatsappWebhook.verify({ ...request, headers: garbage }, channel)).toBe(false);
  });

  it('answers the verification handshake only with the right token', () => {
    const url = (mode: string, token: string) =>
      new URL(
        `https://rebound.example/webhooks/whatsapp/1?hub.mode=${mode}&hub.verify_token=${token}&hub.challenge=1158201444`,
      );
    expect(whatsappWebhook.handshake?.(url('subscribe', credentials.verifyToken), channel)).toBe('1158201444');
    expect(whatsappWebhook.handshake?.(url('subscribe', 'wrong'), channel)).toBeNull();
    expect(whatsappWebhook.handshake?.(url('unsubscribe', credentials.verifyToken), channel)).toBeNull();
    const noToken = { ...channel, credentials: { ...credentials, verifyToken: '' } };
    expect(whatsappWebhook.handshake?.(url('subscribe', ''), noToken)).toBeNull();
  });

  it('an inbound message opens the window: InboundActivity with the +E.164 sender', () => {
    const at = new Date('2025-11-20T15:04:05Z');
    const { headers, body } = whatsappInboundWebhook({
      ...credentials,
      from: '+5491155550200',
      at,
      text: 'Canción ✓ / ¿precio?',
    });
    expect(body).toContain('\\u00f3');
    const request = postedRequest('https://rebound.example/webhooks/whatsapp/1', { headers, body });
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    // Meta names the number's display form beside its ID, and its business account (the entry's ID): the
    // channel learns them (quality events name the number so, template events the account).
    expect(whatsappWebhook.parse(request, channel)).toEqual({
      updates: [],
      inbound: [{ from: '+5491155550200', at }],
      displayNumber: '15550783881',
      businessAccount: '102290129340398',
    });
  });

  it('read statuses parse, and events for another phone number are ignored', () => {
    const at = new Date('2025-11-20T15:04:05Z');
    const read = whatsappStatusWebhook({
      ...credentials,
      providerMessageId: 'wamid.abc',
      recipient: '5491155550300',
      status: 'read',
      clientRef: '9',
      at,
    });
    const request = postedRequest('https://x/wh', read);
    expect(whatsappWebhook.parse(request, channel).updates).toEqual([
      { providerMessageId: 'wamid.abc', messageId: 9, status: 'read', at },
    ]);
    const other = whatsappInboundWebhook({ ...credentials, phoneNumberId: '555000', from: '+5491155550301' });
    const otherRequest = postedRequest('https://x/wh', other);
    expect(whatsappWebhook.verify(otherRequest, channel)).toBe(true);
    expect(whatsappWebhook.parse(otherRequest, channel)).toEqual({ updates: [], inbound: [] });
    expect(whatsappWebhook.parse({ ...request, rawBody: 'not json' }, channel)).toEqual({ updates: [], inbound: [] });
  });

  it('a later 131050 (marketing stopped) arrives signed with its code', async () => {
    sim.script('+5491155550400', { kind: 'failLater', code: '131050', delayMs: 5 });
    await send(message('+5491155550400', { messageId: 4300 }));
    await sim.settle();
    const request = hook.requests[0] as WebhookRequest;
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    const [update] = whatsappWebhook.parse(request, channel).updates;
    expect(update).toMatchObject({ messageId: 4300, status: 'failed', providerCode: '131050' });
    expect(update?.providerMessage).toContain('stopped marketing messages');
  });

  it('user_preferences "stop" is an opt-out and "resume" an opt-in, at the time Meta gives', () => {
    const stopAt = new Date('2025-11-20T15:04:05Z');
    const stop = postedRequest(
      'https://rebound.example/webhooks/whatsapp/1',
      whatsappUserPreferencesWebhook({ ...credentials, from: '5491155550500', value: 'stop', at: stopAt }),
    );
    expect(JSON.parse(stop.rawBody).entry[0].changes[0].field).toBe('user_preferences');
    expect(whatsappWebhook.verify(stop, channel)).toBe(true);
    expect(whatsappWebhook.parse(stop, channel)).toEqual({
      updates: [],
      inbound: [],
      // Marketing only: utility templates still reach this person.
      optOuts: [
        {
          from: '+5491155550500',
          at: stopAt,
          source: 'webhook',
          detail: 'user_preferences: stop',
          marketingOnly: true,
        },
      ],
      displayNumber: '15550783881',
      businessAccount: '102290129340398',
    });
    const resumeAt = new Date('2025-11-21T10:00:00Z');
    const resume = postedRequest(
      'https://rebound.example/webhooks/whatsapp/1',
      whatsappUserPreferencesWebhook({ ...credentials, from: '+5491155550500', value: 'resume', at: resumeAt }),
    );
    expect(whatsappWebhook.parse(resume, channel)).toEqual({
      updates: [],
      inbound: [],
      optIns: [{ from: '+5491155550500', at: resumeAt, detail: 'user_preferences: resume', marketingOnly: true }],
      displayNumber: '15550783881',
      businessAccount: '102290129340398',
    });
    // Another number's preferences, and a forged one, are not this channel's.
    const other = whatsappUserPreferencesWebhook({ ...credentials, phoneNumberId: '555000', from: '1', value: 'stop' });
    expect(whatsappWebhook.parse(postedRequest('https://x/wh', other), channel).optOuts).toBeUndefined();
    expect(whatsappWebhook.verify({ ...stop, rawBody: stop.rawBody.replace('stop', 'resume') }, channel)).toBe(false);
  });

  it('the simulator posts user_preferences when a contact opts out, then answers marketing templates 131050', async () => {
    const template = { text: 'x', template: { name: 'promo', language: 'es_AR', parameters: [] } };
    const promo = message('+5491155550600', { useTemplate: true, content: template });
    expect((await send(promo)).kind).toBe('accepted');
    const answer = await sim.emit({ kind: 'optOut', from: '+5491155550600' });
    expect(answer).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    const request = hook.requests[0] as WebhookRequest;
    expect(whatsappWebhook.verify(request, channel)).toBe(true);
    expect(whatsappWebhook.parse(request, channel).optOuts).toMatchObject([{ from: '+5491155550600' }]);
    expect(await send(promo)).toMatchObject({ kind: 'failed', providerCode: '131050' });
    // A reply inside an open conversation is not marketing: it still goes through.
    expect((await send(message('+5491155550600'))).kind).toBe('accepted');
    await sim.emit({ kind: 'optIn', from: '+5491155550600' });
    expect(whatsappWebhook.parse(hook.requests[1] as WebhookRequest, channel).optIns).toHaveLength(1);
    expect((await send(promo)).kind).toBe('accepted');
  });
});
