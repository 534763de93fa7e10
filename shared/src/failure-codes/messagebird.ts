/**
 * Bird / MessageBird SMS: providerCode is "api:<code>" for REST request errors ("api:25") and
 * "dlr:<statusErrorCode>" for status reports ("dlr:27").
 * - dlr codes below 1000 are the SMS platform's extended error codes (failure.source.code; GSM MAP style).
 * - dlr codes of 11000 and up are Bird Channels API failure codes (failure.code): known ones are listed,
 *   the rest go by family (11xxx, 12xxx, 14xxx, 15xxx). For a family code, a "code: <n>" in the reason
 *   text (providerMessage, e.g. "details: unknown subscriber; reason: unknown_subscriber; code: 1") is
 *   looked up first as the source code.
 * - status words are accepted too: "dlr:expired", "dlr:delivery_failed", "dlr:sending_failed", "dlr:unknown".
 * Sources: channels.md section 2f, Bird's message-failure pages, and the REST API error codes.
 */
import type { FailureReason } from '../failure-reasons';
import { lookup, normalizeCode, type ProviderCodeTable, type ProviderFailureCodes } from './types';

export const messagebirdCodes: ProviderCodeTable = Object.freeze({
  // REST API request errors.
  'api:2': { reason: 'account_problem', retry: 'final', note: 'Request not allowed (incorrect access key)' },
  // A request to fix (the channel's settings), unless the text names the recipients.
  'api:9': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Missing params (invalid_identifier when about the recipients)',
  },
  'api:10': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Invalid params (invalid_identifier when about the recipients)',
  },
  'api:20': { reason: 'provider_error', retry: 'final', note: 'Not found' },
  'api:21': { reason: 'account_problem', retry: 'final', note: 'Bad request: fix the request' },
  'api:25': { reason: 'account_problem', retry: 'final', note: 'Not enough balance' },
  'api:98': { reason: 'provider_error', retry: 'final', note: 'API not found' },
  'api:99': { reason: 'provider_error', retry: 'now', note: 'Internal error' },

  // SMS platform extended error codes (failure.source.code).
  'dlr:0': {
    reason: 'provider_error',
    retry: 'final',
    note: 'EC_NO_ERROR: generic delivery failure, no detail from the carrier',
  },
  'dlr:1': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'EC_UNKNOWN_SUBSCRIBER: the number is not linked to an active line',
  },
  'dlr:2': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'EC_UNKNOWN_BASE_STATION (grouped by Bird as unknown subscriber)',
  },
  'dlr:3': { reason: 'not_on_channel', retry: 'final', note: 'EC_UNKNOWN_MSC (grouped by Bird as unknown subscriber)' },
  'dlr:5': { reason: 'not_on_channel', retry: 'final', note: 'EC_UNIDENTIFIED_SUBSCRIBER' },
  'dlr:6': { reason: 'unreachable', retry: 'final', note: 'EC_ABSENT_SUBSCRIBER_SM: handset off or out of coverage' },
  'dlr:7': { reason: 'not_on_channel', retry: 'final', note: 'EC_UNKNOWN_EQUIPMENT' },
  'dlr:8': {
    reason: 'unreachable',
    retry: 'final',
    note: 'EC_ROAMING_NOT_ALLOWED: temporarily unavailable while roaming',
  },
  'dlr:9': { reason: 'not_on_channel', retry: 'final', note: 'EC_ILLEGAL_SUBSCRIBER' },
  'dlr:10': { reason: 'not_on_channel', retry: 'final', note: 'EC_BEARERSERVICE_NOT_PROVISIONED' },
  'dlr:11': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'EC_TELESERVICE_NOT_PROVISIONED: the line has no SMS service',
  },
  'dlr:12': {
    reason: 'blocked',
    retry: 'final',
    note: "EC_CALL_BARRED in Bird's list (EC_ILLEGAL_EQUIPMENT in plain GSM MAP)",
  },
  'dlr:13': { reason: 'blocked', retry: 'final', note: 'EC_CALL_BARRED: the line is barred from receiving SMS' },
  'dlr:21': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'EC_FACILITY_NOT_SUPPORTED: SMS not supported for this line',
  },
  'dlr:26': {
    reason: 'unreachable',
    retry: 'final',
    note: 'EC_SUBSEQUENT_HANDOVER_FAILURE (Bird: unavailable subscriber)',
  },
  'dlr:27': { reason: 'unreachable', retry: 'final', note: 'EC_ABSENT_SUBSCRIBER: handset off or out of coverage' },
  'dlr:31': { reason: 'unreachable', retry: 'final', note: 'EC_SUBSCRIBER_BUSY_FOR_MT_SMS' },
  'dlr:32': {
    reason: 'unreachable',
    retry: 'final',
    note: 'EC_SM_DELIVERY_FAILURE (handset memory full or protocol error)',
  },
  'dlr:33': { reason: 'unreachable', retry: 'final', note: 'EC_MESSAGE_WAITING_LIST_FULL' },
  'dlr:34': { reason: 'provider_error', retry: 'final', note: 'EC_SYSTEM_FAILURE (received_network_error); retry' },
  'dlr:35': { reason: 'provider_error', retry: 'final', note: 'EC_DATA_MISSING in the network' },
  'dlr:36': { reason: 'provider_error', retry: 'final', note: 'EC_UNEXPECTED_DATA_VALUE from the network' },
  'dlr:103': {
    reason: 'provider_error',
    retry: 'final',
    note: 'Unknown error (meaning not confirmed in the stored docs)',
  },
  'dlr:104': {
    reason: 'spam_filtered',
    retry: 'final',
    note: 'Blocked as spam by the carrier or Bird (meaning not confirmed in the stored docs)',
  },
  'dlr:106': {
    reason: 'quota_reached',
    retry: 'final',
    note: 'EC_CAMPAIGN_VOLUME_EXCEEDED: US 10DLC T-Mobile daily cap per brand; resets the next day',
  },
  'dlr:107': {
    reason: 'throttled',
    retry: 'final',
    note: 'EC_CAMPAIGN_THROUGHPUT_EXCEEDED: US 10DLC campaign throughput',
  },

  // Bird Channels API failure codes (failure.code).
  'dlr:11001': { reason: 'account_problem', retry: 'final', note: 'INVALID_CHANNEL_CONFIGURATION' },
  'dlr:11002': { reason: 'provider_error', retry: 'final', note: 'INVALID_INPUT' },
  'dlr:12001': {
    reason: 'provider_error',
    retry: 'final',
    note: 'DEPENDENCY_ERROR: internal error in a Bird dependency',
  },
  'dlr:12002': {
    reason: 'template_problem',
    retry: 'final',
    note: 'UNSUPPORTED_TYPE: the message cannot be converted for this platform',
  },
  'dlr:12003': {
    reason: 'account_problem',
    retry: 'final',
    note: 'UNSUPPORTED_DESTINATION: this sender may not send to this destination',
  },
  'dlr:15001': { reason: 'provider_error', retry: 'final', note: 'Network error (source code 34)' },
  'dlr:15005': { reason: 'not_on_channel', retry: 'final', note: 'Unknown subscriber (source code 1)' },

  // Status words.
  'dlr:expired': {
    reason: 'unreachable',
    retry: 'final',
    note: 'Not delivered within the validity period (about 48 h)',
  },
  'dlr:delivery_failed': { reason: 'unreachable', retry: 'final', note: 'Negative delivery report, no detail' },
  'dlr:sending_failed': {
    reason: 'provider_error',
    retry: 'final',
    note: 'Failed before handover to the carrier, no detail',
  },
  'dlr:unknown': { reason: 'uncertain', retry: 'final', note: 'Final state unknown: it may have been delivered' },
});

/** Bird failure-code families ("dlr:<failure.code>" not listed above), keyed by their first two digits. */
export const messagebirdFailureFamilies: ProviderCodeTable = Object.freeze({
  '11': {
    reason: 'provider_error',
    retry: 'final',
    note: '11xxx async validation error (input, receiver, content, sender)',
  },
  '12': {
    reason: 'provider_error',
    retry: 'final',
    note: '12xxx Bird service error, not caused by the user; retryable',
  },
  '14': {
    reason: 'account_problem',
    retry: 'final',
    note: '14xxx customer error: fix the account or configuration first',
  },
  '15': {
    reason: 'provider_error',
    retry: 'final',
    note: '15xxx platform (carrier or channel) error; depends on the source code',
  },
});

export function classifyMessagebird(providerCode: string, providerMessage?: string): FailureReason | undefined {
  const [kind = '', ...rest] = providerCode.trim().toLowerCase().split(':');
  const value = normalizeCode(rest.join(':'));
  const code = `${kind}:${value}`;

  if (kind === 'api') {
    const entry = lookup(messagebirdCodes, code);
    if (!entry) return undefined;
    if ((value === '9' || value === '10') && providerMessage) {
      if (/recipient/i.test(providerMessage)) return 'invalid_identifier';
      if (/originator/i.test(providerMessage)) return 'account_problem';
    }
    return entry.reason;
  }

  if (kind !== 'dlr') return undefined;
  const entry = lookup(messagebirdCodes, code);
  const isFailureCode = /^\d{5}$/.test(value);
  // A Channels API failure code carries the platform's own code in the reason text: that is more precise.
  if (isFailureCode && providerMessage) {
    const sourceCode = /\bcode:\s*(\d+)/i.exec(providerMessage)?.[1];
    const source = sourceCode === undefined ? undefined : lookup(messagebirdCodes, `dlr:${normalizeCode(sourceCode)}`);
    if (source) return source.reason;
  }
  if (entry) return entry.reason;
  if (isFailureCode) return lookup(messagebirdFailureFamilies, value.slice(0, 2))?.reason;
  return undefined;
}

export const messagebirdFailureCodes: ProviderFailureCodes = {
  classify: classifyMessagebird,
  tables: { codes: messagebirdCodes, failureFamilies: messagebirdFailureFamilies },
};
