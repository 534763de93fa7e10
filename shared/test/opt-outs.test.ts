import { describe, expect, it } from 'vitest';
import { CHANNEL_TYPES, classifyProviderFailure, isOptOutFailure, isOptOutWord, OPT_OUT_WORDS } from '../src';

describe('isOptOutWord', () => {
  it('knows the English keywords (Twilio’s own included) and the Spanish ones', () => {
    for (const word of ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']) {
      expect(OPT_OUT_WORDS).toContain(word);
    }
    for (const word of ['BAJA', 'ALTO', 'PARAR', 'CANCELAR']) expect(OPT_OUT_WORDS).toContain(word);
    for (const word of OPT_OUT_WORDS) expect(isOptOutWord(word), word).toBe(true);
  });

  it('ignores case, accents, surrounding spaces and punctuation', () => {
    for (const text of [' stop ', 'Baja', 'baja.', '¡BAJA!', 'Bajá', 'ÁLTO', '  parar\n', '"Cancelar"', 'Stop!!']) {
      expect(isOptOutWord(text), text).toBe(true);
    }
  });

  it('is the whole message or nothing', () => {
    for (const text of [
      'please stop',
      'STOP sending',
      'dar de baja',
      'Baja el precio?',
      'alto el fuego',
      'cancelar pedido 123',
      'stopp',
      'para',
      '',
      '   ',
      '!!!',
    ]) {
      expect(isOptOutWord(text), text).toBe(false);
    }
    expect(isOptOutWord(null)).toBe(false);
    expect(isOptOutWord(undefined)).toBe(false);
  });
});

describe('isOptOutFailure', () => {
  it('WhatsApp: 131050 only', () => {
    expect(isOptOutFailure('whatsapp', '131050')).toBe(true);
    expect(isOptOutFailure('whatsapp', ' 131050 ')).toBe(true);
    for (const code of ['131049', '131026', '131047', '131048', '130472', '100', 'http_403', 'timeout']) {
      expect(isOptOutFailure('whatsapp', code), code).toBe(false);
    }
  });

  it('Twilio: 21610 only, not the broader 30004 nor the landline codes', () => {
    expect(isOptOutFailure('twilio_sms', '21610', 'Attempt to send to unsubscribed recipient')).toBe(true);
    for (const code of ['30004', '30007', '21614', '21211', '30003']) {
      expect(isOptOutFailure('twilio_sms', code), code).toBe(false);
    }
  });

  it('Telegram: 403 "bot was blocked by the user" only', () => {
    expect(isOptOutFailure('telegram', '403', 'Forbidden: bot was blocked by the user')).toBe(true);
    expect(isOptOutFailure('telegram', '403', 'FORBIDDEN: BOT WAS BLOCKED BY THE USER')).toBe(true);
    // A deleted account is not on the channel any more; a user who never pressed Start did not opt out.
    expect(isOptOutFailure('telegram', '403', 'Forbidden: user is deactivated')).toBe(false);
    expect(isOptOutFailure('telegram', '403', "Forbidden: bot can't initiate conversation with a user")).toBe(false);
    expect(isOptOutFailure('telegram', '403')).toBe(false);
    expect(isOptOutFailure('telegram', '400', 'Bad Request: chat not found')).toBe(false);
    expect(isOptOutFailure('telegram', '400', 'bot was blocked by the user')).toBe(false);
  });

  it('Messenger: 551 / 1545041 "This person isn’t available right now", not generic errors', () => {
    expect(isOptOutFailure('messenger', '551')).toBe(true);
    expect(isOptOutFailure('messenger', '551/1545041')).toBe(true);
    expect(isOptOutFailure('messenger', '10/1545041')).toBe(true);
    for (const code of ['2', '1200', '100/2018001', '10/2018278', '10', '613', '190']) {
      expect(isOptOutFailure('messenger', code), code).toBe(false);
    }
  });

  it('every opt-out failure is a reason a re-send cannot help', () => {
    const cases: [Parameters<typeof isOptOutFailure>[0], string, string?][] = [
      ['whatsapp', '131050'],
      ['twilio_sms', '21610'],
      ['telegram', '403', 'Forbidden: bot was blocked by the user'],
      ['messenger', '551/1545041'],
    ];
    for (const [type, code, message] of cases) {
      expect(isOptOutFailure(type, code, message)).toBe(true);
      expect(classifyProviderFailure(type, code, message)).toBe('blocked');
    }
  });

  it('other channels report no opt-out codes; the sandbox names it', () => {
    expect(isOptOutFailure('sandbox', 'opted_out')).toBe(true);
    expect(isOptOutFailure('sandbox', 'blocked')).toBe(false);
    for (const type of CHANNEL_TYPES.filter(
      (t) => !['whatsapp', 'twilio_sms', 'telegram', 'messenger', 'sandbox'].includes(t),
    )) {
      expect(isOptOutFailure(type, '21610'), type).toBe(false);
      expect(isOptOutFailure(type, '131050'), type).toBe(false);
    }
  });
});
