/**
 * The broadcast engine: starts due broadcasts, claims recipients in leased batches, applies the
 * channel's limits, sends through the channel's adapter with bounded concurrency, and records one
 * honest outcome per recipient. Several engine processes can share one database: claims are atomic
 * statements, limits live in shared rows, and a lease that runs out is recovered by anyone.
 *
 * The one rule that keeps a message from going out twice: a recipient is marked "dispatched" in the
 * database before its request leaves, and a dispatched recipient is never sent again automatically.
 *
 * This file is the orchestration; each role has its own file: `start.ts` (a broadcast's start and
 * its audience's freeze), `claim.ts` (claim and admission), `lane.ts` (one broadcast's sending),
 * `pacing.ts` (send slots and the dispatched mark), `outcomes.ts` (the outcome writer) and
 * `write-pause.ts` (the pause while the database refuses writes).
 */
import { randomUUID } from 'node:crypto';
import { createAdapter, WEBHOOK_PATHS } from '../channels';
import type { ChannelAdapter, ChannelConfig } from '../channels/types';
import { type Database, storageFault } from '../db/client';
import { logError } from '../lib/log';
import { sleep, timerDelay } from '../lib/timers';
import { recheckLateFailures } from '../services/resend-store';
import { FREEZE_ROWS } from './audience';
import type { Batch, BroadcastRow, ChannelRow } from './batch';
import { claimBatch } from './claim';
import { pruneQualitySamples } from './guard';
import { Lane, type LaneRuntime, Semaphore } from './lane';
import { effectiveRate, Pacer } from './pacing';
import { anyLeaseExpired, dueBroadcasts, recoverLeases, sendingBroadcasts, workLeft } from './queue';
import { runDueRecoveries } from './recovery';
import { startBroadcast } from './start';
import { settleBroadcastStatus } from './verdict';
import { WritePause } from './write-pause';

export interface EngineOptions {
  db: Database;
  /** Names this process in leases; unique per process. */
  workerId?: string;
  /** Requests in flight at once in this process, over all broadcasts. */
  concurrency?: number;
  /** Most recipients claimed in one batch (fewer on slow channels: about 5 s of sending). */
  maxBatch?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  /** Recipients frozen per transaction when a broadcast starts. */
  freezeRows?: number;
  requestTimeoutMs?: number;
  /** Sends of one recipient before a throttle or 5xx becomes a failure. */
  maxAttempts?: number;
  /** Rebound's public base URL, for per-message delivery callback URLs. */
  publicUrl?: string;
  clock?: () => number;
  adapterFor?: (channel: ChannelConfig) => ChannelAdapter;
  log?: (message: string, error?: unknown) => void;
}

export class BroadcastEngine {
  readonly workerId: string;
  private readonly db: Database;
  private readonly concurrency: number;
  private readonly maxBatch: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly freezeRows: number;
  private readonly publicUrl: string | undefined;
  private readonly clock: () => number;
  private readonly adapterFor: (channel: ChannelConfig) => ChannelAdapter;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly pause: WritePause;
  /** What the lanes share: the database, the pause, the pacer, the semaphore, the halted broadcasts. */
  private readonly runtime: LaneRuntime;
  private readonly lanes = new Map<number, Promise<void>>();
  private readonly adapters = new Map<number, { updatedAt: number; adapter: ChannelAdapter }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping = false;
  /** Sends waiting for their slot; stop() wakes them, and they go back to the queue unsent. */
  private readonly slotWaits = new Set<() => void>();
  private prunedAt = 0;
  /** Recipients sent by this process, for tests and benchmarks that check how work was shared. */
  sentCount = 0;
  /** Numbers this process's claims, so that each claim's lease is its own. */
  private claims = 0;
  /** Set while ticks fail on a storage fault, so that it is logged once. */
  private unreachableSince: number | undefined;

  constructor(options: EngineOptions) {
    this.db = options.db;
    this.workerId = options.workerId ?? `engine-${randomUUID().slice(0, 8)}`;
    this.concurrency = options.concurrency ?? 64;
    this.maxBatch = options.maxBatch ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.freezeRows = options.freezeRows ?? FREEZE_ROWS;
    this.publicUrl = options.publicUrl;
    this.clock = options.clock ?? Date.now;
    this.adapterFor = options.adapterFor ?? createAdapter;
    this.log = options.log ?? ((message, error) => logError(`[engine ${this.workerId}] ${message}`, error));
    this.pause = new WritePause(this.log);
    const durably = <T>(write: () => Promise<T>) => this.pause.durably(write);
    this.runtime = {
      db: this.db,
      clock: this.clock,
      log: this.log,
      pause: this.pause,
      pacer: new Pacer(this.db, this.clock, durably),
      semaphore: new Semaphore(this.concurrency),
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      leaseMs: this.leaseMs,
      stopping: () => this.stopping,
      halted: new Set<number>(),
      slotWaits: this.slotWaits,
      adapter: (channel) => this.adapter(channel),
      statusCallbackUrl: (channel, messageId) => this.statusCallbackUrl(channel, messageId),
      groupSize: (rate) => this.groupSize(rate),
      claimBatch: (broadcast, channel) => this.claimBatch(broadcast, channel),
      outcomes: {
        db: this.db,
        clock: this.clock,
        maxAttempts: options.maxAttempts ?? 5,
        durably,
        sent: (count) => {
          this.sentCount += count;
        },
        halt: (broadcastId) => this.runtime.halted.add(broadcastId),
      },
      finishIfDone: (broadcastId) => this.finishIfDone(broadcastId),
    };
  }

  /** True while the database refuses writes and the engine waits for it (see `WritePause`). */
  get paused(): boolean {
    return this.pause.active;
  }

  /** Runs in the background until stop(). */
  start(): void {
    this.stopping = false;
    const loop = async () => {
      if (this.stopping) return;
      this.ticking = this.tick({ waitForLanes: false }).then(
        () => {
          if (this.unreachableSince !== undefined)
            this.log(`the database answers again after ${Date.now() - this.unreachableSince} ms`);
          this.unreachableSince = undefined;
        },
        (error) => {
          // A database away (a libSQL server restarting) fails every tick, 50 times a second: said once.
          if (!storageFault(error)) this.log('tick failed', error);
          else if (this.unreachableSince === undefined) {
            this.unreachableSince = Date.now();
            this.log('tick failed: the database does not answer; trying again every tick', error);
          }
        },
      );
      await this.ticking;
      if (!this.stopping) this.timer = setTimeout(loop, timerDelay(this.pollIntervalMs));
    };
    void loop();
  }

  /** Stops claiming; waits for the recipients in hand to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    for (const wake of this.slotWaits) wake();
    await this.ticking;
    await Promise.allSettled([...this.lanes.values()]);
  }

  /**
   * One round: recover expired leases, start due broadcasts, and start a lane for every sending
   * broadcast that has none here. Tests wait for the lanes; the background loop does not, so a
   * long broadcast never holds up the start of the next one.
   */
  async tick({ waitForLanes = true } = {}): Promise<void> {
    await this.recoverExpiredLeases();
    if (this.clock() - this.prunedAt > 600_000) {
      this.prunedAt = this.clock();
      await this.pause.durably(() => pruneQualitySamples(this.db, this.prunedAt));
    }
    await this.startDueBroadcasts();
    await runDueRecoveries(this.db, this.clock(), this.log).catch((error) =>
      this.log('automatic re-sends could not be planned', error),
    );
    for (const { id } of await sendingBroadcasts(this.db)) {
      if (this.lanes.has(id) || this.stopping) continue;
      const lane = this.runLane(id)
        .catch((error) => this.log(`broadcast ${id} lane failed`, error))
        .finally(() => this.lanes.delete(id));
      this.lanes.set(id, lane);
    }
    if (waitForLanes) await Promise.allSettled([...this.lanes.values()]);
  }

  /** For tests and scripts: ticks until no broadcast is due or sending with work that is due now. */
  async runUntilIdle({ timeoutMs = 60_000 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.tick();
      const { dueNow, nextAt } = await workLeft(this.db, this.clock());
      if (!dueNow && nextAt === null) return;
      if (!dueNow && nextAt !== null) await sleep(Math.min(1000, Math.max(5, nextAt - this.clock())));
      else await sleep(5);
    }
    throw new Error('engine did not become idle in time');
  }

  /** Leases that ran out: undispatched recipients go back to the queue; dispatched ones become uncertain. */
  async recoverExpiredLeases(): Promise<void> {
    if (!(await anyLeaseExpired(this.db, this.clock()))) return;
    const freed = await this.pause.durably(() => recoverLeases(this.db, this.clock()));
    for (const id of freed) await this.pause.durably(() => recheckLateFailures(this.db, id, this.clock()));
  }

  // ── starting a broadcast ────────────────────────────────────────────────────────────────────────

  private async startDueBroadcasts(): Promise<void> {
    for (const { id } of await dueBroadcasts(this.db, this.clock())) {
      if (this.stopping) return;
      await this.pause
        .durably(() => this.startBroadcast(id))
        .catch((error) => this.log(`broadcast ${id} could not start`, error));
    }
  }

  /** Starts a due broadcast (`start.ts`): one process wins its start lease and freezes its audience. */
  async startBroadcast(broadcastId: number): Promise<void> {
    await startBroadcast(
      {
        db: this.db,
        workerId: this.workerId,
        leaseMs: this.leaseMs,
        freezeRows: this.freezeRows,
        clock: this.clock,
        stopping: () => this.stopping,
      },
      broadcastId,
    );
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────────────

  private runLane(broadcastId: number): Promise<void> {
    return new Lane(this.runtime, broadcastId).run();
  }

  /**
   * Recipients marked dispatched together: the requests in flight at once; bigger only without a
   * real rate limit, where a group is about 0.1 s of sending and fewer, bigger claims and outcome
   * writes save the database a fixed cost per statement and rewrites of the same index pages.
   * A crash leaves at most two groups dispatched but unsent (uncertain): kept small on purpose.
   */
  private groupSize(rate: number): number {
    return rate >= 10_000 ? Math.max(this.concurrency, 1024) : this.concurrency;
  }

  private isUnpaced(broadcast: BroadcastRow, channel: ChannelRow): boolean {
    return (
      channel.messagesPerSecond >= 10_000 &&
      (broadcast.sendRate === null || broadcast.sendRate >= channel.messagesPerSecond)
    );
  }

  /**
   * Claims a batch and applies the checks that need no provider (`claim.ts`), in one write transaction.
   * No claiming while paused. A claim that fails is one rolled-back transaction: nothing half claimed
   * is left behind, and the retry picks the same recipients again.
   */
  private async claimBatch(broadcast: BroadcastRow, channel: ChannelRow): Promise<Batch> {
    await this.pause.whileWritable();
    return this.pause.durably(() => {
      const rate = effectiveRate(broadcast, channel);
      // A channel without a real rate limit sends a batch the moment it is claimed: the claim itself
      // marks it dispatched and takes its rate slots, one write instead of three.
      const immediate = this.isUnpaced(broadcast, channel);
      // A paced batch is sent before its lease runs out, the next one claimed ahead included: at most
      // an eighth of the lease at the full rate (a process sharing the rate with others takes longer).
      // Bigger, and with short leases another process takes back what this one is about to send.
      const size = immediate
        ? this.groupSize(rate)
        : Math.max(1, Math.min(this.maxBatch, Math.ceil(rate * 5), Math.floor((rate * this.leaseMs) / 8000)));
      const now = this.clock();
      return this.db.transaction((tx) =>
        claimBatch(tx, {
          broadcast,
          channel,
          now,
          size,
          immediate,
          leaseMs: this.leaseMs,
          nextLease: () => `${this.workerId}:${++this.claims}`,
        }),
      );
    });
  }

  private adapter(channel: ChannelRow): ChannelAdapter {
    const cached = this.adapters.get(channel.id);
    if (cached && cached.updatedAt === channel.updatedAt.getTime()) return cached.adapter;
    const adapter = this.adapterFor({
      id: channel.id,
      type: channel.type,
      credentials: channel.credentials,
      baseUrl: channel.baseUrl,
    });
    this.adapters.set(channel.id, { updatedAt: channel.updatedAt.getTime(), adapter });
    return adapter;
  }

  private statusCallbackUrl(channel: ChannelRow, messageId: number): string | undefined {
    const path = WEBHOOK_PATHS[channel.type];
    if (!this.publicUrl || !path) return undefined;
    return `${this.publicUrl}/webhooks/${path}/${channel.id}?messageId=${messageId}`;
  }

  /** Once nobody is queued or sending, the broadcast gets its verdict (exactly once). */
  async finishIfDone(broadcastId: number): Promise<void> {
    await this.pause.durably(() => settleBroadcastStatus(this.db, broadcastId, this.clock()));
  }
}
