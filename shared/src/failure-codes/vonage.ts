/**
 * Vonage SMS API: providerCode is "status:<n>" for the submit answer ("status:7") and "dlr:<err-code>"
 * for delivery receipts ("dlr:2"). A receipt without an err-code may be reported with its status word:
 * "dlr:expired", "dlr:failed", "dlr:rejected" (or "rejectd"), "dlr:undelivered" (or "undeliv"),
 * "dlr:deleted", "dlr:unknown". Numbers lose leading zeros ("dlr:002" is "dlr:2"); words are case-insensitive.
 * Sources: channels.md section 2e (submit statuses) and Vonage's DLR err-code list.
 */
import type { FailureReason } from '../failure-reasons';
import { lookup, normalizeCode, type ProviderCodeTable, type ProviderFailureCodes } from './types';

export const vonageCodes: ProviderCodeTable = Object.freeze({
  // Submit answer ("status").
  'status:0': {
    reason: 'uncertain',
    retry: 'final',
    note: 'Accepted for delivery, not delivered yet: wait for the receipt',
  },
  'status:1': { reason: 'throttled', retry: 'later', note: "Throttled: over the account's requests per second" },
  // "Fix the request" (channels.md 2e): the channel's settings, not a passing fault to re-send at once.
  'status:2': { reason: 'account_problem', retry: 'final', note: 'Missing parameters in the request' },
  'status:3': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Invalid parameters in the request (invalid_identifier if about the number)',
  },
  'status:4': { reason: 'account_problem', retry: 'final', note: 'Invalid credentials (API key or secret)' },
  'status:5': { reason: 'provider_error', retry: 'now', note: 'Internal error at Vonage; retry' },
  'status:6': {
    reason: 'invalid_identifier',
    retry: 'final',
    note: 'Invalid message, e.g. an unrecognised number prefix',
  },
  'status:7': { reason: 'blocked', retry: 'final', note: 'Number barred: the destination is blacklisted' },
  'status:8': { reason: 'account_problem', retry: 'final', note: 'Partner account barred (suspended)' },
  'status:9': { reason: 'account_problem', retry: 'final', note: 'Partner quota violation: not enough credit; top up' },
  'status:10': { reason: 'throttled', retry: 'later', note: 'Too many existing binds' },
  'status:11': { reason: 'account_problem', retry: 'final', note: 'Account not enabled for HTTP' },
  'status:12': { reason: 'template_problem', retry: 'final', note: 'Message too long' },
  'status:14': { reason: 'account_problem', retry: 'final', note: 'Invalid signature (signature secret)' },
  'status:15': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Invalid sender address (e.g. an unsupported sender ID in North America)',
  },
  'status:22': { reason: 'account_problem', retry: 'final', note: 'Invalid network code in the request' },
  'status:23': { reason: 'account_problem', retry: 'final', note: 'Invalid callback URL' },
  'status:29': { reason: 'account_problem', retry: 'final', note: 'Non-whitelisted destination (trial account)' },
  'status:32': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Signature and API secret both sent; the account allows one',
  },
  'status:33': { reason: 'not_on_channel', retry: 'final', note: 'Number de-activated: it cannot receive messages' },

  // Delivery receipts ("err-code").
  'dlr:0': {
    reason: 'provider_error',
    retry: 'final',
    note: 'err-code 0 (delivered / no code): on a failed receipt it says nothing specific',
  },
  'dlr:1': {
    reason: 'provider_error',
    retry: 'final',
    note: 'Unknown: an unknown carrier error (check the number if it repeats)',
  },
  'dlr:2': {
    reason: 'unreachable',
    retry: 'final',
    note: 'Absent subscriber, temporary: handset off or out of coverage',
  },
  'dlr:3': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'Absent subscriber, permanent: the number is no longer active',
  },
  'dlr:4': { reason: 'blocked', retry: 'final', note: 'Call barred by the user' },
  'dlr:5': { reason: 'not_on_channel', retry: 'final', note: 'Portability error after the user changed carrier' },
  'dlr:6': {
    reason: 'spam_filtered',
    retry: 'final',
    note: 'Anti-spam rejection by the carrier (sender ID or content)',
  },
  'dlr:7': { reason: 'unreachable', retry: 'final', note: 'Handset busy' },
  'dlr:8': { reason: 'provider_error', retry: 'final', note: 'Network error; temporary' },
  'dlr:9': {
    reason: 'blocked',
    retry: 'final',
    note: 'Illegal number: the user sent STOP and the number is blacklisted',
  },
  'dlr:10': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Invalid message: a message parameter (type, udh) was wrong',
  },
  'dlr:11': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Unroutable: no route to this network from this sender; contact Vonage',
  },
  'dlr:12': { reason: 'unreachable', retry: 'final', note: 'Destination unreachable' },
  'dlr:13': {
    reason: 'spam_filtered',
    retry: 'final',
    note: 'Subscriber age restriction: the carrier blocked the content',
  },
  'dlr:14': {
    reason: 'blocked',
    retry: 'final',
    note: 'Number blocked by the carrier (plan without SMS, suspended line…)',
  },
  'dlr:15': { reason: 'unreachable', retry: 'final', note: "Prepaid, insufficient funds on the recipient's line" },
  'dlr:16': { reason: 'throttled', retry: 'final', note: 'Gateway quota exceeded: wait, then send again' },
  // Registration filters (India's DLT and the like): the sender, its content template or its consent
  // records are not registered as the destination requires. Sending again unchanged is filtered again.
  'dlr:50': { reason: 'account_problem', retry: 'final', note: 'Entity filter: the sending entity is not registered' },
  'dlr:51': { reason: 'account_problem', retry: 'final', note: 'Header filter: the sender ID is not registered' },
  'dlr:52': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Content filter: the text does not match a registered template',
  },
  'dlr:53': { reason: 'blocked', retry: 'final', note: 'Consent filter: the recipient has not consented' },
  'dlr:54': { reason: 'account_problem', retry: 'final', note: 'Regulation error: a local rule refused the send' },
  'dlr:99': { reason: 'provider_error', retry: 'final', note: 'General error on the route' },

  // Receipt status words, when there is no err-code.
  'dlr:expired': { reason: 'unreachable', retry: 'final', note: 'No final receipt within the 72 h lifetime' },
  'dlr:undelivered': { reason: 'unreachable', retry: 'final', note: 'Undeliverable, no detail' },
  'dlr:undeliv': { reason: 'unreachable', retry: 'final', note: 'Undeliverable, no detail (SMPP spelling)' },
  // Final refusals with no cause (channels.md 2e: only EXPIRED and UNKNOWN may be worth one retry): not a
  // passing fault to re-send at once, and the same send on the same route is refused the same way.
  'dlr:failed': { reason: 'carrier_rejected', retry: 'final', note: 'Failed, no detail' },
  'dlr:rejected': { reason: 'carrier_rejected', retry: 'final', note: 'Rejected by the carrier, no detail' },
  'dlr:rejectd': { reason: 'carrier_rejected', retry: 'final', note: 'Rejected, no detail (SMPP spelling)' },
  'dlr:deleted': { reason: 'carrier_rejected', retry: 'final', note: 'Deleted by the carrier, no detail' },
  'dlr:unknown': { reason: 'uncertain', retry: 'final', note: 'Final state unknown: it may have been delivered' },
});

export function classifyVonage(providerCode: string, providerMessage?: string): FailureReason | undefined {
  const [kind = '', ...rest] = providerCode.trim().toLowerCase().split(':');
  const code = `${kind}:${normalizeCode(rest.join(':'))}`;
  const entry = lookup(vonageCodes, code);
  if (!entry) return undefined;
  // "Invalid parameters" is about the destination number when the error-text says so.
  if (code === 'status:3' && providerMessage && /\bto\b|number|recipient|msisdn/i.test(providerMessage)) {
    return 'invalid_identifier';
  }
  return entry.reason;
}

export const vonageFailureCodes: ProviderFailureCodes = { classify: classifyVonage, tables: { codes: vonageCodes } };
