/**
 * Twilio (SMS, plus the WhatsApp-via-Twilio codes 63016/63018): providerCode is the Twilio error code
 * ("21610", "30003"), from the send answer or the status callback's ErrorCode.
 * Sources: channels.md section 2d and the limits table (14107, 21611); entries marked "(extra)" come
 * from Twilio's error dictionary and are not in channels.md.
 */
import type { FailureReason } from '../failure-reasons';
import { lookup, normalizeCode, type ProviderCodeTable, type ProviderFailureCodes } from './types';

export const twilioCodes: ProviderCodeTable = Object.freeze({
  // The number.
  '21211': {
    reason: 'invalid_identifier',
    retry: 'final',
    note: "Invalid 'To' number (not E.164, typo, same as From, a short code or alphanumeric sender)",
  },
  '21614': { reason: 'not_on_channel', retry: 'final', note: "'To' is not a mobile number (landline etc.)" },
  '21635': { reason: 'not_on_channel', retry: 'final', note: "'To' is a landline (split out of 21614 in July 2024)" },
  '21612': {
    reason: 'not_on_channel',
    retry: 'final',
    note: "(extra) The 'To' number is not currently reachable via SMS",
  },
  '30005': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'Unknown destination handset: number unknown, inactive or out of service',
  },
  '30006': { reason: 'not_on_channel', retry: 'final', note: 'Landline, or a carrier unreachable from a short code' },

  // The contact.
  '21610': {
    reason: 'blocked',
    retry: 'final',
    note: 'The recipient replied STOP (or another opt-out word); not billed',
  },
  '30004': {
    reason: 'blocked',
    retry: 'final',
    note: 'Message blocked: opted out, carrier blocklist, DND or filtering',
  },
  '30003': {
    reason: 'unreachable',
    retry: 'final',
    note: 'Handset unreachable: off, no signal, roaming or a carrier issue',
  },

  // Spam and content.
  '30007': {
    reason: 'spam_filtered',
    retry: 'final',
    note: 'Filtered by Twilio or the carrier (spam, fraud, policy); fix content and registration',
  },
  '21617': {
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) The message body is over the 1,600-character limit',
  },

  // The 24 h window and limits (WhatsApp via Twilio).
  '63016': {
    reason: 'outside_window',
    retry: 'final',
    note: 'Outside the WhatsApp (or Messenger) window; send a template via ContentSid',
  },
  '63018': {
    reason: 'quota_reached',
    retry: 'final',
    note: 'WhatsApp messaging limit or rate exceeded; wait up to 24 h or for a higher tier',
  },

  // Throughput.
  '20429': {
    reason: 'throttled',
    retry: 'later',
    note: 'Too many concurrent REST requests; not processed, safe to re-send',
  },
  '30001': { reason: 'throttled', retry: 'final', note: 'Queue overflow: more than 10 h of queued segments' },
  '21611': { reason: 'throttled', retry: 'final', note: "The sender's queue is full" },
  '30022': {
    reason: 'throttled',
    retry: 'final',
    note: 'US A2P 10DLC rate limit exceeded (campaign throughput); a message about the T-Mobile daily cap is a quota',
  },
  '14107': {
    reason: 'throttled',
    retry: 'final',
    note: 'Loop guard: over 30 replies in 30 s between the same two numbers',
  },

  // The account.
  '21408': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Destination region not enabled in Messaging Geo Permissions (or unsupported or sanctioned)',
  },
  '30002': { reason: 'account_problem', retry: 'final', note: 'Account suspended (billing or policy)' },
  '20003': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) Authentication error: wrong Account SID or Auth Token',
  },
  '21606': {
    reason: 'account_problem',
    retry: 'final',
    note: "(extra) The 'From' number cannot send messages to this destination",
  },
  '30032': { reason: 'account_problem', retry: 'final', note: '(extra) Toll-free number not verified' },
  '30034': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) US A2P 10DLC: message from an unregistered number',
  },
  '30010': {
    reason: 'account_problem',
    retry: 'final',
    note: "(extra) The message price exceeds the account's maximum price",
  },

  // Carrier faults.
  '30008': {
    reason: 'provider_error',
    retry: 'final',
    note: 'Unknown error from the carrier; retry a few minutes later',
  },
  '30009': { reason: 'provider_error', retry: 'final', note: '(extra) A segment of a multi-part message went missing' },
});

export function classifyTwilio(providerCode: string, providerMessage?: string): FailureReason | undefined {
  const code = normalizeCode(providerCode);
  const entry = lookup(twilioCodes, code);
  if (!entry) return undefined;
  // 30022 covers both the campaign throughput and T-Mobile's daily cap per brand.
  if (code === '30022' && providerMessage && /daily/i.test(providerMessage)) return 'quota_reached';
  return entry.reason;
}

export const twilioFailureCodes: ProviderFailureCodes = {
  isOptOut: (code) => normalizeCode(code) === '21610',
  classify: classifyTwilio,
  tables: { codes: twilioCodes },
};
