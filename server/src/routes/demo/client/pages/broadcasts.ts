/** The broadcast list (/demo/) and one broadcast's page (/demo/broadcasts/<id>). */
import type { Broadcast } from '@rebound/shared';
import {
  DEMO_BROADCAST_LIST,
  DEMO_BROADCAST_NAME,
  DEMO_BROADCAST_TITLE,
  DEMO_LIST_ATTRIBUTE,
} from '@rebound/shared/demo-page';
import { ApiFailure, api, channelNames } from '../api';
import { field, h, link, timeEl } from '../dom';
import { type View, view } from '../layout';
import { formatNumber, statusText, t } from '../state';

const BROADCAST_LIMIT = 200;

export async function renderBroadcasts(): Promise<View> {
  const [names, broadcasts] = await Promise.all([channelNames(), allBroadcasts()]);
  const rows = broadcasts.items.map((b) =>
    h(
      'tr',
      { class: 'hd-row', 'data-broadcast-id': b.id },
      h('td', { class: DEMO_BROADCAST_NAME }, link(`/demo/broadcasts/${b.id}`, b.name)),
      h('td', { class: 'hd-channel' }, names.get(b.channelId) ?? `#${b.channelId}`),
      h('td', { class: 'hd-status-cell' }, statusBadge(b.status)),
      h('td', { class: 'hd-num' }, formatNumber(b.targetCount)),
      h('td', { class: 'hd-num' }, formatNumber(b.completedCount)),
      h('td', { class: 'hd-date' }, timeEl(b.startedAt ?? b.scheduledAt)),
    ),
  );
  return view(
    t('broadcastsTitle'),
    h('div', { class: 'hd-page-head' }, h('h1', { class: 'hd-title' }, t('broadcastsTitle'))),
    rows.length
      ? h(
          'div',
          { class: 'hd-table-wrap' },
          h(
            'table',
            { class: 'hd-table', [DEMO_LIST_ATTRIBUTE]: DEMO_BROADCAST_LIST },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [t('colName'), t('colChannel'), t('colStatus'), t('colTarget'), t('colCompleted'), t('colDate')].map(
                  (text, index) => h('th', { scope: 'col', class: index === 3 || index === 4 ? 'hd-num' : null }, text),
                ),
              ),
            ),
            h('tbody', null, rows),
          ),
        )
      : h('p', { class: 'hd-empty' }, t('noBroadcasts')),
    broadcasts.more
      ? h('p', { class: 'hd-muted' }, t('moreBroadcasts', { count: formatNumber(BROADCAST_LIMIT) }))
      : null,
  );
}

async function allBroadcasts() {
  const items: Broadcast[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await api<{ data: Broadcast[]; nextCursor: string | null }>('/api/v1/broadcasts', {
      limit: 100,
      cursor,
    });
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && items.length < BROADCAST_LIMIT);
  return { items: items.slice(0, BROADCAST_LIMIT), more: Boolean(cursor) || items.length > BROADCAST_LIMIT };
}

function statusBadge(status: string) {
  return h('span', { class: `hd-status hd-status-${status}`, 'data-status': status }, statusText(status));
}

export async function renderBroadcast(id: string): Promise<View> {
  if (!/^\d+$/.test(id)) throw new ApiFailure(404, 'not_found', t('pageNotFound'));
  const [broadcast, names] = await Promise.all([api<Broadcast>(`/api/v1/broadcasts/${id}`), channelNames()]);
  const counts: Partial<Broadcast['counts']> = broadcast.counts ?? {};
  const template = broadcast.content.template;
  return view(
    broadcast.name,
    h(
      'div',
      { class: 'hd-page-head' },
      h('h1', { class: `hd-title ${DEMO_BROADCAST_TITLE}` }, broadcast.name),
      link(`/demo/failed-messages?broadcastId=${broadcast.id}`, t('seeFailed'), { class: 'hd-button' }),
    ),
    h(
      'dl',
      { class: 'hd-dl hd-broadcast-details', 'data-broadcast-id': broadcast.id },
      field(t('channel'), names.get(broadcast.channelId) ?? `#${broadcast.channelId}`, 'hd-broadcast-channel'),
      field(t('state'), statusBadge(broadcast.status), 'hd-broadcast-status'),
      field(t('target'), formatNumber(broadcast.targetCount), 'hd-num-value'),
      field(t('completed'), formatNumber(broadcast.completedCount), 'hd-num-value'),
      field(t('sent'), formatNumber(counts.sent ?? 0), 'hd-num-value'),
      field(t('delivered'), formatNumber(counts.delivered ?? 0), 'hd-num-value'),
      field(t('failed'), formatNumber(counts.failed ?? 0), 'hd-num-value'),
      field(t('createdAt'), timeEl(broadcast.createdAt)),
      field(t('scheduledAt'), timeEl(broadcast.scheduledAt)),
      field(t('startedAt'), timeEl(broadcast.startedAt)),
      field(t('finishedAt'), timeEl(broadcast.finishedAt)),
    ),
    h(
      'section',
      { class: 'hd-message', 'aria-labelledby': 'hd-message-title' },
      h('h2', { class: 'hd-subtitle', id: 'hd-message-title' }, t('message')),
      h('p', { class: 'hd-message-text' }, broadcast.content.text),
      template ? h('p', { class: 'hd-muted' }, `${t('template')}: ${template.name} (${template.language})`) : null,
    ),
  );
}
