/**
 * Tag and re-send: the reference page's manual recovery (export, re-import with a tag, segment
 * "contact tag has any of <tag>", send again) as one call, done right:
 * - exactly the failed message rows asked for, never anyone else (resend_targets; the tag only labels);
 * - each reason at its earliest useful time (shared/src/policy.ts), as linked re-sends, and a quota
 *   backlog in daily waves;
 * - asking twice never tags twice or re-sends anyone twice: rows already in a live re-send are skipped.
 * The SQL lives in resend-store.ts; this file is the plan.
 */
import {
  ANOTHER_CHANNEL_REASONS,
  BroadcastContentSchema,
  contentForChannel,
  DAY_MS,
  defaultResendReasons,
  describeFailure,
  earliestUsefulResend,
  estimateCost,
  type FailureReason,
  fixedLocale,
  format,
  isSmsChannel,
  type Language,
  outsideWindowCarrier,
  priceTable,
  quotaWaves,
  type ResendBody,
  type ResendResult,
  resendTiming,
  smsSegments,
  tooEarly,
  workspaceTimeZone,
} from '@rebound/shared';
import type { Database } from '../db/client';
import { countriesOn, reachableOn } from '../engine/audience';
import { capacityAvailableAt, quotaScope, quotaUsage } from '../engine/limits';
import type { AuthContext } from '../lib/env';
import { ApiError, notFound } from '../lib/errors';
import { unconfirmedWindowMs } from '../lib/unconfirmed';
import { broadcastableChannel, cancelBroadcast } from './broadcasts';
import { formatPlanTime } from './resend-format';
import * as store from './resend-store';
import { claimPlan, releasePlan, writePlan } from './resend-writer';

export type ResendRequest = ResendBody;

export interface ResendOptions {
  /** Rows per transaction (tests make it small). */
  writeRows?: number;
  /**
   * Rebound's own re-send (automatic recovery): contacts the marketing cap refused three times in a row
   * within a week are left out, as one more try only counts against the number.
   */
  automatic?: boolean;
}

/** Automatic recovery leaves a contact alone after this many marketing-cap refusals in a row… */
export const CAPPED_IN_A_ROW = 3;
/** …within this long. */
export const CAPPED_FOR_MS = 7 * DAY_MS;

const TAG_WORDS: Record<Language, string> = {
  es: 'transmisión fallida',
  en: 'failed broadcast',
  pt: 'transmissão com falha',
};

/**
 * "transmisión fallida 25 nov 2026 (#42)": the reference page's tag ("failed broadcast 110122"), with
 * the day as the workspace's agents read it (day first in Spanish, in the workspace's time zone: a
 * broadcast sent at 21:00 in Mexico City is that day's, not the next UTC day's), made unique per broadcast.
 */
export function defaultResendTag(
  language: Language,
  broadcast: { id: number; startedAt: Date | null; createdAt: Date },
  zone: string,
) {
  const parts = new Intl.DateTimeFormat(fixedLocale(language), {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: zone,
  }).formatToParts(broadcast.startedAt ?? broadcast.createdAt);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value.replace('.', '');
  const order: Intl.DateTimeFormatPartTypes[] = language === 'en' ? ['month', 'day', 'year'] : ['day', 'month', 'year'];
  const day = order.map(part).join(' ');
  return `${TAG_WORDS[language]} ${day} (#${broadcast.id})`;
}

const WARNINGS = {
  tag_changed: {
    es: 'La etiqueta «{asked}» ya la tienen {others} otros contactos (o es el nombre de otro segmento); se usó «{tag}» para que el segmento reúna solo a estos contactos.',
    en: 'The tag "{asked}" is already on other contacts (or is another segment\'s name); "{tag}" was used so that its segment holds only these contacts.',
    pt: 'A etiqueta "{asked}" já está em outros {others} contatos (ou é o nome de outro segmento); foi usada "{tag}" para que o segmento reúna só estes contatos.',
  },
  unconfirmed_duplicates: {
    es: '{count} destinatarios sin confirmar se reenvían: el proveedor pudo haber recibido el primer mensaje, así que algunos podrían recibirlo dos veces.',
    en: '{count} unconfirmed recipients are re-sent: the provider may have received the first message, so some could get it twice.',
    pt: '{count} destinatários não confirmados serão reenviados: o provedor pode ter recebido a primeira mensagem, então alguns podem recebê-la duas vezes.',
  },
  unconfirmed_too_soon: {
    es: '{count} destinatarios sin confirmar todavía pueden recibir su informe de entrega; se podrán reenviar desde {at}.',
    en: '{count} unconfirmed recipients may still get their delivery report; they can be re-sent from {at}.',
    pt: '{count} destinatários não confirmados ainda podem receber o relatório de entrega; poderão ser reenviados a partir de {at}.',
  },
  forced: {
    es: 'Reenvío forzado antes de tiempo para: {reasons}. Puede volver a fallar y afectar la calidad del número.',
    en: "Re-send forced before its time for: {reasons}. It may fail again and hurt the number's quality.",
    pt: 'Reenvio forçado antes da hora para: {reasons}. Pode falhar de novo e prejudicar a qualidade do número.',
  },
} as const;

const WHY = {
  now: { es: 'ahora', en: 'now', pt: 'agora' },
  after: {
    es: '{reason}: cuando el reenvío puede servir',
    en: '{reason}: when a re-send can help',
    pt: '{reason}: quando o reenvio pode ajudar',
  },
  capacity: {
    es: 'cuando se libera el límite diario',
    en: 'when the daily limit frees up',
    pt: 'quando o limite diário for liberado',
  },
  wave: {
    es: 'límite diario: tanda {n} de {of}',
    en: 'daily limit: wave {n} of {of}',
    pt: 'limite diário: lote {n} de {of}',
  },
  chosen: { es: 'a la hora elegida', en: 'at the chosen time', pt: 'no horário escolhido' },
} as const;

interface Part {
  at: number;
  why: string;
  rows: store.Candidate[];
}

/**
 * Plans and schedules the re-send. Returns the plan; with `tagOnly` only tags. Refuses (409) a time
 * earlier than a chosen reason's advice unless `force`, and (422) an `at` in the past or missing.
 */
export async function resendFailed(
  db: Database,
  ws: Pick<AuthContext, 'workspaceId' | 'defaultCountry'> & { language?: Language },
  broadcastId: number,
  request: ResendRequest,
  now = Date.now(),
  options: ResendOptions = {},
): Promise<ResendResult> {
  const found = await store.originalBroadcast(db, ws.workspaceId, broadcastId);
  if (!found) throw notFound('broadcast', { id: broadcastId });
  // Another channel, other content: planned and written as the re-send's own (its quota, its window;
  // a template may go outside the window), as the engine will read them.
  const target =
    request.channelId !== undefined && request.channelId !== found.channelId
      ? await broadcastableChannel(db, ws.workspaceId, request.channelId)
      : undefined;
  const content = request.content ? BroadcastContentSchema.parse(request.content) : found.content;
  const original = {
    ...found,
    channelId: target?.id ?? found.channelId,
    content: target ? contentForChannel(target.type, content) : content,
  };
  if (['draft', 'scheduled', 'sending', 'paused'].includes(original.status)) {
    throw new ApiError(409, 'resend_not_finished', { status: original.status });
  }
  // A dry run writes nothing and needs no claim; a real one plans and writes under its broadcast's
  // claim, so a second click waits for the first and then finds its plan.
  if (request.dryRun) return planAndWrite(db, ws, original, target, request, now, null, options);
  const planId = await claimPlan(db, ws.workspaceId, original.id);
  try {
    return await planAndWrite(db, ws, original, target, request, now, planId, options);
  } finally {
    await releasePlan(db, planId);
  }
}

async function planAndWrite(
  db: Database,
  ws: Pick<AuthContext, 'workspaceId' | 'defaultCountry'> & { language?: Language },
  original: store.OriginalBroadcast,
  /** The other channel it goes on (original.channelId is already it), or undefined for its own. */
  target: store.ChannelRow | undefined,
  request: ResendRequest,
  now: number,
  planId: number | null,
  options: ResendOptions,
): Promise<ResendResult> {
  const broadcastId = original.id;
  const workspace = await store.workspaceOf(db, ws.workspaceId);
  // Names stored for everyone (tag, re-send broadcasts) in the workspace's language; what this
  // answer says (plan, summary, warnings) in the language of whoever asked.
  const storedLanguage: Language = workspace?.language ?? 'es';
  const language: Language = ws.language ?? storedLanguage;
  const zone = workspaceTimeZone(workspace?.defaultCountry ?? ws.defaultCountry, workspace?.timeZone);
  const numbers = new Intl.NumberFormat(fixedLocale(language));
  const warnings: ResendResult['warnings'] = [];
  const warn = (code: keyof typeof WARNINGS, params: Record<string, string | number>) =>
    warnings.push({ code, message: format(WARNINGS[code][language], params) });

  // Who: the chosen reasons' failed rows, less those already in a live re-send. Opt-outs never.
  const unconfirmedWindow = unconfirmedWindowMs();
  const explicitUnconfirmed = request.includeUnconfirmed === true || request.reasons?.includes('uncertain') === true;
  // Other content that may go outside the window makes the closed window a reason a re-send helps.
  const channel = target ?? (await store.channelOf(db, original.channelId));
  const carrier = request.content && channel ? outsideWindowCarrier(channel.type, original.content) : null;
  // On another channel: by default those this one could not reach.
  const reasons = new Set<FailureReason>(
    request.reasons ?? (target ? [...ANOTHER_CHANNEL_REASONS] : defaultResendReasons(carrier)),
  );
  if (explicitUnconfirmed) reasons.add('uncertain');
  reasons.delete('opted_out');
  const { candidates, skipped, alreadyPlanned } = await store.candidates(db, broadcastId, [...reasons]);
  // Unconfirmed recipients only once their delivery-report window has passed.
  const tooSoon = candidates.filter((c) => c.reason === 'uncertain' && c.failedAt + unconfirmedWindow > now);
  const rows = candidates.filter((c) => !(c.reason === 'uncertain' && c.failedAt + unconfirmedWindow > now));
  if (tooSoon.length) {
    skipped.uncertain = (skipped.uncertain ?? 0) + tooSoon.length;
    const at = tooSoon.reduce((min, c) => Math.min(min, c.failedAt), Number.POSITIVE_INFINITY) + unconfirmedWindow;
    warn('unconfirmed_too_soon', {
      count: numbers.format(tooSoon.length),
      at: formatPlanTime(at, now, zone, language),
    });
  }
  if (options.automatic) {
    const capped = await store.cappedInARow(
      db,
      original.channelId,
      rows.filter((c) => c.reason === 'recipient_limit').map((c) => c.contactId),
      now - CAPPED_FOR_MS,
      CAPPED_IN_A_ROW,
    );
    if (capped.size) {
      const kept = rows.filter((c) => !(c.reason === 'recipient_limit' && capped.has(c.contactId)));
      skipped.recipient_limit = (skipped.recipient_limit ?? 0) + rows.length - kept.length;
      rows.splice(0, rows.length, ...kept);
    }
  }
  const unconfirmed = rows.filter((c) => c.reason === 'uncertain').length;
  if (unconfirmed) warn('unconfirmed_duplicates', { count: numbers.format(unconfirmed) });

  // The tag labels exactly these people: one other contacts already carry is replaced by a unique one.
  const asked = request.tag ?? defaultResendTag(storedLanguage, original, zone);
  const { tag, othersCarrying } = await store.uniqueTag(db, ws.workspaceId, broadcastId, asked);
  if (tag !== asked) warn('tag_changed', { asked, tag, others: numbers.format(othersCarrying) });

  if (rows.length === 0) {
    // Nothing new: an earlier call planned these already (asking twice changes nothing), or nothing fits.
    const live = alreadyPlanned > 0 ? await store.liveResends(db, broadcastId) : [];
    if (live.length === 0) throw new ApiError(422, 'resend_nothing', {}, { skipped });
    return reusedResult(db, tag, broadcastId, live, skipped, warnings, now, zone, language);
  }

  // When: the plan, decided by the policy before anything is written.
  const parts = await planParts(db, original, channel, rows, request, now, zone, language, unconfirmedWindow, warn);

  // A dry run answers the same plan and writes nothing (no tag, no segment, no broadcast).
  const written =
    planId === null
      ? { tagged: rows.length, newlyTagged: 0, segmentId: null, broadcastIds: [] as number[] }
      : await writePlan(db, {
          planId,
          writeRows: options.writeRows,
          workspaceId: ws.workspaceId,
          original,
          tag,
          language: storedLanguage,
          parts: request.tagOnly ? [] : parts,
          allRows: rows,
          now,
        });
  const plan = parts.map((part, i) => ({
    broadcastId: written.broadcastIds[i] ?? null,
    at: new Date(part.at).toISOString(),
    count: part.rows.length,
    byReason: countByReason(part.rows),
    why: part.why,
  }));
  return {
    ...(target && { channel: await reachOn(db, target, rows, original.content, now) }),
    ...(channel && {
      cost: estimateCost(
        channel.type,
        original.content,
        priceTable(channel.prices),
        await countriesOn(db, channel, [...new Set(rows.map((r) => r.contactId))]),
      ),
    }),
    tag,
    tagged: written.tagged,
    newlyTagged: written.newlyTagged,
    skipped,
    segmentId: written.segmentId,
    broadcastId: written.broadcastIds[0] ?? null,
    scheduledAt: request.tagOnly ? null : (plan[0]?.at ?? null),
    reused: false,
    recipients: rows.length,
    plan: request.tagOnly ? [] : plan,
    summary: request.tagOnly ? '' : summarize(plan, now, zone, language),
    warnings,
  };
}

/** What the other channel can do with these recipients: who has an identifier there, what its limit lets through now. */
async function reachOn(
  db: Database,
  channel: store.ChannelRow,
  rows: store.Candidate[],
  content: store.OriginalBroadcast['content'],
  now: number,
): Promise<NonNullable<ResendResult['channel']>> {
  const contacts = [...new Set(rows.map((r) => r.contactId))];
  const reachable = await reachableOn(db, channel, contacts);
  const usage = await quotaUsage(db, await quotaScope(db, channel), now);
  const sms = isSmsChannel(channel.type) ? smsSegments(content.text) : null;
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    reachable,
    unreachable: contacts.length - reachable,
    allowedNow: usage.remaining === null ? reachable : Math.min(reachable, usage.remaining),
    sms: sms && { encoding: sms.encoding, segments: sms.segments },
  };
}

function countByReason(rows: store.Candidate[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const row of rows) by[row.reason] = (by[row.reason] ?? 0) + 1;
  return by;
}

/** "3 ahora, 500 mañana 10:21, 12 el jue 3 dic 09:00". */
function summarize(plan: { at: string; count: number }[], now: number, zone: string, language: Language): string {
  const numbers = new Intl.NumberFormat(fixedLocale(language));
  return plan
    .map((part) => `${numbers.format(part.count)} ${formatPlanTime(Date.parse(part.at), now, zone, language)}`)
    .join(', ');
}

/** The latest failure of a group (no spread: a group can hold a million rows). */
const latestFailure = (group: store.Candidate[]) => group.reduce((max, c) => Math.max(max, c.failedAt), 0);

/** Rounds up to the next minute: a plan reads in minutes, and never earlier than advised. */
const ceilMinute = (at: number) => Math.ceil(at / 60_000) * 60_000;

async function planParts(
  db: Database,
  original: store.OriginalBroadcast,
  /** The channel it goes on, read once by the caller. */
  channel: store.ChannelRow | undefined,
  rows: store.Candidate[],
  request: ResendRequest,
  now: number,
  zone: string,
  language: Language,
  unconfirmedWindow: number,
  warn: (code: 'forced', params: Record<string, string | number>) => void,
): Promise<Part[]> {
  const when = request.when ?? 'auto';
  const scope = channel
    ? await quotaScope(db, channel)
    : { limit: null, channelIds: [original.channelId], portfolioId: null };
  const byReason = new Map<FailureReason, store.Candidate[]>();
  for (const row of rows) {
    const group = byReason.get(row.reason);
    if (group) group.push(row);
    else byReason.set(row.reason, [row]);
  }

  if (when !== 'auto' && when !== 'capacity') {
    // One time for everyone: now, or the chosen time; refused where the policy says it cannot help yet.
    let at = now;
    if (when !== 'now') {
      const raw = when === 'at' ? request.at : when;
      if (!raw) throw new ApiError(422, 'resend_at_required', {}, [{ path: 'body.at', message: 'required' }]);
      at = Date.parse(raw);
      if (at < now - 5_000)
        throw new ApiError(422, 'resend_at_past', { at: formatPlanTime(at, now, zone, language) }, [
          { path: 'body.at', message: raw },
        ]);
      at = Math.max(at, now);
    }
    const early: { reason: FailureReason; until: number }[] = [];
    for (const [reason, group] of byReason) {
      const latest = latestFailure(group);
      if (tooEarly(reason, latest, at, unconfirmedWindow))
        early.push({ reason, until: earliestUsefulResend(reason, latest, now, unconfirmedWindow) ?? at });
      else if (resendTiming(reason).kind === 'capacity') {
        const fitsAt = await capacityAvailableAt(db, scope, Math.min(group.length, scope.limit ?? 0), at);
        if (fitsAt === null || fitsAt > at + 60_000) early.push({ reason, until: fitsAt ?? at + DAY_MS });
      }
    }
    if (early.length && !request.force) {
      const until = Math.max(...early.map((e) => e.until));
      throw new ApiError(
        409,
        'resend_too_early',
        {
          reasons: early.map((e) => describeFailure(e.reason, language).title).join('; '),
          at: formatPlanTime(until, now, zone, language),
        },
        early.map((e) => ({ reason: e.reason, usefulFrom: new Date(e.until).toISOString() })),
      );
    }
    if (early.length)
      warn('forced', { reasons: early.map((e) => describeFailure(e.reason, language).title).join('; ') });
    return [{ at, why: when === 'now' ? WHY.now[language] : WHY.chosen[language], rows }];
  }

  // auto: each reason at its earliest useful time; the quota's backlog in daily waves.
  const parts = new Map<number, Part>();
  const add = (at: number, why: string, group: store.Candidate[]) => {
    const key = at <= now + 60_000 ? now : ceilMinute(at);
    const part = parts.get(key) ?? { at: key, why, rows: [] };
    part.rows.push(...group);
    parts.set(key, part);
  };
  for (const [reason, group] of byReason) {
    const timing = resendTiming(reason);
    if (timing.kind === 'capacity' && scope.limit !== null) {
      // The first wave goes when a full wave fits (at most a day's quota); each next one a day later.
      const first = Math.min(group.length, scope.limit);
      const firstAt = (await capacityAvailableAt(db, scope, first, now)) ?? now + DAY_MS;
      const waves = quotaWaves(group.length, scope.limit, firstAt, first);
      let offset = 0;
      waves.forEach((wave, i) => {
        const why =
          waves.length > 1
            ? format(WHY.wave[language], { n: i + 1, of: waves.length })
            : firstAt <= now
              ? WHY.now[language]
              : WHY.capacity[language];
        add(wave.at, why, group.slice(offset, offset + wave.size));
        offset += wave.size;
      });
      continue;
    }
    // A reason whose advice is "never" but that the agent chose explicitly (a number fixed since): now.
    const latest = latestFailure(group);
    const at = earliestUsefulResend(reason, latest, now, unconfirmedWindow) ?? now;
    add(
      at,
      at <= now + 60_000
        ? WHY.now[language]
        : format(WHY.after[language], { reason: describeFailure(reason, language).title }),
      group,
    );
  }
  return [...parts.values()].sort((a, b) => a.at - b.at);
}

async function reusedResult(
  db: Database,
  tag: string,
  broadcastId: number,
  live: store.LiveResend[],
  skipped: Record<string, number>,
  warnings: ResendResult['warnings'],
  now: number,
  zone: string,
  language: Language,
): Promise<ResendResult> {
  const first = live[0];
  const plan = live.map((r) => ({
    broadcastId: r.id,
    at: r.scheduledAt ?? new Date(now).toISOString(),
    count: r.count,
    byReason: r.byReason,
    why: r.status,
  }));
  const tagged = await store.taggedCount(db, broadcastId, first?.tag ?? tag);
  return {
    tag: first?.tag ?? tag,
    tagged,
    newlyTagged: 0,
    skipped,
    segmentId: first?.segmentId ?? null,
    broadcastId: first?.id ?? null,
    scheduledAt: first?.scheduledAt ?? null,
    reused: true,
    recipients: live.reduce((a, r) => a + r.count, 0),
    plan,
    summary: summarize(plan, now, zone, language),
    warnings,
  };
}

/**
 * Cancels the parts of a broadcast's re-send that have not started: the agent who made it can take it
 * back (or cancel and re-send at another time); its failed recipients are free to re-send again.
 */
export async function cancelResend(db: Database, workspaceId: number, broadcastId: number) {
  const original = await store.originalBroadcast(db, workspaceId, broadcastId);
  if (!original) throw notFound('broadcast', { id: broadcastId });
  const scheduled = (await store.liveResends(db, broadcastId)).filter((r) => r.status === 'scheduled');
  if (scheduled.length === 0) throw new ApiError(409, 'resend_nothing_to_cancel', {});
  for (const part of scheduled) await cancelBroadcast(db, workspaceId, part.id);
  return { cancelled: scheduled.map((part) => part.id) };
}
