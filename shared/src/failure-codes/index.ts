/**
 * Provider code → failure reason, per channel type. classifyProviderFailure() in ../failure-reasons.ts
 * handles the codes any channel can report ("timeout", "connection", "http_<status>") and then asks
 * the channel's classifier here.
 */
import type { ChannelType } from '../channels';
import { classifyMessagebird, messagebirdCodes, messagebirdFailureFamilies } from './messagebird';
import { classifyMessenger, messengerCodes, messengerSubcodes } from './messenger';
import { classifyTelegram, telegramCodes, telegramDescriptions } from './telegram';
import { classifyTwilio, twilioCodes } from './twilio';
import type { ProviderClassifier, ProviderCodeTable } from './types';
import { classifyVonage, vonageCodes } from './vonage';
import { classifyWhatsapp, whatsappCodes } from './whatsapp';

export { classifyMessagebird, messagebirdCodes, messagebirdFailureFamilies } from './messagebird';
export { classifyMessenger, messengerCodes, messengerSubcodes } from './messenger';
export { classifyTelegram, type TelegramDescriptionEntry, telegramCodes, telegramDescriptions } from './telegram';
export { classifyTwilio, twilioCodes } from './twilio';
export type { ProviderClassifier, ProviderCodeEntry, ProviderCodeTable } from './types';
export { classifyVonage, vonageCodes } from './vonage';
export { classifyWhatsapp, whatsappCodes } from './whatsapp';

/**
 * Each provider channel type's classifier. Channel types without broadcasts have none, and the sandbox
 * (no provider) is handled in ../failure-reasons.ts.
 */
export const providerClassifiers: Partial<Record<ChannelType, ProviderClassifier>> = {
  whatsapp: classifyWhatsapp,
  messenger: classifyMessenger,
  telegram: classifyTelegram,
  twilio_sms: classifyTwilio,
  vonage_sms: classifyVonage,
  messagebird_sms: classifyMessagebird,
};

/** Every code table, by channel type, so the whole mapping can be listed (e.g. on a help page). */
export const providerCodeTables: Readonly<Partial<Record<ChannelType, Readonly<Record<string, ProviderCodeTable>>>>> =
  Object.freeze({
    whatsapp: { codes: whatsappCodes },
    messenger: { codes: messengerCodes, subcodes: messengerSubcodes },
    telegram: {
      codes: telegramCodes,
      descriptions: Object.fromEntries(
        telegramDescriptions.map((entry) => [
          `${entry.code} ${entry.text}`,
          { reason: entry.reason, note: entry.note },
        ]),
      ),
    },
    twilio_sms: { codes: twilioCodes },
    vonage_sms: { codes: vonageCodes },
    messagebird_sms: { codes: messagebirdCodes, failureFamilies: messagebirdFailureFamilies },
  });
