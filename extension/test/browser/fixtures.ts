/**
 * Real Chromium (Debian's, or $CHROMIUM) with the built extension loaded unpacked, and page objects for
 * what an agent uses: the options page, the popup, and the demo helpdesk with the overlay on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXTENSION_ID } from '@rebound/shared/extension';
import { type BrowserContext, chromium, type Locator, type Page, type Worker } from 'playwright-core';

export const EXTENSION_DIR = resolve(import.meta.dirname, '../../../.output/chrome-mv3');

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  /** The service worker as it is now (Chromium may have restarted it). */
  worker(): Promise<Worker>;
  close(): Promise<void>;
}

export async function launchWithExtension(): Promise<ExtensionBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'rebound-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    locale: 'es-AR',
    viewport: { width: 1280, height: 800 },
    args: [`--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`],
  });
  const worker = async () => {
    const [current] = context.serviceWorkers();
    return current ?? context.waitForEvent('serviceworker', { timeout: 15_000 });
  };
  const extensionId = new URL((await worker()).url()).host;
  return {
    context,
    extensionId,
    worker,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export { EXTENSION_ID };

export class OptionsPage {
  constructor(
    readonly page: Page,
    private readonly extensionId: string,
  ) {}

  async open() {
    await this.page.goto(`chrome-extension://${this.extensionId}/options.html`);
    await this.page.getByRole('button', { name: /Comprobar y guardar|Check and save/ }).waitFor();
  }

  async connect(backendUrl: string, token: string) {
    await this.page.locator('input[name="backendUrl"]').fill(backendUrl);
    await this.page.locator('input[name="token"]').fill(token);
    await this.page.getByRole('button', { name: /Comprobar y guardar|Check and save/ }).click();
  }

  connectionStatus(): Locator {
    return this.page.getByTestId('connection-status');
  }

  async addSite(pattern: string) {
    await this.page.locator('input[name="site"]').fill(pattern);
    await this.page.getByRole('button', { name: /^(Agregar|Add)$/ }).click();
  }

  sites(): Locator {
    return this.page.locator('.rb-sites li span');
  }

  async setLanguage(value: 'auto' | 'es' | 'en') {
    await this.page.locator('select[name="language"]').selectOption(value);
  }
}

export class HelpdeskPage {
  constructor(
    readonly page: Page,
    private readonly baseUrl: string,
  ) {}

  async signIn(token: string) {
    await this.page.goto(`${this.baseUrl}/demo/#token=${token}`);
    await this.page.locator('table[data-list="broadcasts"]').waitFor();
  }

  async open(path: string) {
    await this.page.goto(`${this.baseUrl}${path}`);
  }

  /** Our badge beside a broadcast's name in the page's own table. */
  badge(name: string): Locator {
    return this.page.locator('td.hd-broadcast-name', { hasText: name }).locator('.rb-badge');
  }

  panel(): Locator {
    return this.page.getByTestId('rebound-panel');
  }

  pill(): Locator {
    return this.page.locator('.rb-pill');
  }
}

export class PopupPage {
  constructor(
    readonly page: Page,
    private readonly extensionId: string,
  ) {}

  async open(query = '') {
    await this.page.goto(`chrome-extension://${this.extensionId}/popup.html${query}`);
  }

  /** The row of the broadcast with exactly this name (not its re-send, "… (reenvío)"). */
  row(name: string): Locator {
    return this.page.locator('button.rb-row').filter({ has: this.page.getByText(name, { exact: true }) });
  }
}
