/**
 * The overlay stays on what the agent is looking at while the helpdesk and the connection move under
 * it: a list re-rendered in place keeps its badges, a blip of the server does not swap the broadcast the
 * agent opened for another, and following a scheduled re-send does not redraw the badges every 2 s.
 */
import { type Harness, harness, S1_TEMPLATE, s1Broadcast } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentOnDemo,
  type ExtensionBrowser,
  HelpdeskPage,
  launchWithExtension,
  type ServerProxy,
  serverProxy,
} from './fixtures';

let h: Harness;
let s1: number;
let browser: ExtensionBrowser;
let page: Page;
let proxy: ServerProxy;
let down = false;

/** The demo helpdesk's own language switch, which re-renders its page in place (the open panel may cover it). */
async function switchHelpdeskTo(lang: 'en' | 'es') {
  await page.evaluate((code) => document.querySelector<HTMLElement>(`.hd-lang-option[lang="${code}"]`)?.click(), lang);
  await expect.poll(() => page.locator('html').getAttribute('lang')).toBe(lang);
}

beforeAll(async () => {
  h = await harness();
  const { broadcastId, channelId } = await s1Broadcast(h, 'WhatsApp ventas');
  s1 = broadcastId;
  await h.schedule(s1);
  await h.engine().runUntilIdle();
  // A later broadcast on the same full number: all 20 fail, and it is the latest needing attention.
  await h.seedContacts(20, 'cyber', { start: 900_000 });
  const cyber = await h.broadcast({
    name: 'Cyber Monday',
    channelId,
    segmentId: (await h.segment('Cyber', 'cyber')).id,
    content: S1_TEMPLATE,
  });
  await h.schedule(cyber.id);
  await h.engine().runUntilIdle();

  proxy = await serverProxy(h.server.baseUrl, { down: () => down });
  browser = await launchWithExtension();
  page = await browser.context.newPage();
  await agentOnDemo(page, browser.extensionId, proxy.url, h.server.baseUrl, h.ws.tokens.agent);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

describe('the overlay while the page and the connection move', () => {
  it('the helpdesk re-renders its list in place (its language switch): the badges are back at once, not a minute later', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open('/demo/');
    await expect.poll(() => helpdesk.badge('Black Friday').textContent(), { timeout: 10_000 }).toBe('500 fallidos');
    for (const lang of ['en', 'es'] as const) {
      await switchHelpdeskTo(lang);
      await expect.poll(() => helpdesk.badge('Black Friday').textContent(), { timeout: 5_000 }).toBe('500 fallidos');
      await expect.poll(() => helpdesk.badge('Cyber Monday').count(), { timeout: 5_000 }).toBe(1);
    }
  });

  it('a server blip while the agent reads the broadcast they opened: after it, the panel still shows that one', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.openFromBadge('Black Friday');
    const headline = helpdesk.panel().getByTestId('headline');
    await expect.poll(() => headline.textContent(), { timeout: 10_000 }).toBe('500 de 1.500 no se enviaron');

    // The server stops answering; the helpdesk re-renders its list, so the badges are read again and fail.
    down = true;
    await switchHelpdeskTo('en');
    try {
      await expect.poll(() => helpdesk.panel().getByTestId('trouble').count(), { timeout: 10_000 }).toBe(1);
    } finally {
      down = false;
    }
    // The overlay retries by itself (5 s): the badges come back, and the panel keeps Black Friday.
    await expect.poll(() => helpdesk.badge('Black Friday').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => helpdesk.panel().getByTestId('trouble').count()).toBe(0);
    expect(await headline.textContent()).toBe('500 de 1.500 no se enviaron');
    await switchHelpdeskTo('es');
  });

  it('following a scheduled re-send in the panel leaves the badges in place (no redraw at each 2-second read)', async () => {
    const scheduled = await h.server.request('POST', `/api/v1/broadcasts/${s1}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'at', at: new Date(Date.now() + 30 * 3_600_000).toISOString() },
    });
    expect(scheduled.status).toBe(200);
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.openFromBadge('Black Friday');
    await expect
      .poll(() => helpdesk.panel().getByTestId('resend-progress').textContent(), { timeout: 10_000 })
      .toMatch(/Reenvío programado/);
    // Read again once, as the re-send is found: then left alone.
    await helpdesk.badge('Black Friday').waitFor();
    await page.waitForTimeout(1_000);
    await page.evaluate(() => {
      for (const host of document.querySelectorAll<HTMLElement>('[data-rebound="badge"]')) host.dataset.seen = '1';
    });
    const before = await page.locator('[data-rebound="badge"][data-seen="1"]').count();
    expect(before).toBeGreaterThan(0);
    await page.waitForTimeout(5_000);
    expect(await page.locator('[data-rebound="badge"][data-seen="1"]').count()).toBe(before);
  });
});

describe('a page about a broadcast Rebound does not know', () => {
  it('(sent before Rebound, or another tool’s) says nothing about it: no open panel, no error, no other broadcast', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open('/demo/broadcasts/987654');
    // Given time to read the page and ask the server.
    await page.waitForTimeout(2_000);
    expect(await helpdesk.panel().count()).toBe(0);
    expect(
      await page.locator('[data-rebound="panel"]').evaluate((host) => host.shadowRoot?.textContent ?? ''),
    ).not.toMatch(/fallid|no se encontr|not found/i);
  });
});
