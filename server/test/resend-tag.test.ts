import { describe, expect, it } from 'vitest';
import { defaultResendTag } from '../src/services/resend';

describe("a re-send's default tag", () => {
  it("names the day as the workspace's agents read it: day first, in the workspace's time zone", () => {
    // 21:30 on 25 November in Mexico City is already the 26th in UTC.
    const broadcast = { id: 42, startedAt: new Date('2026-11-26T03:30:00Z'), createdAt: new Date(0) };
    expect(defaultResendTag('es', broadcast, 'America/Mexico_City')).toBe('transmisión fallida 25 nov 2026 (#42)');
    expect(defaultResendTag('en', broadcast, 'UTC')).toBe('failed broadcast Nov 26 2026 (#42)');
  });
});
