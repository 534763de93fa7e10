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
  it('fills parameters', () => {
    expect(errorMessage('payload_too_large', 'en', { limit: '1024 KB' })).toContain('1024 KB');
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
