/**
 * Where Rebound finds broadcasts and contacts on the helpdesk pages it overlays. Each site is a small
 * declarative description: which URLs, and per page where broadcast names, the broadcast on screen and the
 * contact's identifiers are. Add a helpdesk by adding an entry; the readers below never change.
 * Patterns are kept as regular-expression sources, so adapters travel as plain data: the background
 * hands each tab the built-in ones and those the agent taught (lib/learned-sites.ts), and the content
 * script bundles neither.
 */
import {
  DEMO_BROADCAST_LIST,
  DEMO_BROADCAST_NAME,
  DEMO_BROADCAST_TITLE,
  DEMO_CONTACT_EMAIL,
  DEMO_CONTACT_PHONE,
  DEMO_FAILED_MESSAGE_LIST,
  DEMO_LIST_ATTRIBUTE,
} from '@rebound/shared/demo-page';

export interface PageDescription {
  /** Tested against the URL's path (a regular expression's source, as all patterns here). */
  path: string;
  /** Elements whose text is a broadcast name: each gets a "500 failed" badge. */
  broadcastNames?: string;
  /**
   * The broadcast's ID in the href of the name's link (group 1), where the page links to it: the badge
   * is then that broadcast's, even when another has the same name.
   */
  broadcastLinkId?: string;
  /** The one broadcast this page is about: its ID from a path group, or its name from an element. */
  broadcast?: { idFromPathGroup?: number; name?: string };
  /** Elements holding the contact's identifiers (a contact page). */
  contactIdentifiers?: { selector: string; kind: 'phone' | 'email' }[];
  /** Taught by the agent (lib/learned-sites.ts): its names are all it reads. */
  taught?: boolean;
  /** A taught page's list of names (LearnedSite.list): on the page with no rows, the list is empty. */
  list?: string;
}

export interface SiteAdapter {
  id: string;
  label: string;
  /** Tested against the whole URL. */
  url: string;
  pages: PageDescription[];
}

export const siteAdapters: SiteAdapter[] = [
  {
    // Rebound's own demo helpdesk (/demo): its class names are the page contract in @rebound/shared/demo-page.
    id: 'rebound-demo',
    label: 'Rebound demo helpdesk',
    url: /^https?:\/\/[^/]+\/demo(\/|$)/.source,
    pages: [
      {
        path: /^\/demo\/?$/.source,
        broadcastNames: `table[${DEMO_LIST_ATTRIBUTE}="${DEMO_BROADCAST_LIST}"] td.${DEMO_BROADCAST_NAME}`,
        broadcastLinkId: /\/demo\/broadcasts\/(\d+)/.source,
      },
      {
        path: /^\/demo\/broadcasts\/(\d+)\/?$/.source,
        broadcast: { idFromPathGroup: 1, name: `h1.${DEMO_BROADCAST_TITLE}` },
      },
      {
        path: /^\/demo\/failed-messages\/?$/.source,
        broadcastNames: `table[${DEMO_LIST_ATTRIBUTE}="${DEMO_FAILED_MESSAGE_LIST}"] td.${DEMO_BROADCAST_NAME}`,
        broadcastLinkId: /\/demo\/broadcasts\/(\d+)/.source,
      },
      {
        path: /^\/demo\/contacts\/[^/]+\/?$/.source,
        contactIdentifiers: [
          { selector: `.${DEMO_CONTACT_PHONE}`, kind: 'phone' },
          { selector: `.${DEMO_CONTACT_EMAIL}`, kind: 'email' },
        ],
      },
    ],
  },
  {
    // A respond.io-style workspace: broadcasts under /space/<id>/broadcasts, contacts under /space/<id>/inbox/<id>.
    id: 'respond-style',
    label: 'respond.io-style broadcasts page',
    url: /^https:\/\/app\.respond\.io\//.source,
    pages: [
      {
        path: /^\/space\/\d+\/broadcasts\/?$/.source,
        broadcastNames: '[data-testid="broadcast-row"] [data-testid="broadcast-name"]',
      },
      { path: /^\/space\/\d+\/broadcasts\/\d+/.source, broadcast: { name: '[data-testid="broadcast-header"] h1' } },
      {
        path: /^\/space\/\d+\/(inbox|contacts)\/\d+/.source,
        contactIdentifiers: [
          { selector: '[data-testid="contact-details"] [data-field="phone"]', kind: 'phone' },
          { selector: '[data-testid="contact-details"] [data-field="email"]', kind: 'email' },
        ],
      },
    ],
  },
];

export interface PageReading {
  adapter: SiteAdapter;
  /**
   * Whether one of the adapter's pages describes this one (a page the agent taught, only while it finds
   * names there); a site's other pages can be taught.
   */
  known: boolean;
  /** A page the agent taught that shows none of the names it was taught to find: taught again. */
  lost?: boolean;
  /** Name elements to badge, with the name each shows and the ID its link gives, if any. */
  names: { element: Element; name: string; id?: number }[];
  broadcast: { id?: number; name?: string } | null;
  /** Contact refs for the API: phone:+52..., email:ana@... */
  contactRefs: string[];
  /** A contact's page, whether or not its phone or e-mail could be read (a Telegram-only contact). */
  contactPage: boolean;
}

export function adapterFor(url: string, adapters: SiteAdapter[] = siteAdapters): SiteAdapter | undefined {
  return adapters.find((adapter) => new RegExp(adapter.url).test(url));
}

/**
 * Whether the taught list is on the page, alone, with no rows in it. Only the list the names were taught
 * as rows of (the names' selector starts with it): a redesign that leaves some empty box matching a loose
 * selector, or two, must still be offered to be taught again. A stored selector the page refuses is no list.
 */
function emptyList(doc: Document, page: PageDescription): boolean {
  const { list, broadcastNames } = page;
  if (list === undefined || !broadcastNames?.startsWith(`${list} > `)) return false;
  try {
    const found = doc.querySelectorAll(list);
    return found.length === 1 && found[0]?.childElementCount === 0;
  } catch {
    return false;
  }
}

/** Reads what the page shows. Takes the window so tests can hand it any document. */
export function readPage(win: Pick<Window, 'location' | 'document'>, adapters: SiteAdapter[]): PageReading | null {
  const path = win.location.pathname;
  // The first adapter of the site that describes this page (a built-in one, then what the agent taught).
  let adapter: SiteAdapter | undefined;
  let page: PageDescription | undefined;
  for (const candidate of adapters) {
    if (!new RegExp(candidate.url).test(win.location.href)) continue;
    adapter ??= candidate;
    const pages = candidate.pages.filter((p) => new RegExp(p.path).test(path));
    // Two taught patterns over this page: the one whose names are on it (a broader one taught later, or
    // a narrower one taught after a redesign, never hides the other).
    page = pages.find((p) => !p.taught || win.document.querySelector(p.broadcastNames ?? '*') !== null) ?? pages[0];
    if (page) {
      adapter = candidate;
      break;
    }
  }
  if (!adapter) return null;
  const reading: PageReading = {
    adapter,
    known: page !== undefined,
    names: [],
    broadcast: null,
    contactRefs: [],
    contactPage: page?.contactIdentifiers !== undefined,
  };
  if (!page) return reading;
  const doc = win.document;
  if (page.broadcastNames) {
    for (const element of doc.querySelectorAll(page.broadcastNames)) {
      const name = textOf(element);
      if (!name) continue;
      const id = page.broadcastLinkId ? linkIdIn(element, page.broadcastLinkId) : undefined;
      reading.names.push({ element, name, ...(id !== undefined && { id }) });
    }
  }
  // Its names are gone (the helpdesk changed its markup): offered to be taught again, as a page Rebound
  // cannot read, rather than silently badging nothing. Not when its list is there with no rows (empty).
  if (page.taught && reading.names.length === 0 && !emptyList(doc, page)) {
    reading.known = false;
    reading.lost = true;
  }
  if (page.broadcast) {
    const match = page.broadcast.idFromPathGroup
      ? path.match(new RegExp(page.path))?.[page.broadcast.idFromPathGroup]
      : undefined;
    const id = match ? Number(match) : undefined;
    const nameElement = page.broadcast.name ? doc.querySelector(page.broadcast.name) : null;
    const name = nameElement ? textOf(nameElement) : undefined;
    if (id !== undefined || name) reading.broadcast = { ...(id !== undefined && { id }), ...(name && { name }) };
  }
  for (const { selector, kind } of page.contactIdentifiers ?? []) {
    for (const element of doc.querySelectorAll(selector)) {
      const ref = contactRef(kind, textOf(element));
      if (ref && !reading.contactRefs.includes(ref)) reading.contactRefs.push(ref);
    }
  }
  return reading;
}

/** "+52 1 55 1234 5678" → "phone:+5215512345678"; a page's formatting is not the API's. */
export function contactRef(kind: 'phone' | 'email', text: string): string | null {
  if (kind === 'email') {
    const email = text.trim().toLowerCase();
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? `email:${email}` : null;
  }
  const digits = text.replace(/[^\d+]/g, '');
  const phone = digits.startsWith('+') ? `+${digits.slice(1).replace(/\+/g, '')}` : digits.replace(/\+/g, '');
  return phone.replace('+', '').length >= 6 ? `phone:${phone}` : null;
}

/** The link a name is (or holds): where a page points from a broadcast's name to the broadcast. */
export function linkOf(element: Element): Element | null {
  return element.closest('a[href]') ?? element.querySelector('a[href]');
}

/** The ID in the href of the element's link (itself or inside it), by the adapter's pattern. */
export function linkIdIn(element: Element, pattern: string): number | undefined {
  const match = linkOf(element)?.getAttribute('href')?.match(new RegExp(pattern))?.[1];
  return match && /^\d+$/.test(match) ? Number(match) : undefined;
}

export function textOf(element: Element): string {
  // Ignores our own badge: it lives in a shadow root, which textContent does not reach.
  return (element.textContent ?? '').replace(/\s+/g, ' ').trim();
}
