/**
 * One broadcast's sending in this process (its lane): claims batches ahead of the sends, sends each
 * recipient at its slot with bounded concurrency, and writes the outcomes behind the sends. The
 * engine (engine.ts) starts one lane per sending broadcast and owns what lanes share.
 */
import type { BroadcastContent } from '@rebound/shared';
import { NEVER_ABORTED } from '../channels/http';
import type { ChannelAdapter, OutboundMessage, SendOutcome } from '../channels/types';
import type { Database } from '../db/client';
import { MAX_TIMER_MS, timerDelay } from '../lib/timers';
import { recheckLateFailures } from '../services/resend-store';
import type { Batch, BroadcastRow, ChannelRow, Claimed, Outcome } from './batch';
import { type OutcomeWriter, writeOutcomes } from './outcomes';
import { effectiveRate, type LateSends, lateTolerance, type Pacer, slowerThanChannel } from './pacing';
import { broadcastStatus, broadcastWithChannel, releaseUnsent } from './queue';
import type { WritePause } from './write-pause';

/** How stale the status a send checks may be. */
const STATUS_CHECK_MS = 200;

export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  /** Takes a permit if one is free, without a promise: the common case, once per message. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** What lanes share, owned by the engine. */
export interface LaneRuntime {
  db: Database;
  clock: () => number;
  log: (message: string, error?: unknown) => void;
  pause: WritePause;
  pacer: Pacer;
  /** Requests in flight at once in this process, over all broadcasts. */
  semaphore: Semaphore;
  requestTimeoutMs: number;
  /** A claim's lease: a claimed recipient is sent well within it (`slotsNear`). */
  leaseMs: number;
  stopping: () => boolean;
  /** Broadcasts the quality guard paused from this process: their sends in hand stop at once. */
  halted: Set<number>;
  /** Sends waiting for their slot; stop() wakes them, and they go back to the queue unsent. */
  slotWaits: Set<() => void>;
  adapter: (channel: ChannelRow) => ChannelAdapter;
  statusCallbackUrl: (channel: ChannelRow, messageId: number) => string | undefined;
  /** Recipients marked dispatched together at this rate. */
  groupSize: (rate: number) => number;
  claimBatch: (broadcast: BroadcastRow, channel: ChannelRow) => Promise<Batch>;
  outcomes: OutcomeWriter;
  finishIfDone: (broadcastId: number) => Promise<void>;
}

/** Hands claimed, unsent recipients back (`releaseUnsent`), waiting out a storage fault. */
function giveBack(rt: LaneRuntime, items: Claimed[], cancelled: boolean): Promise<void> {
  return rt.pause.durably(() => releaseUnsent(rt.db, items, cancelled));
}

/**
 * Waits for a send slot; false when stop() came first. A stop does not wait out a slow channel's
 * pace (up to 100 s a message) or a provider's throttle (up to 15 min): the send never left, so its
 * recipient simply goes back to the queue.
 */
function waitForSlot(rt: LaneRuntime, ms: number): Promise<boolean> {
  if (rt.stopping()) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (slotCame: boolean) => {
      clearTimeout(timer);
      rt.slotWaits.delete(wake);
      resolve(slotCame);
    };
    const wake = () => done(false);
    const timer = setTimeout(() => done(true), timerDelay(ms));
    rt.slotWaits.add(wake);
  });
}

export class Lane {
  /** Requests sent and not yet answered; `drained` is called when it falls to zero. */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private results: Outcome[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private lastFlush = Date.now();
  /** Set while an outcome waits for a flush that no later launch may bring (a slow channel's sends). */
  private flushTimer: NodeJS.Timeout | undefined;
  /** Late sends gathered in this turn of the event loop, to take their fresh slots in one write. */
  lateSends: LateSends | undefined;
  /** When the last send slot this lane reserved ends (a paced channel's). */
  private reservedUntil = 0;
  /**
   * The broadcast's status as last read while sending (every STATUS_CHECK_MS at most): a pause or a
   * cancel from elsewhere (Meta's webhook, a manager, another process's guard) stops the sends in hand
   * within that, not after the batch (up to 5 s of a paced channel's sending).
   */
  private status: { at: number; read: Promise<string | undefined> } = {
    at: Date.now(),
    read: Promise.resolve('sending'),
  };
  /** The status as last known (a read answered, or the lane's own after a batch), and when. */
  private known: { at: number; value: string | undefined } = { at: Date.now(), value: 'sending' };

  constructor(
    private readonly rt: LaneRuntime,
    private readonly broadcastId: number,
  ) {}

  /**
   * Sends the broadcast's queued recipients until none is due. Claiming, sending and writing down
   * outcomes overlap: the next batch is claimed while the last one is still in flight, and outcomes
   * are written behind the sends, so the provider always has `concurrency` requests to answer.
   */
  async run(): Promise<void> {
    const { rt, broadcastId } = this;
    const { broadcast, channel } = await broadcastWithChannel(rt.db, broadcastId);
    if (broadcast?.status === 'sending' && channel) {
      // The next batch is claimed while this one is being sent, so the provider never waits on us.
      let next = rt.claimBatch(broadcast, channel);
      let status: string | undefined = 'sending';
      while (!rt.stopping()) {
        const claimed = await next;
        if (claimed.items.length === 0) break;
        next = this.slotsNear().then(() => rt.claimBatch(broadcast, channel));
        await this.launch(broadcast, channel, claimed);
        // A cancel stops the lane at the next batch. So does an edit of the channel: its next claim is
        // empty (claim.ts), and the engine's next lane sends with the channel as it is now.
        status = await broadcastStatus(rt.db, broadcastId);
        this.known = { at: Date.now(), value: status };
        if (status !== 'sending' || rt.halted.has(broadcastId)) break;
      }
      // A batch claimed but not sent (stop or cancel) goes back to the queue at once, or is cancelled
      // with its broadcast.
      const unsent = await next;
      if (unsent.items.length) await giveBack(rt, unsent.items, status === 'cancelled');
    }
    if (this.inFlight > 0)
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    if (broadcast && channel) this.scheduleFlush(broadcast, channel);
    await this.flushing;
    rt.halted.delete(broadcastId);
    await rt.finishIfDone(broadcastId);
    // A re-send cancelled mid-send: the sends it had in hand were cancelled just now (giveBack), after the
    // cancel's own check, and are free again for its broadcast's agents (recheckLateFailures).
    const original = broadcast?.resendOfId ?? null;
    if (original !== null && (await broadcastStatus(rt.db, broadcastId)) === 'cancelled')
      await rt.pause.durably(() => recheckLateFailures(rt.db, original, Date.now()));
  }

  /** Writes outcomes behind the sends, one flush after another. */
  private scheduleFlush(broadcast: BroadcastRow, channel: ChannelRow): void {
    const batch = this.results.splice(0);
    this.lastFlush = Date.now();
    if (batch.length === 0) return;
    this.flushing = this.flushing
      .then(() => writeOutcomes(this.rt.outcomes, broadcast, channel, batch))
      // Storage faults are retried inside the writer; only another error drops outcomes, whose recipients
      // keep their lease and are recovered as uncertain when it runs out, never resent.
      .catch((error) => this.rt.log(`broadcast ${broadcast.id}: could not write ${batch.length} outcomes`, error));
  }

  /**
   * Waits until the slots this lane reserved end within a quarter of the lease, before the next claim:
   * a claimed recipient must go out within its lease. A slow channel's sends (Twilio's long code, 1 a
   * second) waited in hand, one per permit: 64 s of them against a lease of 60 s, and lease recovery
   * took the last ones for unconfirmed while they still waited.
   */
  private async slotsNear(): Promise<void> {
    const { rt } = this;
    for (;;) {
      const ahead = this.reservedUntil - rt.clock() - rt.leaseMs / 4;
      if (ahead <= 0 || !(await waitForSlot(rt, Math.min(ahead, 1000)))) return;
    }
  }

  /**
   * Launches a claimed batch in groups: reserve rate slots, mark the group dispatched, send each at
   * its slot. Returns once every request is launched; the lane waits for the answers.
   */
  private async launch(broadcast: BroadcastRow, channel: ChannelRow, batch: Batch): Promise<void> {
    const { rt } = this;
    const claimed = batch.items;
    const adapter = rt.adapter(channel);
    const rate = effectiveRate(broadcast, channel);
    const interval = 1000 / rate;

    // A crash leaves at most two groups marked dispatched but unsent (this one and the next claimed).
    const paced = batch.slot === undefined;
    // A broadcast slower than its channel reserves its channel slot a send at a time (pacing.ts).
    const groupSize = !paced ? claimed.length : slowerThanChannel(broadcast, channel) ? 1 : rt.groupSize(rate);
    for (let start = 0; start < claimed.length; start += groupSize) {
      // The driver answers in microtasks and the sandbox at once: without a turn of the event loop
      // here, a big broadcast would starve timers and the HTTP API in the same process.
      await new Promise((resolve) => setImmediate(resolve));
      const group = claimed.slice(start, start + groupSize);
      let slot = batch.slot ?? rt.clock();
      let mine: Set<number> | undefined;
      if (batch.slot === undefined) {
        ({ slot, mine } = await rt.pause.durably(() => rt.pacer.markDispatched(broadcast, channel, group)));
        this.reservedUntil = Math.max(this.reservedUntil, slot + group.length * interval);
      }
      for (let k = 0; k < group.length; k++) {
        const item = group[k] as Claimed;
        if (mine && !mine.has(item.id)) continue;
        if (!rt.semaphore.tryAcquire()) await rt.semaphore.acquire();
        this.inFlight++;
        void this.sendOne(adapter, broadcast, channel, item, slot + k * interval, paced ? interval : undefined);
      }
      // Flush often: an answer not yet written down is an "uncertain" recipient if the process dies.
      if (this.results.length >= groupSize || Date.now() - this.lastFlush > 50) this.scheduleFlush(broadcast, channel);
    }
  }

  /**
   * Sends one recipient at its slot and keeps the outcome for the next flush. Holds a semaphore
   * permit, released here. `pacedInterval` is set on a paced channel, where a late send takes a fresh slot.
   */
  private async sendOne(
    adapter: ChannelAdapter,
    broadcast: BroadcastRow,
    channel: ChannelRow,
    item: Claimed,
    slotAt: number,
    pacedInterval: number | undefined,
  ): Promise<void> {
    const { rt } = this;
    try {
      let slot = slotAt;
      let lateWakeups = 0;
      for (;;) {
        // Nothing leaves while the engine is paused: its outcome could not be written, and every
        // answer held only in memory is one more "uncertain" recipient if the process dies meanwhile.
        if (rt.pause.active) await rt.pause.whileWritable();
        // Never early: a send waits for its slot, rounded up to the timer's millisecond.
        let wait = slot - rt.clock();
        // Never in a burst either: on a paced channel a send that missed its slot (the process
        // stalled, or paused) takes a fresh one, or it would go out with the slots other processes use now.
        // (Unpaced channels claim ahead, so their sends are always "late", and harmlessly so.)
        if (pacedInterval !== undefined && wait < -lateTolerance(pacedInterval)) {
          slot = await rt.pacer.freshSlot(this, broadcast, channel);
          wait = slot - rt.clock();
        }
        if (wait > 0 && !(await waitForSlot(rt, Math.ceil(wait)))) {
          await giveBack(rt, [item], false);
          return;
        }
        // A wait longer than a timer can hold was cut short: wait again for the rest.
        if (wait > MAX_TIMER_MS) continue;
        // A pause that began while this send waited for its slot: wait for the resume, then for a slot again.
        if (rt.pause.active) continue;
        // A timer fires late when the event loop is busy: a wake-up past the tolerance takes a fresh slot
        // too. Bounded, so that a process that is slow all the time still sends (a few ms late) rather than never.
        if (pacedInterval !== undefined && slot - rt.clock() < -lateTolerance(pacedInterval) && ++lateWakeups <= 3)
          continue;
        break;
      }
      // Paused (or cancelled) while this send waited: it never left, so it goes back to the queue, or is
      // cancelled with its broadcast. The status known within STATUS_CHECK_MS is taken as it is (no promise
      // per message); older, it is read again: a paced send's wait, or an unpaced batch held up by a
      // provider's Retry-After (its sends then wait for a permit too, behind those waiting for their slot).
      const status = rt.halted.has(broadcast.id)
        ? 'paused'
        : Date.now() - this.known.at <= STATUS_CHECK_MS
          ? this.known.value
          : await this.statusWhileSending(broadcast.id);
      if (status !== 'sending') {
        await giveBack(rt, [item], status === 'cancelled');
        return;
      }
      const message: OutboundMessage = {
        messageId: item.id,
        to: item.identifier,
        content: broadcast.content as BroadcastContent,
        useTemplate: item.useTemplate,
        timeoutMs: rt.requestTimeoutMs,
      };
      const callbackUrl = rt.statusCallbackUrl(channel, item.id);
      if (callbackUrl !== undefined) message.statusCallbackUrl = callbackUrl;
      let outcome: SendOutcome;
      try {
        // Timeouts are the HTTP client's own (timeoutMs): an abort signal per request costs
        // listeners and timers at thousands of messages a second.
        outcome = await adapter.send(message, NEVER_ABORTED);
      } catch (error) {
        outcome = { kind: 'uncertain', providerMessage: String(error) };
      }
      this.results.push({ item, outcome });
      // Launches flush as they go; on a slow channel the next launch is a slot (up to 100 s) away, and
      // an answer not written down is an uncertain recipient if the process dies: written within 50 ms.
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        if (this.results.length) this.scheduleFlush(broadcast, channel);
      }, 50);
    } catch (error) {
      // Only taking a fresh slot can fail here (not on a storage fault, which it waits out); the
      // recipient is dispatched, so its lease recovery makes it uncertain.
      rt.log(`broadcast ${broadcast.id}: could not send message ${item.id}`, error);
    } finally {
      rt.semaphore.release();
      if (--this.inFlight === 0) this.drained?.();
    }
  }

  /** The broadcast's status, read again when the last reading is older than STATUS_CHECK_MS. */
  private statusWhileSending(broadcastId: number): Promise<string | undefined> {
    if (Date.now() - this.status.at > STATUS_CHECK_MS) {
      const read = broadcastStatus(this.rt.db, broadcastId)
        // A read that fails (storage fault) keeps sending on the last known status; the claim stops at the next batch.
        .catch(() => 'sending');
      this.status = { at: Date.now(), read };
      void read.then((value) => {
        this.known = { at: Date.now(), value };
      });
    }
    return this.status.read;
  }
}
