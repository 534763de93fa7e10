/**
 * One row of the failed-message log as the API and the export show it: what was sent, the provider's
 * own words (not Rebound's), the reason in the reader's language and when a re-send may go.
 */
import {
  type BroadcastContent,
  describeFailure,
  FAILURE_REASONS,
  type FailedMessage,
  type FailureReason,
  type Language,
} from '@rebound/shared';
import { unconfirmedWindowMs } from '../config';
import { type FailedRow, subtypeOf } from './failure-query';

/** Broadcast contents repeat on every row of a broadcast: parse each once. */
const parsedContents = new Map<string, BroadcastContent>();

function parseContent(raw: string | BroadcastContent): BroadcastContent {
  if (typeof raw !== 'string') return raw;
  let content = parsedContents.get(raw);
  if (!content) {
    if (parsedContents.size > 1000) parsedContents.clear();
    content = JSON.parse(raw) as BroadcastContent;
    parsedContents.set(raw, content);
  }
  return content;
}

export interface SentContent {
  type: 'text' | 'template';
  text: string;
  template: { name: string; language: string; parameters: string[] } | null;
}

/** What the recipient was sent: the broadcast's template when the message went out as one, else its text. */
export function contentOf(row: Pick<FailedRow, 'content' | 'use_template'>): SentContent {
  const content = parseContent(row.content);
  const template = content.template;
  if (row.use_template && template) {
    const parameters = template.parameters ?? [];
    const params = parameters.length ? ` (${parameters.join(', ')})` : '';
    return {
      type: 'template',
      text: `${template.name} [${template.language}]${params}`,
      template: { name: template.name, language: template.language, parameters },
    };
  }
  return { type: 'text', text: content.text, template: null };
}

/**
 * Codes Rebound writes itself (its own reasons; the HTTP client's timeout and connection failures),
 * never the provider's: older rows carry them in provider_code.
 */
const REBOUND_CODES = new Set([
  'quota_reached',
  'outside_window',
  'opt_out',
  'opted_out',
  'uncertain',
  'timeout',
  'connection',
]);

/** English sentences older engine versions wrote as provider_message; the catalog says it in the reader's language. */
const REBOUND_TEXTS = [
  'The engine stopped while this message was being sent',
  'The contact blocked the business or opted out on this channel',
  'More than 24 h since the contact last wrote',
  'The channel reached its limit of ',
];

/** What older engine versions appended to the provider's words. */
const GAVE_UP_SUFFIX = /\s*\(gave up after \d+ attempts?\)$/;

/** The provider's code and words as the provider wrote them; null where Rebound wrote them itself. */
export function providerWords(row: Pick<FailedRow, 'provider_code' | 'provider_message'>): {
  code: string | null;
  message: string | null;
} {
  const code = row.provider_code?.trim() || null;
  if (code !== null && REBOUND_CODES.has(code.toLowerCase())) return { code: null, message: null };
  const message = row.provider_message?.replace(GAVE_UP_SUFFIX, '').trim() || null;
  if (message !== null && REBOUND_TEXTS.some((text) => message.startsWith(text))) return { code, message: null };
  return { code, message };
}

function reasonOf(row: Pick<FailedRow, 'state' | 'reason'>): FailureReason {
  if (row.reason && (FAILURE_REASONS as readonly string[]).includes(row.reason)) return row.reason;
  return row.state === 'uncertain' ? 'uncertain' : 'provider_error';
}

/**
 * When a re-send may go: for an unconfirmed message, once its wait for a delivery report is over
 * (`windowMs` after it was sent); otherwise the time the engine recorded (quota frees, provider wait).
 */
export function resendAfterOf(
  row: Pick<FailedRow, 'state' | 'reason' | 'failed_at' | 'retry_after_at'>,
  windowMs: number = unconfirmedWindowMs(),
): number | null {
  if (subtypeOf(row) === 'unconfirmed' && row.failed_at != null) return row.failed_at + windowMs;
  return row.retry_after_at;
}

/**
 * One row as the API shows it. `windowMs` is the unconfirmed messages' wait for a delivery report
 * (read once per page by callers that convert many rows).
 */
export function toFailedMessage(
  row: FailedRow,
  language: Language,
  windowMs: number = unconfirmedWindowMs(),
): FailedMessage {
  const content = contentOf(row);
  const provider = providerWords(row);
  const name = [row.first_name, row.last_name].filter(Boolean).join(' ');
  const resendAfter = resendAfterOf(row, windowMs);
  return {
    messageId: row.id,
    failedAt: new Date(row.failed_at).toISOString(),
    sender: { id: row.broadcast_id, type: 'broadcast', name: row.broadcast_name },
    contact: { id: row.contact_id, name: name || null, identifier: row.identifier },
    contentType: content.type,
    content: content.text,
    template: content.template,
    channel: { id: row.channel_id, type: row.channel_type, name: row.channel_name },
    type: 'broadcast',
    subtype: subtypeOf(row),
    providerCode: provider.code,
    providerMessage: provider.message,
    reason: describeFailure(reasonOf(row), language),
    retryAfter: resendAfter === null ? null : new Date(resendAfter).toISOString(),
  };
}
