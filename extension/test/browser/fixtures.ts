/**
 * Real Chromium (Debian's, or $CHROMIUM) with the built extension loaded unpacked, and page objects for
 * what an agent uses: the options page, the popup, and the demo helpdesk with the overlay on it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { EXTENSION_ID } from '@rebound/shared/extension';
import type { Language } from '@rebound/shared/i18n';
import { type BrowserContext, chromium, type Locator, type Page, type Worker } from 'playwright-core';

export const EXTENSION_DIR = resolve(import.meta.dirname, '../../../.output/chrome-mv3');

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  /** The service worker as it is now (Chromium may have restarted it). */
  worker(): Promise<Worker>;
  close(): Promise<void>;
}

/** `locale`: the browser's language and region as the agent set them (pages and the extension's own). */
export async function launchWithExtension({ locale = 'es-AR' }: { locale?: string } = {}): Promise<ExtensionBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'rebound-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    locale,
    viewport: { width: 1280, height: 800 },
    // --lang: the service worker has no page to emulate a locale on; it reads the browser's own.
    args: [`--disable-extensions-except=${EXTENSION_DIR}`, `--load-extension=${EXTENSION_DIR}`, `--lang=${locale}`],
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
    await this.page.getByRole('button', { name: /Comprobar y guardar|Check and save|Verificar e salvar/ }).waitFor();
  }

  async connect(backendUrl: string, token: string) {
    await this.page.locator('input[name="backendUrl"]').fill(backendUrl);
    await this.page.locator('input[name="token"]').fill(token);
    await this.page.getByRole('button', { name: /Comprobar y guardar|Check and save|Verificar e salvar/ }).click();
  }

  connectionStatus(): Locator {
    return this.page.getByTestId('connection-status');
  }

  async addSite(pattern: string) {
    await this.page.locator('input[name="site"]').fill(pattern);
    await this.page.getByRole('button', { name: /^(Agregar|Add|Adicionar)$/ }).click();
  }

  sites(): Locator {
    return this.page.locator('.rb-sites li span');
  }

  async setLanguage(value: 'auto' | Language) {
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

  /** A broadcast's panel, opened from its badge on the broadcast list, as an agent opens it. */
  async openFromBadge(name: string) {
    await this.open('/demo/');
    await this.badge(name).waitFor({ timeout: 10_000 });
    await this.badge(name).click();
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

/** axe-core's source, evaluated in a page (through the DevTools protocol, so a page's CSP cannot refuse it). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  rule: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Serious and critical accessibility violations that axe-core finds on the page as it is now (WCAG 2
 * A and AA rules, with shadow roots). `within`: only those in elements matching this selector, or in
 * a shadow root under one (the page around our panel is not ours to judge).
 */
export async function axeViolations(page: Page, within?: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    // globalThis, not window: the benchmarks compile this file without the DOM's types.
    const { axe, document } = globalThis as unknown as {
      document: unknown;
      axe: { run(context: unknown, options: unknown): Promise<AxeResults> };
    };
    interface AxeResults {
      violations: {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: (string | string[])[] }[];
      }[];
    }
    const results = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return results.violations.map((v) => ({
      rule: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes.map((n) => n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' >>> ')),
    }));
  });
  const ours = within
    ? await page.evaluate(
        ({ selector, nodes }) =>
          nodes.map((target) => {
            const first = target.split(' >>> ')[0] ?? '';
            const { document } = globalThis as unknown as {
              document: {
                querySelector(s: string): { matches(s: string): boolean; closest(s: string): unknown } | null;
              };
            };
            const host = first ? document.querySelector(first) : null;
            return !!host && (host.matches(selector) || !!host.closest(selector));
          }),
        { selector: within, nodes: found.flatMap((f) => f.nodes) },
      )
    : undefined;
  let index = 0;
  return found
    .map((f) => {
      const targets = f.nodes.filter(() => (ours ? ours[index++] : true));
      return { rule: f.rule, impact: f.impact, help: f.help, targets };
    })
    .filter((f) => f.targets.length > 0 && (f.impact === 'serious' || f.impact === 'critical'));
}

/**
 * An agent set up as every journey starts: the options in Spanish, connected to `apiUrl` with `token`,
 * the demo helpdesk at `demoUrl` allowed, and signed in to it on `page`.
 */
export async function agentOnDemo(
  page: Page,
  extensionId: string,
  apiUrl: string,
  demoUrl: string,
  token: string,
): Promise<void> {
  const options = new OptionsPage(page, extensionId);
  await options.open();
  await options.setLanguage('es');
  await options.open();
  await options.connect(apiUrl, token);
  await options
    .connectionStatus()
    .filter({ hasText: /^Conectado/ })
    .waitFor();
  await options.addSite(`${demoUrl}/demo/*`);
  await options.sites().first().waitFor();
  await new HelpdeskPage(page, demoUrl).signIn(token);
}

export interface ServerProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * The server behind a proxy on 127.0.0.1 whose answers a test changes as they pass: `down()` answers
 * 503 (a server in trouble) while it holds; `headers` may edit each answer's headers.
 */
export async function serverProxy(
  target: string,
  change: { down?: () => boolean; headers?: (headers: Record<string, string>) => void } = {},
): Promise<ServerProxy> {
  const proxy = createServer((req, res) => {
    if (change.down?.()) {
      res.writeHead(503).end();
      return;
    }
    void (async () => {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Readable.toWeb(req);
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
        ),
        ...(body ? { body: body as ReadableStream, duplex: 'half' } : {}),
      } as RequestInit);
      const headers = Object.fromEntries(answer.headers);
      change.headers?.(headers);
      delete headers['content-encoding'];
      res.writeHead(answer.status, headers);
      if (answer.body) Readable.fromWeb(answer.body as never).pipe(res);
      else res.end();
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxy.unref();
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}
