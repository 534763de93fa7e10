/**
 * WhatsApp Cloud API (Meta): providerCode is the Graph error `code` as a decimal string ("131049").
 * The same codes arrive synchronously and in the messages webhook (status "failed").
 * Sources: channels.md section 2a; entries marked "(extra)" come from Meta's error-code list and are
 * not in channels.md.
 */
import type { FailureReason } from '../failure-reasons';
import { lookup, normalizeCode, type ProviderCodeTable, type ProviderFailureCodes } from './types';

export const whatsappCodes: ProviderCodeTable = Object.freeze({
  // Throughput and rate limits: slow down and retry.
  '130429': {
    reason: 'throttled',
    retry: 'later',
    note: "Rate limit hit: the number's Cloud API throughput (80 or 1,000 msg/s) is used up",
  },
  '131056': {
    reason: 'throttled',
    retry: 'later',
    note: 'Pair rate limit: too many messages from this business number to the same user in a short time',
  },
  '4': { reason: 'throttled', retry: 'later', note: '(extra) Too many API calls from the app' },
  '80007': {
    reason: 'throttled',
    retry: 'later',
    note: '(extra) The WhatsApp Business Account reached its API rate limit',
  },

  // The contact.
  '131049': {
    reason: 'recipient_limit',
    retry: 'final',
    note: 'Meta chose not to deliver: the per-user marketing cap across all businesses (also the US marketing pause); retry after about 24 h or use a utility template',
  },
  '131050': { reason: 'blocked', retry: 'final', note: 'The user stopped marketing messages from this business' },
  '131026': {
    reason: 'not_on_channel',
    retry: 'final',
    note: 'Undeliverable: number not on WhatsApp, new Terms of Service not accepted, or WhatsApp app too old',
  },
  // Not a fact about the number (it is on WhatsApp): Meta holds back marketing to this person for its
  // experiment. Read as not_on_channel, it failed the number's other messages too (delivery.ts); as
  // 131049's recipient_limit, it was re-sent on WhatsApp a day later, to fail again.
  '130472': {
    reason: 'marketing_held',
    retry: 'final',
    note: "The user's number is part of a Meta experiment: marketing not delivered; reach them after they write",
  },
  '100': {
    reason: 'invalid_identifier',
    retry: 'final',
    note: 'Invalid parameter, typically a malformed phone number',
  },
  '131021': {
    reason: 'invalid_identifier',
    retry: 'final',
    note: '(extra) Recipient cannot be the sender: the contact has the business number',
  },

  // The 24 h customer-service window.
  '131047': {
    reason: 'outside_window',
    retry: 'final',
    note: 'Re-engagement needed: more than 24 h since the user last wrote, and free-form text was sent; use a template',
  },
  '470': {
    reason: 'outside_window',
    retry: 'final',
    note: 'On-Premises/legacy: outside the support window; a template (HSM) is needed',
  },

  // Template and content.
  '131051': { reason: 'template_problem', retry: 'final', note: 'Unsupported message type' },
  '131052': {
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) Media download error: the attached file could not be fetched',
  },
  '131053': {
    reason: 'template_problem',
    retry: 'final',
    note: '(extra) Media upload error: the attached file was refused',
  },
  '132000': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Template parameter count does not match the template',
  },
  '132001': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Template does not exist in this language (or at all)',
  },
  '132005': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Template text too long once the variables are filled in',
  },
  '132007': { reason: 'template_problem', retry: 'final', note: 'Template breaks the format-character policy' },
  '132012': { reason: 'template_problem', retry: 'final', note: 'Template parameter format does not match' },
  '132015': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Template paused for low quality (Meta lifts it after 3 h, then 6 h): its broadcasts pause; wait or choose another template',
  },
  '132016': {
    reason: 'template_problem',
    retry: 'final',
    note: 'Template disabled after repeated pauses: its broadcasts pause; choose another template',
  },

  // Quality and spam.
  '131048': {
    reason: 'spam_filtered',
    retry: 'final',
    note: 'Spam rate limit: the number is restricted because many earlier messages were blocked or reported',
  },

  // The business account.
  '131031': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Business account locked or restricted (policy, or data verification failed)',
  },
  '368': { reason: 'account_problem', retry: 'final', note: 'Temporarily blocked for policy violations' },
  '131042': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Business eligibility or payment issue; fix billing, then re-send',
  },
  '190': { reason: 'account_problem', retry: 'final', note: 'Invalid or expired OAuth access token' },
  '3': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) The app lacks the capability or permission for this API',
  },
  '10': { reason: 'account_problem', retry: 'final', note: '(extra) Permission denied' },
  '131005': { reason: 'account_problem', retry: 'final', note: '(extra) Access denied: the token lacks permission' },
  '133010': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) The business phone number is not registered on the Cloud API',
  },
  '130497': {
    reason: 'account_problem',
    retry: 'final',
    note: '(extra) The business account may not message users in this country',
  },

  // Transient faults at Meta.
  '131000': { reason: 'provider_error', retry: 'now', note: 'Something went wrong (generic error); retry' },
  '131016': { reason: 'provider_error', retry: 'now', note: 'Service overloaded or unavailable; retry with backoff' },
  '1': { reason: 'provider_error', retry: 'now', note: 'Unknown API error; retry' },
  '2': { reason: 'provider_error', retry: 'now', note: 'API service temporarily unavailable; retry' },
  '131057': {
    reason: 'provider_error',
    retry: 'final',
    note: '(extra) The business account is in maintenance mode for a short while',
  },
});

export function classifyWhatsapp(providerCode: string, providerMessage?: string): FailureReason | undefined {
  const code = normalizeCode(providerCode);
  const entry = lookup(whatsappCodes, code);
  if (!entry) return undefined;
  // 100 is "invalid parameter": usually the phone number, but a template parameter when the message says so.
  if (code === '100' && providerMessage && /template/i.test(providerMessage)) return 'template_problem';
  return entry.reason;
}

export const whatsappFailureCodes: ProviderFailureCodes = {
  isOptOut: (code) => normalizeCode(code) === '131050',
  // 131050 says the person turned off marketing from this business; Meta still delivers utility templates.
  optOutMarketingOnly: true,
  classify: classifyWhatsapp,
  tables: { codes: whatsappCodes },
};
