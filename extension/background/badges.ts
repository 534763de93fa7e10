/**
 * The badges of a page, found and decided here in the background (the content script, loaded by every
 * helpdesk page, only draws them): the broadcasts a page names, each with its latest re-send, through
 * the cascade of lib/badges.ts, with their words.
 */
import {
  type Broadcast,
  BroadcastListQuerySchema,
  describeFailure,
  FAILURE_REASONS,
  type FailureDescription,
  type Language,
} from '@rebound/shared';
import { needsAttention, resendHolds } from '@rebound/shared/attention';
import type { Api } from '../lib/api';
import { type BadgeTarget, type BadgeView, badgeView, type DrawnBadge, toneWords } from '../lib/badges';
import { translate } from '../lib/i18n';
import { type BroadcastBadge, failedAndUnconfirmed, reachesAll } from '../lib/report';

/** Each kind's words and colour ('failed' has its own tone: amber when a re-send reaches them all). */
const WORDING = {
  failed: ['failedBadge', 'never'],
  resending: ['badgeResending', 'later'],
  resent: ['badgeResent', 'quiet'],
  'resend-failed': ['badgeResendFailed', 'never'],
  'not-sent': ['badgeNotSent', 'never'],
  'left-out': ['badgeLeftOut', 'later'],
  unconfirmed: ['badgeUnconfirmed', 'quiet'],
  ambiguous: ['badgeAmbiguous', 'quiet'],
} as const;

/** A badge's words: its text, and a label that says what its colour says (the amber one wears ↻ too). */
export function drawBadge(view: BadgeView, language: Language): DrawnBadge {
  const [key, kindTone] = WORDING[view.kind];
  const toned = view.kind === 'failed' || view.kind === 'resend-failed' ? view.tone : undefined;
  const text = translate(language, key, {
    count: 'count' in view ? view.count : 0,
    again: view.kind === 'resend-failed' ? view.again : 0,
  });
  const label =
    view.kind === 'ambiguous'
      ? translate(language, 'badgeAmbiguousLabel', { name: view.name })
      : `${view.broadcast.name}: ${text}${toned ? ` (${toneWords(language, toned)})` : ''}`;
  const tone = toned ?? kindTone;
  return { ...view, text, label, colour: tone };
}

/** The catalog this build carries: what a badge goes by when the server's cannot be read. */
export const bundledCatalog = (language: Language): Map<string, FailureDescription> =>
  new Map(FAILURE_REASONS.map((code) => [code, describeFailure(code, language)]));

/** A name the API's filter takes (a page's cell may hold anything): the rest are not looked up. */
const nameQuery = BroadcastListQuerySchema.shape.name;
const askable = (name: string) => nameQuery.safeParse(name).success;

/** In parts of 100, the most one filter of GET /broadcasts takes. */
function hundreds<T>(values: T[]): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < values.length; i += 100) parts.push(values.slice(i, i + 100));
  return parts;
}

export function badgeOf(
  b: Broadcast,
  resend: Broadcast | undefined,
  catalog: Map<string, FailureDescription>,
  attention = false,
): BroadcastBadge {
  const { failed, unconfirmed } = failedAndUnconfirmed(b);
  return {
    id: b.id,
    name: b.name,
    status: b.status,
    failed,
    uncertain: unconfirmed,
    unconfirmedLeft: b.unconfirmedLeft,
    excluded: b.counts.excluded ?? 0,
    scheduledAt: b.scheduledAt,
    resend: resend
      ? {
          id: resend.id,
          status: resend.status,
          failed: failedAndUnconfirmed(resend).failed,
          retryable: reachesAll(resend, catalog),
        }
      : null,
    lateFailedAt: b.lateFailedAt,
    retryable: reachesAll(b, catalog),
    attention,
  };
}

/**
 * Badges for the broadcasts a page links to (`ids`) or names (`names`), each with its latest re-send: the
 * first 300 IDs and 300 names the API takes (a long log lists a few broadcasts many times).
 */
export async function findBadges(
  api: Api,
  ids: number[],
  names: string[],
  catalog: Map<string, FailureDescription> = new Map(),
): Promise<BroadcastBadge[]> {
  // Asked 100 at a time, the most one filter takes.
  const pages = await Promise.all([
    ...hundreds(ids.slice(0, 300)).map((part) => api.broadcasts({ ids: part, limit: 100 })),
    ...hundreds(names.filter(askable).slice(0, 300)).map((part) => api.broadcasts({ names: part, limit: 200 })),
  ]);
  const found = new Map<number, Broadcast>();
  for (const b of pages.flatMap((page) => page.data)) found.set(b.id, b);
  // Up to 300 found (a name many daily broadcasts share): their re-sends asked 100 at a time.
  const resends = (
    await Promise.all(hundreds([...found.keys()]).map((part) => api.broadcasts({ resendOfIds: part, limit: 200 })))
  ).flatMap((page) => page.data);
  // Newest first: the first re-send seen of a broadcast is its latest. One taken back before it began
  // (resendHolds) is no re-send; one cancelled mid-send is, as the server's attention list counts it.
  const latest = new Map<number, Broadcast>();
  for (const r of resends)
    if (r.resendOfId !== null && resendHolds(r) && !latest.has(r.resendOfId)) latest.set(r.resendOfId, r);
  // What needs an agent, by the rule the server's attention list (the toolbar's count) applies.
  const now = { now: Date.now() };
  return [...found.values()].map((b) =>
    badgeOf(b, latest.get(b.id), catalog, needsAttention(b, latest.has(b.id), now)),
  );
}

/**
 * Each of a page's broadcast names with its badge, drawn (null: none), the whole cascade run here, not in
 * the page. One look per distinct name or ID (a log page lists the same broadcast on many rows); a row
 * that repeats an earlier row's name or ID gets null, as the page draws one badge per broadcast anyway.
 */
export async function badgesFor(
  api: Api,
  targets: BadgeTarget[],
  catalog: Map<string, FailureDescription>,
  language: Language,
): Promise<(DrawnBadge | null)[]> {
  const keyOf = (t: BadgeTarget) => `${t.id ?? ''}|${t.name}`;
  // Rows past the first 5,000 of one page are not read (a page that long is not an agent's list).
  const rows = targets.slice(0, 5_000);
  const distinct = [...new Map(rows.map((t) => [keyOf(t), t])).values()];
  const ids = [...new Set(distinct.flatMap((t) => (t.id === undefined ? [] : [t.id])))];
  const names = [...new Set(distinct.filter((t) => t.id === undefined).map((t) => t.name))];
  const found = ids.length || names.length ? await findBadges(api, ids, names, catalog) : [];
  const views = new Map(distinct.map((t) => [keyOf(t), badgeView(t, found)]));
  const answered = new Set<string>();
  return targets.map((t) => {
    const key = keyOf(t);
    const view = answered.has(key) ? null : (views.get(key) ?? null);
    answered.add(key);
    return view && drawBadge(view, language);
  });
}
