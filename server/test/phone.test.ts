import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../src/lib/phone';

describe('phone normalization to E.164', () => {
  it.each([
    ['AR', '011 15 5555-1234', '+5491155551234'],
    ['AR', '+54 9 11 5555-1234', '+5491155551234'],
    ['AR', '(0351) 15 412-3456', '+5493514123456'],
    ['MX', '55 1234 5678', '+525512345678'],
    ['MX', '+52 1 55 1234 5678', '+525512345678'],
    ['CO', '300 123 4567', '+573001234567'],
    ['CO', '+57 (601) 234 5678', '+576012345678'],
    ['ES', '612 34 56 78', '+34612345678'],
    ['ES', '0034 612 345 678', '+34612345678'],
    ['BR', '(11) 91234-5678', '+5511912345678'],
    ['BR', '+55 21 98765-4321', '+5521987654321'],
    // A number with its own country code ignores the workspace country.
    ['AR', '+34 612 345 678', '+34612345678'],
  ])('%s: %s → %s', (country, input, e164) => {
    expect(normalizePhone(input, country)).toEqual({ valid: true, e164 });
  });

  it.each([
    ['AR', '12345', 'too_short'],
    ['AR', 'llamar a Juan', 'not_a_number'],
    ['AR', '+54 9 11 5555 1234 5678', 'too_long'],
    ['AR', '+999 1234 5678', 'invalid_country'],
    ['BR', '(11) 1234-5678', 'invalid_number'],
    ['MX', '55 1234', 'too_short'],
  ])('%s: %s is kept as given and flagged %s', (country, input, problem) => {
    expect(normalizePhone(input, country)).toEqual({ valid: false, raw: input, problem });
  });
});
