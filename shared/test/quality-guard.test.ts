import { describe, expect, it } from 'vitest';
import {
  classifyProviderFailure,
  DEFAULT_GUARD,
  GuardSettingsSchema,
  guardSettings,
  guardTripped,
  hurtsQuality,
  pauseText,
} from '../src';

describe('the quality guard rule', () => {
  it('counts blocks, opt-outs and spam reports of every provider, and nothing else', () => {
    const hurts = (type: Parameters<typeof classifyProviderFailure>[0], code: string, message?: string) =>
      hurtsQuality(classifyProviderFailure(type, code, message));
    expect(hurts('whatsapp', '131048')).toBe(true); // spam rate limit
    expect(hurts('whatsapp', '131050')).toBe(true); // stopped marketing messages
    expect(hurts('twilio_sms', '30007')).toBe(true); // carrier filtering
    expect(hurts('twilio_sms', '21610')).toBe(true); // STOP
    expect(hurts('telegram', '403', 'Forbidden: bot was blocked by the user')).toBe(true);
    expect(hurts('messenger', '551')).toBe(true);
    // A full quota, a closed window or a number not on WhatsApp say nothing about the sender's standing.
    expect(hurts('whatsapp', '131049')).toBe(false);
    expect(hurts('whatsapp', '131047')).toBe(false);
    expect(hurts('whatsapp', '131026')).toBe(false);
    expect(hurtsQuality(null)).toBe(false);
  });

  it('trips on at least 20 of the last 200 and at least 3 %, as the defaults say', () => {
    expect(DEFAULT_GUARD).toEqual({ enabled: true, window: 200, minPercent: 3, minEvents: 20 });
    expect(guardTripped({ outcomes: 200, harmful: 19 }, DEFAULT_GUARD)).toBe(false);
    expect(guardTripped({ outcomes: 200, harmful: 20 }, DEFAULT_GUARD)).toBe(true);
    // Early in a broadcast a handful of blocks is noise, whatever their share.
    expect(guardTripped({ outcomes: 10, harmful: 5 }, DEFAULT_GUARD)).toBe(false);
    // With a longer window the share matters: 20 of 1,000 is 2 %.
    const long = guardSettings({ window: 1000 });
    expect(guardTripped({ outcomes: 1000, harmful: 20 }, long)).toBe(false);
    expect(guardTripped({ outcomes: 1000, harmful: 30 }, long)).toBe(true);
    expect(guardTripped({ outcomes: 200, harmful: 200 }, guardSettings({ enabled: false }))).toBe(false);
  });

  it('refuses absurd settings', () => {
    expect(GuardSettingsSchema.partial().safeParse({ window: 5 }).success).toBe(false);
    expect(GuardSettingsSchema.partial().safeParse({ minPercent: 0 }).success).toBe(false);
    expect(GuardSettingsSchema.partial().safeParse({ minPercent: 101 }).success).toBe(false);
    expect(GuardSettingsSchema.partial().safeParse({ minEvents: 1e9 }).success).toBe(false);
    expect(GuardSettingsSchema.partial().safeParse({ window: 500, minEvents: 10 }).success).toBe(true);
  });

  it('says why in the agent’s language, with numbers by locale', () => {
    const pause = { kind: 'quality', scope: 'broadcast', at: 0, outcomes: 1200, harmful: 72 } as const;
    expect(pauseText('Black Friday', pause, 'es')).toBe(
      'Pausamos «Black Friday»: el 6 % de los contactos bloqueó o reportó el número en los últimos 1.200 envíos',
    );
    expect(pauseText('Black Friday', pause, 'en')).toBe(
      'We paused “Black Friday”: 6% of contacts blocked or reported the number in the last 1,200 sends',
    );
    expect(pauseText('Black Friday', { ...pause, scope: 'channel' }, 'pt')).toBe(
      'Pausamos “Black Friday”: 6% dos contatos bloquearam ou denunciaram o número nos últimos 1.200 envios do canal',
    );
    expect(
      pauseText('Navidad', { kind: 'template', scope: 'broadcast', at: 0, template: 'promo', event: 'DISABLED' }, 'es'),
    ).toBe('Pausamos «Navidad»: Meta desactivó la plantilla «promo» por baja calidad; elija otra plantilla');
  });
});
