/**
 * The failure catalog: every way a message can fail, in words an agent understands, with what to do
 * and whether re-sending can help. Provider codes are mapped to these reasons in ./failure-codes/.
 * THIS IS WHERE A FAILURE REASON IS DECIDED: classifyProviderFailure() below.
 */
import type { ChannelType } from './channels';
import type { Localized } from './i18n';

export const FAILURE_REASONS = [
  'quota_reached',
  'throttled',
  'blocked',
  'invalid_identifier',
  'no_identifier',
  'not_on_channel',
  'unreachable',
  'recipient_limit',
  'outside_window',
  'template_problem',
  'spam_filtered',
  'account_problem',
  'unsupported_channel',
  'duplicate',
  'provider_error',
  'uncertain',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Whether sending the same message again can help: right away, after a wait, or not until something changes. */
export type ResendAdvice = 'now' | 'later' | 'never';

export interface FailureReasonInfo {
  resend: ResendAdvice;
  title: Localized;
  explanation: Localized;
  action: Localized;
}

// TODO(catalog): filled by the failure-catalog work.
export const failureReasons = {} as Record<FailureReason, FailureReasonInfo>;

/**
 * Provider codes, as adapters report them (providerCode) and as the catalog maps them:
 * - whatsapp:     the Graph error `code` as a decimal string: "131049", "130429"
 * - messenger:    "<code>" or "<code>/<error_subcode>": "551", "10/2018278", "100/2018001"
 * - telegram:     the `error_code` ("403", "400", "429"); the `description` decides between the 403s/400s
 * - twilio_sms:   the Twilio error code: "21610", "30003"
 * - vonage_sms:   "status:<n>" for the submit answer ("status:7"), "dlr:<err-code>" for delivery receipts
 * - messagebird_sms: "api:<code>" for request errors, "dlr:<statusErrorCode>" for status reports
 * - any channel:  "timeout", "connection", "http_<status>" when the provider gave no code of its own
 */
export function classifyProviderFailure(
  _channelType: ChannelType,
  _providerCode: string,
  _providerMessage?: string,
): FailureReason {
  return 'provider_error';
}
