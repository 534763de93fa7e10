/** The failed-message log (/demo/failed-messages), all of it or one broadcast's (?broadcastId=). */
import type { Broadcast, FailedMessage } from '@rebound/shared';
import { DEMO_BROADCAST_NAME, DEMO_FAILED_MESSAGE_LIST, DEMO_LIST_ATTRIBUTE } from '@rebound/shared/demo-page';
import { api, PAGE_SIZE } from '../api';
import { h, link, loadMoreButton, timeEl } from '../dom';
import { type View, view } from '../layout';
import { t } from '../state';

type FailedPage = { data: FailedMessage[]; nextCursor: string | null };

export async function renderFailedMessages(): Promise<View> {
  const broadcastIds = new URLSearchParams(location.search).getAll('broadcastId').filter((id) => /^\d+$/.test(id));
  const [page, filterName] = await Promise.all([
    api<FailedPage>('/api/v1/failed-messages', { broadcastId: broadcastIds, limit: PAGE_SIZE }),
    broadcastIds.length === 1
      ? api<Broadcast>(`/api/v1/broadcasts/${broadcastIds[0]}`).then(
          (b) => b.name,
          () => `#${broadcastIds[0]}`,
        )
      : Promise.resolve(broadcastIds.map((id) => `#${id}`).join(', ')),
  ]);
  const tbody = h('tbody', null, page.data.map(failedRow));
  const table = h(
    'div',
    { class: 'hd-table-wrap' },
    h(
      'table',
      { class: 'hd-table', [DEMO_LIST_ATTRIBUTE]: DEMO_FAILED_MESSAGE_LIST },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            t('colBroadcast'),
            t('colContact'),
            t('colIdentifier'),
            t('colReason'),
            t('colProviderError'),
            t('colTime'),
          ].map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      tbody,
    ),
  );
  const empty = h('p', { class: 'hd-empty' }, t('noFailed'));
  return view(
    t('failedTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('failedTitle'))),
    broadcastIds.length
      ? h(
          'p',
          { class: 'hd-filter' },
          h('span', { class: 'hd-chip' }, t('failedFor', { name: filterName })),
          ' ',
          link('/demo/failed-messages', t('showAll')),
        )
      : null,
    page.data.length ? table : empty,
    loadMoreButton(page.nextCursor, (cursor) =>
      api<FailedPage>('/api/v1/failed-messages', { broadcastId: broadcastIds, limit: PAGE_SIZE, cursor }).then(
        (next) => {
          tbody.append(...next.data.map(failedRow));
          return next.nextCursor;
        },
      ),
    ),
  );
}

function failedRow(item: FailedMessage) {
  const name = item.contact.name || item.contact.identifier || t('noName');
  return h(
    'tr',
    { class: 'hd-row', 'data-message-id': item.messageId, 'data-broadcast-id': item.sender.id },
    h('td', { class: DEMO_BROADCAST_NAME }, link(`/demo/broadcasts/${item.sender.id}`, item.sender.name)),
    h(
      'td',
      { class: 'hd-contact-cell' },
      item.contact.id !== null ? link(`/demo/contacts/${item.contact.id}`, name, { class: 'hd-contact-link' }) : name,
    ),
    h('td', { class: 'hd-identifier' }, item.contact.identifier ?? '—'),
    h('td', { class: 'hd-reason', 'data-reason': item.reason.code }, item.reason.title),
    h(
      'td',
      { class: 'hd-provider-error' },
      item.providerCode ? h('code', { class: 'hd-code' }, item.providerCode) : null,
      item.providerCode && item.providerMessage ? ' ' : null,
      item.providerMessage ?? (item.providerCode ? null : '—'),
    ),
    h('td', { class: 'hd-date' }, timeEl(item.failedAt)),
  );
}
