/**
 * Site adapters the agent taught Rebound ("enseñar esta página", lib/teach.ts): kept in extension
 * storage as plain JSON (patterns as strings), listed, edited and removed in the options, and turned
 * into the same SiteAdapter shape as the built-in ones: the background hands both to the page readers.
 */
import type { SiteAdapter } from './site-adapters';

export interface LearnedSite {
  id: string;
  /** The page's origin, e.g. https://crm.example.com: an adapter never applies to another. */
  origin: string;
  /** Regular expression source tested against the path (numbers and IDs in it vary). */
  path: string;
  /** CSS selector of the broadcast names. */
  names: string;
  /**
   * CSS selector of the list the names are rows of, when they are: found with no rows, the list is empty
   * (a filter with no result), which is no page Rebound lost. Dropped when the names are edited by hand.
   */
  list?: string;
  /** Regular expression source finding the broadcast's ID (group 1) in a name's link, if the names link to it. */
  linkId?: string;
  /** When it was taught, and what the agent saw it find then. */
  learnedAt: string;
  sample: string[];
}

/** Longest pattern or selector kept: one taught by a click is far shorter. */
export const LEARNED_TEXT_MAX = 500;

/** A taught list's selector as kept (short, or none): where it is stored and where it is read. */
export function keptList(list: unknown): string | undefined {
  return list && String(list).length <= LEARNED_TEXT_MAX ? String(list) : undefined;
}

/** The text as a regular expression that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What was learned once `site` is taught: it replaces what was taught for the same page pattern, and comes
 * first, before a broader pattern taught earlier for this page (read first, it is what reads the page).
 */
export function withTaught(sites: LearnedSite[], site: LearnedSite): LearnedSite[] {
  return [site, ...sites.filter((s) => !(s.origin === site.origin && s.path === site.path))];
}

/**
 * The learned pages as adapters, one per site (after the built-in ones, which know their sites better).
 * A site whose stored patterns no longer hold (edited by hand, say) is left out rather than break a page.
 */
export function learnedAdapters(sites: LearnedSite[]): SiteAdapter[] {
  const byOrigin = new Map<string, SiteAdapter>();
  for (const site of sites) {
    if (learnedSiteProblem(site)) continue;
    let adapter = byOrigin.get(site.origin);
    if (!adapter) {
      adapter = {
        id: `learned:${site.origin}`,
        label: site.origin,
        url: `^${escapeRegExp(site.origin)}(/|$)`,
        pages: [],
      };
      byOrigin.set(site.origin, adapter);
    }
    adapter.pages.push({
      path: site.path,
      broadcastNames: site.names,
      taught: true,
      ...(site.linkId && { broadcastLinkId: site.linkId }),
      ...(keptList(site.list) && { list: site.list }),
    });
  }
  return [...byOrigin.values()];
}

/**
 * The field of a learned site that cannot be kept (too long, not a pattern, not a selector), or null.
 * `isSelector` tries a selector on a document; the service worker has none and passes nothing (the
 * teach script and the options page, which do, have tried it).
 */
export function learnedSiteProblem(
  site: Pick<LearnedSite, 'path' | 'names' | 'linkId'>,
  isSelector?: (selector: string) => boolean,
): 'path' | 'names' | 'linkId' | null {
  for (const [field, pattern] of [
    ['path', site.path],
    ['linkId', site.linkId],
  ] as const) {
    if (pattern === undefined) continue;
    if (pattern.length > LEARNED_TEXT_MAX) return field;
    try {
      new RegExp(pattern);
    } catch {
      return field;
    }
  }
  const names = site.names.trim();
  if (!names || names.length > LEARNED_TEXT_MAX || (isSelector && !isSelector(names))) return 'names';
  return null;
}

/** Whether the text is a CSS selector this document understands. */
export function selectorWorks(doc: Document, selector: string): boolean {
  try {
    doc.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}
