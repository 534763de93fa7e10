/**
 * A Brazilian agent (issue #14): a pt-BR browser with the language left on "Automático" gets Rebound in
 * Brazilian Portuguese everywhere: the options, the badges and pill, the panel (the failure reasons come
 * from the server in Portuguese too), the popup; numbers as Brazil writes them ("1.500").
 */
import { failureReasons } from '@rebound/shared';
import { type Harness, harness, s1Broadcast } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExtensionBrowser, HelpdeskPage, launchWithExtension, OptionsPage, PopupPage } from './fixtures';

let h: Harness;
let browser: ExtensionBrowser;
let page: Page;

beforeAll(async () => {
  h = await harness();
  const { broadcastId } = await s1Broadcast(h, 'WhatsApp vendas');
  await h.schedule(broadcastId);
  await h.engine().runUntilIdle();
  browser = await launchWithExtension({ locale: 'pt-BR' });
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('Rebound in Brazilian Portuguese', () => {
  it('the options page speaks Portuguese on its own, and says whom it connected as', async () => {
    const options = new OptionsPage(page, browser.extensionId);
    await options.open();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Opções do Rebound');
    expect(await page.locator('select[name="language"]').inputValue()).toBe('auto');
    await options.connect(h.server.baseUrl, h.ws.tokens.agent);
    await expect.poll(() => options.connectionStatus().textContent()).toMatch(/^Conectado a “.+” como agente\.$/);
    await options.addSite(`${h.server.baseUrl}/demo/*`);
    await options.sites().first().waitFor();
    // Another language picked: the page follows at once, its lang too; back to automatic.
    await options.setLanguage('en');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Rebound options');
    expect(await options.connectionStatus().textContent()).toMatch(/^Connected to ".+" as agent\.$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await options.setLanguage('auto');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Opções do Rebound');
  });

  it('the badge, the pill and the panel: "500 falhas", and why, in Portuguese', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.signIn(h.ws.tokens.agent);
    await expect.poll(() => helpdesk.badge('Black Friday').textContent(), { timeout: 10_000 }).toBe('500 falhas');
    expect(await helpdesk.pill().textContent()).toBe('Rebound: 500 falhas');

    await helpdesk.badge('Black Friday').click();
    const panel = helpdesk.panel();
    await expect.poll(() => panel.getByTestId('headline').textContent()).toBe('500 de 1.500 não foram enviadas');
    const reason = panel.locator('[data-reason="quota_reached"]');
    expect(await reason.locator('.rb-reason-title').textContent()).toBe(failureReasons.quota_reached.title.pt);
    expect(await panel.getByTestId('channel-limit').textContent()).toMatch(/1\.000 de 1\.000 usados em 24 h/);
    expect(await panel.locator('.rb-frees').textContent()).toMatch(/^Libera (amanhã às|às) \d\d:\d\d/);
    expect(await panel.getByRole('button', { name: 'Etiquetar e reenviar 500' }).isVisible()).toBe(true);
    // Nothing left in Spanish around it.
    expect(await panel.textContent()).not.toMatch(
      /fallidos|transmisión|Etiquetar y reenviar|Opciones de reenvío|Cuándo/,
    );
  });

  it('the popup lists the broadcast in Portuguese', async () => {
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open();
    await expect
      .poll(() => popup.row('Black Friday').locator('.rb-row-figures').textContent())
      .toBe('1.000 de 1.500 enviadas · 500 falhas');
    expect(await page.locator('h2.rb-subtitle').first().textContent()).toBe('Transmissões recentes');
  });
});
