/**
 * Provider code → failure reason and retry class, per channel type. classifyProviderFailure() in
 * ../failure-reasons.ts handles the codes any channel can report ("timeout", "connection",
 * "http_<status>") and then asks the channel's classifier here. A new provider is one file beside this
 * one (its tables, its classifier, its `<provider>FailureCodes`) and one line in providerFailureCodes.
 */
import type { ChannelType } from '../channels';
import { messagebirdFailureCodes } from './messagebird';
import { messengerFailureCodes } from './messenger';
import { telegramFailureCodes } from './telegram';
import { twilioFailureCodes } from './twilio';
import type { ProviderClassifier, ProviderCodeTable, ProviderFailureCodes } from './types';
import { vonageFailureCodes } from './vonage';
import { whatsappFailureCodes } from './whatsapp';

export {
  classifyMessagebird,
  messagebirdCodes,
  messagebirdFailureCodes,
  messagebirdFailureFamilies,
} from './messagebird';
export { classifyMessenger, messengerCodes, messengerFailureCodes, messengerSubcodes } from './messenger';
export {
  classifyTelegram,
  type TelegramDescriptionEntry,
  telegramCodes,
  telegramDescriptions,
  telegramFailureCodes,
} from './telegram';
export { classifyTwilio, twilioCodes, twilioFailureCodes } from './twilio';
export type {
  ProviderClassifier,
  ProviderCodeEntry,
  ProviderCodeTable,
  ProviderFailureCodes,
  RetryClass,
} from './types';
export { retryClass } from './types';
export { classifyVonage, vonageCodes, vonageFailureCodes } from './vonage';
export { classifyWhatsapp, whatsappCodes, whatsappFailureCodes } from './whatsapp';

/**
 * Each provider channel type's codes. Channel types without broadcasts have none, and the sandbox (no
 * provider) is handled in ../failure-reasons.ts.
 */
export const providerFailureCodes: Readonly<Partial<Record<ChannelType, ProviderFailureCodes>>> = Object.freeze({
  whatsapp: whatsappFailureCodes,
  messenger: messengerFailureCodes,
  telegram: telegramFailureCodes,
  twilio_sms: twilioFailureCodes,
  vonage_sms: vonageFailureCodes,
  messagebird_sms: messagebirdFailureCodes,
});

function byType<T>(pick: (codes: ProviderFailureCodes) => T): Partial<Record<ChannelType, T>> {
  const out: Partial<Record<ChannelType, T>> = {};
  for (const [type, codes] of Object.entries(providerFailureCodes) as [ChannelType, ProviderFailureCodes][]) {
    out[type] = pick(codes);
  }
  return out;
}

/** Each provider channel type's classifier. */
export const providerClassifiers: Partial<Record<ChannelType, ProviderClassifier>> = byType((codes) => codes.classify);

/** Every code table, by channel type, so the whole mapping can be listed (e.g. on a help page). */
export const providerCodeTables: Readonly<Partial<Record<ChannelType, Readonly<Record<string, ProviderCodeTable>>>>> =
  Object.freeze(byType((codes) => codes.tables));
