/**
 * Time as the workspace lives it: "a day" in a filter and "mañana 10:21" in a re-send plan mean the
 * workspace's time zone, not UTC. Pure functions over Intl; no database.
 */

/** The zone most agents of a country work in, when the workspace has not set one. */
const COUNTRY_ZONES: Record<string, string> = {
  AR: 'America/Argentina/Buenos_Aires',
  BO: 'America/La_Paz',
  BR: 'America/Sao_Paulo',
  CL: 'America/Santiago',
  CO: 'America/Bogota',
  CR: 'America/Costa_Rica',
  DO: 'America/Santo_Domingo',
  EC: 'America/Guayaquil',
  ES: 'Europe/Madrid',
  GT: 'America/Guatemala',
  HN: 'America/Tegucigalpa',
  MX: 'America/Mexico_City',
  NI: 'America/Managua',
  PA: 'America/Panama',
  PE: 'America/Lima',
  PR: 'America/Puerto_Rico',
  PY: 'America/Asuncion',
  SV: 'America/El_Salvador',
  US: 'America/New_York',
  UY: 'America/Montevideo',
  VE: 'America/Caracas',
};

/** True when the runtime knows the IANA zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The workspace's zone: its own setting, else its country's, else UTC. */
export function workspaceTimeZone(country: string | null | undefined, explicit?: string | null): string {
  if (explicit && isTimeZone(explicit)) return explicit;
  return COUNTRY_ZONES[(country ?? '').toUpperCase()] ?? 'UTC';
}

/** Offset of `zone` from UTC at instant `at`, in ms (positive east of Greenwich). */
export function zoneOffsetMs(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The instant a calendar day ("2026-12-01") starts in `zone`. */
export function startOfDayInZone(day: string, zone: string): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d);
  // Two passes settle days whose midnight falls near a daylight-saving change; where the clocks spring
  // forward at midnight (Santiago, Asunción) there is no midnight, and the second pass would land on the
  // day before: the day then starts at the first instant it has (01:00).
  const first = guess - zoneOffsetMs(zone, guess);
  const second = guess - zoneOffsetMs(zone, first);
  return dayInZone(second, zone) === day ? second : first;
}

/** The calendar day after `day` (YYYY-MM-DD), as YYYY-MM-DD. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** The calendar day of instant `at` in `zone`, as YYYY-MM-DD. */
export function dayInZone(at: number, zone: string): string {
  return new Date(at + zoneOffsetMs(zone, at)).toISOString().slice(0, 10);
}
