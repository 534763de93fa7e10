/** How a re-send's time reads to an agent, in the workspace's zone: "ahora", "hoy 15:30", "mañana 10:21". */
import { dayInZone, type Language, nextDay } from '@rebound/shared';

const WORDS = {
  now: { es: 'ahora', en: 'now', pt: 'agora' },
  today: { es: 'hoy', en: 'today', pt: 'hoje' },
  tomorrow: { es: 'mañana', en: 'tomorrow', pt: 'amanhã' },
} as const;

const LOCALES: Record<Language, string> = { es: 'es-MX', en: 'en-US', pt: 'pt-BR' };

export function formatPlanTime(at: number, now: number, zone: string, language: Language): string {
  if (at <= now + 60_000) return WORDS.now[language];
  const locale = LOCALES[language];
  const time = new Intl.DateTimeFormat(locale, {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: language === 'en' ? 'h12' : 'h23',
  }).format(at);
  const day = dayInZone(at, zone);
  const today = dayInZone(now, zone);
  if (day === today) return `${WORDS.today[language]} ${time}`;
  if (day === nextDay(today)) return `${WORDS.tomorrow[language]} ${time}`;
  const date = new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' })
    .format(at)
    .replace(/\./g, '');
  return language === 'es' ? `el ${date} ${time}` : `${date} ${time}`;
}
