/**
 * THE QUALITY GUARD: when a broadcast is hurting the sender's number, it pauses. Pure, as the recovery
 * policy is: the engine (after each group of outcomes), the delivery reports, the API (a channel's
 * settings, a paused broadcast's explanation) and the extension all read these definitions.
 *
 * A failure hurts the number when the contact blocked the business, opted out, reported it, or the
 * provider or carrier filtered the message as spam: WhatsApp 131048 and 131050, Twilio 30007 and 21610,
 * Telegram "bot was blocked by the user", Messenger 551. Meta lowers a number's quality rating, and
 * then its messaging limit, on exactly these signals; carriers filter a sender for the same.
 */
import { z } from 'zod';
import type { FailureReason } from './failure-reasons';
import { formatNumber, type Language, type Localized } from './i18n';

/** The failure reasons that count against the sender's standing (the codes above map to them). */
export const QUALITY_REASONS = ['blocked', 'spam_filtered'] as const satisfies readonly FailureReason[];

export function hurtsQuality(reason: FailureReason | null | undefined): boolean {
  return reason != null && (QUALITY_REASONS as readonly string[]).includes(reason);
}

/**
 * A channel's guard. Defaults: pause when, among the last 200 outcomes, at least 20 hurt the number
 * and they are at least 3 % of them. The share matters with a longer window (with 200, 20 events are
 * already 10 %); the event count keeps a few early blocks from pausing a broadcast on noise.
 */
export const GuardSettingsSchema = z
  .object({
    enabled: z.boolean().meta({ description: 'false: the channel is never paused by the guard.' }),
    window: z
      .number()
      .int()
      .min(20)
      .max(10_000)
      .meta({ description: 'How many of the latest outcomes (sent or failed) are judged.', example: 200 }),
    minPercent: z
      .number()
      .min(0.1)
      .max(100)
      .meta({ description: 'The share of those outcomes that hurt the number, in percent, that pauses.', example: 3 }),
    minEvents: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .meta({ description: 'And at least this many of them (blocks, opt-outs, spam reports).', example: 20 }),
  })
  .meta({ description: 'When the quality guard pauses this channel’s broadcasts.' });
export type GuardSettings = z.infer<typeof GuardSettingsSchema>;

export const DEFAULT_GUARD: GuardSettings = Object.freeze({ enabled: true, window: 200, minPercent: 3, minEvents: 20 });

/** The stored settings (null: never changed) over the defaults. */
export function guardSettings(stored: Partial<GuardSettings> | null | undefined): GuardSettings {
  return { ...DEFAULT_GUARD, ...(stored ?? {}) };
}

/** What the guard saw in a window: outcomes judged and how many of them hurt the number. */
export interface GuardWindow {
  outcomes: number;
  harmful: number;
}

/** The guard's one rule. */
export function guardTripped(window: GuardWindow, settings: GuardSettings): boolean {
  if (!settings.enabled || window.outcomes <= 0) return false;
  return window.harmful >= settings.minEvents && (window.harmful * 100) / window.outcomes >= settings.minPercent;
}

/** Why a broadcast is paused. */
export const PAUSE_KINDS = [
  /** The guard: too many blocks, opt-outs or spam reports among the latest outcomes. */
  'quality',
  /** Meta paused or disabled the broadcast's template (message_template_status_update). */
  'template',
  /** Meta flagged the number's quality or lowered its limit (phone_number_quality_update). */
  'number_quality',
] as const;
export type PauseKind = (typeof PAUSE_KINDS)[number];

export const PauseSchema = z
  .object({
    kind: z.enum(PAUSE_KINDS),
    at: z.number().int().meta({ description: 'When it paused (ms since the epoch).' }),
    scope: z
      .enum(['broadcast', 'channel'])
      .meta({ description: 'Whether the window that tripped was this broadcast’s own or the whole channel’s.' }),
    outcomes: z.number().int().optional().meta({ description: 'quality: outcomes in the window judged.' }),
    harmful: z.number().int().optional().meta({ description: 'quality: of them, blocks, opt-outs and spam reports.' }),
    template: z.string().optional().meta({ description: 'template: the template Meta paused or disabled.' }),
    event: z.string().optional().meta({ description: 'template, number_quality: Meta’s event (PAUSED, FLAGGED…).' }),
  })
  .meta({ description: 'Why the broadcast is paused; a manager resumes or cancels it.' });
export type Pause = z.infer<typeof PauseSchema>;

/** The share of harmful outcomes as the agent reads it: whole percent, at least 1 when any. */
export function harmfulPercent(pause: Pick<Pause, 'outcomes' | 'harmful'>): number {
  const outcomes = pause.outcomes ?? 0;
  const harmful = pause.harmful ?? 0;
  if (outcomes <= 0 || harmful <= 0) return 0;
  return Math.max(1, Math.round((harmful * 100) / outcomes));
}

/**
 * Why a broadcast paused, in the agent's words: the event's message, the broadcast's detail and the
 * extension's notification all say it this way.
 */
export function pauseText(name: string, pause: Pause, language: Language): string {
  const n = (value: number) => formatNumber(value, language);
  const say = (text: Localized) => text[language];
  switch (pause.kind) {
    case 'quality': {
      const percent = harmfulPercent(pause);
      const outcomes = n(pause.outcomes ?? 0);
      const where = pause.scope === 'channel' ? say({ es: ' del canal', en: ' on the channel', pt: ' do canal' }) : '';
      return say({
        es: `Pausamos «${name}»: el ${percent} % de los contactos bloqueó o reportó el número en los últimos ${outcomes} envíos${where}`,
        en: `We paused “${name}”: ${percent}% of contacts blocked or reported the number in the last ${outcomes} sends${where}`,
        pt: `Pausamos “${name}”: ${percent}% dos contatos bloquearam ou denunciaram o número nos últimos ${outcomes} envios${where}`,
      });
    }
    case 'template': {
      const template = pause.template ?? '';
      return pause.event === 'DISABLED'
        ? say({
            es: `Pausamos «${name}»: Meta desactivó la plantilla «${template}» por baja calidad; elija otra plantilla`,
            en: `We paused “${name}”: Meta disabled the template “${template}” for low quality; choose another template`,
            pt: `Pausamos “${name}”: a Meta desativou o modelo “${template}” por baixa qualidade; escolha outro modelo`,
          })
        : say({
            es: `Pausamos «${name}»: Meta pausó la plantilla «${template}» por baja calidad; espere a que Meta la reactive o elija otra plantilla`,
            en: `We paused “${name}”: Meta paused the template “${template}” for low quality; wait until Meta reinstates it or choose another template`,
            pt: `Pausamos “${name}”: a Meta pausou o modelo “${template}” por baixa qualidade; espere a Meta reativá-lo ou escolha outro modelo`,
          });
    }
    case 'number_quality':
      return say({
        es: `Pausamos «${name}»: Meta marcó la calidad del número (${pause.event ?? ''}); revísela en WhatsApp Manager antes de reanudar`,
        en: `We paused “${name}”: Meta flagged the number’s quality (${pause.event ?? ''}); check it in WhatsApp Manager before resuming`,
        pt: `Pausamos “${name}”: a Meta sinalizou a qualidade do número (${pause.event ?? ''}); verifique no WhatsApp Manager antes de retomar`,
      });
  }
}

/**
 * Why a number is held (a channel's `hold`), in the agent's words, with what to do: the broadcast's
 * detail and the extension say it beside a report on that number.
 */
export function holdText(pause: Pause, language: Language): string {
  const n = (value: number) => formatNumber(value, language);
  const say = (text: Localized) => text[language];
  if (pause.kind === 'number_quality')
    return say({
      es: `El número está en pausa: Meta marcó su calidad (${pause.event ?? ''}). Revísela en WhatsApp Manager; un gerente debe reanudar el número para enviar más por él`,
      en: `The number is paused: Meta flagged its quality (${pause.event ?? ''}). Check it in WhatsApp Manager; a manager has to resume the number to send more on it`,
      pt: `O número está em pausa: a Meta sinalizou sua qualidade (${pause.event ?? ''}). Verifique no WhatsApp Manager; um gerente precisa retomar o número para enviar mais por ele`,
    });
  const percent = harmfulPercent(pause);
  const outcomes = n(pause.outcomes ?? 0);
  return say({
    es: `El número está en pausa: el ${percent} % de los contactos bloqueó o reportó el número en los últimos ${outcomes} envíos del canal. Un gerente debe revisarlo y reanudar el número para enviar más por él`,
    en: `The number is paused: ${percent}% of contacts blocked or reported the number in the last ${outcomes} sends on the channel. A manager has to review it and resume the number to send more on it`,
    pt: `O número está em pausa: ${percent}% dos contatos bloquearam ou denunciaram o número nos últimos ${outcomes} envios do canal. Um gerente precisa revisá-lo e retomar o número para enviar mais por ele`,
  });
}
