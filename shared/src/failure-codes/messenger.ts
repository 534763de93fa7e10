/**
 * Facebook Messenger (Send API): providerCode is "<code>" or "<code>/<error_subcode>" ("551", "10/2018278").
 * Lookup order: the full "<code>/<subcode>", then the subcode alone (Meta's subcodes are unique), then the code.
 * Sources: channels.md section 2b; entries marked "(extra)" come from Meta's Messenger error list.
 */
import type { FailureReason } from '../failure-reasons';
import { lookup, normalizeCode, type ProviderCodeTable, type ProviderFailureCodes } from './types';

export const messengerCodes: ProviderCodeTable = Object.freeze({
  '551': {
    reason: 'blocked',
    retry: 'final',
    note: '"This person isn\'t available right now": often the user turned off messages from the Page',
  },
  '2': {
    reason: 'provider_error',
    retry: 'now',
    note: 'Unexpected error; retry once (Meta notes it can also mean the customer blocked the business)',
  },
  '1': { reason: 'provider_error', retry: 'now', note: '(extra) Unknown error at Meta; retry' },
  '1200': { reason: 'provider_error', retry: 'now', note: '(extra) Temporary send message failure; try again later' },
  '100': { reason: 'invalid_identifier', retry: 'final', note: 'Invalid parameter, typically a bad recipient PSID' },
  '100/2018001': { reason: 'invalid_identifier', retry: 'final', note: 'No matching user found (bad PSID)' },
  '10/2018278': {
    reason: 'outside_window',
    retry: 'final',
    note: 'Sent outside the allowed 24 h window; re-send with a suitable message tag (not promotional)',
  },
  '10': { reason: 'account_problem', retry: 'final', note: 'Permission denied for this action (subcode not known)' },
  '613': { reason: 'throttled', retry: 'later', note: 'Calls to this API exceeded the rate limit' },
  '4': { reason: 'throttled', retry: 'later', note: 'Application request limit reached' },
  '17': { reason: 'throttled', retry: 'later', note: 'User request limit reached' },
  '32': { reason: 'throttled', retry: 'later', note: 'Page request limit reached' },
  '80006': { reason: 'throttled', retry: 'final', note: '(extra) Messenger business-use-case rate limit reached' },
  '190': { reason: 'account_problem', retry: 'final', note: 'Invalid or expired Page access token' },
  '200': { reason: 'account_problem', retry: 'final', note: '(extra) The app or Page lacks a required permission' },
});

/** Error subcodes, looked up when the full "<code>/<subcode>" is not in messengerCodes. */
export const messengerSubcodes: ProviderCodeTable = Object.freeze({
  '2018001': { reason: 'invalid_identifier', retry: 'final', note: 'No matching user found (bad PSID)' },
  '2018278': { reason: 'outside_window', retry: 'final', note: 'Sent outside the allowed window' },
  '1545041': {
    reason: 'blocked',
    retry: 'final',
    note: '(extra) "This person isn\'t available right now" (comes with code 551)',
  },
  '2018108': {
    reason: 'account_problem',
    retry: 'final',
    note: 'Unconfirmed (seen only in code comments): cannot message users who are not admins/testers, i.e. the app is in development mode',
  },
});

export function classifyMessenger(providerCode: string, _providerMessage?: string): FailureReason | undefined {
  const [rawCode = '', rawSubcode] = providerCode.split('/');
  const code = normalizeCode(rawCode);
  const subcode = rawSubcode === undefined ? undefined : normalizeCode(rawSubcode);
  if (subcode !== undefined) {
    const full = lookup(messengerCodes, `${code}/${subcode}`) ?? lookup(messengerSubcodes, subcode);
    if (full) return full.reason;
  }
  return lookup(messengerCodes, code)?.reason;
}

export const messengerFailureCodes: ProviderFailureCodes = {
  isOptOut: (providerCode) => {
    const [code = '', subcode] = providerCode.split('/');
    return normalizeCode(code) === '551' || (subcode !== undefined && normalizeCode(subcode) === '1545041');
  },
  classify: classifyMessenger,
  tables: { codes: messengerCodes, subcodes: messengerSubcodes },
};
