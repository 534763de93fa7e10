/**
 * An agent tries the demo, then connects to another workspace. A "see reasons" tab opened from a
 * notification stays open across the switch: the broadcast ID it shows names another broadcast there,
 * so it starts again from the list instead of offering to act on that one.
 */
import { type Harness, harness, s1Broadcast } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExtensionBrowser, launchWithExtension, OptionsPage, PopupPage } from './fixtures';

let h: Harness;
let browser: ExtensionBrowser;
let options: Page;
let broadcastId: number;

beforeAll(async () => {
  h = await harness();
  ({ broadcastId } = await s1Broadcast(h, 'WhatsApp demo'));
  await h.schedule(broadcastId);
  await h.engine().runUntilIdle();
  browser = await launchWithExtension();
  options = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('switching to another workspace', () => {
  it('a "see reasons" tab left open goes back to the list, rather than show another broadcast of the same ID', async () => {
    const settings = new OptionsPage(options, browser.extensionId);
    await settings.open();
    await settings.connect(h.server.baseUrl, h.ws.tokens.agent);
    await expect.poll(() => settings.connectionStatus().textContent()).toMatch(/Conectado a/);

    const tab = await browser.context.newPage();
    await new PopupPage(tab, browser.extensionId).open(`?broadcast=${broadcastId}`);
    await tab.getByRole('button', { name: /Volver/ }).waitFor();

    const other = await h.server.workspace('Producción');
    await settings.connect(h.server.baseUrl, other.tokens.agent);
    await expect.poll(() => settings.connectionStatus().textContent()).toMatch(/Producción/);
    await expect.poll(() => new URL(tab.url()).search, { timeout: 10_000 }).toBe('');
  });
});
