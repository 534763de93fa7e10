import { ProviderSimulator } from '@rebound/simulators/base';
import {
  messengerDeliveryWebhook,
  messengerEchoWebhook,
  messengerFormat,
  messengerInboundWebhook,
  startMessengerSimulator,
} from '@rebound/simulators/messenger';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMessengerAdapter, messengerWebhook } from '../../src/channels/messenger';
import type { ChannelConfig, OutboundMessage, WebhookRequest } from '../../src/channels/types';
import {
  adapterSend,
  CallbackRecorder,
  postedRequest,
  runDuringTests,
  sendIntoHangAndReset,
  startCallbackRecorder,
  urlOfStoppedSimulator,
} from './support';

const credentials = {
  pageAccessToken: 'EAAJpageToken',
  pageId: '1353269864728879',
  appSecret: 'messenger-app-secret',
  verifyToken: 'messenger-verify',
};

const sim = new ProviderSimulator(messengerFormat({ ...credentials }));
/** Rebound's webhook endpoint, as Meta sees it. */
const hook = new CallbackRecorder({ status: 200, body: 'EVENT_RECEIVED' });
let channel: ChannelConfig;

const message = (to: string, extra: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: 42,
  to,
  content: { text: 'Your order has shipped' },
  useTemplate: false,
  ...extra,
});
const send = adapterSend(createMessengerAdapter, () => channel);
const asRequest = (signed: { headers: Record<string, string>; body: string }): WebhookRequest =>
  postedRequest('https://rebound.example/webhooks/messenger/2', signed);

runDuringTests(sim, hook);

beforeAll(() => {
  sim.webhookUrl = hook.url('/webhooks/messenger/2');
  channel = { id: 2, type: 'messenger', credentials, baseUrl: sim.baseUrl };
});

describe('Messenger adapter', () => {
  it('sends a RESPONSE message to the PSID and takes the mid', async () => {
    const outcome = await send(message('6145720212189051'));
    expect(outcome).toMatchObject({ kind: 'accepted' });
    expect(outcome.kind === 'accepted' && outcome.providerMessageId).toMatch(/^m_/);
    expect(sim.requests[0]?.body).toEqual({
      recipient: { id: '6145720212189051' },
      messaging_type: 'RESPONSE',
      message: { text: 'Your order has shipped', metadata: '42' },
    });
  });

  it('sends a tagged message outside the window', async () => {
    const content = { text: 'Your order has shipped', messengerTag: 'POST_PURCHASE_UPDATE' as const };
    expect((await send(message('6145720212189052', { content }))).kind).toBe('accepted');
    expect(sim.requests[0]?.body).toEqual({
      recipient: { id: '6145720212189052' },
      messaging_type: 'MESSAGE_TAG',
      tag: 'POST_PURCHASE_UPDATE',
      message: { text: 'Your order has shipped', metadata: '42' },
    });
  });

  it.each([
    ['551', "This person isn't available right now"],
    ['551/1545041', "This person isn't available right now"],
    ['10/2018278', 'outside of allowed window'],
    ['100/2018001', 'No matching user found'],
    ['190', 'Invalid OAuth access token'],
  ])('a refusal with %s is failed with that code', async (code, text) => {
    sim.script('6145720212189060', { kind: 'fail', code });
    const outcome = await send(message('6145720212189060'));
    expect(outcome).toMatchObject({ kind: 'failed', providerCode: code });
    expect(outcome.kind === 'failed' && outcome.providerMessage).toContain(text);
  });

  it('a text over 2000 characters is refused by the Send API (100)', async () => {
    const outcome = await send(message('6145720212189061', { content: { text: 'x'.repeat(2001) } }));
    expect(outcome).toMatchObject({ kind: 'failed', providerCode: '100' });
  });

  it('throttling (613) is a retry with the Retry-After wait; 4/17/32 and 1200 are retries too', async () => {
    sim.script('6145720212189070', { kind: 'throttle', retryAfterSeconds: 3, times: 1 });
    expect(await send(message('6145720212189070'))).toMatchObject({
      kind: 'retry',
      providerCode: '613',
      retryAfterMs: 3000,
    });
    expect((await send(message('6145720212189070'))).kind).toBe('accepted');
    for (const code of ['4', '17', '32', '1200']) {
      sim.script('6145720212189071', { kind: 'fail', code });
      expect(await send(message('6145720212189071')), code).toMatchObject({ kind: 'retry', providerCode: code });
    }
  });

  it('a 5xx answer is a retry', async () => {
    sim.script('6145720212189080', { kind: 'serverError' });
    expect(await send(message('6145720212189080'))).toMatchObject({ kind: 'retry', providerCode: '2' });
  });

  it('no answer in time and a dropped connection are uncertain', async () => {
    const { hung, dropped } = await sendIntoHangAndReset(
      sim,
      createMessengerAdapter(channel),
      message,
      '6145720212189090',
      '6145720212189091',
    );
    expect(hung.kind).toBe('uncertain');
    expect(dropped.kind).toBe('uncertain');
  });

  it('a wrong page token is failed 190', async () => {
    const wrong = { ...channel, credentials: { ...credentials, pageAccessToken: 'EAAJexpired' } };
    expect(await send(message('6145720212189100'), undefined, wrong)).toMatchObject({
      kind: 'failed',
      providerCode: '190',
    });
    expect(sim.requests).toHaveLength(0);
  });

  it('a provider that is not listening is a retry "connection"', async () => {
    const baseUrl = await urlOfStoppedSimulator(startMessengerSimulator({ ...credentials }));
    expect(await send(message('6145720212189110'), undefined, { ...channel, baseUrl })).toMatchObject({
      kind: 'retry',
      providerCode: 'connection',
    });
  });

  it('calls /{version}/me/messages with the page token; a non-Graph 429 is a retry http_429', async () => {
    const limiter = await startCallbackRecorder({ status: 429, body: 'slow down' });
    try {
      const baseUrl = limiter.origin;
      const versioned = { ...channel, baseUrl, credentials: { ...credentials, apiVersion: 'v20.0' } };
      expect(await send(message('6145720212189120'), undefined, versioned)).toMatchObject({
        kind: 'retry',
        providerCode: 'http_429',
      });
      const url = new URL(limiter.requests[0]?.url ?? '');
      expect(url.pathname).toBe('/v20.0/me/messages');
      expect(url.searchParams.get('access_token')).toBe(credentials.pageAccessToken);
    } finally {
      await limiter.stop();
    }
  });
});

describe('Messenger webhook', () => {
  it('a later delivery arrives signed and parses to a delivered update for the mid', async () => {
    sim.script('6145720212189200', { kind: 'deliverLater', delayMs: 5 });
    const outcome = await send(message('6145720212189200'));
    await sim.settle();
    expect(sim.callbacks).toMatchObject([{ status: 200 }]);
    const request = hook.requests[0] as WebhookRequest;
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(messengerWebhook.verify(request, channel)).toBe(true);
    const { updates, inbound } = messengerWebhook.parse(request, channel);
    expect(inbound).toEqual([]);
    expect(updates).toMatchObject([
      { providerMessageId: outcome.kind === 'accepted' ? outcome.providerMessageId : '', status: 'delivered' },
    ]);
  });

  it('failLater: Messenger refuses synchronously, so no callback comes', async () => {
    sim.script('6145720212189201', { kind: 'failLater', code: '551', delayMs: 1 });
    expect((await send(message('6145720212189201'))).kind).toBe('accepted');
    await sim.settle();
    expect(hook.requests).toHaveLength(0);
  });

  it('refuses a changed body, a wrong secret and a missing signature', async () => {
    sim.script('6145720212189202', { kind: 'deliverLater', delayMs: 1 });
    await send(message('6145720212189202'));
    await sim.settle();
    const request = hook.requests[0] as WebhookRequest;
    expect(messengerWebhook.verify(request, channel)).toBe(true);
    const index = request.rawBody.indexOf('"mids"');
    const flipped = `${request.rawBody.slice(0, index + 2)}${request.rawBody[index + 2] === 'i' ? 'I' : 'i'}${request.rawBody.slice(index + 3)}`;
    expect(flipped).not.toBe(request.rawBody);
    expect(messengerWebhook.verify({ ...request, rawBody: flipped }, channel)).toBe(false);
    expect(messengerWebhook.verify(request, { ...channel, credentials: { ...credentials, appSecret: 'other' } })).toBe(
      false,
    );
    const unsigned = new Headers(request.headers);
    unsigned.delete('x-hub-signature-256');
    expect(messengerWebhook.verify({ ...request, headers: unsigned }, channel)).toBe(false);
  });

  it('answers the verification handshake only with the right token', () => {
    const url = (token: string) =>
      new URL(
        `https://rebound.example/webhooks/messenger/2?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=CHALLENGE_ACCEPTED`,
      );
    expect(messengerWebhook.handshake?.(url(credentials.verifyToken), channel)).toBe('CHALLENGE_ACCEPTED');
    expect(messengerWebhook.handshake?.(url('nope'), channel)).toBeNull();
  });

  it('a block has no webhook at Meta: the simulator answers later sends 551/1545041 until unblocked', async () => {
    expect((await send(message('6145720212189400'))).kind).toBe('accepted');
    expect(await sim.emit({ kind: 'optOut', from: '6145720212189400' })).toEqual({ status: 0, body: '' });
    expect(hook.requests).toHaveLength(0);
    expect(await send(message('6145720212189400'))).toMatchObject({ kind: 'failed', providerCode: '551/1545041' });
    await sim.emit({ kind: 'optIn', from: '6145720212189400' });
    expect((await send(message('6145720212189400'))).kind).toBe('accepted');
  });

  it('an inbound message opens the window: InboundActivity with the PSID', () => {
    const at = new Date('2025-11-20T15:04:05.123Z');
    const request = asRequest(
      messengerInboundWebhook({ ...credentials, psid: '6145720212189300', at, text: '¿Envío?' }),
    );
    expect(messengerWebhook.verify(request, channel)).toBe(true);
    expect(messengerWebhook.parse(request, channel)).toEqual({
      updates: [],
      inbound: [{ from: '6145720212189300', at }],
    });
  });

  it('an echo of the Page message settles it by metadata and is not contact activity', () => {
    const at = new Date('2025-11-20T15:04:05.123Z');
    const request = asRequest(
      messengerEchoWebhook({
        ...credentials,
        psid: '6145720212189301',
        mid: 'm_abc',
        text: 'Hi',
        metadata: '4242',
        at,
      }),
    );
    expect(messengerWebhook.verify(request, channel)).toBe(true);
    expect(messengerWebhook.parse(request, channel)).toEqual({
      updates: [{ providerMessageId: 'm_abc', messageId: 4242, status: 'sent', at }],
      inbound: [],
    });
  });

  it('ignores events for another Page', () => {
    const request = asRequest(
      messengerDeliveryWebhook({ ...credentials, pageId: '999', psid: '6145720212189302', mids: ['m_x'] }),
    );
    expect(messengerWebhook.verify(request, channel)).toBe(true);
    expect(messengerWebhook.parse(request, channel)).toEqual({ updates: [], inbound: [] });
  });
});
