/**
 * What the panel shows for what readPage found: the overlay's decision as one visible cascade, apart
 * from the DOM work in overlay/mount.tsx.
 */
import type { PageReading } from './site-adapters';

export type PageDecision =
  /** A page of an allowed site that no adapter describes: offer to teach Rebound to read it. */
  | { show: 'teach' }
  /** Leave the panel as it is (the page did not change, or an unknown page while something is shown). */
  | { show: 'same' }
  | { show: 'contact'; refs: string[] }
  | { show: 'broadcast'; id: number }
  /** A detail page that names its broadcast without an ID: shown if only one broadcast has the name. */
  | { show: 'broadcast-named'; name: string }
  /** A list of broadcasts: the latest one with failures. */
  | { show: 'latest' };

/**
 * `showing`: what the panel holds now; `lastKey`: the page this panel last decided for (the pathname and
 * what the reading found), so that a page re-rendering in place keeps what the agent is looking at.
 */
export function decidePage(
  reading: PageReading | null,
  pathname: string,
  showing: 'nothing' | 'teach' | 'other',
  lastKey: string,
): { decision: PageDecision; key: string } {
  if (!reading?.known) return { decision: { show: showing === 'nothing' ? 'teach' : 'same' }, key: lastKey };
  const key = `${pathname}|${reading.broadcast?.id ?? reading.broadcast?.name ?? ''}|${reading.contactRefs.join(',')}`;
  if (key === lastKey) return { decision: { show: 'same' }, key };
  // The cascade: a contact page, then the page's own broadcast by ID, then by name, then a list.
  // A contact's page shows that contact, or that Rebound does not know them: never another's failures.
  if (reading.contactPage) return { decision: { show: 'contact', refs: reading.contactRefs }, key };
  if (reading.broadcast?.id !== undefined) return { decision: { show: 'broadcast', id: reading.broadcast.id }, key };
  if (reading.broadcast?.name) return { decision: { show: 'broadcast-named', name: reading.broadcast.name }, key };
  if (reading.names.length > 0 || showing !== 'other') return { decision: { show: 'latest' }, key };
  return { decision: { show: 'same' }, key };
}
