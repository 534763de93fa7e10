import { describe, expect, it } from 'vitest';
import { decidePage } from '../../lib/page-decision';
import { readPage, siteAdapters } from '../../lib/site-adapters';

/** Reads a demo helpdesk page as the overlay does, then decides what its panel shows. */
function decide(url: string, body: string, showing: 'nothing' | 'teach' | 'other' = 'nothing', lastKey = '') {
  const doc = document.implementation.createHTMLDocument('helpdesk');
  doc.body.innerHTML = body; // test fixture markup, not server data
  const location = new URL(url);
  const reading = readPage({ location: location as unknown as Location, document: doc }, siteAdapters);
  return decidePage(reading, location.pathname, showing, lastKey);
}

const LIST = `<table data-list="broadcasts"><tbody>
  <tr><td class="hd-broadcast-name"><a href="/demo/broadcasts/7">Black Friday</a></td></tr>
</tbody></table>`;
const CONTACT = '<p class="hd-contact-phone">+52 1 55 1234 5678</p><h1 class="hd-broadcast-title">Black Friday</h1>';

describe('what the panel shows for a page', () => {
  it('a contact page shows that contact, before anything else the page names', () => {
    expect(decide('http://127.0.0.1:8787/demo/contacts/3', CONTACT).decision).toEqual({
      show: 'contact',
      refs: ['phone:+5215512345678'],
    });
  });

  it("a contact page without a phone or e-mail (a Telegram-only contact) shows that contact, never the last one's or the latest broadcast", () => {
    const telegramOnly = '<h1 class="hd-contact-name">Ana</h1>';
    const nothingYet = decide('http://127.0.0.1:8787/demo/contacts/9', telegramOnly);
    expect(nothingYet.decision).toEqual({ show: 'contact', refs: [] });
    // Coming from another contact's page in a single-page helpdesk: a new decision, not "the same".
    const before = decide('http://127.0.0.1:8787/demo/contacts/3', CONTACT).key;
    expect(decide('http://127.0.0.1:8787/demo/contacts/9', telegramOnly, 'other', before).decision).toEqual({
      show: 'contact',
      refs: [],
    });
  });

  it("a broadcast's page shows it by the ID in its address; by its title only when there is no ID", () => {
    const page = '<h1 class="hd-broadcast-title">Black Friday</h1>';
    expect(decide('http://127.0.0.1:8787/demo/broadcasts/42', page).decision).toEqual({ show: 'broadcast', id: 42 });
    // A respond.io-style page names its broadcast in a header, with no ID the adapter reads.
    const header = '<div data-testid="broadcast-header"><h1>Black Friday</h1></div>';
    expect(decide('https://app.respond.io/space/1/broadcasts/5', header).decision).toEqual({
      show: 'broadcast-named',
      name: 'Black Friday',
    });
  });

  it('a list of broadcasts shows the latest with failures', () => {
    expect(decide('http://127.0.0.1:8787/demo/', LIST).decision).toEqual({ show: 'latest' });
  });

  it('a page that re-renders in place keeps what the agent is looking at', () => {
    const first = decide('http://127.0.0.1:8787/demo/broadcasts/42', '');
    expect(decide('http://127.0.0.1:8787/demo/broadcasts/42', '', 'other', first.key).decision).toEqual({
      show: 'same',
    });
    // Another broadcast's page is a new decision.
    expect(decide('http://127.0.0.1:8787/demo/broadcasts/43', '', 'other', first.key).decision).toEqual({
      show: 'broadcast',
      id: 43,
    });
  });

  it('a list without names keeps a panel that shows something, and fills an empty one', () => {
    const empty = '<table data-list="broadcasts"><tbody></tbody></table>';
    expect(decide('http://127.0.0.1:8787/demo/', empty, 'other').decision).toEqual({ show: 'same' });
    expect(decide('http://127.0.0.1:8787/demo/', empty, 'nothing').decision).toEqual({ show: 'latest' });
  });

  it('a page of the site that no adapter describes offers teaching, unless the panel already shows something', () => {
    expect(decide('http://127.0.0.1:8787/demo/reports/7', LIST, 'nothing')).toEqual({
      decision: { show: 'teach' },
      key: '',
    });
    expect(decide('http://127.0.0.1:8787/demo/reports/7', LIST, 'other', 'k').decision).toEqual({ show: 'same' });
    // Another site altogether: nothing to read, nothing to teach from here either.
    expect(decide('https://example.com/', LIST, 'teach').decision).toEqual({ show: 'same' });
  });
});
