/**
 * A calendar day in a workspace's time zone, as the failed log reads `from` and `to`: it starts at its
 * own first instant, daylight-saving days included, where midnight itself may not exist.
 */
import { describe, expect, it } from 'vitest';
import { dayInZone, startOfDayInZone } from '../src/time';

describe('the start of a day in a time zone', () => {
  it.each([
    // Santiago springs forward at midnight: 2026-09-06 starts at 01:00 (-03), 04:00Z.
    ['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
    ['2026-09-05', 'America/Santiago', '2026-09-05T04:00:00.000Z'],
    ['2026-09-07', 'America/Santiago', '2026-09-07T03:00:00.000Z'],
    // Asunción did the same in October 2024.
    ['2024-10-06', 'America/Asuncion', '2024-10-06T04:00:00.000Z'],
    // No daylight saving: Mexico City since 2022, São Paulo since 2019, Buenos Aires.
    ['2026-04-05', 'America/Mexico_City', '2026-04-05T06:00:00.000Z'],
    ['2026-11-01', 'America/Sao_Paulo', '2026-11-01T03:00:00.000Z'],
    ['2026-12-01', 'America/Argentina/Buenos_Aires', '2026-12-01T03:00:00.000Z'],
  ])('%s in %s starts at %s', (day, zone, iso) => {
    const start = startOfDayInZone(day, zone);
    expect(new Date(start).toISOString()).toBe(iso);
    expect(dayInZone(start, zone)).toBe(day);
    expect(dayInZone(start - 1, zone)).not.toBe(day);
  });
});
