import { ProviderSimulator } from '@rebound/simulators/base';
import {
  telegramChatMemberUpdate,
  telegramFormat,
  telegramMessageUpdate,
  telegramUpdate,
} from '@rebound/simulators/telegram';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createTelegramAdapter, telegramWebhook } from '../../src/channels/telegram';
import type { ChannelConfig, OutboundMessage, WebhookRequest } from '../../src/channels/types';
import {
  postedRequest,
  runDuringTests,
  sendIntoHangAndReset,
  signal,
  startCallbackRecorder,
  urlOfStoppedSimulator,
} from './support';

const BOT_TOKEN = '7000000001:AAH-simulated_token_for_tests_0123456';
const SECRET = 'telegram-webhook-secret_0123';

const format = telegramFormat({ botToken: BOT_TOKEN });
const parseSend = vi.spyOn(format, 'parseSend');
const sim = new ProviderSimulator(format);

function channel(
  overrides: Partial<ChannelConfig['credentials']> = {},
  baseUrl: string | null = sim.baseUrl,
): ChannelConfig {
  return {
    id: 1,
    type: 'telegram',
    credentials: { botToken: BOT_TOKEN, webhookSecret: SECRET, ...overrides },
    baseUrl,
  };
}

function message(to: string, text = 'Hola desde Rebound'): OutboundMessage {
  return { messageId: 1, to, content: { text }, useTemplate: false };
}

runDuringTests(sim);

beforeEach(() => {
  parseSend.mockClear();
});

describe('Telegram adapter against the simulator', () => {
  it('sends the real sendMessage request and reads the message ID', async () => {
    const outcome = await createTelegramAdapter(channel()).send(message('123456789'), signal());
    expect(outcome).toEqual({ kind: 'accepted', providerMessageId: expect.stringMatching(/^123456789:\d+$/) });

    const seen = parseSend.mock.calls[0]?.[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url.pathname).toBe(`/bot${BOT_TOKEN}/sendMessage`);
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.rawBody ?? '')).toEqual({ chat_id: 123456789, text: 'Hola desde Rebound' });
    expect(sim.countFor('123456789')).toBe(1);
  });

  it('message IDs are unique per bot, not only per chat', async () => {
    const adapter = createTelegramAdapter(channel());
    const a = await adapter.send(message('111'), signal());
    const b = await adapter.send(message('222'), signal());
    expect(a.kind === 'accepted' && b.kind === 'accepted' && a.providerMessageId !== b.providerMessageId).toBe(true);
  });

  it('a blocked user and an unknown chat fail with the error_code and the description', async () => {
    sim.script('403', { kind: 'fail', code: '403' });
    sim.script('400', { kind: 'fail', code: '400' });
    sim.script('4031', { kind: 'fail', code: '403', message: 'Forbidden: user is deactivated' });
    const adapter = createTelegramAdapter(channel());
    expect(await adapter.send(message('403'), signal())).toEqual({
      kind: 'failed',
      providerCode: '403',
      providerMessage: 'Forbidden: bot was blocked by the user',
    });
    expect(await adapter.send(message('400'), signal())).toEqual({
      kind: 'failed',
      providerCode: '400',
      providerMessage: 'Bad Request: chat not found',
    });
    expect(await adapter.send(message('4031'), signal())).toEqual({
      kind: 'failed',
      providerCode: '403',
      providerMessage: 'Forbidden: user is deactivated',
    });
  });

  it('flood control is a retry after parameters.retry_after', async () => {
    sim.script('429', { kind: 'throttle', retryAfterSeconds: 7, times: 1 });
    const adapter = createTelegramAdapter(channel());
    expect(await adapter.send(message('429'), signal())).toEqual({
      kind: 'retry',
      providerCode: '429',
      providerMessage: 'Too Many Requests: retry after 7',
      retryAfterMs: 7000,
    });
    expect((await adapter.send(message('429'), signal())).kind).toBe('accepted');
  });

  it('a server error is a retry', async () => {
    sim.script('500', { kind: 'serverError', times: 1 });
    const outcome = await createTelegramAdapter(channel()).send(message('500'), signal());
    expect(outcome).toMatchObject({ kind: 'retry', providerCode: '500' });
  });

  it('no answer in time and a dropped connection are uncertain', async () => {
    const { hung, dropped } = await sendIntoHangAndReset(sim, createTelegramAdapter(channel()), message, '777', '778');
    expect(hung.kind).toBe('uncertain');
    expect(dropped.kind).toBe('uncertain');
  });

  it('a simulator that is not running is a connection retry', async () => {
    const baseUrl = await urlOfStoppedSimulator(new ProviderSimulator(telegramFormat({ botToken: BOT_TOKEN })).start());
    const outcome = await createTelegramAdapter(channel({}, baseUrl)).send(message('1'), signal());
    expect(outcome).toMatchObject({ kind: 'retry', providerCode: 'connection' });
  });

  it('a wrong bot token is failed 401 Unauthorized, an unknown method 404', async () => {
    const outcome = await createTelegramAdapter(channel({ botToken: '7000000001:wrong' })).send(message('1'), signal());
    expect(outcome).toEqual({ kind: 'failed', providerCode: '401', providerMessage: 'Unauthorized' });
    expect(sim.requests).toHaveLength(0);

    const res = await fetch(`${sim.baseUrl}/bot${BOT_TOKEN}/sendTelepathy`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });

  it('sends nothing without a bot token', async () => {
    const outcome = await createTelegramAdapter(channel({ botToken: '' })).send(message('1'), signal());
    expect(outcome).toMatchObject({ kind: 'failed', providerCode: '401' });
    expect(parseSend).not.toHaveBeenCalled();
  });

  it('has no delivery callbacks', () => {
    const context = { providerMessageId: '1', recipient: '1', url: 'http://127.0.0.1/x' };
    expect(format.callback({ kind: 'delivered' }, context)).toBeNull();
    expect(format.callback({ kind: 'failed', code: '403' }, context)).toBeNull();
  });
});

describe('Telegram webhook', () => {
  const url = 'https://rebound.example/webhooks/telegram/1';
  const request = (built: { headers: Record<string, string>; body: string }): WebhookRequest =>
    postedRequest(url, built);

  it('verify accepts the secret set in setWebhook and nothing else', () => {
    const update = telegramMessageUpdate({ chatId: 42, text: 'hola' });
    const config = channel();
    expect(telegramWebhook.verify(request(telegramUpdate({ secret: SECRET, update })), config)).toBe(true);
    expect(telegramWebhook.verify(request(telegramUpdate({ secret: `${SECRET}x`, update })), config)).toBe(false);
    expect(telegramWebhook.verify(request(telegramUpdate({ secret: 'short', update })), config)).toBe(false);
    expect(telegramWebhook.verify(request(telegramUpdate({ update })), config)).toBe(false);
    // A channel without a secret accepts nothing.
    expect(
      telegramWebhook.verify(request(telegramUpdate({ secret: '', update })), channel({ webhookSecret: '' })),
    ).toBe(false);
  });

  it('a user message is inbound activity from the chat', () => {
    const update = telegramMessageUpdate({ chatId: 42, text: 'hola', date: 1_700_000_000 });
    const content = telegramWebhook.parse(request(telegramUpdate({ secret: SECRET, update })), channel());
    expect(content).toEqual({ updates: [], inbound: [{ from: '42', at: new Date(1_700_000_000_000) }], optOuts: [] });
  });

  it('my_chat_member "kicked" (the user blocked the bot) is an opt-out; unblocking is an opt-in', () => {
    const blocked = telegramChatMemberUpdate({ chatId: 42, status: 'kicked', date: 1_700_000_100 });
    const content = telegramWebhook.parse(request(telegramUpdate({ secret: SECRET, update: blocked })), channel());
    expect(content).toEqual({
      updates: [],
      inbound: [],
      optOuts: [{ from: '42', at: new Date(1_700_000_100_000), source: 'webhook', detail: 'my_chat_member: kicked' }],
    });

    const unblocked = telegramChatMemberUpdate({ chatId: 42, status: 'member', date: 1_700_000_200 });
    expect(telegramWebhook.parse(request(telegramUpdate({ secret: SECRET, update: unblocked })), channel())).toEqual({
      updates: [],
      inbound: [],
      optOuts: [],
      optIns: [{ from: '42', at: new Date(1_700_000_200_000), detail: 'my_chat_member: member' }],
    });
  });

  it('the simulator posts the block with the secret token, then answers sends 403 "bot was blocked by the user"', async () => {
    const hook = await startCallbackRecorder();
    const withSecret = new ProviderSimulator(telegramFormat({ botToken: BOT_TOKEN, webhookSecret: SECRET }));
    await withSecret.start();
    try {
      const adapter = createTelegramAdapter(channel({}, withSecret.baseUrl));
      expect((await adapter.send(message('4343'), signal())).kind).toBe('accepted');
      const answer = await withSecret.emit({ kind: 'optOut', from: '4343' }, hook.url('/webhooks/telegram/1'));
      expect(answer.status).toBe(200);
      const posted = hook.requests[0] as WebhookRequest;
      expect(telegramWebhook.verify(posted, channel())).toBe(true);
      expect(telegramWebhook.parse(posted, channel()).optOuts).toEqual([
        { from: '4343', at: expect.any(Date), source: 'webhook', detail: 'my_chat_member: kicked' },
      ]);
      expect(await adapter.send(message('4343'), signal())).toEqual({
        kind: 'failed',
        providerCode: '403',
        providerMessage: 'Forbidden: bot was blocked by the user',
      });
      await withSecret.emit({ kind: 'optIn', from: '4343' }, hook.url('/webhooks/telegram/1'));
      expect(telegramWebhook.parse(hook.requests[1] as WebhookRequest, channel()).optIns).toHaveLength(1);
      expect((await adapter.send(message('4343'), signal())).kind).toBe('accepted');
    } finally {
      await withSecret.stop();
      await hook.stop();
    }
  });

  it('ignores other updates and unreadable bodies', () => {
    const other = { update_id: 1, callback_query: { id: 'x', from: { id: 42 } } };
    expect(telegramWebhook.parse(request(telegramUpdate({ secret: SECRET, update: other })), channel())).toEqual({
      updates: [],
      inbound: [],
      optOuts: [],
    });
    expect(
      telegramWebhook.parse({ method: 'POST', url, headers: new Headers(), rawBody: 'not json' }, channel()),
    ).toEqual({
      updates: [],
      inbound: [],
      optOuts: [],
    });
  });
});
