import { describe, expect, it } from 'vitest';
import { adapterFor, contactRef, readPage, siteAdapters } from '../../lib/site-adapters';

/** A window stand-in: the readers only need location and document. */
function pageAt(url: string, body: string) {
  const doc = document.implementation.createHTMLDocument('helpdesk');
  doc.body.innerHTML = body; // test fixture markup, not server data
  return { location: new URL(url) as unknown as Location, document: doc };
}

describe('the demo helpdesk adapter', () => {
  it('finds every broadcast name on the list page', () => {
    const win = pageAt(
      'http://127.0.0.1:8787/demo/',
      `<table class="hd-table" data-list="broadcasts"><tbody>
        <tr class="hd-row"><td class="hd-broadcast-name"><a href="/demo/broadcasts/1">Black Friday</a></td><td>completada</td></tr>
        <tr class="hd-row"><td class="hd-broadcast-name"><a href="/demo/broadcasts/2">  Navidad
          2026 </a></td></tr>
      </tbody></table>`,
    );
    const reading = readPage(win, siteAdapters);
    expect(reading?.adapter.id).toBe('rebound-demo');
    expect(reading?.names.map((n) => n.name)).toEqual(['Black Friday', 'Navidad 2026']);
    // Each name's broadcast by the ID its link gives: two broadcasts may share a name.
    expect(reading?.names.map((n) => n.id)).toEqual([1, 2]);
    expect(reading?.broadcast).toBeNull();
  });

  it('knows the broadcast of a detail page by the ID in its path and its title', () => {
    const win = pageAt(
      'http://127.0.0.1:8787/demo/broadcasts/42',
      '<h1 class="hd-title hd-broadcast-title">Black Friday</h1>',
    );
    expect(readPage(win, siteAdapters)?.broadcast).toEqual({ id: 42, name: 'Black Friday' });
  });

  it("reads a contact page's phone and e-mail as API references", () => {
    const win = pageAt(
      'http://localhost:8787/demo/contacts/7',
      '<dl><dd class="hd-contact-phone">+54 9 11 5000-0001</dd><dd class="hd-contact-email">Ana@Example.com</dd></dl>',
    );
    expect(readPage(win, siteAdapters)?.contactRefs).toEqual(['phone:+5491150000001', 'email:ana@example.com']);
  });

  it('names in the failed-message log get badges too', () => {
    const win = pageAt(
      'http://127.0.0.1:8787/demo/failed-messages',
      '<table data-list="failed-messages"><tr><td class="hd-broadcast-name">Black Friday</td></tr></table>',
    );
    expect(readPage(win, siteAdapters)?.names.map((n) => n.name)).toEqual(['Black Friday']);
  });
});

describe('the respond.io-style adapter', () => {
  it('finds broadcast names and contact identifiers by its data-testids', () => {
    const list = pageAt(
      'https://app.respond.io/space/123/broadcasts',
      `<div data-testid="broadcast-row"><span data-testid="broadcast-name">Promo Hot Sale</span></div>
       <div data-testid="broadcast-row"><span data-testid="broadcast-name">Black Friday</span></div>`,
    );
    expect(readPage(list, siteAdapters)?.names.map((n) => n.name)).toEqual(['Promo Hot Sale', 'Black Friday']);
    const contact = pageAt(
      'https://app.respond.io/space/123/inbox/998',
      '<section data-testid="contact-details"><span data-field="phone">+52 1 55 1234 5678</span></section>',
    );
    expect(readPage(contact, siteAdapters)?.contactRefs).toEqual(['phone:+5215512345678']);
  });
});

describe('pages Rebound does not know', () => {
  it('are left alone', () => {
    expect(readPage(pageAt('https://example.com/demo-not/', '<p>hola</p>'), siteAdapters)).toBeNull();
    expect(adapterFor('https://app.respond.io.evil.example/space/1/broadcasts')).toBeUndefined();
  });

  it('a known site on an unknown page reads nothing', () => {
    const reading = readPage(pageAt('http://127.0.0.1:8787/demo/settings', '<h1>Ajustes</h1>'), siteAdapters);
    expect(reading).toMatchObject({ names: [], broadcast: null, contactRefs: [] });
  });
});

describe('contact references', () => {
  it('keep only what the API can look up', () => {
    expect(contactRef('phone', '(011) 4555-1234')).toBe('phone:01145551234');
    expect(contactRef('phone', '—')).toBeNull();
    expect(contactRef('email', 'not an address')).toBeNull();
  });
});
