/**
 * Claiming a batch of one broadcast's queued recipients and admitting each by the channel's rules,
 * in one write transaction so that quota accounting is exact across processes: opt-outs, the 24 h
 * window, the rolling quota, the pair rate. The policy decides (shared/src/policy.ts); this gathers
 * the facts it reads and writes down what it decided.
 */
import { admitWithQuota, type ChannelRules, outsideWindowCarrier, QuotaBudget, windowHours } from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client';
import { optedOutOf } from '../services/opt-outs';
import type { Batch, BroadcastRow, ChannelRow, Claimed } from './batch';
import { DAY_MS, quotaScope, quotaUsage, sendSlotsQuery } from './limits';
import { type Failure, recordFailures, writeFailures } from './outcomes';

export interface ClaimRequest {
  broadcast: BroadcastRow;
  channel: ChannelRow;
  now: number;
  /** Most recipients to claim. */
  size: number;
  /** Unpaced channel: the claim itself marks the batch dispatched and takes its rate slots. */
  immediate: boolean;
  leaseMs: number;
  /** The claim's own lease name, taken only when something is claimed. */
  nextLease: () => string;
}

/** Runs inside the claim's write transaction; an empty batch when nobody is due. */
export async function claimBatch(tx: Tx, request: ClaimRequest): Promise<Batch> {
  const { broadcast, channel, now, size, immediate, leaseMs, nextLease } = request;
  // The channel as the lane read it. Edited since (a token rotated, a rate, a base URL or a portfolio
  // changed), nothing is claimed (no quota or pair-rate entries for a batch that will not go out): the
  // lane ends, and the engine's next lane claims with the channel as it is now.
  const [edited] = await tx.all<{ at: number }>(sql`SELECT updated_at AS at FROM channels WHERE id = ${channel.id}`);
  if (edited && Number(edited.at) !== channel.updatedAt.getTime()) return { items: [] };
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
  const lease = nextLease();
  // The IDs alone, as a flat list: reading one field out of each row's array costs more per row.
  await tx.run(sql`UPDATE messages
    SET state = 'sending', lease_owner = ${lease}, lease_until = ${now + leaseMs},
        dispatched_at = ${immediate ? now : null},
        attempts = attempts + 1, updated_at = ${now}
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(rows.map((r) => r.id))})) AND state = 'queued'`);
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
      await tx.all<{ identifier: string }>(sql`SELECT value AS identifier FROM json_each(${identifierList})
        WHERE ${optedOutOf(channel.id, sql`value`, content)}`)
    ).map((r) => r.identifier),
  );
  const hours = windowHours(channel.type, content);
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
  // This number's ledger: the last message of any kind (the pair rate), and whether the quota's window
  // already counts the recipient (a business-initiated message in the last 24 h).
  const lastHere = new Map(
    needsLedger
      ? (
          await tx.all<{
            identifier: string;
            sent: number;
            any: number | null;
          }>(sql`SELECT identifier, last_sent_at AS sent, last_any_at AS any
            FROM quota_ledger WHERE channel_id = ${channel.id} AND identifier IN (SELECT value FROM json_each(${identifierList}))
              AND (last_sent_at > ${now - DAY_MS} OR last_any_at > ${now - DAY_MS})`)
        ).map((r) => {
          const sent = Number(r.sent);
          const any = r.any === null ? null : Number(r.any);
          return [r.identifier, { sent, any, last: Math.max(sent, any ?? 0), counted: sent > now - DAY_MS }];
        })
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
  const budget = new QuotaBudget(scope.limit, usage?.used ?? 0, usage?.capacityFreesAt ?? null);

  const sendable: Claimed[] = [];
  const failures: Failure[] = [];
  const later: { id: number; at: number }[] = [];
  const ledgerWrites: { identifier: string; businessInitiated: boolean }[] = [];
  for (const row of rows) {
    const here = lastHere.get(row.identifier);
    const admission = admitWithQuota(
      {
        optedOut: optedOut.has(row.identifier),
        windowOpen: windowOpen.has(row.identifier),
        countedInQuota: here?.counted === true || (countedElsewhere?.has(row.identifier) ?? false),
        lastSentAt: here?.last ?? null,
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
          useTemplate: !windowOpen.has(row.identifier) && outsideWindowCarrier(channel.type, content) === 'template',
        }),
      });
    } else {
      if (needsLedger)
        ledgerWrites.push({ identifier: row.identifier, businessInitiated: admission.businessInitiated });
      sendable.push({
        id: row.id,
        identifier: row.identifier,
        attempts: row.attempts,
        useTemplate: admission.useTemplate,
        lease,
        ...(needsLedger && {
          ledgerBefore: { channelId: channel.id, at: now, sentAt: here?.sent ?? 0, anyAt: here?.any ?? null },
        }),
      });
    }
  }

  for (let i = 0; i < ledgerWrites.length; i += 400) {
    const chunk = ledgerWrites.slice(i, i + 400);
    // A reply inside the window moves only last_any_at: the quota counts business-initiated messages.
    await tx.run(sql`INSERT INTO quota_ledger (channel_id, identifier, last_sent_at, last_any_at) VALUES
      ${sql.join(
        chunk.map(
          ({ identifier, businessInitiated }) =>
            sql`(${channel.id}, ${identifier}, ${businessInitiated ? now : 0}, ${now})`,
        ),
        sql`, `,
      )}
      ON CONFLICT (channel_id, identifier) DO UPDATE SET last_sent_at = max(last_sent_at, excluded.last_sent_at),
        last_any_at = excluded.last_any_at`);
  }
  if (later.length) {
    for (const { id, at } of later) {
      await tx.run(sql`UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL,
        attempts = attempts - 1, next_attempt_at = ${at} WHERE id = ${id}`);
    }
  }
  if (failures.length) {
    await writeFailures(tx, failures, now);
    await recordFailures(
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
}
