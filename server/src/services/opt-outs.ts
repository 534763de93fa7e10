/**
 * Opt-outs: a contact who opted out of (or blocked the business on) a channel gets nothing more
 * there. One row per channel and identifier in opt_outs, written by provider signals (a send that
 * failed with an opt-out code, a webhook, an inbound STOP/BAJA) and removed only by a manager with a
 * note, or by a later signal from the same channel that the contact accepts messages again.
 */
import {
  type BroadcastContent,
  type ChannelType,
  type ContactOptOut,
  channelCapabilities,
  marketingStopApplies,
  OPT_OUT_SOURCES,
  type OptOutSource,
  type Role,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { first } from '../db/first';
import { events } from '../db/schema';
import { notFound } from '../lib/errors';

/** A database or an open transaction: opt-outs are often written beside other outcome writes. */
type Runner = Pick<Database, 'all'>;

export interface OptOutRecord {
  /** When given, nothing is written unless the channel belongs to this workspace. */
  workspaceId?: number;
  channelId: number;
  /** The contact's address as the channel stores it: E.164 for phone channels, the PSID or chat ID otherwise. */
  identifier: string;
  /** When the contact opted out (the provider's time when it gives one). */
  at: number | Date;
  source: OptOutSource;
  /** The code or word itself: "131050", "21610", "BAJA", "user_preferences: stop". */
  detail?: string | null;
  /** Marketing only (WhatsApp's user_preferences stop, 131050): utility and authentication templates still go. */
  marketingOnly?: boolean;
}

const millis = (at: number | Date) => (typeof at === 'number' ? at : at.getTime());

/**
 * Records that a contact opted out on a channel. Idempotent: a repeated or later signal changes
 * nothing, so the row keeps the first time and what said so; an earlier one (callbacks arrive out of
 * order) moves the time back. A channel's signal from before the contact took the messages back (a
 * later "resume" or START, kept in opt_ins) is stale and records nothing; a person's (manual, import)
 * always records. Returns true when the row was written.
 */
export async function recordOptOut(db: Runner, record: OptOutRecord): Promise<boolean> {
  const owned =
    record.workspaceId === undefined
      ? sql`1`
      : sql`EXISTS (SELECT 1 FROM channels WHERE id = ${record.channelId} AND workspace_id = ${record.workspaceId})`;
  const current = LIFTABLE.includes(record.source)
    ? sql`NOT EXISTS (SELECT 1 FROM opt_ins WHERE channel_id = ${record.channelId}
        AND identifier = ${record.identifier} AND at > ${millis(record.at)})`
    : sql`1`;
  // Rows from before sources were kept (source NULL) take the first signal that names one.
  // A stop of everything widens a stop of marketing only, whenever it came; never the other way.
  const rows = await db.all<{
    channel_id: number;
  }>(sql`INSERT INTO opt_outs (channel_id, identifier, at, source, detail, marketing_only)
    SELECT ${record.channelId}, ${record.identifier}, ${millis(record.at)}, ${record.source}, ${record.detail ?? null},
      ${record.marketingOnly ? 1 : 0}
    WHERE ${owned} AND ${current}
    ON CONFLICT (channel_id, identifier) DO UPDATE SET
      at = min(opt_outs.at, excluded.at), source = excluded.source, detail = excluded.detail,
      marketing_only = min(opt_outs.marketing_only, excluded.marketing_only)
    WHERE excluded.at < opt_outs.at OR opt_outs.source IS NULL OR excluded.marketing_only < opt_outs.marketing_only
    RETURNING channel_id`);
  return rows.length > 0;
}

/** recordOptOut for several at once (a batch of outcomes); returns how many rows were written. */
export async function recordOptOuts(db: Runner, records: readonly OptOutRecord[]): Promise<number> {
  let written = 0;
  for (const record of records) if (await recordOptOut(db, record)) written++;
  return written;
}

/** Opt-outs a later signal from the channel itself may lift; what a person recorded (manual, import) stays. */
const LIFTABLE: readonly OptOutSource[] = ['provider_code', 'webhook', 'inbound_word'];

/**
 * Whether the contact at `identifier` opted out of what `content` sends on the channel: any opt-out, but
 * a stop of marketing only lets a utility or authentication template through (marketingStopApplies).
 * The one reading of opt_outs that the freeze, the pre-flight, the claim and the re-send's reach share.
 */
export function optedOutOf(channelId: number | SQL, identifier: SQL, content: BroadcastContent | undefined): SQL {
  const scope = content && !marketingStopApplies(content) ? sql`AND o.marketing_only = 0` : sql``;
  return sql`EXISTS (SELECT 1 FROM opt_outs o WHERE o.channel_id = ${channelId} AND o.identifier = ${identifier} ${scope})`;
}

/**
 * The contact told the channel it accepts messages again (WhatsApp user_preferences "resume",
 * Twilio START, Telegram unblock): lifts an opt-out that the channel's own signals recorded strictly
 * before that moment. A replayed old "resume" never lifts a newer opt-out. Returns true when one was lifted.
 */
export async function liftOptOut(
  db: Runner,
  /** `marketingOnly`: the contact took marketing back (WhatsApp's "resume"); a block or a STOP stays. */
  signal: { channelId: number; identifier: string; at: number | Date; marketingOnly?: boolean },
): Promise<boolean> {
  // Kept, latest first: a channel's opt-out signal from before it is stale (recordOptOut).
  await db.all(sql`INSERT INTO opt_ins (channel_id, identifier, at)
    VALUES (${signal.channelId}, ${signal.identifier}, ${millis(signal.at)})
    ON CONFLICT (channel_id, identifier) DO UPDATE SET at = max(opt_ins.at, excluded.at)`);
  const rows = await db.all<{ channel_id: number }>(sql`DELETE FROM opt_outs
    WHERE channel_id = ${signal.channelId} AND identifier = ${signal.identifier} AND at < ${millis(signal.at)}
      AND source IN ${LIFTABLE} ${signal.marketingOnly ? sql`AND marketing_only = 1` : sql``}
    RETURNING channel_id`);
  return rows.length > 0;
}

/**
 * Applies a channel's opt-out or opt-in signal once when it names the provider's event (eventId, from a
 * callback to `channelId`'s own URL): a callback captured and replayed later (a Twilio START, timed by its
 * arrival, after the contact's STOP) or retried by the provider changes nothing the second time. The ID
 * is kept in the transaction that applies it, so a failed write is applied again on the provider's retry.
 * Returns false when the event was applied before.
 */
export async function applySignalOnce(
  db: Database,
  signal: { channelId: number; eventId?: string | undefined; now: number },
  apply: (runner: Runner) => Promise<unknown>,
): Promise<boolean> {
  if (signal.eventId === undefined) {
    await apply(db);
    return true;
  }
  const eventId = signal.eventId.slice(0, 200);
  return db.transaction(async (tx) => {
    const fresh = await tx.all(sql`INSERT INTO signals_applied (channel_id, event_id, at)
      VALUES (${signal.channelId}, ${eventId}, ${signal.now}) ON CONFLICT DO NOTHING RETURNING 1`);
    if (fresh.length === 0) return false;
    await apply(tx);
    return true;
  });
}

interface ChannelRow {
  id: number;
  type: ChannelType;
  name: string;
  /** The contact's identifier in contact_identifiers for this channel (non-phone channels). */
  identifier: string | null;
}

/** The contact's address on a channel: its phone or e-mail, or its identifier for that channel. */
function addressOn(channel: ChannelRow, contact: { phone: string | null; email: string | null }): string | null {
  const kind = channelCapabilities[channel.type]?.identifier;
  if (kind === 'phone') return contact.phone;
  if (kind === 'email') return contact.email;
  return channel.identifier;
}

async function contactChannels(db: Runner, workspaceId: number, contactId: number, channelId?: number) {
  const contact = await first<{ phone: string | null; email: string | null }>(
    db,
    sql`SELECT phone, email FROM contacts WHERE id = ${contactId} AND workspace_id = ${workspaceId}`,
  );
  if (!contact) return { contact: undefined, channels: [] };
  const channels = await db.all<ChannelRow>(sql`SELECT ch.id, ch.type, ch.name, ci.identifier
    FROM channels ch LEFT JOIN contact_identifiers ci ON ci.channel_id = ch.id AND ci.contact_id = ${contactId}
    WHERE ch.workspace_id = ${workspaceId} AND ch.deleted_at IS NULL
      ${channelId === undefined ? sql`` : sql`AND ch.id = ${channelId}`}
    ORDER BY ch.id`);
  return { contact, channels };
}

const sourceOf = (value: string | null): OptOutSource | null =>
  value !== null && (OPT_OUT_SOURCES as readonly string[]).includes(value) ? (value as OptOutSource) : null;

/** The channels (not deleted) on which a contact of the workspace opted out: when, what said so, oldest first. */
export async function optOutsForContact(db: Runner, workspaceId: number, contactId: number): Promise<ContactOptOut[]> {
  const { contact, channels } = await contactChannels(db, workspaceId, contactId);
  if (!contact) return [];
  const byId = new Map(channels.map((channel) => [channel.id, channel]));
  const pairs = channels.flatMap((channel) => {
    const identifier = addressOn(channel, contact);
    return identifier === null ? [] : [[channel.id, identifier]];
  });
  if (pairs.length === 0) return [];
  // One JSON parameter for all the (channel, identifier) pairs: the primary key answers each.
  const rows = await db.all<{
    channel_id: number;
    identifier: string;
    at: number;
    source: string | null;
    detail: string | null;
    marketing_only: number;
  }>(sql`SELECT o.channel_id, o.identifier, o.at, o.source, o.detail, o.marketing_only
    FROM json_each(${JSON.stringify(pairs)}) p
    JOIN opt_outs o ON o.channel_id = p.value ->> 0 AND o.identifier = p.value ->> 1
    ORDER BY o.at, o.channel_id`);
  return rows.flatMap((row) => {
    const channel = byId.get(row.channel_id);
    if (!channel) return [];
    return [
      {
        channelId: channel.id,
        channelName: channel.name,
        channelType: channel.type,
        identifier: row.identifier,
        at: new Date(row.at).toISOString(),
        source: sourceOf(row.source),
        detail: row.detail,
        marketingOnly: Boolean(row.marketing_only),
      },
    ];
  });
}

/**
 * A contact's address on one of the workspace's channels. A channel of another workspace, deleted or
 * unknown is "channel not found", exactly alike; null when the contact has no address there.
 */
export async function contactAddressOn(
  db: Runner,
  workspaceId: number,
  contactId: number,
  channelId: number,
): Promise<{ channel: { id: number; type: ChannelType; name: string }; identifier: string | null }> {
  const { contact, channels } = await contactChannels(db, workspaceId, contactId, channelId);
  const [channel] = channels;
  if (!contact || !channel) throw notFound('channel');
  return {
    channel: { id: channel.id, type: channel.type, name: channel.name },
    identifier: addressOn(channel, contact),
  };
}

export interface RemovedOptOut {
  channelId: number;
  identifier: string;
  at: string;
  source: OptOutSource | null;
  detail: string | null;
}

export interface OptOutRemoval {
  /** Why: required, kept in the audit event. */
  note: string;
  /** Who removed it: the API token. */
  by: { tokenId: number; tokenName: string; role: Role };
  /** The contact, for the audit event. */
  contact?: { id: number; name?: string | null };
}

/**
 * A manager lifts an opt-out (the contact agreed to get messages again): the row goes and a
 * `contact.opt_out_removed` event keeps who, when, why and what was removed. The channel must belong
 * to the workspace (404 otherwise); undefined when there was no opt-out to remove.
 */
export async function removeOptOut(
  db: Database,
  workspaceId: number,
  channelId: number,
  identifier: string,
  removal: OptOutRemoval,
  now = Date.now(),
): Promise<RemovedOptOut | undefined> {
  return db.transaction(async (tx) => {
    const channel = await first<{ name: string }>(
      tx,
      sql`SELECT name FROM channels WHERE id = ${channelId} AND workspace_id = ${workspaceId} AND deleted_at IS NULL`,
    );
    if (!channel) throw notFound('channel');
    const row = await first<{ at: number; source: string | null; detail: string | null }>(
      tx,
      sql`DELETE FROM opt_outs WHERE channel_id = ${channelId} AND identifier = ${identifier} RETURNING at, source, detail`,
    );
    if (!row) return undefined;
    // The manager's word is the latest: a channel's signal from before it (a late report) is stale. At the
    // start of its second: providers time signals in whole seconds, and a stop in the same second counts.
    await tx.run(sql`INSERT INTO opt_ins (channel_id, identifier, at)
      VALUES (${channelId}, ${identifier}, ${Math.floor(now / 1000) * 1000})
      ON CONFLICT (channel_id, identifier) DO UPDATE SET at = max(opt_ins.at, excluded.at)`);
    const removed: RemovedOptOut = {
      channelId,
      identifier,
      at: new Date(row.at).toISOString(),
      source: sourceOf(row.source),
      detail: row.detail,
    };
    // Written straight to the events table: the event stream's sentence and type list live elsewhere.
    await tx.insert(events).values({
      workspaceId,
      type: 'contact.opt_out_removed',
      broadcastId: null,
      data: {
        ...(removal.contact?.name && { name: removal.contact.name }),
        ...(removal.contact && { contactId: removal.contact.id }),
        channelId,
        channelName: channel.name,
        identifier,
        note: removal.note,
        by: removal.by,
        optOut: { at: removed.at, source: removed.source, detail: removed.detail },
      },
      createdAt: now,
    });
    return removed;
  });
}
