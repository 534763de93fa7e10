import type { BroadcastEvent } from '@rebound/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { createEventSink } from '../../background/events';
import { createApi } from '../../lib/api';
import { eventCursorItem, settingsItem } from '../../lib/settings';

const event = (id: number): BroadcastEvent => ({
  id,
  type: 'broadcast.cancelled',
  broadcastId: 1,
  data: { name: `Broadcast ${id}` },
  createdAt: '2026-11-25T00:00:00.000Z',
  message: `event ${id}`,
});

const server = (backendUrl: string, token: string) => createApi({ backendUrl, token, language: 'es' });
const demo = server('http://127.0.0.1:8787', 'rb_demo');
const connectTo = async (backendUrl: string, token: string) =>
  settingsItem.setValue({ ...(await settingsItem.getValue()), backendUrl, token });

describe('events from the stream and from polling', () => {
  beforeEach(async () => {
    fakeBrowser.reset();
    await connectTo('http://127.0.0.1:8787', 'rb_demo');
  });

  it('are handled once each, in order, and the cursor survives a restart', async () => {
    const handled: number[] = [];
    const sink = createEventSink(async (e) => {
      handled.push(e.id);
    });
    await sink.take([event(1), event(2)], demo);
    // The poll after a reconnect brings some of the same events again.
    await sink.take([event(2), event(3)], demo);
    expect(handled).toEqual([1, 2, 3]);
    expect(await eventCursorItem.getValue()).toBe('3');

    const afterRestart: number[] = [];
    const next = createEventSink(async (e) => {
      afterRestart.push(e.id);
    });
    await next.take([event(3), event(4)], demo);
    expect(afterRestart).toEqual([4]);
  });

  it('one event that cannot be handled does not block the next', async () => {
    const handled: number[] = [];
    const sink = createEventSink(async (e) => {
      if (e.id === 1) throw new Error('server unreachable');
      handled.push(e.id);
    });
    await sink.take([event(1), event(2)], demo);
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
    await sink.take(
      Array.from({ length: 100 }, (_, i) => event(i + 1)),
      demo,
    );
    await sink.take([event(99), event(100)], demo);
    await sink.take([event(100), event(101)], demo);
    expect(settled).toEqual([Array.from({ length: 100 }, (_, i) => i + 1), [101]]);
  });

  it("a poll sent before the agent switched servers answers after it: the old server's events are dropped, the new cursor kept", async () => {
    const handled: number[] = [];
    const sink = createEventSink(async (e) => {
      handled.push(e.id);
    });
    await sink.take([event(41)], demo);
    // The switch: the other server's "now" is event 7 there.
    await sink.between(async () => {
      await connectTo('https://rebound.example.com', 'rb_prod');
      await eventCursorItem.setValue('7');
    });
    await sink.take([event(42), event(43)], demo);
    await sink.startAt('99', demo);
    expect(handled).toEqual([41]);
    expect(await eventCursorItem.getValue()).toBe('7');

    // The new server's own events go on from its cursor.
    await sink.take([event(8)], server('https://rebound.example.com/', 'rb_prod'));
    expect(handled).toEqual([41, 8]);
    expect(await eventCursorItem.getValue()).toBe('8');
  });
});
