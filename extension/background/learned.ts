/**
 * The pages the agent taught Rebound: the teach script is run in a tab only when asked, what it
 * learned is kept per site, and every open tab of that site reads its page again when it changes
 * (from the teaching bar or the options).
 */
import { browser } from 'wxt/browser';
import { keptList, type LearnedSite, learnedSiteProblem, withTaught } from '../lib/learned-sites';
import { onMessage, type Reply, sendMessage } from '../lib/messaging';
import { learnedSitesItem } from '../lib/settings';

/** The origin of a tab's URL, or null for pages that have none worth learning (about:, chrome:). */
export function originOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const { origin, protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? origin : null;
  } catch {
    return null;
  }
}

export async function learnedFor(url: string | undefined): Promise<LearnedSite[]> {
  const origin = originOf(url);
  return origin ? (await learnedSitesItem.getValue()).filter((site) => site.origin === origin) : [];
}

/** A learned site's fields checked again here: the background keeps only what compiles and is short. */
function checked(
  data: Pick<LearnedSite, 'path' | 'names' | 'linkId' | 'list' | 'sample'>,
  origin: string,
): LearnedSite {
  // Only where it is (a list of rows), and short: a selector that fails on the page is no list there.
  const list = keptList(data.list);
  const site: LearnedSite = {
    id: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    origin,
    path: String(data.path),
    names: String(data.names),
    ...(data.linkId && { linkId: String(data.linkId) }),
    ...(list && { list }),
    learnedAt: new Date().toISOString(),
    sample: (Array.isArray(data.sample) ? data.sample : []).slice(0, 5).map((name) => String(name).slice(0, 120)),
  };
  // The service worker has no document to try the selector on: the teach script ran it on the page.
  const problem = learnedSiteProblem(site);
  if (problem) throw new Error(`The learned ${problem} cannot be kept`);
  return site;
}

export function registerTeachingHandlers(reply: <T>(run: () => Promise<T>) => Promise<Reply<T>>): void {
  onMessage('teachPage', ({ sender }) =>
    reply(async () => {
      const tabId = sender.tab?.id;
      if (tabId === undefined) throw new Error('no tab');
      await browser.scripting.executeScript({ target: { tabId }, files: ['/teach.js'] });
      return null;
    }),
  );

  onMessage('learnSite', ({ data, sender }) =>
    reply(async () => {
      const origin = originOf(sender.tab?.url);
      if (!origin) throw new Error('no site');
      const site = checked(data, origin);
      await learnedSitesItem.setValue(withTaught(await learnedSitesItem.getValue(), site));
      return site;
    }),
  );

  // Taught, edited or removed (here or in the options): the site's open tabs read their page again.
  learnedSitesItem.watch((next, before) => {
    const changed = new Set<string>();
    const key = (s: LearnedSite) => JSON.stringify([s.origin, s.path, s.names, s.linkId]);
    const was = new Set((before ?? []).map(key));
    const is = new Set((next ?? []).map(key));
    for (const site of [...(next ?? []), ...(before ?? [])])
      if (!was.has(key(site)) || !is.has(key(site))) changed.add(site.origin);
    void tellTabs([...changed]);
  });
}

async function tellTabs(origins: string[]): Promise<void> {
  for (const origin of origins) {
    const tabs = await browser.tabs.query({ url: `${origin}/*` }).catch(() => []);
    for (const tab of tabs) {
      if (tab.id !== undefined) await sendMessage('sitesLearned', undefined, tab.id).catch(() => undefined);
    }
  }
}
