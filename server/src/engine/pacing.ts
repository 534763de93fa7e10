/**
 * Pacing: send slots on the channel's (and a slower broadcast's) rate, reserved in the database so
 * that every process sharing a channel keeps to its rate together, and the "dispatched" mark written
 * with them.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import type { BroadcastRow, ChannelRow, Claimed } from './batch';
import { sendSlotsQuery, usableRate } from './limits';

/**
 * How late a paced send may go out on its own slot. Sends at most L ms late put at most rate × L / 1000
 * more into any one second than the rate allows: 10 ms is 1 %. Later ones take a fresh slot, which is
 * a write; at 5 ms a process sharing the file with others woke late so often that taking fresh slots
 * became most of its work.
 */
const LATE_SEND_MS = 10;
export const lateTolerance = (interval: number) => Math.max(LATE_SEND_MS, 4 * interval);
/** The most a reservation reserves ahead of now: a database that slow is paused soon anyway. */
const MAX_SLOT_LEAD_MS = 1000;

/** When a send may go, from the slot reservations it made (channel, and broadcast when slower). */
function firstSlot(reservations: readonly (readonly { start: number }[])[], now: number): number {
  return Math.max(now, ...reservations.map((rows) => rows[0]?.start ?? now));
}

/**
 * Whether a broadcast sends slower than its channel: its sends then reserve their channel slot one at a
 * time, at its own pace (groups of one), so that the channel's slots are taken when they are used.
 */
export const slowerThanChannel = (broadcast: BroadcastRow, channel: ChannelRow) =>
  broadcast.sendRate !== null && broadcast.sendRate < channel.messagesPerSecond;

/** The rate a broadcast sends at: its own when slower than its channel's. */
export function effectiveRate(broadcast: BroadcastRow, channel: ChannelRow): number {
  return usableRate(Math.min(channel.messagesPerSecond, broadcast.sendRate ?? Number.POSITIVE_INFINITY));
}

/** Late sends gathered in one turn of the event loop, to take their fresh slots in one write. */
export interface LateSends {
  count: number;
  start: Promise<number>;
}

export class Pacer {
  /** How long a slot reservation takes to come back, smoothed (see `reserving`). */
  private reservationMs = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number,
    private readonly durably: <T>(write: () => Promise<T>) => Promise<T>,
  ) {}

  /**
   * A fresh send slot for a send that woke too late. The late sends of one turn of the event loop
   * take theirs together, in one write: a process that stalled wakes dozens of sends at once, and a
   * write each (waiting for the file's lock with the event loop blocked) made every next one late too.
   */
  freshSlot(
    holder: { lateSends: LateSends | undefined },
    broadcast: BroadcastRow,
    channel: ChannelRow,
  ): Promise<number> {
    let late = holder.lateSends;
    if (!late) {
      const gathered = { count: 0, start: Promise.resolve(0) };
      gathered.start = new Promise((resolve) => setImmediate(resolve)).then(() => {
        holder.lateSends = undefined;
        return this.durably(() => this.freshSlotsOnce(broadcast, channel, gathered.count));
      });
      late = holder.lateSends = gathered;
    }
    const k = late.count++;
    const interval = 1000 / effectiveRate(broadcast, channel);
    return late.start.then((start) => start + k * interval);
  }

  /**
   * Rate slots and the dispatched mark in one write: only recipients whose lease is still ours go
   * out, and the mark is what forbids a second send after a crash.
   */
  async markDispatched(
    broadcast: BroadcastRow,
    channel: ChannelRow,
    group: Claimed[],
  ): Promise<{ slot: number; mine: Set<number> }> {
    return this.reserving(async (from) => {
      const [mark, first] = await this.db.batch([
        this.db.all<{ id: number }>(sql`UPDATE messages SET dispatched_at = ${this.clock()}
          WHERE id IN ${group.map((g) => g.id)} AND state = 'sending' AND lease_owner = ${group[0]?.lease ?? ''} RETURNING id`),
        this.firstReservation(broadcast, channel, group.length, from),
      ]);
      return {
        slot: await this.thenChannel(broadcast, channel, group.length, from, first),
        mine: new Set(mark.map((r) => r.id)),
      };
    });
  }

  /** `count` send slots taken now: the first one's time. */
  private async freshSlotsOnce(broadcast: BroadcastRow, channel: ChannelRow, count: number): Promise<number> {
    return this.reserving(async (from) =>
      this.thenChannel(broadcast, channel, count, from, await this.firstReservation(broadcast, channel, count, from)),
    );
  }

  /**
   * Runs a slot reservation for slots that begin no sooner than its answer is expected: `from` is now
   * plus twice the recent reservation time. Slots reserved from "now" are already late when the
   * answer takes longer than a send may be late (10 ms): on a libSQL server with three engines a
   * reservation took 135 ms on average, so each send took a fresh slot, which was late again, and
   * the channel's schedule filled with slots nobody used (three reserved for every one sent). On a
   * local file the lead is a millisecond or two.
   */
  private async reserving<T>(reserve: (from: number) => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await reserve(this.clock() + Math.min(MAX_SLOT_LEAD_MS, Math.ceil(2 * this.reservationMs)));
    const took = performance.now() - started;
    // Quick to rise (a slow answer makes the next ones late), slow to fall.
    this.reservationMs = took > this.reservationMs ? took : 0.9 * this.reservationMs + 0.1 * took;
    return result;
  }

  /**
   * The first reservation of `count` send slots: the channel's, or for a broadcast slower than its
   * channel, its own (the channel's follows from it, `thenChannel`).
   */
  private firstReservation(broadcast: BroadcastRow, channel: ChannelRow, count: number, now: number) {
    return slowerThanChannel(broadcast, channel)
      ? this.db.all<{ start: number }>(sendSlotsQuery(`broadcast:${broadcast.id}`, broadcast.sendRate ?? 1, count, now))
      : this.db.all<{ start: number }>(sendSlotsQuery(`channel:${channel.id}`, channel.messagesPerSecond, count, now));
  }

  /**
   * When the sends may go: a slower broadcast's take the channel's slots from the moment its own slot
   * comes, not from now. Reserved from now, they covered a fraction of the time its sends take (25 at 5 a
   * second on a channel of 10 reserved 2.5 s of a 5 s span), and another broadcast's sends filled the
   * rest at the channel's full rate: 15 a second on a channel of 10.
   */
  private async thenChannel(
    broadcast: BroadcastRow,
    channel: ChannelRow,
    count: number,
    now: number,
    first: readonly { start: number }[],
  ): Promise<number> {
    const own = firstSlot([first], now);
    if (!slowerThanChannel(broadcast, channel)) return own;
    const onChannel = await this.db.all<{ start: number }>(
      sendSlotsQuery(`channel:${channel.id}`, channel.messagesPerSecond, count, own),
    );
    return firstSlot([onChannel], own);
  }
}
