/** The contact list and search (/demo/contacts?q=) and one contact's page (/demo/contacts/<ref>). */
import type { Contact, ContactDetail } from '@rebound/shared';
import {
  DEMO_CONTACT_EMAIL,
  DEMO_CONTACT_LIST,
  DEMO_CONTACT_PHONE,
  DEMO_LIST_ATTRIBUTE,
} from '@rebound/shared/demo-page';
import { api, channelNames, PAGE_SIZE, refPath } from '../api';
import { field, h, link, loadMoreButton, tagList, timeEl } from '../dom';
import { type View, view } from '../layout';
import { contactName, t } from '../state';

type ContactPage = { data: Contact[]; nextCursor: string | null };

export async function renderContacts(): Promise<View> {
  const q = (new URLSearchParams(location.search).get('q') ?? '').trim();
  const page = await api<ContactPage>('/api/v1/contacts', { q, limit: PAGE_SIZE });
  const tbody = h('tbody', null, page.data.map(contactRow));
  return view(
    t('contactsTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('contactsTitle'))),
    h(
      'form',
      { class: 'hd-search', role: 'search', method: 'get', action: '/demo/contacts' },
      h('label', { for: 'hd-q', class: 'hd-visually-hidden' }, t('search')),
      h('input', {
        id: 'hd-q',
        name: 'q',
        type: 'search',
        class: 'hd-input',
        value: q,
        placeholder: t('searchPlaceholder'),
        maxlength: 200,
      }),
      h('button', { type: 'submit', class: 'hd-button' }, t('search')),
    ),
    page.data.length
      ? h(
          'div',
          { class: 'hd-table-wrap' },
          h(
            'table',
            { class: 'hd-table', [DEMO_LIST_ATTRIBUTE]: DEMO_CONTACT_LIST },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [t('colName'), t('colPhone'), t('colEmail'), t('colTags')].map((text) =>
                  h('th', { scope: 'col' }, text),
                ),
              ),
            ),
            tbody,
          ),
        )
      : h('p', { class: 'hd-empty' }, t('noContacts')),
    loadMoreButton(page.nextCursor, (cursor) =>
      api<ContactPage>('/api/v1/contacts', { q, limit: PAGE_SIZE, cursor }).then((next) => {
        tbody.append(...next.data.map(contactRow));
        return next.nextCursor;
      }),
    ),
  );
}

function contactRow(contact: Contact) {
  return h(
    'tr',
    { class: 'hd-row', 'data-contact-id': contact.id },
    h(
      'td',
      { class: 'hd-contact-cell' },
      link(`/demo/contacts/${contact.id}`, contactName(contact) || t('noName'), { class: 'hd-contact-link' }),
    ),
    h('td', { class: 'hd-phone' }, contact.phone ?? '—'),
    h('td', { class: 'hd-email' }, contact.email ?? '—'),
    h('td', { class: 'hd-tags-cell' }, tagList(contact.tags)),
  );
}

export async function renderContact(ref: string): Promise<View> {
  const [contact, names] = await Promise.all([api<ContactDetail>(`/api/v1/contacts/${refPath(ref)}`), channelNames()]);
  const name = contactName(contact) || t('noName');
  const custom = Object.entries(contact.customFields ?? {});
  return view(
    name,
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title hd-contact-name' }, name)),
    h(
      'dl',
      { class: 'hd-dl hd-contact-details', 'data-contact-id': contact.id },
      field(t('contactId'), String(contact.id), 'hd-contact-id'),
      field(t('phone'), contact.phone ?? '', DEMO_CONTACT_PHONE),
      contact.phone && contact.phoneValid === false
        ? h('dd', { class: 'hd-note' }, h('span', { class: 'hd-warning' }, t('phoneInvalid')))
        : null,
      field(t('email'), contact.email ?? '', DEMO_CONTACT_EMAIL),
      field(t('contactLanguage'), contact.language ?? '', 'hd-contact-language'),
      field(t('tags'), tagList(contact.tags) ?? h('span', { class: 'hd-muted' }, t('noTags')), 'hd-contact-tags'),
      contact.identifiers.length
        ? field(
            t('identifiers'),
            h(
              'ul',
              { class: 'hd-plain-list' },
              contact.identifiers.map((item) =>
                h('li', null, `${names.get(item.channelId) ?? `#${item.channelId}`}: ${item.identifier}`),
              ),
            ),
            'hd-contact-identifiers',
          )
        : null,
      field(t('contactCreated'), timeEl(contact.createdAt)),
    ),
    h(
      'section',
      { class: 'hd-section', 'aria-labelledby': 'hd-custom-title' },
      h('h2', { class: 'hd-subtitle', id: 'hd-custom-title' }, t('customFields')),
      custom.length
        ? h(
            'dl',
            { class: 'hd-dl hd-custom-fields' },
            custom.map(([key, value]) => [
              h('dt', null, key),
              h('dd', { class: 'hd-custom-field', 'data-key': key }, value),
            ]),
          )
        : h('p', { class: 'hd-muted' }, t('noCustomFields')),
    ),
  );
}
