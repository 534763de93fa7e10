import { describe, expect, it } from 'vitest';
import { apiErrors, errorMessage, pickLanguage, roleAllows } from '../src';

describe('pickLanguage', () => {
  it.each([
    ['es-AR,es;q=0.9,en;q=0.8', 'es'],
    ['en-US,en;q=0.9', 'en'],
    ['pt-BR,en;q=0.5,es;q=0.7', 'pt'],
    ['it-IT,en;q=0.5,es;q=0.7', 'es'],
    ['fr-FR', undefined],
    ['es;q=0, en', 'en'],
    ['', undefined],
  ])('%s → %s', (header, expected) => {
    expect(pickLanguage(header)).toBe(expected);
  });
});

describe('error catalog', () => {
  it('every message exists in Spanish, English and Portuguese, and they differ', () => {
    for (const [code, messages] of Object.entries(apiErrors)) {
      expect(messages.es.length, code).toBeGreaterThan(0);
      expect(messages.en.length, code).toBeGreaterThan(0);
      expect(messages.es, code).not.toBe(messages.en);
      expect(messages.pt, code).not.toBe(messages.es);
    }
  });
  it('fills parameters, numbers by locale', () => {
    expect(errorMessage('payload_too_large', 'en', { limit: 1024 })).toContain('1,024 KB');
    expect(errorMessage('payload_too_large', 'es', { limit: 1024 })).toContain('1.024 KB');
  });

  it("names roles and statuses in the reader's words, not as keys", () => {
    expect(errorMessage('forbidden', 'es', { role: 'agent', required: 'manager' })).toBe(
      'Su rol (agente) no permite esta acción; se necesita el rol gerente o superior: pídale a alguien con ese rol que lo haga.',
    );
    expect(errorMessage('forbidden', 'pt', { role: 'manager', required: 'owner' })).toContain(
      'Sua função (gerente) não permite esta ação; é necessária a função proprietário',
    );
    expect(errorMessage('broadcast_transition', 'es', { from: 'partially_failed', to: 'scheduled' })).toBe(
      'Una transmisión «falló en parte» no puede pasar a «programada».',
    );
    expect(errorMessage('resend_not_finished', 'es', { status: 'sending' })).toMatch(
      /^La transmisión todavía está «enviándose»/,
    );
    // A date in the same parameter names stays as it is.
    expect(errorMessage('failures_range_reversed', 'es', { from: '2026-12-02', to: '2026-12-01' })).toContain(
      '"desde" (2026-12-02)',
    );
  });
});

describe('permission table', () => {
  it('agents re-send and tag but do not configure channels or send broadcasts', () => {
    expect(roleAllows('agent', 'failures:resend')).toBe(true);
    expect(roleAllows('agent', 'contacts:tag')).toBe(true);
    expect(roleAllows('agent', 'channels:write')).toBe(false);
    expect(roleAllows('agent', 'broadcasts:write')).toBe(false);
    expect(roleAllows('manager', 'broadcasts:write')).toBe(true);
    expect(roleAllows('manager', 'tokens:manage')).toBe(false);
    expect(roleAllows('owner', 'tokens:manage')).toBe(true);
  });
});
