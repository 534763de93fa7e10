/** The API as the background sees it right now: the saved server, token and language. */
import type { FailureDescription } from '@rebound/shared';
import type { Language } from '@rebound/shared/i18n';
import { type Api, createApi } from '../lib/api';
import { resolveLanguage } from '../lib/i18n';
import { connectionItem, isConfigured, settingsItem } from '../lib/settings';

export async function currentLanguage(): Promise<Language> {
  const [settings, connection] = await Promise.all([settingsItem.getValue(), connectionItem.getValue()]);
  return resolveLanguage(settings.language, globalThis.navigator?.language, connection?.workspace.language);
}

/** null when the extension is not set up yet. */
export async function currentApi(): Promise<Api | null> {
  const settings = await settingsItem.getValue();
  if (!isConfigured(settings)) return null;
  return createApi({ backendUrl: settings.backendUrl, token: settings.token, language: await currentLanguage() });
}

const catalogs = new Map<Language, Promise<Map<string, FailureDescription>>>();

/** The failure catalog in the agent's language, read once per service-worker life. */
export async function failureCatalog(api: Api, language: Language): Promise<Map<string, FailureDescription>> {
  let catalog = catalogs.get(language);
  if (!catalog) {
    catalog = api.failureReasons().then(({ data }) => new Map(data.map((reason) => [reason.code, reason])));
    catalog.catch(() => catalogs.delete(language));
    catalogs.set(language, catalog);
  }
  return catalog;
}
