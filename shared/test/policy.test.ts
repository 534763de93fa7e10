/**
 * The recovery policy's tables: every channel type, with and without a 24 h window, with and without
 * a quota, decides send / fail / defer the same way for the engine and the pre-flight.
 */
import { describe, expect, it } from 'vitest';
import {
  admit,
  admitWithQuota,
  anotherChannelReasons,
  CHANNEL_TYPES,
  type ChannelType,
  cannotReachAgain,
  channelCapabilities,
  contentForChannel,
  DAY_MS,
  earliestUsefulResend,
  FAILURE_REASONS,
  forecastAdmission,
  HOUR_MS,
  hasWindow,
  MAX_QUOTA_WAVES,
  outsideWindowCarrier,
  QuotaBudget,
  quotaWaves,
  resendTiming,
  tooEarly,
  UNREACHABLE_AGAIN,
} from '../src';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const TEXT = { text: 'Hola' };
const TEMPLATE = { text: 'Hola', template: { name: 'promo', language: 'es_AR', parameters: [] } };
const TAGGED = { text: 'Hola', messengerTag: 'POST_PURCHASE_UPDATE' as const };
const fresh = { optedOut: false, windowOpen: false, countedInQuota: false, lastSentAt: null };
const broadcasting = CHANNEL_TYPES.filter((t) => channelCapabilities[t].canBroadcast);

describe('admission, per channel type', () => {
  for (const type of broadcasting) {
    const windowed = hasWindow(type);
    const rules = (dailyQuota: number | null) => ({ type, dailyQuota, pairRatePerRecipientSeconds: 6 });

    it(`${type}: an opted-out contact fails as opted_out before anything else`, () => {
      expect(admit({ ...fresh, optedOut: true, windowOpen: true }, rules(null), TEMPLATE, NOW)).toEqual({
        kind: 'fail',
        reason: 'opted_out',
      });
    });

    it(`${type}: free text outside the window ${windowed ? 'fails' : 'goes (no window)'}`, () => {
      const admission = admit(fresh, rules(null), TEXT, NOW);
      if (windowed) expect(admission).toEqual({ kind: 'fail', reason: 'outside_window' });
      else
        expect(admission).toEqual({
          kind: 'send',
          useTemplate: false,
          countsAgainstQuota: false,
          businessInitiated: true,
        });
    });

    it(`${type}: inside the window free text goes and ${windowed ? 'does not count' : 'counts'} against a quota`, () => {
      expect(admit({ ...fresh, windowOpen: true }, rules(10), TEXT, NOW)).toEqual({
        kind: 'send',
        useTemplate: false,
        countsAgainstQuota: !windowed,
        businessInitiated: !windowed,
      });
    });

    it(`${type}: a recipient written to 2 s ago waits for the pair rate`, () => {
      expect(admit({ ...fresh, windowOpen: true, lastSentAt: NOW - 2000 }, rules(null), TEMPLATE, NOW)).toEqual({
        kind: 'defer',
        until: NOW + 4000,
      });
    });

    it(`${type}: with a quota of 2, five new recipients: 2 go, 3 fail with the quota; the forecast says the same`, () => {
      const content = type === 'whatsapp' ? TEMPLATE : type === 'messenger' ? TAGGED : TEXT;
      const budget = new QuotaBudget(2, 0);
      const outcomes = Array.from({ length: 5 }, () => admitWithQuota(fresh, rules(2), content, budget, NOW));
      const failed = outcomes.filter((o) => o.kind === 'fail');
      // Messenger's tagged message is not business-initiated outside a window in the quota's sense? It is: it counts.
      expect(failed).toHaveLength(3);
      expect(failed.every((o) => o.kind === 'fail' && o.reason === 'quota_reached')).toBe(true);
      const forecast = forecastAdmission(
        [{ optedOut: false, windowOpen: false, countedInQuota: false, n: 5 }],
        rules(2),
        content,
        2,
        NOW,
      );
      expect(forecast).toMatchObject({ send: 2, needsQuota: 5, overQuota: 3 });
    });

    it(`${type}: a recipient already counted in the rolling window does not count twice`, () => {
      const budget = new QuotaBudget(1, 1);
      const content = type === 'whatsapp' ? TEMPLATE : type === 'messenger' ? TAGGED : TEXT;
      expect(admitWithQuota({ ...fresh, countedInQuota: true }, rules(1), content, budget, NOW).kind).toBe('send');
    });
  }

  it('WhatsApp outside the window sends the template; Messenger sends the tagged text', () => {
    expect(
      admit(fresh, { type: 'whatsapp', dailyQuota: null, pairRatePerRecipientSeconds: null }, TEMPLATE, NOW),
    ).toEqual({ kind: 'send', useTemplate: true, countsAgainstQuota: false, businessInitiated: true });
    expect(
      admit(fresh, { type: 'messenger', dailyQuota: null, pairRatePerRecipientSeconds: null }, TAGGED, NOW),
    ).toEqual({
      kind: 'send',
      useTemplate: false,
      countsAgainstQuota: false,
      businessInitiated: true,
    });
  });

  it('the forecast counts opted-out and outside-window recipients as the engine fails them', () => {
    const forecast = forecastAdmission(
      [
        { optedOut: true, windowOpen: false, countedInQuota: false, n: 4 },
        { optedOut: false, windowOpen: false, countedInQuota: false, n: 10 },
        { optedOut: false, windowOpen: true, countedInQuota: false, n: 6 },
      ],
      { type: 'whatsapp' as ChannelType, dailyQuota: 100, pairRatePerRecipientSeconds: 6 },
      TEXT,
      100,
      NOW,
    );
    expect(forecast).toEqual({
      send: 6,
      optedOut: 4,
      outsideWindow: 10,
      needsQuota: 0,
      overQuota: 0,
      freeInWindow: 6,
    });
  });
});

describe('what may go outside the window: the channel table says, not the type name', () => {
  const BOTH = { ...TEMPLATE, messengerTag: TAGGED.messengerTag };

  it('a channel names a carrier only when it has a window; each broadcasting one with a window has one', () => {
    for (const type of CHANNEL_TYPES) {
      const { outsideWindow, canBroadcast } = channelCapabilities[type];
      if (outsideWindow) expect(hasWindow(type), type).toBe(true);
      if (hasWindow(type) && canBroadcast) expect(outsideWindow, type).not.toBeNull();
    }
  });

  it("outsideWindowCarrier and contentForChannel follow each type's outsideWindow", () => {
    for (const type of CHANNEL_TYPES) {
      const carrier = channelCapabilities[type].outsideWindow?.carrier ?? null;
      expect(outsideWindowCarrier(type, BOTH), type).toBe(carrier);
      expect(outsideWindowCarrier(type, TEXT), type).toBeNull();
      expect(contentForChannel(type, BOTH), type).toEqual(
        carrier === 'template' ? TEMPLATE : carrier === 'tag' ? TAGGED : TEXT,
      );
    }
  });

  it('a type given a carrier in the table gets it through admission, with no other change', () => {
    const telegram = channelCapabilities.telegram;
    const whatsapp = channelCapabilities.whatsapp;
    channelCapabilities.telegram = {
      ...telegram,
      customerServiceWindowHours: 24,
      outsideWindow: whatsapp.outsideWindow,
    };
    try {
      const rules = { type: 'telegram' as const, dailyQuota: null, pairRatePerRecipientSeconds: null };
      expect(admit(fresh, rules, TEXT, NOW)).toEqual({ kind: 'fail', reason: 'outside_window' });
      expect(admit(fresh, rules, TEMPLATE, NOW)).toEqual({
        kind: 'send',
        useTemplate: true,
        countsAgainstQuota: false,
        businessInitiated: true,
      });
      expect(contentForChannel('telegram', BOTH)).toEqual(TEMPLATE);
    } finally {
      channelCapabilities.telegram = telegram;
    }
  });
});

describe('re-send timing', () => {
  it('gives every reason a timing: capacity, a wait, on request, or never', () => {
    for (const reason of FAILURE_REASONS)
      expect(resendTiming(reason).kind, reason).toMatch(/capacity|afterMs|never|onRequest/);
    expect(resendTiming('quota_reached')).toEqual({ kind: 'capacity' });
    expect(resendTiming('opted_out')).toEqual({ kind: 'never' });
  });

  it('WhatsApp 131049 helps 24 h after the failure, an unreachable handset 2 h after, a provider error at once', () => {
    const failedAt = NOW - HOUR_MS;
    expect(earliestUsefulResend('recipient_limit', failedAt, NOW, DAY_MS)).toBe(failedAt + DAY_MS);
    expect(earliestUsefulResend('unreachable', failedAt, NOW, DAY_MS)).toBe(failedAt + 2 * HOUR_MS);
    expect(earliestUsefulResend('provider_error', failedAt, NOW, DAY_MS)).toBe(NOW);
    expect(earliestUsefulResend('uncertain', failedAt, NOW, DAY_MS)).toBe(failedAt + DAY_MS);
    expect(earliestUsefulResend('blocked', failedAt, NOW, DAY_MS)).toBeNull();
    expect(tooEarly('recipient_limit', failedAt, NOW, DAY_MS)).toBe(true);
    expect(tooEarly('recipient_limit', failedAt, failedAt + DAY_MS, DAY_MS)).toBe(false);
    expect(tooEarly('provider_error', failedAt, NOW, DAY_MS)).toBe(false);
  });

  it('a late report lets a re-send go of a recipient only for what no re-send there can change', () => {
    // Each is a reason no re-send helps by itself; none is the channel's, the content's or the window's.
    for (const reason of UNREACHABLE_AGAIN) expect(resendTiming(reason), reason).toEqual({ kind: 'never' });
    expect(cannotReachAgain('not_on_channel')).toBe(true);
    expect(cannotReachAgain('blocked')).toBe(true);
    // Meta holds back this person's marketing (130472): a re-send on WhatsApp that holds them lets go.
    expect(cannotReachAgain('marketing_held')).toBe(true);
    for (const reason of [
      'account_problem',
      'template_problem',
      'outside_window',
      'uncertain',
      'quota_reached',
    ] as const)
      expect(cannotReachAgain(reason), reason).toBe(false);
  });

  it('a re-send on another channel takes by default what that channel may reach, not what follows the person there', () => {
    // WhatsApp → SMS: no WhatsApp account, a number WhatsApp refused, a closed window, Meta holding their marketing.
    expect(anotherChannelReasons('whatsapp', 'twilio_sms').sort()).toEqual(
      ['carrier_rejected', 'invalid_identifier', 'marketing_held', 'not_on_channel', 'outside_window'].sort(),
    );
    // SMS → WhatsApp: a carrier that refused the SMS without a cause is not in WhatsApp's way.
    expect(anotherChannelReasons('vonage_sms', 'whatsapp')).toContain('carrier_rejected');
    // WhatsApp → another WhatsApp number: no account and Meta's hold follow the person; a number that was
    // the sender itself (131021) and the window are the number's.
    expect(anotherChannelReasons('whatsapp', 'whatsapp').sort()).toEqual([
      'carrier_rejected',
      'invalid_identifier',
      'outside_window',
    ]);
    // Messenger → another Page: a PSID is the Page's own, so "not on this channel" may be reached there;
    // a Twilio short code → a long code: a carrier the short code cannot reach (30006) may be.
    expect(anotherChannelReasons('messenger', 'messenger')).toContain('not_on_channel');
    expect(anotherChannelReasons('twilio_sms', 'twilio_sms')).toContain('not_on_channel');
    // Its channel disconnected since: what another channel can reach.
    expect(anotherChannelReasons(undefined, 'twilio_sms')).toContain('marketing_held');
    // With what it sends: a text to a channel with a window of its own finds that window closed too (a
    // Messenger page's text to WhatsApp); a template goes past it; SMS has no window.
    const text = { text: 'Hola' };
    const template = { text: 'Hola', template: { name: 'promo', language: 'es', parameters: [] } };
    expect(anotherChannelReasons('messenger', 'whatsapp', text)).not.toContain('outside_window');
    expect(anotherChannelReasons('messenger', 'whatsapp', text)).toContain('invalid_identifier');
    expect(anotherChannelReasons('whatsapp', 'whatsapp', template)).toContain('outside_window');
    expect(anotherChannelReasons('whatsapp', 'twilio_sms', text)).toContain('outside_window');
    expect(anotherChannelReasons('whatsapp', 'messenger', { text: 'Hola', messengerTag: 'HUMAN_AGENT' })).not.toContain(
      'outside_window',
    );
  });

  it('a quota backlog goes in daily waves sized to the quota', () => {
    expect(quotaWaves(2500, 1000, NOW, 400)).toEqual([
      { at: NOW, size: 400 },
      { at: NOW + DAY_MS, size: 1000 },
      { at: NOW + 2 * DAY_MS, size: 1000 },
      { at: NOW + 3 * DAY_MS, size: 100 },
    ]);
    expect(quotaWaves(30, null, NOW, null)).toEqual([{ at: NOW, size: 30 }]);
  });

  it('plans a week of waves at most: 99,999 on a limit of 250 is 7 waves of 250, not 400 days of them', () => {
    const waves = quotaWaves(99_999, 250, NOW, 250);
    expect(waves).toHaveLength(MAX_QUOTA_WAVES);
    expect(MAX_QUOTA_WAVES).toBe(7);
    expect(waves.at(-1)).toEqual({ at: NOW + 6 * DAY_MS, size: 250 });
    expect(waves.reduce((n, w) => n + w.size, 0)).toBe(1_750);
  });
});
