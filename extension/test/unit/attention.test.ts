import type { AttentionList } from '@rebound/shared';
import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared/api-level';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { forgetConnection, markReviewed, refreshAttention, splitReviewed } from '../../background/attention';
import { createApi } from '../../lib/api';
import { attentionItem, reviewedItem, settingsItem } from '../../lib/settings';

/** The extension connected to the server these tests' API answers for. */
async function connected(backendUrl = 'http://127.0.0.1:8787', token = 'rb_test') {
  fakeBrowser.reset();
  await settingsItem.setValue({ ...(await settingsItem.getValue()), backendUrl, token });
}

const item = (id: number): AttentionList['data'][number] => ({
  id,
  name: `B${id}`,
  status: 'partially_failed',
  channelId: 1,
  finishedAt: '2026-11-25T00:00:00.000Z',
  failed: 500,
  uncertain: 0,
  failedByReason: { quota_reached: 500 },
  resendOfId: null,
});

describe('the badge of broadcasts that need attention', () => {
  beforeEach(() => connected());

  it('asks the server what needs attention, not a listing of 100 broadcasts, and shows how many', async () => {
    const asked: string[] = [];
    const api = createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async (input) => {
        asked.push(String(input));
        const body: AttentionList = { data: [item(7), item(3)], hasMore: false };
        return new Response(JSON.stringify(body), {
          status: 200,
          headers: { 'Content-Type': 'application/json', [API_LEVEL_HEADER]: String(API_LEVEL) },
        });
      },
    });
    expect(await refreshAttention(api)).toEqual([7, 3]);
    expect(asked).toEqual(['http://127.0.0.1:8787/api/v1/broadcasts/attention?limit=100']);
    expect(await attentionItem.getValue()).toEqual([7, 3]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');
  });

  it('an answer from the server the agent just left writes nothing: its IDs are other broadcasts on the new one', async () => {
    const old = createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async () => {
        // The agent switches servers while this answer is on its way.
        await connected('https://rebound.example.com', 'rb_prod');
        await attentionItem.setValue([]);
        const body: AttentionList = { data: [item(7), item(3)], hasMore: false };
        return new Response(JSON.stringify(body), {
          status: 200,
          headers: { 'Content-Type': 'application/json', [API_LEVEL_HEADER]: String(API_LEVEL) },
        });
      },
    });
    await refreshAttention(old);
    expect(await attentionItem.getValue()).toEqual([]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('');
  });
});

describe('marking a broadcast as reviewed', () => {
  beforeEach(() => connected());

  /** An API whose attention list is whatever `items` holds when asked. */
  function apiListing(items: () => AttentionList['data']) {
    return createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async () => {
        const body: AttentionList = { data: items(), hasMore: false };
        return new Response(JSON.stringify(body), {
          status: 200,
          headers: { 'Content-Type': 'application/json', [API_LEVEL_HEADER]: String(API_LEVEL) },
        });
      },
    });
  }

  it('takes it off the toolbar count until more of its messages fail, and can be taken back', async () => {
    let seven = item(7);
    const api = apiListing(() => [seven, item(3)]);
    expect(await refreshAttention(api)).toEqual([7, 3]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');

    expect(await markReviewed(api, 7, true)).toEqual({ needed: [3], reviewed: [7] });
    expect(await fakeBrowser.action.getBadgeText({})).toBe('1');
    // The count stays down on the next refresh (a new event, the minute's poll).
    expect(await refreshAttention(api)).toEqual([3]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('1');

    // More of its messages fail (a late report): it needs a look again.
    seven = { ...item(7), failed: 510 };
    expect(await refreshAttention(api)).toEqual([7, 3]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');

    await markReviewed(api, 7, true);
    expect(await markReviewed(api, 7, false)).toEqual({ needed: [7, 3], reviewed: [] });
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');
  });

  it('holds what the agent read: failures that came while the report was open keep it counted', async () => {
    // The popup showed 500; late reports brought 40 more before the click.
    const api = apiListing(() => [{ ...item(7), failed: 540 }, item(3)]);
    expect(await markReviewed(api, 7, true, 500)).toEqual({ needed: [7, 3], reviewed: [] });
    expect(await reviewedItem.getValue()).toEqual({ '7': 500 });
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');
    // Read as it is now, the mark takes.
    expect(await markReviewed(api, 7, true, 540)).toEqual({ needed: [3], reviewed: [7] });
  });

  it('lets go of marks of broadcasts that no longer need attention', async () => {
    let listed = [item(7), item(3)];
    const api = apiListing(() => listed);
    await markReviewed(api, 7, true);
    expect(await reviewedItem.getValue()).toEqual({ '7': 500 });
    listed = [item(3)];
    await refreshAttention(api);
    expect(await reviewedItem.getValue()).toEqual({});
    expect(splitReviewed([item(7)], { '7': 500 })).toEqual({ needed: [], reviewed: [7] });
    expect(splitReviewed([{ ...item(7), uncertain: 1 }], { '7': 500 })).toEqual({ needed: [7], reviewed: [] });
  });

  it('a paused broadcast counts whatever its mark: it waits for a manager to resume or cancel it', async () => {
    const paused = { ...item(7), status: 'paused' as const };
    expect(splitReviewed([paused, item(3)], { '7': 500, '3': 500 })).toEqual({ needed: [7], reviewed: [3] });
    const api = apiListing(() => [paused]);
    expect(await markReviewed(api, 7, true)).toEqual({ needed: [7], reviewed: [] });
    expect(await fakeBrowser.action.getBadgeText({})).toBe('1');
  });
});

describe('connecting to another server or workspace', () => {
  beforeEach(() => connected());

  it("forgets the marks and notifications of the other one: its broadcast 3 is not this one's", async () => {
    await reviewedItem.setValue({ '3': 500 });
    await attentionItem.setValue([7]);
    await fakeBrowser.notifications.create('rebound:resend:3', {
      type: 'basic',
      iconUrl: 'icon.png',
      title: 'Demo',
      message: 'Revisar y reenviar',
    });
    await fakeBrowser.notifications.create('other-extension', {
      type: 'basic',
      iconUrl: 'i',
      title: 't',
      message: 'm',
    });
    await forgetConnection();
    expect(await reviewedItem.getValue()).toEqual({});
    expect(await attentionItem.getValue()).toEqual([]);
    expect(Object.keys(await fakeBrowser.notifications.getAll())).toEqual(['other-extension']);
  });
});
