import { describe, expect, it } from 'vitest';
import { fromOwnPage, resendBodyFrom } from '../../background/senders';

const OWN = 'chrome-extension://abcdefghijklmnop/';
const popup = { url: `${OWN}popup.html` };
const helpdesk = { url: 'https://app.suhelpdesk.com/broadcasts/7' };

describe('what a web page may ask the background', () => {
  it("changes the server and token only from the extension's own pages", () => {
    expect(fromOwnPage(popup, OWN)).toBe(true);
    expect(fromOwnPage({ url: `${OWN}options.html` }, OWN)).toBe(true);
    expect(fromOwnPage(helpdesk, OWN)).toBe(false);
    // A page at a URL that merely contains the extension's address is still a page.
    expect(fromOwnPage({ url: `https://evil.example/?${OWN}` }, OWN)).toBe(false);
    expect(fromOwnPage({}, OWN)).toBe(false);
  });

  it("re-sends from a page's panel what the panel offers: never other words, never another channel", () => {
    const offered = { reasons: ['quota_reached' as const], when: 'auto' as const, dryRun: true };
    expect(resendBodyFrom(helpdesk, OWN, offered)).toEqual(offered);
    expect(() => resendBodyFrom(helpdesk, OWN, { content: { text: 'Oferta falsa' } })).toThrow();
    expect(() => resendBodyFrom(helpdesk, OWN, { channelId: 3 })).toThrow();
    // The popup offers another channel.
    expect(resendBodyFrom(popup, OWN, { channelId: 3, dryRun: true })).toEqual({ channelId: 3, dryRun: true });
    // What the API would refuse is refused here first.
    expect(() => resendBodyFrom(popup, OWN, { reasons: ['no_such_reason'] })).toThrow();
    expect(() => resendBodyFrom(helpdesk, OWN, 'everything')).toThrow();
  });

  it("passes on only the re-send's own fields: a page's extra keys go nowhere", () => {
    const sent = resendBodyFrom(helpdesk, OWN, { dryRun: true, name: 'x', role: 'owner' });
    expect(sent).toEqual({ dryRun: true });
  });
});
