import type { AttentionList } from '@rebound/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { refreshAttention } from '../../background/attention';
import { createApi } from '../../lib/api';
import { attentionItem } from '../../lib/settings';

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
  beforeEach(() => fakeBrowser.reset());

  it('asks the server what needs attention, not a listing of 100 broadcasts, and shows how many', async () => {
    const asked: string[] = [];
    const api = createApi({
      backendUrl: 'http://127.0.0.1:8787',
      token: 'rb_test',
      language: 'es',
      fetch: async (input) => {
        asked.push(String(input));
        const body: AttentionList = { data: [item(7), item(3)], hasMore: false };
        return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
      },
    });
    expect(await refreshAttention(api)).toEqual([7, 3]);
    expect(asked).toEqual(['http://127.0.0.1:8787/api/v1/broadcasts/attention?limit=100']);
    expect(await attentionItem.getValue()).toEqual([7, 3]);
    expect(await fakeBrowser.action.getBadgeText({})).toBe('2');
  });
});
