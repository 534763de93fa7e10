/** Options: the server and token (checked against it), the helpdesk pages to overlay, language, notifications. */

import { useSignal } from '@preact/signals';
import type { Language } from '@rebound/shared/i18n';
import { useLayoutEffect } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { plainHttpElsewhere } from '../../lib/api';
import { type LanguageSetting, resolveLanguage } from '../../lib/i18n';
import { ask, sendMessage } from '../../lib/messaging';
import { type Connection, type Settings, settingsItem } from '../../lib/settings';
import { LearnedSites } from './LearnedSites';
import { optionsText, roleLabel } from './messages';

/** A Chromium match pattern for a web page: scheme, host (optionally *.), optional port, a path. */
const MATCH_PATTERN = /^(https?|\*):\/\/(\*|(\*\.)?[^/*:]+)(:\d{1,5})?\/.*$/;

export function App(props: { initialSettings: Settings; initialConnection: Connection | null }) {
  const settings = useSignal(props.initialSettings);
  const connection = useSignal(props.initialConnection);
  // Worked out again when the agent picks another language: the page follows at once, not at the next visit.
  const language: Language = resolveLanguage(
    settings.value.language,
    navigator.language,
    connection.value?.workspace.language,
  );
  // With the text, not a frame after it: a screen reader reads the new words in their own language.
  useLayoutEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const t = (key: Parameters<typeof optionsText>[1], params?: Record<string, string | number>) =>
    optionsText(language, key, params);
  const backendUrl = useSignal(props.initialSettings.backendUrl);
  const token = useSignal(props.initialSettings.token);
  const newSite = useSignal('');
  const status = useSignal<{ tone: 'ok' | 'error' | 'busy'; text: string } | null>(null);
  const siteStatus = useSignal<{ tone: 'ok' | 'error'; text: string } | null>(null);

  async function save(next: Settings) {
    settings.value = next;
    await settingsItem.setValue(next);
    await ask(sendMessage('settingsChanged'));
  }

  function originPattern(url: string): string | null {
    try {
      return `${new URL(url.trim()).origin}/*`;
    } catch {
      return null;
    }
  }

  async function connect(event: Event) {
    event.preventDefault();
    const pattern = originPattern(backendUrl.value);
    if (!pattern) {
      status.value = { tone: 'error', text: t('networkError', { url: backendUrl.value }) };
      return;
    }
    if (plainHttpElsewhere(backendUrl.value)) {
      status.value = { tone: 'error', text: t('insecureUrl', { url: backendUrl.value.trim() }) };
      return;
    }
    // Asked first, while the click still counts as the user's gesture.
    const granted = await browser.permissions.request({ origins: [pattern] });
    if (!granted) {
      status.value = { tone: 'error', text: t('permissionDenied', { what: pattern }) };
      return;
    }
    status.value = { tone: 'busy', text: t('checking') };
    try {
      const result = await ask(sendMessage('connect', { backendUrl: backendUrl.value, token: token.value }));
      connection.value = result;
      settings.value = await settingsItem.getValue();
      status.value = {
        tone: 'ok',
        text: t('connected', { workspace: result.workspace.name, role: roleLabel(language, result.role) }),
      };
    } catch (error) {
      status.value = { tone: 'error', text: (error as Error).message };
    }
  }

  async function addSite(pattern: string) {
    const site = pattern.trim();
    if (!MATCH_PATTERN.test(site)) {
      siteStatus.value = { tone: 'error', text: t('badPattern', { pattern: site }) };
      return;
    }
    const granted = await browser.permissions.request({ origins: [site] });
    if (!granted) {
      siteStatus.value = { tone: 'error', text: t('permissionDenied', { what: site }) };
      return;
    }
    if (!settings.value.sites.includes(site)) await save({ ...settings.value, sites: [...settings.value.sites, site] });
    newSite.value = '';
    siteStatus.value = { tone: 'ok', text: t('saved') };
  }

  async function removeSite(site: string) {
    await save({ ...settings.value, sites: settings.value.sites.filter((s) => s !== site) });
    // Give the permission back: the extension should not keep access it no longer uses.
    await browser.permissions.remove({ origins: [site] }).catch(() => false);
  }

  const demoPattern = settings.value.backendUrl ? `${settings.value.backendUrl}/demo/*` : null;
  const current = settings.value;
  return (
    <main class="rb-options">
      <h1>{t('optionsTitle')}</h1>
      <form onSubmit={connect}>
        <fieldset>
          <legend>{t('appName')}</legend>
          <label class="rb-field">
            {t('backendUrl')}
            <input
              class="rb-input"
              name="backendUrl"
              type="url"
              required
              placeholder="http://127.0.0.1:8787"
              value={backendUrl.value}
              onInput={(e) => {
                backendUrl.value = (e.currentTarget as HTMLInputElement).value;
              }}
            />
          </label>
          <label class="rb-field">
            {t('token')}
            <input
              class="rb-input"
              name="token"
              type="password"
              required
              autoComplete="off"
              value={token.value}
              onInput={(e) => {
                token.value = (e.currentTarget as HTMLInputElement).value;
              }}
            />
          </label>
          <button type="submit" class="rb-primary" disabled={status.value?.tone === 'busy'}>
            {t('check')}
          </button>
          <p
            role="status"
            aria-live="polite"
            class={status.value?.tone === 'error' ? 'rb-error' : 'rb-ok'}
            data-testid="connection-status"
          >
            {status.value?.text ??
              (connection.value
                ? t('connected', {
                    workspace: connection.value.workspace.name,
                    role: roleLabel(language, connection.value.role),
                  })
                : '')}
          </p>
        </fieldset>
      </form>

      <fieldset>
        <legend>{t('sites')}</legend>
        <p class="rb-help">{t('sitesHelp')}</p>
        <ul class="rb-sites">
          {current.sites.map((site) => (
            <li key={site}>
              <span>{site}</span>
              <button type="button" class="rb-link" onClick={() => void removeSite(site)}>
                {t('removeSite')}
              </button>
            </li>
          ))}
        </ul>
        <form
          class="rb-inline"
          onSubmit={(e) => {
            e.preventDefault();
            void addSite(newSite.value);
          }}
        >
          <input
            class="rb-input"
            name="site"
            placeholder={t('sitePlaceholder')}
            aria-label={t('sites')}
            value={newSite.value}
            onInput={(e) => {
              newSite.value = (e.currentTarget as HTMLInputElement).value;
            }}
          />
          <button type="submit" class="rb-secondary">
            {t('addSite')}
          </button>
        </form>
        {demoPattern && !current.sites.includes(demoPattern) && (
          <p class="rb-help">
            <button type="button" class="rb-link" onClick={() => void addSite(demoPattern)}>
              {t('addSite')}: {demoPattern}
            </button>
          </p>
        )}
        {siteStatus.value && (
          <p role="status" class={siteStatus.value.tone === 'error' ? 'rb-error' : 'rb-ok'}>
            {siteStatus.value.text}
          </p>
        )}
      </fieldset>

      <LearnedSites language={language} />

      <fieldset>
        <legend>{t('language')}</legend>
        <select
          class="rb-input"
          name="language"
          aria-label={t('language')}
          value={current.language}
          onChange={(e) => {
            // Said in the old language: the connection's own line says it again in the new one.
            status.value = null;
            siteStatus.value = null;
            void save({ ...current, language: (e.currentTarget as HTMLSelectElement).value as LanguageSetting });
          }}
        >
          <option value="auto">{t('languageAuto')}</option>
          <option value="es">Español</option>
          <option value="en">English</option>
          <option value="pt">Português (Brasil)</option>
        </select>
      </fieldset>

      <fieldset>
        <legend>{t('notifications')}</legend>
        {(
          [
            ['failed', 'notifyFailedOption'],
            ['partiallyFailed', 'notifyPartialOption'],
            ['resendFinished', 'notifyResendOption'],
          ] as const
        ).map(([key, label]) => (
          <label key={key} class="rb-check">
            <input
              type="checkbox"
              name={`notify-${key}`}
              checked={current.notify[key]}
              onChange={(e) =>
                void save({
                  ...current,
                  notify: { ...current.notify, [key]: (e.currentTarget as HTMLInputElement).checked },
                })
              }
            />
            {t(label)}
          </label>
        ))}
      </fieldset>
    </main>
  );
}
