/**
 * What delivery callbacks change. A state only moves forward: a late or repeated "sent" never
 * overwrites "failed" or "delivered", and a repeated callback changes nothing the second time.
 * Opt-outs the provider reports (a failure with an opt-out code, a block, a STOP) are recorded on the
 * channel, and an opt-in from the channel lifts what the channel's own signals recorded.
 */
import {
  classifyProviderFailure,
  DAY_MS,
  earliestUsefulResend,
  type FailureReason,
  hurtsQuality,
  isOptOutFailure,
  isPhoneChannel,
  optOutFailureIsMarketingOnly,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import { providerCodeText, providerText } from '../channels/http';
import type { ChannelConfig, DeliveryUpdate, WebhookContent } from '../channels/types';
import { unconfirmedWindowMs } from '../config';
import type { Database, Queryable } from '../db/client';
import { first } from '../db/first';
import { providerIdMatch } from '../db/schema';
import { normalizeProviderPhone } from '../lib/phone';
import { applySignalOnce, liftOptOut, recordOptOut } from '../services/opt-outs';
import { releaseHopelessTarget } from '../services/resend-store';
import { holdNumber, judgeQuality, pauseForTemplate, sampleInsert, templateRefusal } from './guard';
import { recordFailures } from './outcomes';
import { lateFailure } from './recovery';
import { settleBroadcastStatus } from './verdict';

/** A failure whose final state was unknown: a report that the message arrived overrides it. */
const UNKNOWN_FAILURE = sql`(state = 'failed' AND reason = 'uncertain')`;

/**
 * Failures a report about one message says of the number itself on its channel, whenever sent: no
 * account there, not a valid number. Not a block (WhatsApp's 131050 stops marketing only) nor a spam
 * filter (about the content or the sender): those do not speak for another message.
 */
const NUMBER_FAILURES: readonly FailureReason[] = ['not_on_channel', 'invalid_identifier'];

/**
 * Whether a report may still move a failed or unconfirmed recipient of this reason (movesFrom, sharedFate):
 * an unconfirmed one (no answer, or a final "unknown"), or a failure of the number, which may have been
 * inferred from another message's report. Any other failure is final.
 */
export function reportMayStillMove(reason: FailureReason): boolean {
  return reason === 'uncertain' || NUMBER_FAILURES.includes(reason);
}

/**
 * A failure inferred from a report about an earlier message (sharedFate): it went out (dispatched), with
 * no provider words of its own. A report that the message itself arrived overrides it.
 */
const INFERRED_FAILURE = sql`(state = 'failed' AND provider_code IS NULL AND dispatched_at IS NOT NULL
  AND reason IN (${sql.join(
    NUMBER_FAILURES.map((reason) => sql`${reason}`),
    sql`, `,
  )}))`;

/** A message a callback moved, with its broadcast: the RETURNING of every statement that moves one. */
type Moved = { id: number; broadcast_id: number; workspace_id: number; name: string };
const RETURNING_MOVED = sql`RETURNING id, broadcast_id, workspace_id,
  (SELECT name FROM broadcasts WHERE id = broadcast_id) AS name`;

/**
 * Which messages each callback status may move. Delivered or read proves the message arrived, so a
 * failure the log holds as "uncertain" moves too (an agent would re-send what the contact has). A
 * read also marks a delivered message read, once (it arrives before its "delivered" at times).
 */
const movesFrom = {
  sent: sql`state IN ('sending', 'uncertain')`,
  delivered: sql`(state IN ('sending', 'sent', 'uncertain') OR ${UNKNOWN_FAILURE} OR ${INFERRED_FAILURE})`,
  read: sql`(state IN ('sending', 'sent', 'uncertain', 'delivered') OR ${UNKNOWN_FAILURE} OR ${INFERRED_FAILURE}) AND read_at IS NULL`,
  failed: sql`state IN ('sending', 'sent', 'uncertain')`,
} as const;

/**
 * Phone identifiers are stored as the contacts' phones are (normalizePhone's E.164); providers write them
 * with or without +, and in their own form: WhatsApp reports a Mexican mobile as 521 55 1234 5678, the
 * contact is +52 55 1234 5678; an older Brazilian one comes without its ninth digit (normalizeProviderPhone).
 * A window, opt-out or read filed under the other form would reach nobody.
 */
function identifierFor(channel: ChannelConfig, from: string): string {
  if (!isPhoneChannel(channel.type)) return from;
  const written = /^\d+$/.test(from) ? `+${from}` : from;
  if (!written.startsWith('+')) return written;
  const phone = normalizeProviderPhone(written);
  return phone.valid ? phone.e164 : written;
}

/** Before this, a provider's time is no time at all (0, a bad parse): 2000-01-01. */
const EARLIEST_TRUSTED = Date.UTC(2000, 0, 1);

/**
 * A provider's timestamp, kept when plausible. One more than a day ahead (a status "from 2036"), or
 * none at all, becomes the time of receipt: it would otherwise hold a 24 h window open, or show in the
 * failed log, for years.
 */
export function plausibleTime(at: Date, receivedAt: number): Date {
  const time = at.getTime();
  if (!(time >= EARLIEST_TRUSTED && time <= receivedAt + DAY_MS)) return new Date(receivedAt);
  return at;
}

/**
 * A provider's words in a callback, as the send path keeps them (providerText, providerCodeText): the
 * failure log, the extension and the CSV export show them, so markup, control characters and a
 * 10 KB "reason" are not stored as they came.
 */
function cleanWords(update: DeliveryUpdate): DeliveryUpdate {
  const { providerCode, providerMessage } = update;
  return {
    ...update,
    ...(providerCode !== undefined && {
      providerCode: providerCodeText(providerCode) ?? providerText(providerCode).slice(0, 40),
    }),
    ...(providerMessage !== undefined && { providerMessage: providerText(providerMessage) }),
  };
}

/** What a callback says, as it may be stored: plausible times, and provider words cleaned (cleanWords). */
function asStored(content: WebhookContent, receivedAt: number): WebhookContent {
  const fix = <T extends { at: Date }>(item: T): T => ({ ...item, at: plausibleTime(item.at, receivedAt) });
  // A watermark is a bound, not an event time: an implausibly old one (seconds taken for
  // milliseconds) is dropped rather than read as now; a future one goes no further than now.
  const bound = (marks: { from: string; at: Date }[]) =>
    marks
      .filter((mark) => mark.at.getTime() >= EARLIEST_TRUSTED)
      .map((mark) => ({ ...mark, at: new Date(Math.min(mark.at.getTime(), receivedAt)) }));
  return {
    updates: content.updates.map((update) => cleanWords(fix(update))),
    inbound: content.inbound.map(fix),
    ...(content.readsUpTo && { readsUpTo: bound(content.readsUpTo) }),
    ...(content.deliveredUpTo && { deliveredUpTo: bound(content.deliveredUpTo) }),
    ...(content.optOuts && { optOuts: content.optOuts.map(fix) }),
    ...(content.optIns && { optIns: content.optIns.map(fix) }),
    // Account signals act on receipt; their times are only said, never stored.
    ...(content.templateStatus && { templateStatus: content.templateStatus }),
    ...(content.numberQuality && { numberQuality: content.numberQuality }),
    ...(content.displayNumber && { displayNumber: content.displayNumber }),
    ...(content.businessAccount && { businessAccount: content.businessAccount }),
  };
}

/**
 * A report that message `id`'s number has no account on its channel, or is not a valid number, speaks for
 * what went out to that number on the channel after it and was never answered: those messages fail for
 * the same reason now, with no provider words of their own (the provider said it of the other one), and
 * a report that one of them arrived after all still overrides it (INFERRED_FAILURE). Only unconfirmed
 * ones, and only sent after it (dispatched, not frozen: a paced broadcast frozen earlier may send later).
 * Returns them with their broadcasts.
 */
async function sharedFate(db: Queryable, id: number, reason: FailureReason, now: number) {
  if (!NUMBER_FAILURES.includes(reason)) return [];
  return db.all<Moved>(
    sql`UPDATE messages SET state = 'failed', reason = ${reason}, provider_code = NULL, provider_message = NULL,
      failed_at = ${now}, retry_after_at = ${earliestUsefulResend(reason, now, now, unconfirmedWindowMs(), true)},
      lease_owner = NULL, lease_until = NULL, updated_at = ${now}
    WHERE (state = 'uncertain' OR ${UNKNOWN_FAILURE}) AND id IN (SELECT later.id FROM messages reported
      JOIN messages later ON later.contact_id = reported.contact_id
      WHERE reported.id = ${id} AND later.id != reported.id AND later.channel_id = reported.channel_id
        AND later.identifier IS reported.identifier AND later.dispatched_at > reported.dispatched_at)
    ${RETURNING_MOVED}`,
  );
}

/** Applies one callback; `now` is when it was received. */
export async function applyWebhook(db: Database, channel: ChannelConfig, received: WebhookContent, now = Date.now()) {
  const content = asStored(received, now);
  let changed = 0;
  for (const update of content.updates) changed += await applyUpdate(db, channel, update, now);
  for (const mark of content.deliveredUpTo ?? []) changed += await applyWatermark(db, channel, mark, 'delivered', now);
  for (const mark of content.readsUpTo ?? []) changed += await applyWatermark(db, channel, mark, 'read', now);
  const writtenTo = channelWrittenTo(db, channel);
  for (const inbound of content.inbound) {
    await db.run(sql`INSERT INTO conversation_windows (channel_id, identifier, last_inbound_at)
      VALUES (${await writtenTo(inbound.to)}, ${identifierFor(channel, inbound.from)}, ${inbound.at.getTime()})
      ON CONFLICT (channel_id, identifier) DO UPDATE SET last_inbound_at = max(last_inbound_at, excluded.last_inbound_at)`);
  }
  // In the order they happened (a tie counts the opt-out last): a stop then a resume leaves none.
  const signals = [
    ...(content.optIns ?? []).map((signal) => ({ signal, optOut: undefined })),
    ...(content.optOuts ?? []).map((signal) => ({ signal, optOut: signal })),
  ].sort((a, b) => a.signal.at.getTime() - b.signal.at.getTime() || Number(!!a.optOut) - Number(!!b.optOut));
  const display = content.displayNumber && content.displayNumber !== channel.displayNumber;
  const account = content.businessAccount && content.businessAccount !== channel.businessAccount;
  if (display || account) {
    // Learned from Meta's signed webhook for this channel's own number; read by its quality and template
    // events. Only while the channel still has that number: a PATCH to another one meanwhile forgot them
    // for good reason.
    await db.run(sql`UPDATE channels SET display_number = coalesce(${content.displayNumber ?? null}, display_number),
        business_account = coalesce(${content.businessAccount ?? null}, business_account)
      WHERE id = ${channel.id}
      AND json_extract(credentials, '$.phoneNumberId') IS ${channel.credentials.phoneNumberId ?? null}
      AND base_url IS ${channel.baseUrl}`);
  }
  for (const template of content.templateStatus ?? []) await pauseForTemplate(db, channel.id, template, now);
  for (const quality of content.numberQuality ?? []) {
    if (!NUMBER_QUALITY_PAUSES.has(quality.event)) continue;
    // Held even when nothing is live on it now: tomorrow's broadcast must not start on a flagged number.
    await holdNumber(db, channel.id, { kind: 'number_quality', scope: 'channel', at: now, event: quality.event }, now);
  }
  for (const { signal, optOut } of signals) {
    const identifier = identifierFor(channel, signal.from);
    const channelId = await writtenTo(signal.to);
    // Keyed by the channel whose URL it came to: the provider signed that URL.
    await applySignalOnce(db, { channelId: channel.id, eventId: signal.eventId, now }, (runner) =>
      optOut
        ? recordOptOut(runner, {
            channelId,
            identifier,
            at: optOut.at,
            source: optOut.source,
            detail: optOut.detail,
            marketingOnly: optOut.marketingOnly,
          })
        : liftOptOut(runner, { channelId, identifier, at: signal.at, marketingOnly: signal.marketingOnly }),
    );
  }
  return { changed };
}

/**
 * The channel a contact wrote to. One SMS account's numbers may post to one inbound URL (Vonage's
 * account-wide default, a Twilio webhook shared by its numbers): what was written to another of the
 * workspace's numbers of this provider is that number's channel's, or it would go on texting someone who
 * wrote BAJA to it. A number none of them has (a messaging service, an alphanumeric sender) stays here.
 */
function channelWrittenTo(db: Database, channel: ChannelConfig): (to: string | undefined) => Promise<number> {
  const digits = (value: string | null | undefined) => (value ?? '').replace(/\D/g, '');
  let siblings: Promise<{ id: number; from: string | null }[]> | undefined;
  return async (to) => {
    const wanted = digits(to);
    if (!wanted || wanted === digits(channel.credentials.from)) return channel.id;
    siblings ??= db.all<{ id: number; from: string | null }>(
      sql`SELECT id, json_extract(credentials, '$.from') AS "from" FROM channels
        WHERE type = ${channel.type} AND deleted_at IS NULL AND id != ${channel.id}
          AND workspace_id = (SELECT workspace_id FROM channels WHERE id = ${channel.id})`,
    );
    return (await siblings).find((sibling) => digits(sibling.from) === wanted)?.id ?? channel.id;
  };
}

/** Meta's number events that lower its standing (not UNFLAGGED or UPGRADE). */
const NUMBER_QUALITY_PAUSES = new Set(['FLAGGED', 'DOWNGRADE']);

/**
 * A failure callback whose code means the contact opted out (WhatsApp 131050, Twilio 21610…): the
 * contact is opted out on the channel, whether or not the message's state still moved (one after the
 * send itself already failed). Once per message: Twilio times its callbacks by their arrival, so a copy
 * replayed after the contact's START would otherwise read as newer and opt them out again.
 */
async function recordOptOutFailure(
  db: Database,
  channel: ChannelConfig,
  update: DeliveryUpdate,
  match: SQL,
  now: number,
) {
  if (update.status !== 'failed' || !update.providerCode) return;
  if (!isOptOutFailure(channel.type, update.providerCode, update.providerMessage)) return;
  const message = await first<{ id: number; identifier: string | null }>(
    db,
    sql`SELECT id, identifier FROM messages WHERE ${match}`,
  );
  const identifier = message?.identifier;
  if (!message || !identifier) return;
  await applySignalOnce(db, { channelId: channel.id, eventId: `failed:${message.id}`, now }, (runner) =>
    recordOptOut(runner, {
      channelId: channel.id,
      identifier,
      at: update.at,
      source: 'provider_code',
      detail: update.providerCode,
      marketingOnly: optOutFailureIsMarketingOnly(channel.type),
    }),
  );
}

/**
 * A receipt by watermark: the contact's messages on the channel known sent by then (never one still in
 * flight or unconfirmed: the watermark says nothing of those) arrived, and for a read one, were read.
 */
async function applyWatermark(
  db: Database,
  channel: ChannelConfig,
  mark: { from: string; at: Date },
  kind: 'delivered' | 'read',
  now: number,
): Promise<number> {
  const at = mark.at.getTime();
  const identifier = identifierFor(channel, mark.from);
  const moves = kind === 'read' ? sql`state IN ('sent', 'delivered') AND read_at IS NULL` : sql`state = 'sent'`;
  // Found through the contact's identifier on the channel (its index, then the contact's messages),
  // not by scanning every message the channel ever sent.
  const moved = await db.all<{ broadcast_id: number }>(
    sql`UPDATE messages SET state = 'delivered', delivered_at = coalesce(delivered_at, ${at}),
        ${kind === 'read' ? sql`read_at = ${at},` : sql``} updated_at = ${now}
      WHERE contact_id IN (SELECT contact_id FROM contact_identifiers WHERE channel_id = ${channel.id} AND identifier = ${identifier})
        AND channel_id = ${channel.id} AND identifier = ${identifier} AND ${moves} AND sent_at <= ${at}
      RETURNING broadcast_id`,
  );
  for (const broadcastId of new Set(moved.map((m) => m.broadcast_id)))
    await settleBroadcastStatus(db, broadcastId, now);
  return moved.length;
}

async function applyUpdate(db: Database, channel: ChannelConfig, update: DeliveryUpdate, now: number): Promise<number> {
  const match =
    update.messageId !== undefined
      ? sql`id = ${update.messageId} AND channel_id = ${channel.id}`
      : update.providerMessageId
        ? providerIdMatch(channel.id, update.providerMessageId)
        : undefined;
  if (!match) return 0;
  await recordOptOutFailure(db, channel, update, match, now);
  const moves = movesFrom[update.status];
  const at = update.at.getTime();
  const reason =
    update.status === 'failed'
      ? classifyProviderFailure(channel.type, update.providerCode ?? 'http_0', update.providerMessage)
      : null;
  // Delivery time: none for "sent"; a read keeps an earlier "delivered" time (or is the first sign of one).
  const deliveredAt =
    update.status === 'sent' ? null : update.status === 'read' ? sql`coalesce(delivered_at, ${at})` : at;
  let released: number[] = [];
  /** Unconfirmed messages the report failed too (sharedFate), with their broadcasts. */
  const inferred: Moved[] = [];
  const row = reason
    ? await db.transaction(async (tx) => {
        const moved = await first<Moved>(
          tx,
          sql`UPDATE messages SET state = 'failed', reason = ${reason},
            provider_code = ${update.providerCode ?? null}, provider_message = ${update.providerMessage ?? null},
            provider_message_id = coalesce(provider_message_id, ${update.providerMessageId ?? null}),
            failed_at = ${at}, retry_after_at = ${earliestUsefulResend(reason, at, at, unconfirmedWindowMs(), true)},
            lease_owner = NULL, lease_until = NULL, updated_at = ${now}
          WHERE ${match} AND ${moves} ${RETURNING_MOVED}`,
        );
        // An unconfirmed recipient a re-send took, now blocked or not on the channel: not sent to again.
        // In the report's transaction: the provider's retry would find the row failed and change nothing.
        if (moved) {
          released = await releaseHopelessTarget(tx, moved.id, reason, channel, now);
          // What was sent to that number later on this channel and never answered did not arrive either
          // (a re-send of it, say): failed for the same reason, and let go by re-sends of it in turn.
          for (const later of await sharedFate(tx, moved.id, reason, now)) {
            inferred.push(later);
            released.push(...(await releaseHopelessTarget(tx, later.id, reason, channel, now)));
          }
        }
        return moved;
      })
    : await first<Moved>(
        db,
        sql`UPDATE messages SET
            state = ${update.status === 'sent' ? 'sent' : 'delivered'},
            reason = NULL,
            provider_message_id = coalesce(provider_message_id, ${update.providerMessageId ?? null}),
            sent_at = coalesce(sent_at, ${at}),
            delivered_at = ${deliveredAt},${update.status === 'read' ? sql` read_at = ${at},` : sql``} updated_at = ${now}
          WHERE ${match} AND ${moves} ${RETURNING_MOVED}`,
      );
  if (!row) return 0;
  if (reason) {
    // Meta refused the template itself, in a report: its broadcasts pause, as for the template's event.
    const refused = templateRefusal(channel.type, update.providerCode);
    if (refused) {
      const template = await first<{ name: string | null; language: string | null }>(
        db,
        sql`SELECT content ->> '$.template.name' AS name, content ->> '$.template.language' AS language
          FROM broadcasts WHERE id = ${row.broadcast_id}`,
      );
      if (template?.name)
        await pauseForTemplate(
          db,
          channel.id,
          { name: template.name, ...(template.language && { language: template.language }), event: refused },
          now,
        );
    }
    // A block or a spam report after the send hurts the number as much as one at the send.
    if (hurtsQuality(reason)) {
      await sampleInsert(db, {
        channelId: channel.id,
        broadcastId: row.broadcast_id,
        at: now,
        outcomes: 0,
        harmful: 1,
      });
      await judgeQuality(db, { broadcastId: row.broadcast_id, channelId: channel.id }, now);
    }
    await recordFailures(
      db,
      { id: row.broadcast_id, workspaceId: row.workspace_id, name: row.name },
      [reason],
      now,
      true,
    );
    // Each broadcast whose messages it failed too is told, as a late failure of its own.
    const byBroadcast = new Map<number, { workspaceId: number; name: string; count: number }>();
    for (const m of inferred) {
      const entry = byBroadcast.get(m.broadcast_id) ?? { workspaceId: m.workspace_id, name: m.name, count: 0 };
      entry.count++;
      byBroadcast.set(m.broadcast_id, entry);
    }
    for (const [id, { workspaceId, name, count }] of byBroadcast)
      await recordFailures(db, { id, workspaceId, name }, Array(count).fill(reason), now, true);
    for (const id of new Set([...released, ...byBroadcast.keys()])) await settleBroadcastStatus(db, id, now);
  }
  await settleBroadcastStatus(db, row.broadcast_id, now);
  // After the verdict: only a finished broadcast's failure is a late one. So are those it failed too.
  if (reason) await lateFailure(db, row.broadcast_id, row.id, reason, now);
  for (const m of inferred) if (reason) await lateFailure(db, m.broadcast_id, m.id, reason, now);
  return 1;
}
