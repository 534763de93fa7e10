import { describe, expect, it } from 'vitest';
import {
  type ChannelType,
  classifyProviderFailure,
  describeFailure,
  FAILURE_REASONS,
  type FailureReason,
  failureReasons,
  resendAdvice,
  resendableReasons,
} from '../src';
import {
  messagebirdCodes,
  messagebirdFailureFamilies,
  messengerCodes,
  messengerSubcodes,
  type ProviderCodeTable,
  telegramCodes,
  telegramDescriptions,
  twilioCodes,
  vonageCodes,
  whatsappCodes,
} from '../src/failure-codes';

describe('failure catalog', () => {
  it('has every reason and nothing else', () => {
    expect(Object.keys(failureReasons).sort()).toEqual([...FAILURE_REASONS].sort());
  });

  it.each(FAILURE_REASONS)('%s has non-empty, different Spanish and English texts', (reason) => {
    const info = failureReasons[reason];
    for (const field of ['title', 'explanation', 'action'] as const) {
      expect(info[field].es.trim().length, `${reason}.${field}.es`).toBeGreaterThan(0);
      expect(info[field].en.trim().length, `${reason}.${field}.en`).toBeGreaterThan(0);
      expect(info[field].es, `${reason}.${field}`).not.toBe(info[field].en);
    }
    expect(info.title.es.length, `${reason} title is short`).toBeLessThanOrEqual(60);
    expect(info.title.en.length, `${reason} title is short`).toBeLessThanOrEqual(60);
  });

  it('titles are distinct', () => {
    for (const language of ['es', 'en'] as const) {
      const titles = FAILURE_REASONS.map((reason) => failureReasons[reason].title[language]);
      expect(new Set(titles).size, language).toBe(titles.length);
    }
  });

  it('Spanish uses ustedes, never vosotros', () => {
    const vosotros =
      /\b(vosotros|vosotras|vuestro|vuestra|vuestros|vuestras|os|podéis|habéis|tenéis|sois|estáis|queréis|debéis|haced|enviad|esperad|revisad|reenviad|id)\b/iu;
    for (const reason of FAILURE_REASONS) {
      const info = failureReasons[reason];
      for (const text of [info.title.es, info.explanation.es, info.action.es]) {
        expect(text, reason).not.toMatch(vosotros);
        // Verb forms ending in -áis / -éis are vosotros too.
        expect(text, reason).not.toMatch(/\p{L}+(áis|éis)\b/iu);
      }
    }
  });

  it('follows the agreed re-send decisions', () => {
    const expected: Record<FailureReason, 'now' | 'later' | 'never'> = {
      quota_reached: 'later',
      throttled: 'later',
      blocked: 'never',
      opted_out: 'never',
      invalid_identifier: 'never',
      no_identifier: 'never',
      not_on_channel: 'never',
      unreachable: 'later',
      recipient_limit: 'later',
      marketing_held: 'never',
      outside_window: 'never',
      template_problem: 'never',
      spam_filtered: 'never',
      carrier_rejected: 'never',
      account_problem: 'never',
      unsupported_channel: 'never',
      duplicate: 'never',
      provider_error: 'now',
      uncertain: 'never',
    };
    for (const reason of FAILURE_REASONS) expect(failureReasons[reason].resend, reason).toBe(expected[reason]);
    // The policy's timing says the same as the catalog's words, reason by reason.
    for (const reason of FAILURE_REASONS) expect(resendAdvice(reason), reason).toBe(expected[reason]);
  });

  it('S1: quota_reached reads as the daily messaging limit', () => {
    expect(failureReasons.quota_reached.title.en.toLowerCase()).toContain('daily messaging limit reached');
    expect(failureReasons.quota_reached.title.es.toLowerCase()).toContain('límite diario');
  });

  it('S4: invalid identifier recommends E.164 with an example', () => {
    for (const language of ['es', 'en'] as const) {
      const action = failureReasons.invalid_identifier.action[language];
      expect(action).toContain('E.164');
      expect(action).toMatch(/\+\d{10,15}\b/);
    }
  });

  it('tells where the fix lies for the window, the account and the marketing cap', () => {
    expect(failureReasons.outside_window.action.en).toMatch(/template/i);
    expect(failureReasons.outside_window.action.en).toMatch(/tag/i);
    expect(failureReasons.outside_window.action.es).toMatch(/plantilla/i);
    expect(failureReasons.outside_window.action.es).toMatch(/etiqueta/i);
    expect(failureReasons.account_problem.action.en).toMatch(/first/i);
    expect(failureReasons.recipient_limit.action.en).toMatch(/24 hours/);
    expect(failureReasons.recipient_limit.action.en).toMatch(/utility template/i);
  });

  it('describeFailure gives one language', () => {
    expect(describeFailure('blocked', 'es')).toEqual({
      code: 'blocked',
      title: failureReasons.blocked.title.es,
      explanation: failureReasons.blocked.explanation.es,
      action: failureReasons.blocked.action.es,
      resend: 'never',
    });
    expect(describeFailure('quota_reached', 'en').title).toBe('Daily messaging limit reached');
  });

  it('resendableReasons lists the reasons whose resend is not never', () => {
    expect(resendableReasons().sort()).toEqual(
      ['provider_error', 'quota_reached', 'recipient_limit', 'throttled', 'unreachable'].sort(),
    );
  });
});

describe('classifyProviderFailure: reference scenarios', () => {
  it('S6: blocked contacts are blocked and left out of a re-send', () => {
    const cases: [ChannelType, string, string?][] = [
      ['telegram', '403', 'Forbidden: bot was blocked by the user'],
      ['messenger', '551'],
      ['messenger', '551/1545041'],
      ['twilio_sms', '21610'],
      ['whatsapp', '131050'],
    ];
    for (const [channel, code, message] of cases) {
      const reason = classifyProviderFailure(channel, code, message);
      expect(reason, `${channel} ${code}`).toBe('blocked');
      expect(failureReasons[reason].resend).toBe('never');
      expect(resendableReasons()).not.toContain(reason);
    }
  });

  it('S7: provider throttling is throttled', () => {
    expect(classifyProviderFailure('whatsapp', '130429')).toBe('throttled');
    expect(classifyProviderFailure('whatsapp', '131056')).toBe('throttled');
    expect(classifyProviderFailure('twilio_sms', '20429')).toBe('throttled');
    expect(classifyProviderFailure('telegram', '429', 'Too Many Requests: retry after 7')).toBe('throttled');
    expect(classifyProviderFailure('vonage_sms', 'status:1')).toBe('throttled');
    expect(classifyProviderFailure('messenger', '613')).toBe('throttled');
    for (const code of ['4', '17', '32']) expect(classifyProviderFailure('messenger', code)).toBe('throttled');
  });

  it('S10: failures reported later by webhook', () => {
    expect(classifyProviderFailure('whatsapp', '131049')).toBe('recipient_limit');
    expect(classifyProviderFailure('whatsapp', '131026')).toBe('not_on_channel');
    // A Meta experiment holds back marketing to a person who is on WhatsApp: not "no account", and not
    // a limit that a day's wait lifts.
    expect(classifyProviderFailure('whatsapp', '130472')).toBe('marketing_held');
    expect(classifyProviderFailure('twilio_sms', '30003')).toBe('unreachable');
    expect(classifyProviderFailure('twilio_sms', '30007')).toBe('spam_filtered');
  });
});

describe('classifyProviderFailure: provider codes', () => {
  it.each([
    ['131048', 'spam_filtered'],
    ['131047', 'outside_window'],
    ['470', 'outside_window'],
    ['131051', 'template_problem'],
    ['132000', 'template_problem'],
    ['132001', 'template_problem'],
    ['132005', 'template_problem'],
    ['132007', 'template_problem'],
    ['132012', 'template_problem'],
    ['132015', 'template_problem'],
    ['132016', 'template_problem'],
    ['131031', 'account_problem'],
    ['368', 'account_problem'],
    ['131042', 'account_problem'],
    ['130472', 'marketing_held'],
    ['131000', 'provider_error'],
    ['131016', 'provider_error'],
    ['1', 'provider_error'],
    ['2', 'provider_error'],
    ['100', 'invalid_identifier'],
    ['190', 'account_problem'],
  ] as const)('whatsapp %s → %s', (code, reason) => {
    expect(classifyProviderFailure('whatsapp', code)).toBe(reason);
  });

  it('whatsapp 100 about a template parameter is a template problem', () => {
    expect(classifyProviderFailure('whatsapp', '100', 'Invalid parameter: template name')).toBe('template_problem');
  });

  it.each([
    ['2', 'provider_error'],
    ['100', 'invalid_identifier'],
    ['100/2018001', 'invalid_identifier'],
    ['10/2018278', 'outside_window'],
    ['190', 'account_problem'],
    ['613/0', 'throttled'],
  ] as const)('messenger %s → %s', (code, reason) => {
    expect(classifyProviderFailure('messenger', code)).toBe(reason);
  });

  it.each([
    ['403', 'Forbidden: bot was blocked by the user', 'blocked'],
    ['403', 'Forbidden: user is deactivated', 'not_on_channel'],
    ['403', "Forbidden: bot can't initiate conversation with a user", 'not_on_channel'],
    ['400', 'Bad Request: chat not found', 'invalid_identifier'],
    ['400', 'Bad Request: group chat was upgraded to a supergroup chat', 'invalid_identifier'],
    ['429', 'Too Many Requests: retry after 3', 'throttled'],
    ['403', undefined, 'blocked'],
    ['400', 'Bad Request: something new', 'provider_error'],
  ] as const)('telegram %s "%s" → %s', (code, message, reason) => {
    expect(classifyProviderFailure('telegram', code, message)).toBe(reason);
  });

  it.each([
    ['21610', 'blocked'],
    ['21211', 'invalid_identifier'],
    ['30003', 'unreachable'],
    ['30007', 'spam_filtered'],
    ['20429', 'throttled'],
    ['63016', 'outside_window'],
    ['63018', 'quota_reached'],
    ['21408', 'account_problem'],
    ['21614', 'not_on_channel'],
    ['30004', 'blocked'],
    ['30005', 'not_on_channel'],
    ['30006', 'not_on_channel'],
    ['30008', 'provider_error'],
    ['30001', 'throttled'],
    ['30022', 'throttled'],
    ['30002', 'account_problem'],
  ] as const)('twilio %s → %s', (code, reason) => {
    expect(classifyProviderFailure('twilio_sms', code)).toBe(reason);
  });

  it("twilio 30022 about T-Mobile's daily cap is the daily limit", () => {
    expect(classifyProviderFailure('twilio_sms', '30022', 'T-Mobile daily message limit exceeded')).toBe(
      'quota_reached',
    );
  });

  it.each([
    ['status:1', 'throttled'],
    ['status:7', 'blocked'],
    ['status:6', 'invalid_identifier'],
    ['status:9', 'account_problem'],
    ['status:4', 'account_problem'],
    ['status:5', 'provider_error'],
    // "Fix the request": a channel setting, never "re-send now" (channels.md 2e).
    ['status:2', 'account_problem'],
    ['status:3', 'account_problem'],
    ['status:22', 'account_problem'],
    ['dlr:2', 'unreachable'],
    ['dlr:16', 'throttled'],
    // Registration filters (India's DLT): filtered again if sent unchanged.
    ['dlr:50', 'account_problem'],
    ['dlr:51', 'account_problem'],
    ['dlr:52', 'template_problem'],
    ['dlr:53', 'blocked'],
    ['dlr:54', 'account_problem'],
    ['dlr:3', 'not_on_channel'],
    ['dlr:4', 'blocked'],
    ['dlr:6', 'spam_filtered'],
    ['dlr:9', 'blocked'],
    ['dlr:99', 'provider_error'],
    ['dlr:002', 'unreachable'],
    ['DLR:Expired', 'unreachable'],
    ['dlr:unknown', 'uncertain'],
    // A final refusal with only its status word: not a passing fault to re-send at once.
    ['dlr:rejected', 'carrier_rejected'],
    ['DLR:REJECTD', 'carrier_rejected'],
    ['dlr:failed', 'carrier_rejected'],
    ['dlr:deleted', 'carrier_rejected'],
  ] as const)('vonage %s → %s', (code, reason) => {
    expect(classifyProviderFailure('vonage_sms', code)).toBe(reason);
  });

  it.each([
    ['api:2', 'account_problem'],
    ['api:25', 'account_problem'],
    ['api:9', 'account_problem'],
    ['api:10', 'account_problem'],
    ['api:21', 'account_problem'],
    ['api:99', 'provider_error'],
    ['dlr:1', 'not_on_channel'],
    ['dlr:27', 'unreachable'],
    ['dlr:13', 'blocked'],
    ['dlr:34', 'provider_error'],
    ['dlr:106', 'quota_reached'],
    ['dlr:107', 'throttled'],
    ['dlr:15005', 'not_on_channel'],
    ['dlr:14099', 'account_problem'],
    ['dlr:12999', 'provider_error'],
    ['dlr:expired', 'unreachable'],
  ] as const)('messagebird %s → %s', (code, reason) => {
    expect(classifyProviderFailure('messagebird_sms', code)).toBe(reason);
  });

  it('vonage status 3 about the number is the number', () => {
    expect(classifyProviderFailure('vonage_sms', 'status:3', 'Invalid to number')).toBe('invalid_identifier');
  });

  it('messagebird reads the recipients and the source code from the message', () => {
    expect(classifyProviderFailure('messagebird_sms', 'api:9', 'no (correct) recipients found')).toBe(
      'invalid_identifier',
    );
    expect(
      classifyProviderFailure('messagebird_sms', 'dlr:15999', 'details: absent subscriber; reason: x; code: 27'),
    ).toBe('unreachable');
  });
});

describe('classifyProviderFailure: every table entry', () => {
  const tables: [ChannelType, string, ProviderCodeTable][] = [
    ['whatsapp', 'codes', whatsappCodes],
    ['messenger', 'codes', messengerCodes],
    ['twilio_sms', 'codes', twilioCodes],
    ['vonage_sms', 'codes', vonageCodes],
    ['messagebird_sms', 'codes', messagebirdCodes],
    ['telegram', 'codes', telegramCodes],
  ];

  it.each(tables)('%s %s classify to their own, valid reason', (channel, _name, table) => {
    expect(Object.keys(table).length).toBeGreaterThan(0);
    for (const [code, entry] of Object.entries(table)) {
      expect(FAILURE_REASONS, `${channel} ${code}`).toContain(entry.reason);
      expect(entry.note.length, `${channel} ${code} note`).toBeGreaterThan(0);
      expect(classifyProviderFailure(channel, code), `${channel} ${code}`).toBe(entry.reason);
    }
  });

  it('messenger subcodes classify with any code', () => {
    for (const [subcode, entry] of Object.entries(messengerSubcodes)) {
      expect(FAILURE_REASONS).toContain(entry.reason);
      expect(classifyProviderFailure('messenger', `999/${subcode}`), subcode).toBe(entry.reason);
    }
  });

  it('telegram descriptions classify with their code', () => {
    for (const entry of telegramDescriptions) {
      expect(FAILURE_REASONS).toContain(entry.reason);
      const description = `${entry.code === '403' ? 'Forbidden' : 'Bad Request'}: ${entry.text}`;
      expect(classifyProviderFailure('telegram', entry.code, description), entry.text).toBe(entry.reason);
    }
  });

  it('messagebird failure families classify by prefix', () => {
    for (const [family, entry] of Object.entries(messagebirdFailureFamilies)) {
      expect(FAILURE_REASONS).toContain(entry.reason);
      expect(classifyProviderFailure('messagebird_sms', `dlr:${family}987`), family).toBe(entry.reason);
    }
  });
});

describe('classifyProviderFailure: fallbacks', () => {
  const providerChannels: ChannelType[] = [
    'whatsapp',
    'messenger',
    'telegram',
    'twilio_sms',
    'vonage_sms',
    'messagebird_sms',
    'sandbox',
  ];

  it.each(providerChannels)('%s: generic codes', (channel) => {
    expect(classifyProviderFailure(channel, 'timeout')).toBe('uncertain');
    expect(classifyProviderFailure(channel, 'connection')).toBe('provider_error');
    expect(classifyProviderFailure(channel, 'http_429')).toBe('throttled');
    expect(classifyProviderFailure(channel, 'http_401')).toBe('account_problem');
    expect(classifyProviderFailure(channel, 'http_403')).toBe('account_problem');
    expect(classifyProviderFailure(channel, 'http_500')).toBe('provider_error');
    expect(classifyProviderFailure(channel, 'http_503')).toBe('provider_error');
    expect(classifyProviderFailure(channel, 'http_400')).toBe('provider_error');
  });

  it.each(providerChannels)('%s: unknown codes are provider errors', (channel) => {
    for (const code of ['999999', 'nonsense', '', 'constructor', '__proto__', 'status:4242', 'dlr:', 'api:x']) {
      expect(classifyProviderFailure(channel, code), `${channel} "${code}"`).toBe('provider_error');
    }
  });

  it('sandbox maps reason names literally', () => {
    for (const reason of FAILURE_REASONS) {
      expect(classifyProviderFailure('sandbox', reason)).toBe(reason);
    }
    expect(classifyProviderFailure('sandbox', ' Blocked ')).toBe('blocked');
    expect(classifyProviderFailure('sandbox', '131049')).toBe('provider_error');
  });

  it('channels without broadcasts are unsupported', () => {
    for (const channel of ['instagram', 'webchat', 'wechat', 'email'] as const) {
      expect(classifyProviderFailure(channel, '551')).toBe('unsupported_channel');
    }
  });

  it('tolerates spaces and leading zeros', () => {
    expect(classifyProviderFailure('whatsapp', ' 131049 ')).toBe('recipient_limit');
    expect(classifyProviderFailure('twilio_sms', '021610')).toBe('blocked');
    expect(classifyProviderFailure('messenger', '10 / 2018278')).toBe('outside_window');
  });
});
