import { describe, expect, it } from 'vitest';
import { CHANNEL_TYPES, type ChannelType, contentForChannel, isSmsChannel, smsSegments } from '../src';

describe('SMS segments', () => {
  it('counts GSM-7 up to 160 in one segment and 153 a segment beyond', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('a'.repeat(306))).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts the extension table twice and keeps Spanish letters GSM has (é, ñ, ¿, ¡)', () => {
    expect(smsSegments('¿Señor? ¡Qué bien! 100€')).toEqual({ encoding: 'GSM-7', units: 24, segments: 1 });
    expect(smsSegments('{'.repeat(80)).segments).toBe(1);
    expect(smsSegments('{'.repeat(81)).segments).toBe(2);
  });

  it('goes UCS-2 for one letter outside GSM (ó, á, í, ú) or an emoji: 70, then 67 a segment', () => {
    expect(smsSegments('Envío gratis')).toEqual({ encoding: 'UCS-2', units: 12, segments: 1 });
    expect(smsSegments(`${'a'.repeat(69)}ó`).segments).toBe(1);
    expect(smsSegments(`${'a'.repeat(70)}ó`).segments).toBe(2);
    expect(smsSegments('🎄'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
  });
});

describe('content on another channel', () => {
  const content = {
    text: 'Hola',
    template: { name: 'promo', language: 'es_AR', parameters: [] },
    messengerTag: 'ACCOUNT_UPDATE' as const,
  };
  it('SMS and Telegram get the plain text; WhatsApp keeps the template, Messenger its tag', () => {
    expect(contentForChannel('twilio_sms', content)).toEqual({ text: 'Hola' });
    expect(contentForChannel('telegram', content)).toEqual({ text: 'Hola' });
    expect(contentForChannel('whatsapp', content)).toEqual({ text: 'Hola', template: content.template });
    expect(contentForChannel('messenger', content)).toEqual({ text: 'Hola', messengerTag: 'ACCOUNT_UPDATE' });
  });
});

describe('which channels are SMS', () => {
  it('the three SMS providers, billed by segment, and no other type', () => {
    expect(CHANNEL_TYPES.filter((type) => isSmsChannel(type))).toEqual(['twilio_sms', 'vonage_sms', 'messagebird_sms']);
  });

  it('a type this build does not know (a newer server) is not SMS, and does not throw', () => {
    const fromNewerServer = JSON.parse('"rcs"') as ChannelType;
    expect(isSmsChannel(fromNewerServer)).toBe(false);
  });
});
