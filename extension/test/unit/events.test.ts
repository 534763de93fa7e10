import type { BroadcastEvent } from '@rebound/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { createEventSink } from '../../background/events';
import { eventCursorItem } from '../../lib/settings';

const event = (id: number): BroadcastEvent => ({
  id,
  type: 'broadcast.cancelled',
  broadcastId: 1,
  data: { name: `Broadcast ${id}` },
  createdAt: '2026-11-25T00:00:00.000Z',
  message: `event ${id}`,
});

describe('events from the stream and from polling', () => {
  beforeEach(() => fakeBrowser.reset());

  it('are handled once each, in order, and the cursor survives a restart', async () => {
    const handled: number[] = [];
    const sink = createEventSink(async (e) => {
      handled.push(e.id);
    });
    await sink([event(1), event(2)]);
    // The poll after a reconnect brings some of the same events again.
    await sink([event(2), event(3)]);
    expect(handled).toEqual([1, 2, 3]);
    expect(await eventCursorItem.getValue()).toBe('3');

    const afterRestart: number[] = [];
    const next = createEventSink(async (e) => {
      afterRestart.push(e.id);
    });
    await next([event(3), event(4)]);
    expect(afterRestart).toEqual([4]);
  });

  it('one event that cannot be handled does not block the next', async () => {
    const handled: number[] = [];
    const sink = createEventSink(async (e) => {
      if (e.id === 1) throw new Error('server unreachable');
      handled.push(e.id);
    });
    await sink([event(1), event(2)]);
    expect(handled).toEqual([2]);
  });

  it('a batch is settled once (the toolbar count read once), with the events it handled; a batch of repeats not at all', async () => {
    const settled: number[][] = [];
    const sink = createEventSink(
      async () => {},
      async (events) => {
        settled.push(events.map((e) => e.id));
      },
    );
    // A catch-up page of a hundred events: one settling, not a hundred.
    await sink(Array.from({ length: 100 }, (_, i) => event(i + 1)));
    await sink([event(99), event(100)]);
    await sink([event(100), event(101)]);
    expect(settled).toEqual([Array.from({ length: 100 }, (_, i) => i + 1), [101]]);
  });
});
