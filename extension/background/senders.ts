/**
 * Who may ask the background what. Content scripts run inside web pages: a helpdesk page whose renderer
 * an attacker took over could send anything a content script can. What changes the extension's own
 * setup (the server and token) comes only from its own pages; what a page's panel may re-send is what
 * the panel offers: never other words, never another channel. (The storage holding the token is closed
 * to content scripts too, in Chromium: entrypoints/background. Firefox has no such switch yet.)
 */

import type { ResendBody } from '@rebound/shared';
import { ResendBodySchema } from '@rebound/shared';

export interface Sender {
  url?: string | undefined;
}

/** One of the extension's own pages (popup, options), whose URLs start with `ownPages`. */
export function fromOwnPage(sender: Sender, ownPages: string): boolean {
  return sender.url?.startsWith(ownPages) === true;
}

/** The re-send body as the API's schema reads it; from a web page, without content or channel. Throws otherwise. */
export function resendBodyFrom(sender: Sender, ownPages: string, body: unknown): ResendBody {
  const parsed = ResendBodySchema.safeParse(body);
  if (!parsed.success) throw new TypeError('not a re-send body');
  const asked = body as Record<string, unknown>;
  if (!fromOwnPage(sender, ownPages) && (asked.content !== undefined || asked.channelId !== undefined))
    throw new TypeError('a page re-sends what was written, on its channel');
  // The schema's fields only, as they were sent: anything else a page added goes nowhere.
  return Object.fromEntries(Object.keys(parsed.data).map((key) => [key, asked[key]])) as ResendBody;
}
