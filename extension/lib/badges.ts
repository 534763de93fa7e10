/**
 * What the badge beside a broadcast's name says, decided in one place (a visible cascade, unit-tested):
 * the page's link gives the broadcast's ID when it has one; a name alone counts only when one broadcast
 * of the workspace has it. The background decides (badgesFor); the content script only draws.
 */
import type { Broadcast, FailureDescription } from '@rebound/shared';
// The rule alone: the package's index would bring zod into the content script.
import { needsAttention, resendHolds } from '@rebound/shared/attention';
import type { Api } from './api';
import { type BroadcastBadge, failedAndUnconfirmed, reachesAll } from './report';
import { isFinal } from './resend-state';

export type BadgeTarget = { id?: number; name: string };

export type BadgeView =
  /** Amber ('later') when a re-send can help every failure, red ('never') when it cannot help some. */
  | { kind: 'failed'; broadcast: BroadcastBadge; count: number; tone: 'later' | 'never' }
  | { kind: 'resending'; broadcast: BroadcastBadge; count: number }
  | { kind: 'resent'; broadcast: BroadcastBadge; count: number }
  | { kind: 'not-sent'; broadcast: BroadcastBadge }
  | { kind: 'left-out'; broadcast: BroadcastBadge; count: number }
  | { kind: 'unconfirmed'; broadcast: BroadcastBadge; count: number }
  | { kind: 'ambiguous'; name: string; candidates: BroadcastBadge[] };

/** The broadcasts a badge could be about: the one with the page's ID, else those with the name. */
export function candidatesFor(target: BadgeTarget, found: BroadcastBadge[]): BroadcastBadge[] {
  if (target.id !== undefined) return found.filter((b) => b.id === target.id);
  return found.filter((b) => b.name === target.name);
}

export function badgeView(target: BadgeTarget, found: BroadcastBadge[]): BadgeView | null {
  const candidates = candidatesFor(target, found);
  // Two broadcasts share the name and the page does not say which: never guess (the old, fully sent one
  // would wear the new one's failures).
  if (candidates.length > 1) {
    const troubled = candidates.filter((b) => badgeView({ id: b.id, name: b.name }, [b]) !== null);
    return troubled.length === 0 ? null : { kind: 'ambiguous', name: target.name, candidates };
  }
  const broadcast = candidates[0];
  if (!broadcast) return null;
  if (broadcast.failed > 0) {
    // Failures a report brought after the re-send was made are no re-send's: they need an agent again.
    if (broadcast.resend === null || broadcast.lateFailedAt !== null)
      return { kind: 'failed', broadcast, count: broadcast.failed, tone: broadcast.retryable ? 'later' : 'never' };
    const finished = isFinal(broadcast.resend.status);
    // Re-sent, yet on the attention list: the unconfirmed recipients the re-send left wait for an agent now.
    if (finished && broadcast.attention && broadcast.uncertain > 0)
      return { kind: 'unconfirmed', broadcast, count: broadcast.uncertain };
    return { kind: finished ? 'resent' : 'resending', broadcast, count: broadcast.failed };
  }
  // Failed as a whole before any message (segment deleted, empty segment): nothing counted, still a failure.
  // A final "unknown" receipt may have arrived: unconfirmed, below (the server no longer calls such a
  // broadcast failed; one stored before it did may still say so).
  if (broadcast.status === 'failed' && broadcast.uncertain === 0) return { kind: 'not-sent', broadcast };
  // Sent, but nothing says whether it arrived: a "completed" broadcast must not look fully delivered.
  // Once re-sent, the re-send is where they are followed, unless the broadcast needs an agent again (a
  // re-send stopped mid-send, or one that left them and their wait is over).
  if (
    broadcast.uncertain > 0 &&
    isFinal(broadcast.status) &&
    (broadcast.resend === null || broadcast.lateFailedAt !== null || broadcast.attention)
  )
    return { kind: 'unconfirmed', broadcast, count: broadcast.uncertain };
  if (broadcast.excluded > 0 && broadcast.status !== 'scheduled' && broadcast.status !== 'draft')
    return { kind: 'left-out', broadcast, count: broadcast.excluded };
  return null;
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
    excluded: b.counts.excluded ?? 0,
    scheduledAt: b.scheduledAt,
    resend: resend ? { id: resend.id, status: resend.status } : null,
    lateFailedAt: b.lateFailedAt,
    retryable: reachesAll(b, catalog),
    attention,
  };
}

/** Badges for the broadcasts a page links to (`ids`) or names (`names`), each with its latest re-send. */
export async function findBadges(
  api: Api,
  ids: number[],
  names: string[],
  catalog: Map<string, FailureDescription> = new Map(),
): Promise<BroadcastBadge[]> {
  const [byId, byName] = await Promise.all([
    ids.length ? api.broadcasts({ ids, limit: 100 }) : { data: [] },
    names.length ? api.broadcasts({ names, limit: 200 }) : { data: [] },
  ]);
  const found = new Map<number, Broadcast>();
  for (const b of [...byId.data, ...byName.data]) found.set(b.id, b);
  const resends = found.size ? (await api.broadcasts({ resendOfIds: [...found.keys()], limit: 200 })).data : [];
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
 * Each of a page's broadcast names with its badge (null: none), the whole cascade run here, not in the
 * page. One look per distinct name or ID (a log page lists the same broadcast on many rows), every row
 * answered.
 */
export async function badgesFor(
  api: Api,
  targets: BadgeTarget[],
  catalog: Map<string, FailureDescription>,
): Promise<(BadgeView | null)[]> {
  const keyOf = (t: BadgeTarget) => `${t.id ?? ''}|${t.name}`;
  // Rows past the first 5,000 of one page are not read (a page that long is not an agent's list).
  const rows = targets.slice(0, 5_000);
  const distinct = [...new Map(rows.map((t) => [keyOf(t), t])).values()];
  const ids = [...new Set(distinct.flatMap((t) => (t.id === undefined ? [] : [t.id])))].slice(0, 100);
  const names = [...new Set(distinct.filter((t) => t.id === undefined).map((t) => t.name))].slice(0, 100);
  const found = ids.length || names.length ? await findBadges(api, ids, names, catalog) : [];
  const views = new Map(distinct.map((t) => [keyOf(t), badgeView(t, found)]));
  return targets.map((t) => views.get(keyOf(t)) ?? null);
}
