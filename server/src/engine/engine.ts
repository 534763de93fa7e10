/**
 * The broadcast engine: starts due broadcasts, claims recipients in leased batches, applies the
 * channel's limits, sends through the channel's adapter with bounded concurrency, and records one
 * honest outcome per recipient. Several engine processes can share one database: claims are atomic
 * statements, limits live in shared rows, and a lease that runs out is recovered by anyone.
 *
 * The one rule that keeps a message from going out twice: a recipient is marked "dispatched" in the
 * database before its request leaves, and a dispatched recipient is never sent again automatically.
 *
 * When the database refuses writes (locked by someone else past the busy timeout, disk full, I/O
 * error) the engine pauses instead of dropping work: see `durably`.
 */
import { randomUUID } from 'node:crypto';
import {
  admitWithQuota,
  type BroadcastContent,
  type ChannelRules,
  channelCapabilities,
  classifyProviderFailure,
  earliestUsefulResend,
  type FailureReason,
  guardSettings,
  hurtsQuality,
  isOptOutFailure,
  outsideWindowCarrier,
  QuotaBudget,
  windowHours,
} from '@rebound/shared';
import { and, eq, sql } from 'drizzle-orm';
import { createAdapter, WEBHOOK_PATHS } from '../channels';
import { NEVER_ABORTED } from '../channels/http';
import type { ChannelAdapter, ChannelConfig, OutboundMessage, SendOutcome } from '../channels/types';
import { type Database, type Queryable, storageFault } from '../db/client';
import { first } from '../db/first';
import { broadcasts, channels, segments, workspaces } from '../db/schema';
import { logError } from '../lib/log';
import { MAX_TIMER_MS, sleep, timerDelay } from '../lib/timers';
import { unconfirmedWindowMs } from '../lib/unconfirmed';
import { type OptOutRecord, recordOptOuts } from '../services/opt-outs';
import {
  audienceSourceOf,
  FREEZE_ROWS,
  FREEZE_START,
  type FreezeCursor,
  freezeChunk,
  recipientCountries,
  reconcile,
} from './audience';
import { assertTransition } from './broadcast-state';
import { recordEvent } from './events';
import { judgeQuality, pruneQualitySamples, sampleInsert } from './guard';
import {
  cappedRetryAfter,
  DAY_MS,
  pushBackSendSlots,
  quotaScope,
  quotaUsage,
  sendSlotsQuery,
  usableRate,
} from './limits';
import { type Failure, writeFailures } from './outcomes';
import { runDueRecoveries } from './recovery';
import { settleBroadcastStatus, stateCounts } from './verdict';

/** A transaction of the engine's database. */
type StartTx = Parameters<Parameters<Database['transaction']>[0]>[0];

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

type ChannelRow = typeof channels.$inferSelect;
type BroadcastRow = typeof broadcasts.$inferSelect;

interface Claimed {
  id: number;
  identifier: string;
  attempts: number;
  useTemplate: boolean;
  /**
   * The claim's own lease (worker and claim number), not just the worker's: a row whose lease ran
   * out and that this same process claimed again must not be sent from the older claim as well.
   */
  lease: string;
}

interface Outcome {
  item: Claimed;
  outcome: SendOutcome;
}

/** A claimed batch; `slot` is set when the claim already marked it dispatched and took its rate slots. */
interface Batch {
  items: Claimed[];
  slot?: number;
}

/** One broadcast's sending in this process: requests in flight and outcomes waiting to be written. */
interface Lane {
  /** Requests sent and not yet answered; `drained` is called when it falls to zero. */
  inFlight: number;
  drained: (() => void) | undefined;
  results: Outcome[];
  flushing: Promise<void>;
  /** Flushes queued and not yet written: sending waits when the writing falls behind. */
  pendingFlushes: number;
  lastFlush: number;
  /** Set while an outcome waits for a flush that no later launch may bring (a slow channel's sends). */
  flushTimer: NodeJS.Timeout | undefined;
  /** Late sends gathered in this turn of the event loop, to take their fresh slots in one write. */
  lateSends: { count: number; start: Promise<number> } | undefined;
  /**
   * The broadcast's status as last read while sending (every STATUS_CHECK_MS at most): a pause or a
   * cancel from elsewhere (Meta's webhook, a manager, another process's guard) stops the sends in hand
   * within that, not after the batch (up to 5 s of a paced channel's sending).
   */
  status: { at: number; read: Promise<string | undefined> };
}

/** How stale the status a send checks may be. */
const STATUS_CHECK_MS = 200;

class Semaphore {
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

/**
 * How late a paced send may go out on its own slot. Sends at most L ms late put at most rate × L / 1000
 * more into any one second than the rate allows: 10 ms is 1 %. Later ones take a fresh slot, which is
 * a write; at 5 ms a process sharing the file with others woke late so often that taking fresh slots
 * became most of its work.
 */
const LATE_SEND_MS = 10;
const lateTolerance = (interval: number) => Math.max(LATE_SEND_MS, 4 * interval);
/** The most a reservation reserves ahead of now: a database that slow is paused soon anyway. */
const MAX_SLOT_LEAD_MS = 1000;

/** When a send may go, from the slot reservations it made (channel, and broadcast when slower). */
function firstSlot(reservations: readonly { start: number }[][], now: number): number {
  return Math.max(now, ...reservations.map((rows) => rows[0]?.start ?? now));
}

/** Retry delays while paused: short at first (a lock held briefly), then a cheap probe every few seconds. */
const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 2000;

/** Set while the database refuses writes: claims and sends wait for `resumed`. */
interface Pause {
  since: number;
  resumed: Promise<void>;
  resume: () => void;
}

export class BroadcastEngine {
  readonly workerId: string;
  private readonly db: Database;
  private readonly concurrency: number;
  private readonly maxBatch: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly freezeRows: number;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly publicUrl: string | undefined;
  private readonly clock: () => number;
  private readonly adapterFor: (channel: ChannelConfig) => ChannelAdapter;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly semaphore: Semaphore;
  private readonly lanes = new Map<number, Promise<void>>();
  private readonly adapters = new Map<number, { updatedAt: number; adapter: ChannelAdapter }>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopping = false;
  private pause: Pause | undefined;
  /** Sends waiting for their slot; stop() wakes them, and they go back to the queue unsent. */
  private readonly slotWaits = new Set<() => void>();
  /** Broadcasts the quality guard paused from this process: their sends in hand stop at once. */
  private readonly halted = new Set<number>();
  private prunedAt = 0;
  /** Recipients sent by this process, for tests and benchmarks that check how work was shared. */
  sentCount = 0;
  /** Numbers this process's claims, so that each claim's lease is its own. */
  private claims = 0;
  /** Set while ticks fail on a storage fault, so that it is logged once. */
  private unreachableSince: number | undefined;
  /** How long a slot reservation takes to come back, smoothed (see `reserving`). */
  private reservationMs = 0;

  constructor(options: EngineOptions) {
    this.db = options.db;
    this.workerId = options.workerId ?? `engine-${randomUUID().slice(0, 8)}`;
    this.concurrency = options.concurrency ?? 64;
    this.maxBatch = options.maxBatch ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.freezeRows = options.freezeRows ?? FREEZE_ROWS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.publicUrl = options.publicUrl;
    this.clock = options.clock ?? Date.now;
    this.adapterFor = options.adapterFor ?? createAdapter;
    this.log = options.log ?? ((message, error) => logError(`[engine ${this.workerId}] ${message}`, error));
    this.semaphore = new Semaphore(this.concurrency);
  }

  /** True while the database refuses writes and the engine waits for it. */
  get paused(): boolean {
    return this.pause !== undefined;
  }

  /**
   * Runs a write until the database takes it. A storage fault pauses the engine: claims and sends
   * wait (a send needs its "dispatched" mark written first, and its outcome written after), outcomes
   * already received stay in memory with the write that failed, and that write is retried with
   * backoff; the first retry that gets through resumes everything. Logged once per pause, not per
   * write. Every write here is atomic (one statement, batch or transaction), so a failed one left
   * nothing half done and is simply run again. There is no giving up: a stop() during a pause waits
   * for the database, because what this process holds (outcomes, batches it never sent) is known
   * nowhere else. Any other error is thrown as before.
   */
  private async durably<T>(write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await write();
        // Only a write that had failed ends a pause: on a full disk, a write that needs no new page
        // (an update that changes nothing) goes through and proves nothing.
        if (attempt > 0) this.resume();
        return result;
      } catch (error) {
        const fault = storageFault(error);
        if (!fault) throw error;
        this.enterPause(fault);
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        await sleep(backoff * (0.75 + Math.random() / 2));
      }
    }
  }

  private enterPause(fault: Error): void {
    if (this.pause) return;
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.pause = { since: Date.now(), resumed, resume };
    // A log line, not an event: events live in the database that is refusing writes.
    this.log(
      'paused: the database refuses writes; claims and sends wait, outcomes already received are kept in memory and retried',
      fault,
    );
  }

  private resume(): void {
    const pause = this.pause;
    if (!pause) return;
    this.pause = undefined;
    this.log(`resumed: the database takes writes again after ${Date.now() - pause.since} ms`);
    pause.resume();
  }

  /** Returns once the engine is not paused. */
  private async whileWritable(): Promise<void> {
    while (this.pause) await this.pause.resumed;
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
      await this.durably(() => pruneQualitySamples(this.db, this.prunedAt));
    }
    await this.startDueBroadcasts();
    await runDueRecoveries(this.db, this.clock(), this.log).catch((error) =>
      this.log('automatic re-sends could not be planned', error),
    );
    const sending = await this.db
      .select({ id: broadcasts.id })
      .from(broadcasts)
      .where(eq(broadcasts.status, 'sending'));
    for (const { id } of sending) {
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
      const busy = await this.db.get<{ n: number }>(sql`SELECT
          (SELECT count(*) FROM broadcasts WHERE status = 'scheduled' AND scheduled_at <= ${this.clock()})
        + (SELECT count(*) FROM broadcasts WHERE recovery_due_at <= ${this.clock()})
        + (SELECT count(*) FROM messages m JOIN broadcasts b ON b.id = m.broadcast_id
           WHERE b.status = 'sending' AND (m.state = 'sending' OR (m.state = 'queued' AND m.next_attempt_at <= ${this.clock()}))) AS n`);
      const waiting = await this.db.get<{ at: number | null }>(sql`SELECT min(m.next_attempt_at) AS at FROM messages m
        JOIN broadcasts b ON b.id = m.broadcast_id WHERE b.status = 'sending' AND m.state = 'queued'`);
      if (!busy?.n && waiting?.at == null) return;
      if (!busy?.n && waiting?.at != null) await sleep(Math.min(1000, Math.max(5, waiting.at - this.clock())));
      else await sleep(5);
    }
    throw new Error('engine did not become idle in time');
  }

  /** Leases that ran out: undispatched recipients go back to the queue; dispatched ones become uncertain. */
  async recoverExpiredLeases(): Promise<void> {
    // Asked first with a read: an UPDATE takes the write lock even when it matches nothing, and on a
    // shared file every process's tick would queue behind the others' sends for it (the driver waits
    // for that lock synchronously, event loop and all).
    const expired = await first<{ one: number }>(
      this.db,
      sql`SELECT 1 AS one FROM messages WHERE state = 'sending' AND lease_until < ${this.clock()} LIMIT 1`,
    );
    if (!expired) return;
    await this.durably(() => {
      const now = this.clock();
      return this.db.run(sql`UPDATE messages SET
        state = CASE WHEN dispatched_at IS NULL THEN 'queued' ELSE 'uncertain' END,
        reason = CASE WHEN dispatched_at IS NULL THEN reason ELSE 'uncertain' END,
        provider_message = CASE WHEN dispatched_at IS NULL THEN provider_message ELSE NULL END,
        failed_at = CASE WHEN dispatched_at IS NULL THEN failed_at ELSE ${now} END,
        lease_owner = NULL, lease_until = NULL, updated_at = ${now}
      WHERE state = 'sending' AND lease_until < ${now}`);
    });
  }

  // ── starting a broadcast ────────────────────────────────────────────────────────────────────────

  private async startDueBroadcasts(): Promise<void> {
    const due = await this.db
      .select({ id: broadcasts.id })
      .from(broadcasts)
      .where(and(eq(broadcasts.status, 'scheduled'), sql`${broadcasts.scheduledAt} <= ${this.clock()}`))
      .orderBy(broadcasts.scheduledAt);
    for (const { id } of due) {
      if (this.stopping) return;
      await this.durably(() => this.startBroadcast(id)).catch((error) =>
        this.log(`broadcast ${id} could not start`, error),
      );
    }
  }

  /**
   * Starts a due broadcast: checks it can go and takes its start lease (one process wins the start),
   * freezes its audience `freezeRows` recipients per transaction (a whole 1,000,000-recipient audience
   * in one held the database 9 s), reads the counts with no lock held, and changes its status in a
   * last short transaction. A process that dies mid-freeze leaves its lease to run out; another goes
   * on from the cursor, and a process stopping mid-freeze does the same on its next start.
   */
  async startBroadcast(broadcastId: number): Promise<void> {
    const now = this.clock();
    const failStart = async (tx: StartTx, broadcast: typeof broadcasts.$inferSelect, errorCode: string) => {
      assertTransition(broadcast.status, 'failed');
      await tx
        .update(broadcasts)
        .set({
          status: 'failed',
          errorCode,
          startedAt: new Date(now),
          finishedAt: new Date(now),
          updatedAt: new Date(now),
        })
        .where(eq(broadcasts.id, broadcastId));
      await recordEvent(tx, {
        workspaceId: broadcast.workspaceId,
        type: 'broadcast.failed',
        broadcastId,
        data: { name: broadcast.name, errorCode },
        at: now,
      });
      await forgetStart(tx);
    };
    // A start that will not finish (failed, or cancelled meanwhile): what it froze is never sent.
    const forgetStart = async (tx: StartTx) => {
      await tx.run(
        sql`UPDATE messages SET state = 'cancelled', updated_at = ${now} WHERE broadcast_id = ${broadcastId} AND state = 'queued'`,
      );
      await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId}`);
    };
    const start = await this.db.transaction(async (tx) => {
      const [broadcast] = await tx.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
      if (broadcast?.status !== 'scheduled') return undefined;
      const [segment] = broadcast.segmentId
        ? await tx.select().from(segments).where(eq(segments.id, broadcast.segmentId))
        : [];
      // A re-send goes to exactly the failed recipients it was planned for; its segment only labels them.
      const source = await audienceSourceOf(tx, broadcast, segment);
      if (!source)
        return failStart(tx, broadcast, segment?.deletedAt ? 'broadcast_segment_deleted' : 'segment_not_found');
      const [channel] = await tx.select().from(channels).where(eq(channels.id, broadcast.channelId));
      if (!channel || channel.deletedAt) return failStart(tx, broadcast, 'broadcast_channel_missing');
      if (!channelCapabilities[channel.type].canBroadcast)
        return failStart(tx, broadcast, 'broadcast_unsupported_channel');
      const [workspace] = await tx.select().from(workspaces).where(eq(workspaces.id, broadcast.workspaceId));
      // The start lease: ours if nobody holds it, or we held it (a retry, or this worker's earlier life).
      const [held] = await tx.all<{
        phase: FreezeCursor['phase'];
        after_identifier: string | null;
        after_contact_id: number;
      }>(
        sql`INSERT INTO broadcast_starts (broadcast_id, owner, lease_until, phase, after_identifier, after_contact_id)
          VALUES (${broadcastId}, ${this.workerId}, ${now + this.leaseMs}, ${FREEZE_START.phase}, NULL, 0)
          ON CONFLICT (broadcast_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
          WHERE broadcast_starts.owner = excluded.owner OR broadcast_starts.lease_until < ${now}
          RETURNING phase, after_identifier, after_contact_id`,
      );
      if (!held) return undefined;
      return {
        broadcast,
        ctx: {
          scope: { workspaceId: broadcast.workspaceId, defaultCountry: workspace?.defaultCountry ?? 'AR' },
          channel: { id: channel.id, type: channel.type },
          source,
        },
        cursor: {
          phase: held.phase,
          afterIdentifier: held.after_identifier,
          afterContactId: Number(held.after_contact_id),
        },
      };
    });
    if (!start) return;
    const { broadcast, ctx } = start;
    let cursor: FreezeCursor = start.cursor;
    while (cursor.phase !== 'done') {
      if (this.stopping) return;
      const from = cursor;
      const next = await this.db.transaction(async (tx) => {
        // Still ours, and still where we left it: otherwise another process took the start over.
        const [ours] = await tx.all(sql`UPDATE broadcast_starts SET lease_until = ${this.clock() + this.leaseMs}
          WHERE broadcast_id = ${broadcastId} AND owner = ${this.workerId} AND phase = ${from.phase}
            AND after_identifier IS ${from.afterIdentifier} AND after_contact_id = ${from.afterContactId}
          RETURNING 1 AS held`);
        if (!ours) return undefined;
        const [current] = await tx
          .select({ status: broadcasts.status })
          .from(broadcasts)
          .where(eq(broadcasts.id, broadcastId));
        // No longer ours to start (started elsewhere, say after a replica's stale read): let the lease go
        // and touch nothing else; a cancel has already cancelled what was frozen.
        if (current?.status !== 'scheduled') {
          await tx.run(sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId}`);
          return undefined;
        }
        const moved = await freezeChunk(tx, { ...ctx, broadcastId, now }, from, this.freezeRows);
        await tx.run(sql`UPDATE broadcast_starts SET phase = ${moved.phase}, after_identifier = ${moved.afterIdentifier},
          after_contact_id = ${moved.afterContactId} WHERE broadcast_id = ${broadcastId}`);
        return moved;
      });
      if (!next) return;
      cursor = next;
    }
    // Read with no lock held: nothing else writes a scheduled broadcast's recipients.
    const counts = await stateCounts(this.db, broadcastId);
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    const { entered, left } = await reconcile(this.db, broadcastId);
    const excluded = await this.db.all<{ reason: string; n: number }>(sql`SELECT reason, count(*) AS n FROM messages
      WHERE broadcast_id = ${broadcastId} AND state = 'excluded' GROUP BY reason`);
    const excludedBy = Object.fromEntries(excluded.map((r) => [r.reason, r.n]));
    // By country, once: what its cost so far is priced by (services/broadcasts.ts).
    const countryMix = await recipientCountries(this.db, broadcastId);
    await this.db.transaction(async (tx) => {
      const [ours] = await tx.all(
        sql`DELETE FROM broadcast_starts WHERE broadcast_id = ${broadcastId} AND owner = ${this.workerId} RETURNING 1 AS held`,
      );
      if (!ours) return;
      const [current] = await tx.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
      // Cancelled while its audience was being frozen: the cancel already cancelled what was frozen.
      if (current?.status !== 'scheduled') return;
      const target = current.targetCount ?? total;
      const reconciliation = {
        target,
        entered,
        left,
        duplicates: excludedBy.duplicate ?? 0,
        invalidIdentifiers: excludedBy.invalid_identifier ?? 0,
        noIdentifier: excludedBy.no_identifier ?? 0,
        completed: counts.queued ?? 0,
      };
      if (total === 0) return failStart(tx, current, 'broadcast_empty_target');
      if (!counts.queued) {
        await tx.update(broadcasts).set({ reconciliation }).where(eq(broadcasts.id, broadcastId));
        return failStart(tx, current, 'broadcast_no_reachable_recipients');
      }
      assertTransition(current.status, 'sending');
      await tx
        .update(broadcasts)
        .set({ status: 'sending', reconciliation, countryMix, startedAt: new Date(now), updatedAt: new Date(now) })
        .where(eq(broadcasts.id, broadcastId));
      await recordEvent(tx, {
        workspaceId: broadcast.workspaceId,
        type: 'broadcast.started',
        broadcastId,
        data: { name: current.name, recipients: counts.queued, excluded: total - (counts.queued ?? 0) },
        at: now,
      });
    });
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends one broadcast's queued recipients until none is due. Claiming, sending and writing down
   * outcomes overlap: the next batch is claimed while the last one is still in flight, and outcomes
   * are written behind the sends, so the provider always has `concurrency` requests to answer.
   */
  private async runLane(broadcastId: number): Promise<void> {
    const lane: Lane = {
      inFlight: 0,
      drained: undefined,
      results: [],
      flushing: Promise.resolve(),
      pendingFlushes: 0,
      lastFlush: Date.now(),
      flushTimer: undefined,
      lateSends: undefined,
      status: { at: Date.now(), read: Promise.resolve('sending') },
    };
    const [broadcast] = await this.db.select().from(broadcasts).where(eq(broadcasts.id, broadcastId));
    const [channel] = broadcast
      ? await this.db.select().from(channels).where(eq(channels.id, broadcast.channelId))
      : [];
    if (broadcast?.status === 'sending' && channel) {
      // The next batch is claimed while this one is being sent, so the provider never waits on us.
      let next = this.claimBatch(broadcast, channel);
      let status: string | undefined = 'sending';
      while (!this.stopping) {
        const claimed = await next;
        if (claimed.items.length === 0) break;
        next = this.claimBatch(broadcast, channel);
        await this.launch(lane, broadcast, channel, claimed);
        // A cancel stops the lane at the next batch.
        const [current] = await this.db
          .select({ status: broadcasts.status })
          .from(broadcasts)
          .where(eq(broadcasts.id, broadcastId));
        status = current?.status;
        if (status !== 'sending' || this.halted.has(broadcastId)) break;
      }
      // A batch claimed but not sent (stop or cancel) goes back to the queue at once, or is cancelled
      // with its broadcast.
      const unsent = await next;
      if (unsent.items.length) await this.releaseUnsent(unsent.items, status === 'cancelled');
    }
    if (lane.inFlight > 0)
      await new Promise<void>((resolve) => {
        lane.drained = resolve;
      });
    if (broadcast && channel) this.scheduleFlush(lane, broadcast, channel);
    await lane.flushing;
    this.halted.delete(broadcastId);
    await this.finishIfDone(broadcastId);
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

  /** Hands claimed, undispatched recipients back to the queue. */
  /**
   * A batch this process claimed and never handed to the adapter. Its "dispatched" mark (set at claim
   * on unpaced channels) is lifted too: this process knows none of it went out, so it is not uncertain.
   */
  private async releaseUnsent(items: Claimed[], cancelled: boolean): Promise<void> {
    await this.durably(() =>
      this.db.run(sql`UPDATE messages SET state = ${cancelled ? 'cancelled' : 'queued'}, lease_owner = NULL,
        lease_until = NULL, dispatched_at = NULL, attempts = attempts - 1
      WHERE id IN ${items.map((i) => i.id)} AND state = 'sending' AND lease_owner IN ${[...new Set(items.map((i) => i.lease))]}`),
    );
  }

  private effectiveRate(broadcast: BroadcastRow, channel: ChannelRow): number {
    return usableRate(Math.min(channel.messagesPerSecond, broadcast.sendRate ?? Number.POSITIVE_INFINITY));
  }

  /**
   * Waits for a send slot; false when stop() came first. A stop does not wait out a slow channel's
   * pace (up to 100 s a message) or a provider's throttle (up to 15 min): the send never left, so its
   * recipient simply goes back to the queue.
   */
  private waitForSlot(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (slotCame: boolean) => {
        clearTimeout(timer);
        this.slotWaits.delete(wake);
        resolve(slotCame);
      };
      const wake = () => done(false);
      const timer = setTimeout(() => done(true), timerDelay(ms));
      this.slotWaits.add(wake);
    });
  }

  /**
   * Claims a batch and applies the checks that need no provider, in one write transaction so that
   * quota accounting is exact across processes: opt-outs, the 24 h window, the rolling quota, the pair rate.
   */
  private async claimBatch(broadcast: BroadcastRow, channel: ChannelRow): Promise<Batch> {
    // No claiming while paused. A claim that fails is one rolled-back transaction: nothing half
    // claimed is left behind, and the retry picks the same recipients again.
    await this.whileWritable();
    return this.durably(() => this.claimOnce(broadcast, channel));
  }

  private async claimOnce(broadcast: BroadcastRow, channel: ChannelRow): Promise<Batch> {
    const now = this.clock();
    const rate = this.effectiveRate(broadcast, channel);
    // A channel without a real rate limit sends a batch the moment it is claimed: the claim itself
    // marks it dispatched and takes its rate slots, one write instead of three.
    const immediate = this.isUnpaced(broadcast, channel);
    // A paced batch is sent before its lease runs out, the next one claimed ahead included: at most
    // an eighth of the lease at the full rate (a process sharing the rate with others takes longer).
    // Bigger, and with short leases another process takes back what this one is about to send.
    const size = immediate
      ? this.groupSize(rate)
      : Math.max(1, Math.min(this.maxBatch, Math.ceil(rate * 5), Math.floor((rate * this.leaseMs) / 8000)));
    return this.db.transaction(async (tx) => {
      // The batch comes back as one JSON value, not as a driver row per recipient (the driver builds
      // each row property by property); the write transaction keeps the picked rows from being claimed
      // by anyone else before the update. Picked by id alone: the queued-recipients index answers that.
      const pick = sql`SELECT json_group_array(json_array(id, identifier, attempts + 1)) AS batch
        FROM messages WHERE id IN (SELECT id FROM messages WHERE broadcast_id = ${broadcast.id} AND state = 'queued'
                                   AND next_attempt_at <= ${now} ORDER BY id LIMIT ${size})`;
      const batch = (await tx.get<{ batch: string }>(pick))?.batch ?? '[]';
      const rows = (JSON.parse(batch) as [number, string, number][]).map(([id, identifier, attempts]) => ({
        id,
        identifier,
        attempts,
      }));
      if (rows.length === 0) return { items: [] };
      const lease = `${this.workerId}:${++this.claims}`;
      await tx.run(sql`UPDATE messages
        SET state = 'sending', lease_owner = ${lease}, lease_until = ${now + this.leaseMs},
            dispatched_at = ${immediate ? now : null},
            attempts = attempts + 1, updated_at = ${now}
        WHERE id IN (SELECT value ->> 0 FROM json_each(${batch})) AND state = 'queued'`);
      rows.sort((a, b) => a.id - b.id);
      // The policy decides (shared/src/policy.ts); this only gathers the facts it reads, a few
      // statements per batch: opt-outs, open windows, this number's ledger (pair rate) and the quota's.
      const content = broadcast.content;
      const scope = await quotaScope(tx, channel);
      const rules: ChannelRules = {
        type: channel.type,
        dailyQuota: scope.limit,
        pairRatePerRecipientSeconds: channel.pairRatePerRecipientSeconds,
      };
      const needsLedger = scope.limit !== null || channel.pairRatePerRecipientSeconds !== null;
      const identifiers = rows.map((r) => r.identifier);
      // One JSON parameter rather than one bound parameter per recipient.
      const identifierList = JSON.stringify(identifiers);
      const optedOut = new Set(
        (
          await tx.all<{ identifier: string }>(sql`SELECT identifier FROM opt_outs WHERE channel_id = ${channel.id}
            AND identifier IN (SELECT value FROM json_each(${identifierList}))`)
        ).map((r) => r.identifier),
      );
      const hours = windowHours(channel.type);
      const windowOpen = new Set(
        hours === null
          ? []
          : (
              await tx.all<{
                identifier: string;
              }>(sql`SELECT identifier FROM conversation_windows WHERE channel_id = ${channel.id}
                AND identifier IN (SELECT value FROM json_each(${identifierList})) AND last_inbound_at > ${now - hours * 3_600_000}`)
            ).map((r) => r.identifier),
      );
      const lastHere = new Map(
        needsLedger
          ? (
              await tx.all<{
                identifier: string;
                last: number;
              }>(sql`SELECT identifier, last_sent_at AS last FROM quota_ledger
                WHERE channel_id = ${channel.id} AND identifier IN (SELECT value FROM json_each(${identifierList})) AND last_sent_at > ${now - DAY_MS}`)
            ).map((r) => [r.identifier, r.last])
          : [],
      );
      // A portfolio's other numbers count too: a recipient any of them wrote to is not new.
      const countedElsewhere =
        scope.limit !== null && scope.channelIds.length > 1
          ? new Set(
              (
                await tx.all<{ identifier: string }>(sql`SELECT DISTINCT identifier FROM quota_ledger
                  WHERE channel_id IN (SELECT value FROM json_each(${JSON.stringify(scope.channelIds)}))
                  AND identifier IN (SELECT value FROM json_each(${identifierList})) AND last_sent_at > ${now - DAY_MS}`)
              ).map((r) => r.identifier),
            )
          : undefined;
      const usage = scope.limit === null ? undefined : await quotaUsage(tx, scope, now);
      const budget = new QuotaBudget(scope.limit, usage?.used ?? 0);

      const sendable: Claimed[] = [];
      const failures: Failure[] = [];
      const later: { id: number; at: number }[] = [];
      const ledgerWrites: string[] = [];
      for (const row of rows) {
        const last = lastHere.get(row.identifier);
        const admission = admitWithQuota(
          {
            optedOut: optedOut.has(row.identifier),
            windowOpen: windowOpen.has(row.identifier),
            countedInQuota: last !== undefined || (countedElsewhere?.has(row.identifier) ?? false),
            lastSentAt: last ?? null,
          },
          rules,
          content,
          budget,
          now,
        );
        if (admission.kind === 'defer') later.push({ id: row.id, at: admission.until });
        else if (admission.kind === 'fail') {
          // Rebound's own decision: no provider code or text; the catalog explains it in the reader's language.
          failures.push({
            id: row.id,
            reason: admission.reason,
            code: null,
            message: null,
            retryAfterAt: admission.reason === 'quota_reached' ? (usage?.capacityFreesAt ?? now + DAY_MS) : null,
            // What would have gone out, so the failed log shows the template when it was one.
            ...(admission.reason === 'quota_reached' && {
              useTemplate:
                !windowOpen.has(row.identifier) && outsideWindowCarrier(channel.type, content) === 'template',
            }),
          });
        } else {
          if (needsLedger) ledgerWrites.push(row.identifier);
          sendable.push({
            id: row.id,
            identifier: row.identifier,
            attempts: row.attempts,
            useTemplate: admission.useTemplate,
            lease,
          });
        }
      }

      for (let i = 0; i < ledgerWrites.length; i += 400) {
        const chunk = ledgerWrites.slice(i, i + 400);
        await tx.run(sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at) VALUES
          ${sql.join(
            chunk.map((identifier) => sql`(${channel.id}, ${identifier}, ${now})`),
            sql`, `,
          )}
          ON CONFLICT (channel_id, identifier) DO UPDATE SET last_sent_at = excluded.last_sent_at`);
      }
      if (later.length) {
        for (const { id, at } of later) {
          await tx.run(sql`UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL,
            attempts = attempts - 1, next_attempt_at = ${at} WHERE id = ${id}`);
        }
      }
      if (failures.length) {
        await writeFailures(tx, failures, now);
        await this.recordFailures(
          tx,
          broadcast,
          failures.map((f) => f.reason),
          now,
        );
      }
      if (!immediate || sendable.length === 0) return { items: sendable };
      const [slot] = await tx.all<{ start: number }>(
        sendSlotsQuery(`channel:${channel.id}`, channel.messagesPerSecond, sendable.length, now),
      );
      return { items: sendable, slot: slot?.start ?? now };
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

  /**
   * A fresh send slot for a send that woke too late. The late sends of one turn of the event loop
   * take theirs together, in one write: a process that stalled wakes dozens of sends at once, and a
   * write each (waiting for the file's lock with the event loop blocked) made every next one late too.
   */
  private freshSlot(lane: Lane, broadcast: BroadcastRow, channel: ChannelRow): Promise<number> {
    let late = lane.lateSends;
    if (!late) {
      const gathered = { count: 0, start: Promise.resolve(0) };
      gathered.start = new Promise((resolve) => setImmediate(resolve)).then(() => {
        lane.lateSends = undefined;
        return this.durably(() => this.freshSlotsOnce(broadcast, channel, gathered.count));
      });
      late = lane.lateSends = gathered;
    }
    const k = late.count++;
    const interval = 1000 / this.effectiveRate(broadcast, channel);
    return late.start.then((start) => start + k * interval);
  }

  /** `count` send slots taken now: the first one's time. */
  private async freshSlotsOnce(broadcast: BroadcastRow, channel: ChannelRow, count: number): Promise<number> {
    return this.reserving(async (from) =>
      firstSlot(await this.db.batch(this.slotReservations(broadcast, channel, count, from)), from),
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

  /** Reserving `count` send slots on the channel and, when it is slower, on the broadcast too. */
  private slotReservations(broadcast: BroadcastRow, channel: ChannelRow, count: number, now: number) {
    const perBroadcast = broadcast.sendRate !== null && broadcast.sendRate < channel.messagesPerSecond;
    return [
      this.db.all<{ start: number }>(sendSlotsQuery(`channel:${channel.id}`, channel.messagesPerSecond, count, now)),
      ...(perBroadcast
        ? [
            this.db.all<{ start: number }>(
              sendSlotsQuery(`broadcast:${broadcast.id}`, broadcast.sendRate ?? 1, count, now),
            ),
          ]
        : []),
    ] as const;
  }

  /** Writes outcomes behind the sends, one flush after another. */
  private scheduleFlush(lane: Lane, broadcast: BroadcastRow, channel: ChannelRow): void {
    const batch = lane.results.splice(0);
    lane.lastFlush = Date.now();
    if (batch.length === 0) return;
    lane.pendingFlushes++;
    lane.flushing = lane.flushing
      .then(() => this.flush(broadcast, channel, batch))
      .finally(() => {
        lane.pendingFlushes--;
      })
      // Storage faults are retried inside flush; only another error drops outcomes, whose recipients
      // keep their lease and are recovered as uncertain when it runs out, never resent.
      .catch((error) => this.log(`broadcast ${broadcast.id}: could not write ${batch.length} outcomes`, error));
  }

  /**
   * Launches a claimed batch in groups: reserve rate slots, mark the group dispatched, send each at
   * its slot. Returns once every request is launched; the lane waits for the answers.
   */
  private async launch(lane: Lane, broadcast: BroadcastRow, channel: ChannelRow, batch: Batch): Promise<void> {
    const claimed = batch.items;
    const adapter = this.adapter(channel);
    const rate = this.effectiveRate(broadcast, channel);
    const interval = 1000 / rate;

    // A crash leaves at most two groups marked dispatched but unsent (this one and the next claimed).
    const paced = batch.slot === undefined;
    const groupSize = paced ? this.groupSize(rate) : claimed.length;
    for (let start = 0; start < claimed.length; start += groupSize) {
      // The driver answers in microtasks and the sandbox at once: without a turn of the event loop
      // here, a big broadcast would starve timers and the HTTP API in the same process.
      await new Promise((resolve) => setImmediate(resolve));
      const group = claimed.slice(start, start + groupSize);
      let slot = batch.slot ?? this.clock();
      let mine: Set<number> | undefined;
      if (batch.slot === undefined)
        ({ slot, mine } = await this.durably(() => this.markDispatched(broadcast, channel, group)));
      for (let k = 0; k < group.length; k++) {
        const item = group[k] as Claimed;
        if (mine && !mine.has(item.id)) continue;
        if (!this.semaphore.tryAcquire()) await this.semaphore.acquire();
        lane.inFlight++;
        void this.sendOne(lane, adapter, broadcast, channel, item, slot + k * interval, paced ? interval : undefined);
      }
      // Flush often: an answer not yet written down is an "uncertain" recipient if the process dies.
      if (lane.results.length >= groupSize || Date.now() - lane.lastFlush > 50)
        this.scheduleFlush(lane, broadcast, channel);
    }
  }

  /**
   * Rate slots and the dispatched mark in one write: only recipients whose lease is still ours go
   * out, and the mark is what forbids a second send after a crash.
   */
  private async markDispatched(
    broadcast: BroadcastRow,
    channel: ChannelRow,
    group: Claimed[],
  ): Promise<{ slot: number; mine: Set<number> }> {
    return this.reserving(async (from) => {
      const [mark, ...slots] = await this.db.batch([
        this.db.all<{ id: number }>(sql`UPDATE messages SET dispatched_at = ${this.clock()}
          WHERE id IN ${group.map((g) => g.id)} AND state = 'sending' AND lease_owner = ${group[0]?.lease ?? ''} RETURNING id`),
        ...this.slotReservations(broadcast, channel, group.length, from),
      ]);
      return { slot: firstSlot(slots, from), mine: new Set(mark.map((r) => r.id)) };
    });
  }

  /**
   * Sends one recipient at its slot and keeps the outcome for the next flush. Holds a semaphore
   * permit, released here. `pacedInterval` is set on a paced channel, where a late send takes a fresh slot.
   */
  private async sendOne(
    lane: Lane,
    adapter: ChannelAdapter,
    broadcast: BroadcastRow,
    channel: ChannelRow,
    item: Claimed,
    slotAt: number,
    pacedInterval: number | undefined,
  ): Promise<void> {
    try {
      let slot = slotAt;
      let lateWakeups = 0;
      for (;;) {
        // Nothing leaves while the engine is paused: its outcome could not be written, and every
        // answer held only in memory is one more "uncertain" recipient if the process dies meanwhile.
        if (this.pause) await this.whileWritable();
        // Never early: a send waits for its slot, rounded up to the timer's millisecond.
        let wait = slot - this.clock();
        // Never in a burst either: on a paced channel a send that missed its slot (the process
        // stalled, or paused) takes a fresh one, or it would go out with the slots other processes use now.
        // (Unpaced channels claim ahead, so their sends are always "late", and harmlessly so.)
        if (pacedInterval !== undefined && wait < -lateTolerance(pacedInterval)) {
          slot = await this.freshSlot(lane, broadcast, channel);
          wait = slot - this.clock();
        }
        if (wait > 0 && !(await this.waitForSlot(Math.ceil(wait)))) {
          await this.releaseUnsent([item], false);
          return;
        }
        // A wait longer than a timer can hold was cut short: wait again for the rest.
        if (wait > MAX_TIMER_MS) continue;
        // A pause that began while this send waited for its slot: wait for the resume, then for a slot again.
        if (this.pause) continue;
        // A timer fires late when the event loop is busy: a wake-up past the tolerance takes a fresh slot
        // too. Bounded, so that a process that is slow all the time still sends (a few ms late) rather than never.
        if (pacedInterval !== undefined && slot - this.clock() < -lateTolerance(pacedInterval) && ++lateWakeups <= 3)
          continue;
        break;
      }
      // Paused (or cancelled) while this send waited: it never left, so it goes back to the queue, or is
      // cancelled with its broadcast. Only a paced send waits long enough to need the status read again;
      // an unpaced batch is about 0.1 s of sending, and the lane reads the status after each one.
      const status = this.halted.has(broadcast.id)
        ? 'paused'
        : pacedInterval === undefined
          ? 'sending'
          : await this.statusWhileSending(lane, broadcast.id);
      if (status !== 'sending') {
        await this.releaseUnsent([item], status === 'cancelled');
        return;
      }
      const message: OutboundMessage = {
        messageId: item.id,
        to: item.identifier,
        content: broadcast.content as BroadcastContent,
        useTemplate: item.useTemplate,
        timeoutMs: this.requestTimeoutMs,
      };
      const callbackUrl = this.statusCallbackUrl(channel, item.id);
      if (callbackUrl !== undefined) message.statusCallbackUrl = callbackUrl;
      let outcome: SendOutcome;
      try {
        // Timeouts are the HTTP client's own (timeoutMs): an abort signal per request costs
        // listeners and timers at thousands of messages a second.
        outcome = await adapter.send(message, NEVER_ABORTED);
      } catch (error) {
        outcome = { kind: 'uncertain', providerMessage: String(error) };
      }
      lane.results.push({ item, outcome });
      // Launches flush as they go; on a slow channel the next launch is a slot (up to 100 s) away, and
      // an answer not written down is an uncertain recipient if the process dies: written within 50 ms.
      lane.flushTimer ??= setTimeout(() => {
        lane.flushTimer = undefined;
        if (lane.results.length) this.scheduleFlush(lane, broadcast, channel);
      }, 50);
    } catch (error) {
      // Only taking a fresh slot can fail here (not on a storage fault, which it waits out); the
      // recipient is dispatched, so its lease recovery makes it uncertain.
      this.log(`broadcast ${broadcast.id}: could not send message ${item.id}`, error);
    } finally {
      this.semaphore.release();
      if (--lane.inFlight === 0) lane.drained?.();
    }
  }

  /** The broadcast's status, read again when the last reading is older than STATUS_CHECK_MS. */
  private statusWhileSending(lane: Lane, broadcastId: number): Promise<string | undefined> {
    if (Date.now() - lane.status.at > STATUS_CHECK_MS) {
      const read = first<{ status: string }>(this.db, sql`SELECT status FROM broadcasts WHERE id = ${broadcastId}`)
        .then((row) => row?.status)
        // A read that fails (storage fault) keeps sending on the last known status; the claim stops at the next batch.
        .catch(() => 'sending');
      lane.status = { at: Date.now(), read };
    }
    return lane.status.read;
  }

  /** Writes a group of outcomes; a state already settled by a delivery report is never moved back. */
  private async flush(broadcast: BroadcastRow, channel: ChannelRow, outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const now = this.clock();
    // [id, provider message ID, delivered 0/1]: the shape the statement reads, built once.
    // What went out is written with its outcome (no statement of its own), so a late failure, or an
    // unconfirmed one, shows the template that was sent.
    const accepted: [number, string, 0 | 1, 0 | 1][] = [];
    const failures: Failure[] = [];
    const retries: { id: number; at: number; lease: string }[] = [];
    const uncertain: { id: number; message: string; useTemplate: boolean }[] = [];
    // A send refused because the contact opted out (WhatsApp 131050, Twilio 21610, a blocked bot...):
    // the contact is marked opted out on this channel, so later broadcasts leave them out at freeze.
    const optOuts: OptOutRecord[] = [];
    let throttledUntil = 0;
    const unconfirmedWindow = unconfirmedWindowMs();
    for (const { item, outcome } of outcomes) {
      switch (outcome.kind) {
        case 'accepted':
          accepted.push([item.id, outcome.providerMessageId, outcome.delivered ? 1 : 0, item.useTemplate ? 1 : 0]);
          break;
        case 'failed': {
          const reason = classifyProviderFailure(channel.type, outcome.providerCode, outcome.providerMessage);
          failures.push({
            id: item.id,
            reason,
            code: outcome.providerCode,
            message: outcome.providerMessage,
            retryAfterAt: earliestUsefulResend(reason, now, now, unconfirmedWindow),
            useTemplate: item.useTemplate,
          });
          if (isOptOutFailure(channel.type, outcome.providerCode, outcome.providerMessage))
            optOuts.push({
              channelId: channel.id,
              identifier: item.identifier,
              at: now,
              source: 'provider_code',
              detail: outcome.providerCode,
            });
          break;
        }
        case 'retry': {
          const backoff = Math.min(60_000, 500 * 2 ** (item.attempts - 1)) * (0.8 + Math.random() * 0.4);
          // A Retry-After of ten years would park the recipient (and the channel) until then: capped.
          const retryAfter = cappedRetryAfter(outcome.retryAfterMs);
          const wait = Math.max(retryAfter ?? 0, backoff);
          if (retryAfter !== undefined) throttledUntil = Math.max(throttledUntil, now + retryAfter);
          if (item.attempts >= this.maxAttempts) {
            // The provider's own words; the attempts are in their own column.
            const reason = classifyProviderFailure(channel.type, outcome.providerCode, outcome.providerMessage);
            failures.push({
              id: item.id,
              reason,
              code: outcome.providerCode,
              message: outcome.providerMessage,
              retryAfterAt: Math.max(now + wait, earliestUsefulResend(reason, now, now, unconfirmedWindow) ?? now),
              useTemplate: item.useTemplate,
            });
          } else retries.push({ id: item.id, at: now + wait, lease: item.lease });
          break;
        }
        case 'uncertain':
          uncertain.push({ id: item.id, message: outcome.providerMessage, useTemplate: item.useTemplate });
          break;
      }
    }
    // One JSON parameter for the whole group: building hundreds of bound parameters costs more than the update.
    const acceptedQuery = accepted.length
      ? sql`UPDATE messages SET
            state = CASE WHEN messages.state IN ('sending', 'uncertain') THEN (CASE WHEN v.delivered = 1 THEN 'delivered' ELSE 'sent' END) ELSE messages.state END,
            reason = CASE WHEN messages.state IN ('sending', 'uncertain') THEN NULL ELSE messages.reason END,
            provider_message_id = coalesce(messages.provider_message_id, v.pid),
            sent_at = coalesce(messages.sent_at, ${now}),
            delivered_at = CASE WHEN v.delivered = 1 THEN coalesce(messages.delivered_at, ${now}) ELSE messages.delivered_at END,
            use_template = max(messages.use_template, v.tpl),
            lease_owner = NULL, lease_until = NULL, updated_at = ${now}
          FROM (SELECT value ->> 0 AS id, value ->> 1 AS pid, value ->> 2 AS delivered, value ->> 3 AS tpl FROM json_each(${JSON.stringify(accepted)})) AS v
          WHERE messages.id = v.id`
      : undefined;
    // What the quality guard judges, written with the outcomes it counts (not when the channel's guard is off).
    const harmful = failures.filter((f) => hurtsQuality(f.reason)).length;
    const sample =
      accepted.length + failures.length > 0 && guardSettings(channel.guard).enabled
        ? {
            channelId: channel.id,
            broadcastId: broadcast.id,
            at: now,
            outcomes: accepted.length + failures.length,
            harmful,
          }
        : undefined;
    // The usual case, everything accepted, is one batch: atomic on its own, no transaction round trips.
    // Either way the write is atomic, so on a storage fault `durably` runs the same write again.
    if (acceptedQuery && !failures.length && !retries.length && !uncertain.length)
      await this.durably(() =>
        sample
          ? this.db.batch([this.db.run(acceptedQuery), sampleInsert(this.db, sample)])
          : this.db.run(acceptedQuery).then(() => undefined),
      );
    else
      await this.durably(() =>
        this.db.transaction(async (tx) => {
          if (sample) await sampleInsert(tx, sample);
          if (acceptedQuery) await tx.run(acceptedQuery);
          if (failures.length) await writeFailures(tx, failures, now);
          if (optOuts.length) await recordOptOuts(tx, optOuts);
          for (const retry of retries) {
            await tx.run(sql`UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, dispatched_at = NULL,
          next_attempt_at = ${retry.at}, updated_at = ${now} WHERE id = ${retry.id} AND state = 'sending' AND lease_owner = ${retry.lease}`);
          }
          if (uncertain.length) {
            for (const u of uncertain) {
              await tx.run(sql`UPDATE messages SET state = 'uncertain', reason = 'uncertain', provider_code = 'timeout',
            provider_message = ${u.message}, failed_at = ${now}, use_template = max(use_template, ${u.useTemplate ? 1 : 0}), lease_owner = NULL, lease_until = NULL, updated_at = ${now}
            WHERE id = ${u.id} AND state = 'sending'`);
            }
          }
          if (failures.length)
            await this.recordFailures(
              tx,
              broadcast,
              failures.map((f) => f.reason),
              now,
            );
        }),
      );
    this.sentCount += accepted.length;
    // The provider said slow down: the whole channel waits, not just this recipient. A write of its
    // own, so that retrying it never writes the outcomes (and their events) twice.
    if (throttledUntil > now)
      await this.durably(() => pushBackSendSlots(this.db, `channel:${channel.id}`, throttledUntil));
    // Only outcomes that hurt the number can trip the guard; the sends of a broadcast it paused (and of
    // the channel's others, when the channel's window tripped) stop here at once, not at the next batch.
    if (sample && harmful > 0) {
      const paused = await this.durably(() =>
        judgeQuality(this.db, { broadcastId: broadcast.id, channelId: channel.id }, now),
      );
      for (const id of paused) this.halted.add(id);
    }
  }

  private async recordFailures(db: Queryable, broadcast: BroadcastRow, reasons: FailureReason[], now: number) {
    const byReason: Record<string, number> = {};
    for (const reason of reasons) byReason[reason] = (byReason[reason] ?? 0) + 1;
    await recordEvent(db, {
      workspaceId: broadcast.workspaceId,
      type: 'messages.failed',
      broadcastId: broadcast.id,
      data: { name: broadcast.name, count: reasons.length, byReason },
      at: now,
    });
  }

  /** Once nobody is queued or sending, the broadcast gets its verdict (exactly once). */
  async finishIfDone(broadcastId: number): Promise<void> {
    await this.durably(() => settleBroadcastStatus(this.db, broadcastId, this.clock()));
  }
}
