/**
 * The engine's outcome writer: what the providers answered, written behind the sends one group at a
 * time (accepted, failed with the provider's words, retried later, uncertain), the quality guard's
 * sample with them, and final failures over recipients not already settled (one UPDATE per 400).
 */
import {
  classifyProviderFailure,
  earliestUsefulResend,
  type FailureReason,
  guardSettings,
  hurtsQuality,
  isOptOutFailure,
  optOutFailureIsMarketingOnly,
} from '@rebound/shared';
import { sql } from 'drizzle-orm';
import { unconfirmedWindowMs } from '../config';
import type { Database, Queryable } from '../db/client';
import { type OptOutRecord, recordOptOuts } from '../services/opt-outs';
import type { BroadcastRow, ChannelRow, Claimed, Outcome } from './batch';
import { recordEvent } from './events';
import { judgeQuality, pauseForTemplate, sampleInsert, templateRefusal } from './guard';
import { cappedRetryAfter, pushBackSendSlots } from './limits';
import { QUEUED_UNLESS_CANCELLED } from './queue';

/** What writing outcomes needs from the engine that sent them. */
export interface OutcomeWriter {
  db: Database;
  clock: () => number;
  /** Sends of one recipient before a throttle or 5xx becomes a failure. */
  maxAttempts: number;
  /** Runs a write until the database takes it (the engine's storage-fault pause). */
  durably: <T>(write: () => Promise<T>) => Promise<T>;
  /** Counts recipients this process sent. */
  sent: (count: number) => void;
  /** A broadcast the quality guard paused: its sends in hand stop at once. */
  halt: (broadcastId: number) => void;
}

/** Writes final failures, only over recipients not already settled. */
export interface Failure {
  id: number;
  reason: FailureReason;
  /** The provider's code and words; null when Rebound decided the failure itself. */
  code: string | null;
  message: string | null;
  retryAfterAt: number | null;
  /** What was (or would have been) sent: the template outside the window; undefined keeps the row's own. */
  useTemplate?: boolean;
}

export async function writeFailures(db: Queryable, failures: Failure[], now: number) {
  const values = failures.map(
    (f) =>
      sql`(${f.id}, ${f.reason}, ${f.code}, ${f.message}, ${f.retryAfterAt}, ${f.useTemplate === undefined ? null : f.useTemplate ? 1 : 0})`,
  );
  for (let i = 0; i < values.length; i += 400) {
    await db.run(sql`UPDATE messages SET state = 'failed', reason = v.column2, provider_code = v.column3,
        provider_message = v.column4, retry_after_at = v.column5, failed_at = ${now},
        use_template = coalesce(v.column6, use_template),
        lease_owner = NULL, lease_until = NULL, updated_at = ${now}
      FROM (VALUES ${sql.join(values.slice(i, i + 400), sql`, `)}) AS v
      WHERE messages.id = v.column1 AND messages.state IN ('sending', 'uncertain', 'queued')`);
  }
}

/** A send the provider refused, in its own words, with what was sent (the template, when it was one). */
function providerFailure(
  item: Claimed,
  outcome: { providerCode: string; providerMessage: string },
  reason: FailureReason,
  retryAfterAt: number | null,
): Failure {
  return {
    id: item.id,
    reason,
    code: outcome.providerCode,
    message: outcome.providerMessage,
    retryAfterAt,
    useTemplate: item.useTemplate,
  };
}

/**
 * The event a notification is built from: how many failed, by reason; `late` for a delivery report after
 * the send. A final "unknown" is no failure (it may have arrived): left out, as the verdict leaves it
 * out (stateCounts in verdict.ts).
 */
export async function recordFailures(
  db: Queryable,
  broadcast: Pick<BroadcastRow, 'id' | 'workspaceId' | 'name'>,
  all: FailureReason[],
  now: number,
  late = false,
) {
  const reasons = all.filter((reason) => reason !== 'uncertain');
  if (reasons.length === 0) return;
  const byReason: Record<string, number> = {};
  for (const reason of reasons) byReason[reason] = (byReason[reason] ?? 0) + 1;
  await recordEvent(db, {
    workspaceId: broadcast.workspaceId,
    type: 'messages.failed',
    broadcastId: broadcast.id,
    data: { name: broadcast.name, count: reasons.length, byReason, ...(late && { late: true }) },
    at: now,
  });
}

/** Writes a group of outcomes; a state already settled by a delivery report is never moved back. */
export async function writeOutcomes(
  w: OutcomeWriter,
  broadcast: BroadcastRow,
  channel: ChannelRow,
  outcomes: Outcome[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const now = w.clock();
  // Accepted sends by what the statement writes alike (delivered at once or not, template or not):
  // usually one group. Each is one JSON object, message ID → provider message ID, which the statement
  // reads as key and value: reading fields out of an array per row cost more than the update itself.
  // What went out is written with its outcome (no statement of its own), so a late failure, or an
  // unconfirmed one, shows the template that was sent.
  const accepted = new Map<string, { delivered: boolean; useTemplate: boolean; ids: Record<number, string> }>();
  let acceptedCount = 0;
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
      case 'accepted': {
        const delivered = outcome.delivered === true;
        const key = `${delivered}:${item.useTemplate}`;
        const group = accepted.get(key) ?? { delivered, useTemplate: item.useTemplate, ids: {} };
        accepted.set(key, group);
        group.ids[item.id] = outcome.providerMessageId;
        acceptedCount++;
        break;
      }
      case 'failed': {
        const reason = classifyProviderFailure(channel.type, outcome.providerCode, outcome.providerMessage);
        failures.push(
          providerFailure(item, outcome, reason, earliestUsefulResend(reason, now, now, unconfirmedWindow, true)),
        );
        if (isOptOutFailure(channel.type, outcome.providerCode, outcome.providerMessage))
          optOuts.push({
            channelId: channel.id,
            identifier: item.identifier,
            at: now,
            source: 'provider_code',
            detail: outcome.providerCode,
            marketingOnly: optOutFailureIsMarketingOnly(channel.type),
          });
        break;
      }
      case 'retry': {
        const backoff = Math.min(60_000, 500 * 2 ** (item.attempts - 1)) * (0.8 + Math.random() * 0.4);
        // A Retry-After of ten years would park the recipient (and the channel) until then: capped.
        const retryAfter = cappedRetryAfter(outcome.retryAfterMs);
        const wait = Math.max(retryAfter ?? 0, backoff);
        if (retryAfter !== undefined) throttledUntil = Math.max(throttledUntil, now + retryAfter);
        if (item.attempts >= w.maxAttempts) {
          // The provider's own words; the attempts are in their own column.
          const reason = classifyProviderFailure(channel.type, outcome.providerCode, outcome.providerMessage);
          const useful = earliestUsefulResend(reason, now, now, unconfirmedWindow, true) ?? now;
          failures.push(providerFailure(item, outcome, reason, Math.max(now + wait, useful)));
        } else retries.push({ id: item.id, at: now + wait, lease: item.lease });
        break;
      }
      case 'uncertain':
        uncertain.push({ id: item.id, message: outcome.providerMessage, useTemplate: item.useTemplate });
        break;
    }
  }
  // One JSON parameter per group: building hundreds of bound parameters costs more than the update.
  const acceptedQueries = [...accepted.values()].map(
    ({ delivered, useTemplate, ids }) => sql`UPDATE messages SET
          state = CASE WHEN messages.state IN ('sending', 'uncertain') THEN ${delivered ? 'delivered' : 'sent'} ELSE messages.state END,
          reason = CASE WHEN messages.state IN ('sending', 'uncertain') THEN NULL ELSE messages.reason END,
          provider_message_id = coalesce(messages.provider_message_id, v.value),
          sent_at = coalesce(messages.sent_at, ${now}),
          delivered_at = ${delivered ? sql`coalesce(messages.delivered_at, ${now})` : sql`messages.delivered_at`},
          use_template = max(messages.use_template, ${useTemplate ? 1 : 0}),
          lease_owner = NULL, lease_until = NULL, updated_at = ${now}
        FROM json_each(${JSON.stringify(ids)}) AS v
        WHERE messages.id = v.key`,
  );
  // What the quality guard judges, written with the outcomes it counts (not when the channel's guard is off).
  const harmful = failures.filter((f) => hurtsQuality(f.reason)).length;
  const sample =
    acceptedCount + failures.length > 0 && guardSettings(channel.guard).enabled
      ? {
          channelId: channel.id,
          broadcastId: broadcast.id,
          at: now,
          outcomes: acceptedCount + failures.length,
          harmful,
        }
      : undefined;
  // The usual case, everything accepted (text and template alike), is one batch: atomic on its own, no
  // transaction round trips. Either way the write is atomic, so on a storage fault `durably` runs it again.
  if (acceptedQueries.length > 0 && !failures.length && !retries.length && !uncertain.length)
    await w.durably(() => {
      const writes = [
        ...acceptedQueries.map((query) => w.db.run(query)),
        ...(sample ? [sampleInsert(w.db, sample)] : []),
      ];
      return writes.length === 1
        ? Promise.resolve(writes[0]).then(() => undefined)
        : w.db.batch(writes as [(typeof writes)[number], ...typeof writes]);
    });
  else
    await w.durably(() =>
      w.db.transaction(async (tx) => {
        if (sample) await sampleInsert(tx, sample);
        for (const query of acceptedQueries) await tx.run(query);
        if (failures.length) await writeFailures(tx, failures, now);
        if (optOuts.length) await recordOptOuts(tx, optOuts);
        // The provider said it did not take the message (throttled, or down): queued again. Also when the
        // send waited for its slot past its lease and lease recovery took it for unconfirmed meanwhile (no
        // lease left, nobody else sends an unconfirmed row): left so, it would never be sent. Only while its
        // broadcast still sends: one already settled would never send a queued row (it stays unconfirmed,
        // for a re-send to take).
        // In a broadcast cancelled meanwhile, nobody sends a queued row: it is cancelled, never sent.
        for (const retry of retries) {
          await tx.run(sql`UPDATE messages SET state = ${QUEUED_UNLESS_CANCELLED},
        reason = CASE WHEN state = 'uncertain' THEN NULL ELSE reason END,
        provider_code = CASE WHEN state = 'uncertain' THEN NULL ELSE provider_code END,
        provider_message = CASE WHEN state = 'uncertain' THEN NULL ELSE provider_message END,
        failed_at = CASE WHEN state = 'uncertain' THEN NULL ELSE failed_at END,
        lease_owner = NULL, lease_until = NULL, dispatched_at = NULL, next_attempt_at = ${retry.at}, updated_at = ${now}
        WHERE id = ${retry.id} AND ((state = 'sending' AND lease_owner = ${retry.lease})
          OR (state = 'uncertain' AND lease_owner IS NULL AND provider_message_id IS NULL
            AND (SELECT status FROM broadcasts WHERE id = messages.broadcast_id) IN ('sending', 'paused')))`);
        }
        if (uncertain.length) {
          for (const u of uncertain) {
            await tx.run(sql`UPDATE messages SET state = 'uncertain', reason = 'uncertain', provider_code = 'timeout',
          provider_message = ${u.message}, failed_at = ${now}, use_template = max(use_template, ${u.useTemplate ? 1 : 0}), lease_owner = NULL, lease_until = NULL, updated_at = ${now}
          WHERE id = ${u.id} AND state = 'sending'`);
          }
        }
        if (failures.length)
          await recordFailures(
            tx,
            broadcast,
            failures.map((f) => f.reason),
            now,
          );
      }),
    );
  w.sent(acceptedCount);
  // The provider said slow down: the whole channel waits, not just this recipient. A write of its
  // own, so that retrying it never writes the outcomes (and their events) twice.
  if (throttledUntil > now) await w.durably(() => pushBackSendSlots(w.db, `channel:${channel.id}`, throttledUntil));
  // Only outcomes that hurt the number can trip the guard; the sends of a broadcast it paused (and of
  // the channel's others, when the channel's window tripped) stop here at once, not at the next batch.
  if (sample && harmful > 0) {
    const paused = await w.durably(() => judgeQuality(w.db, { broadcastId: broadcast.id, channelId: channel.id }, now));
    for (const id of paused) w.halt(id);
  }
  // Meta refused the template itself (paused or disabled for low quality): the broadcasts of this number
  // sending it pause now, as the template's event pauses them, rather than fail each recipient in turn.
  const template = failures.length > 0 ? broadcast.content.template : undefined;
  let refused: 'PAUSED' | 'DISABLED' | undefined;
  for (const { outcome } of template ? outcomes : []) {
    refused = outcome.kind === 'failed' ? templateRefusal(channel.type, outcome.providerCode) : undefined;
    if (refused) break;
  }
  if (template && refused) {
    const event = refused;
    const paused = await w.durably(() =>
      pauseForTemplate(w.db, channel.id, { name: template.name, language: template.language, event }, now),
    );
    for (const id of paused) w.halt(id);
  }
}
