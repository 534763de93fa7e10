/**
 * What the badge beside a broadcast's name says, decided in one place (a visible cascade, unit-tested):
 * the page's link gives the broadcast's ID when it has one; a name alone counts only when one broadcast
 * of the workspace has it. The background runs it (background/badges.ts: badgesFor, with the words);
 * the content script only draws what it answers (DrawnBadge).
 */
import type { Language } from '@rebound/shared/i18n';
import { translate } from './i18n';
import type { BroadcastBadge } from './report';
import { isFinal } from './resend-state';

export type BadgeTarget = { id?: number; name: string };

export type BadgeView =
  /** Amber ('later') when a re-send can help every failure, red ('never') when it cannot help some. */
  | { kind: 'failed'; broadcast: BroadcastBadge; count: number; tone: 'later' | 'never' }
  | { kind: 'resending'; broadcast: BroadcastBadge; count: number }
  | { kind: 'resent'; broadcast: BroadcastBadge; count: number }
  /** Re-sent, and the re-send failed in its turn for `again` of them: amber when a re-send of it reaches them all. */
  | { kind: 'resend-failed'; broadcast: BroadcastBadge; count: number; again: number; tone: 'later' | 'never' }
  | { kind: 'not-sent'; broadcast: BroadcastBadge }
  | { kind: 'left-out'; broadcast: BroadcastBadge; count: number }
  | { kind: 'unconfirmed'; broadcast: BroadcastBadge; count: number }
  | { kind: 'ambiguous'; name: string; candidates: BroadcastBadge[] };

/** What an amber or a red count means, in the labels of the badge and of the pill (not in colour alone). */
export const toneWords = (language: Language, tone: 'later' | 'never') =>
  translate(language, tone === 'later' ? 'badgeLaterLabel' : 'badgeNeverLabel');

/** A badge as the page draws it: its words and colour put in by the background. */
export type DrawnBadge = BadgeView & { text: string; label: string; colour: string };

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
    const { resend } = broadcast;
    const finished = isFinal(resend.status);
    // Re-sent, yet on the attention list: the unconfirmed recipients the re-send left wait for an agent now
    // (those it took are its own to follow).
    if (finished && broadcast.attention && broadcast.unconfirmedLeft > 0)
      return { kind: 'unconfirmed', broadcast, count: broadcast.unconfirmedLeft };
    // Re-sent, and the re-send failed for some of them again: never the grey "re-sent" of a thing done.
    if (finished && resend.failed > 0)
      return {
        kind: 'resend-failed',
        broadcast,
        count: broadcast.failed,
        again: resend.failed,
        tone: resend.retryable ? 'later' : 'never',
      };
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
    broadcast.unconfirmedLeft > 0 &&
    isFinal(broadcast.status) &&
    (broadcast.resend === null || broadcast.lateFailedAt !== null || broadcast.attention)
  )
    return { kind: 'unconfirmed', broadcast, count: broadcast.unconfirmedLeft };
  if (broadcast.excluded > 0 && broadcast.status !== 'scheduled' && broadcast.status !== 'draft')
    return { kind: 'left-out', broadcast, count: broadcast.excluded };
  return null;
}
