/**
 * The agent's journeys in real Chromium with the built extension, against a real server on 127.0.0.1 and
 * the WhatsApp simulator: S1 (1,500 recipients, a 1,000-a-day quota) explained on the demo helpdesk, one
 * click to tag and re-send, the popup, a notification for a broadcast that fails, provider text as text.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startWhatsAppSimulator } from '@rebound/simulators';
import { type Harness, harness, S1_TEMPLATE, s1Broadcast, WA } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXTENSION_ID,
  type ExtensionBrowser,
  HelpdeskPage,
  launchWithExtension,
  OptionsPage,
  PopupPage,
} from './fixtures';

const SHOTS = process.env.SCREENSHOTS_DIR ?? resolve(import.meta.dirname, '../../../.tmp/screenshots');
const HOSTILE = '<img src=x onerror="window.__pwned=1">Número no disponible';

let h: Harness;
let s1: number;
let notice: number;
let ana: number;
let browser: ExtensionBrowser;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await harness();
  ({ broadcastId: s1 } = await s1Broadcast(h, 'WhatsApp ventas'));
  await h.schedule(s1);
  await h.engine().runUntilIdle();

  // A second channel and one contact whose message the provider refuses with a text holding HTML.
  const sim = await startWhatsAppSimulator({ ...WA, phoneNumberId: '1055550000' });
  h.simulators.push(sim);
  sim.script('+5491160000001', { kind: 'fail', code: '131026', message: HOSTILE });
  const channel = await h.channel({
    type: 'whatsapp',
    name: 'WhatsApp avisos',
    credentials: { ...WA, phoneNumberId: '1055550000' },
    baseUrl: sim.baseUrl,
  });
  const contact = await h.server.request('POST', '/api/v1/contacts', {
    token: h.ws.tokens.manager,
    body: { firstName: 'Ana', lastName: 'Pérez', phone: '+5491160000001', tags: ['avisos'] },
  });
  ana = contact.body.id;
  const segment = await h.segment('Avisos', 'avisos');
  notice = (
    await h.broadcast({ name: 'Aviso de envío', channelId: channel.id, segmentId: segment.id, content: S1_TEMPLATE })
  ).id;

  browser = await launchWithExtension();
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the extension in Chromium', () => {
  it('loads with the ID the server allows', () => {
    expect(browser.extensionId).toBe(EXTENSION_ID);
  });

  it('options: the token is checked against the server, showing the workspace and role; the demo helpdesk is added', async () => {
    const options = new OptionsPage(page, browser.extensionId);
    await options.open();
    await options.connect(h.server.baseUrl, 'rb_not_a_real_token');
    await expect.poll(() => options.connectionStatus().textContent()).toMatch(/token/i);

    await options.setLanguage('es');
    await options.open();
    await options.connect(h.server.baseUrl, h.ws.tokens.agent);
    await expect.poll(() => options.connectionStatus().textContent()).toBe('Conectado a «Tienda» como agente.');
    await options.addSite('not a pattern');
    await expect.poll(() => page.locator('[role="status"].rb-error').textContent()).toMatch(/no es válido/);
    await options.addSite(`${h.server.baseUrl}/demo/*`);
    await expect.poll(() => options.sites().allTextContents()).toEqual([`${h.server.baseUrl}/demo/*`]);
  });

  it('the helpdesk list shows "500 fallidos" beside Black Friday; the panel explains the quota and when it frees', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.signIn(h.ws.tokens.agent);
    await expect.poll(() => helpdesk.badge('Black Friday').textContent(), { timeout: 10_000 }).toBe('500 fallidos');
    // The daily limit: a re-send later reaches them all, so amber (card.css's --rb-later), not a permanent red,
    // and said besides the colour: a sign, and words for a screen reader.
    const badge = helpdesk.badge('Black Friday');
    await expect(badge.evaluate((el) => getComputedStyle(el).color)).resolves.toBe('rgb(147, 91, 0)');
    // A sign before the count, seen and not read aloud (the label says it in words).
    await expect(badge.evaluate((el) => getComputedStyle(el, '::before').content)).resolves.toBe('"↻ " / ""');
    await expect(badge.getAttribute('aria-label')).resolves.toBe(
      'Black Friday: 500 fallidos (un reenvío puede alcanzarlos)',
    );
    // The pill about the same broadcast says the same.
    await expect(helpdesk.pill().evaluate((el) => getComputedStyle(el).color)).resolves.toBe('rgb(147, 91, 0)');
    await expect(helpdesk.pill().getAttribute('aria-label')).resolves.toBe(
      'Rebound: 500 fallidos (un reenvío puede alcanzarlos)',
    );
    // Only the badge joins the page: the collapsed panel floats above it.
    await expect(helpdesk.pill().textContent()).resolves.toBe('Rebound: 500 fallidos');

    await helpdesk.badge('Black Friday').click();
    const panel = helpdesk.panel();
    await expect.poll(() => panel.getByTestId('headline').textContent()).toBe('500 de 1.500 no se enviaron');
    const reason = panel.locator('[data-reason="quota_reached"]');
    await expect(reason.locator('.rb-reason-title').textContent()).resolves.toMatch(/límite diario/i);
    await expect(reason.locator('.rb-reason-count').textContent()).resolves.toBe('500');
    await expect(panel.getByTestId('channel-limit').textContent()).resolves.toMatch(/1\.000 de 1\.000 usados en 24 h/);
    await expect(panel.locator('.rb-frees').textContent()).resolves.toMatch(
      /^Se libera (mañana a las|a las) \d\d:\d\d/,
    );
    await expect(panel.getByRole('button', { name: 'Etiquetar y reenviar 500' }).isVisible()).resolves.toBe(true);
    const renderMs = Number(await page.locator('[data-rebound="panel"]').getAttribute('data-render-ms'));
    expect(renderMs).toBeGreaterThan(0);
    await panel.screenshot({ path: resolve(SHOTS, 'overlay.png') });
    await page.screenshot({ path: resolve(SHOTS, 'helpdesk.png') });
  });

  it('the panel does not move the page: removing it leaves every page element where it was', async () => {
    const rects = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('header, nav, h1, table, tr, td')].map((el) => {
          const r = el.getBoundingClientRect();
          return [r.x, r.y, r.width, r.height].join(',');
        }),
      );
    const before = await rects();
    await page.evaluate(() => document.querySelector('[data-rebound="panel"]')?.remove());
    expect(await rects()).toEqual(before);
    await page.reload();
  });

  it('one click tags the 500 and schedules the re-send for when the quota frees; the server has tag, segment and broadcast', async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open(`/demo/broadcasts/${s1}`);
    const panel = helpdesk.panel();
    // Before the click the agent reads when it would go (the server's plan, nothing written yet), and
    // which "Cuándo" is chosen.
    const when = /^Saldría: 500 (?:mañana a las|a las) (\d\d):(\d\d)/;
    await expect.poll(() => panel.getByTestId('resend-when').textContent(), { timeout: 10_000 }).toMatch(when);
    // It goes when the quota frees, and both lines read the agent's clock (the browser's zone here is
    // not the workspace's): the same moment, give or take the minute the plan rounds up to.
    const minutes = (text: string | null, pattern: RegExp) => {
      const [, hours, mins] = pattern.exec(text ?? '') ?? [];
      return Number(hours) * 60 + Number(mins);
    };
    const planAt = minutes(await panel.getByTestId('resend-when').textContent(), when);
    const freesAt = minutes(await panel.locator('.rb-frees').textContent(), /(\d\d):(\d\d)/);
    expect((planAt - freesAt + 1440) % 1440).toBeLessThanOrEqual(1);
    await panel.locator('summary', { hasText: 'Opciones de reenvío' }).click();
    await expect(
      panel.getByRole('radio', { name: 'Cuando el reenvío pueda servir (recomendado)' }).isChecked(),
    ).resolves.toBe(true);
    expect(
      (await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${s1}`, { token: h.ws.tokens.agent })).body.data,
    ).toEqual([]);
    await panel.getByRole('button', { name: 'Etiquetar y reenviar 500' }).click();
    const progress = panel.getByTestId('resend-progress');
    await expect.poll(() => progress.textContent(), { timeout: 10_000 }).toMatch(/500 contactos etiquetados con «/);
    await expect.poll(() => progress.textContent()).toMatch(/Reenvío programado (mañana a las|a las) \d\d:\d\d/);
    // The server's plan, in words: all 500 wait for the quota to free.
    await expect.poll(() => progress.textContent()).toMatch(/Plan: 500 (mañana a las|a las) \d\d:\d\d/);

    const resends = (await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${s1}`, { token: h.ws.tokens.agent }))
      .body.data;
    expect(resends).toHaveLength(1);
    expect(resends[0]).toMatchObject({ status: 'scheduled', targetCount: 500 });
    const segment = (
      await h.server.request('GET', `/api/v1/segments/${resends[0].segmentId}/preview`, { token: h.ws.tokens.agent })
    ).body;
    expect(segment.count).toBe(500);
    const tagged = await h.server.database.client.execute(
      "SELECT count(*) AS n FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.name LIKE 'transmisión fallida%'",
    );
    expect(Number(tagged.rows[0]?.n)).toBe(500);
  });

  it('the popup lists the broadcast with its counts and shows the re-send already scheduled', async () => {
    const popup = new PopupPage(page, browser.extensionId);
    await page.setViewportSize({ width: 360, height: 600 });
    await popup.open();
    const row = popup.row('Black Friday');
    await expect.poll(() => row.textContent()).toMatch(/1\.000 de 1\.500 enviados · 500 fallidos/);
    await row.click();
    await expect.poll(() => page.getByTestId('headline').textContent()).toBe('500 de 1.500 no se enviaron');
    await expect
      .poll(() => page.getByTestId('resend-progress').textContent())
      .toMatch(/Ya se reenvió: «Black Friday \(reenvío\)» \(programada\)\.Reenvío programado/);
    await page.screenshot({ path: resolve(SHOTS, 'popup.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('a broadcast that fails brings a notification with the count and the reason, and the badge counts it', async () => {
    await h.schedule(notice);
    await h.engine().runUntilIdle();
    const worker = await browser.worker();
    const shown = () => worker.evaluate(() => chrome.notifications.getAll());
    await expect
      .poll(async () => Object.keys(await shown()).join(), { timeout: 20_000 })
      .toMatch(new RegExp(`^rebound:(broadcast|resend):${notice}$`));
    const badge = await worker.evaluate(() => chrome.action.getBadgeText({}));
    expect(badge).toBe('1');
  });

  it("a contact page shows that contact's failed messages; markup in the provider's text is dropped, never run", async () => {
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open(`/demo/contacts/${ana}`);
    // Closed until asked: on a contact page an open panel would cover the helpdesk's own controls.
    await expect.poll(() => helpdesk.pill().textContent(), { timeout: 10_000 }).toBe('Rebound: 1 fallido');
    expect(await helpdesk.panel().count()).toBe(0);
    await helpdesk.pill().click();
    const panel = helpdesk.panel();
    await expect
      .poll(() => panel.locator('.rb-provider').textContent(), { timeout: 10_000 })
      .toBe('(#131026) Número no disponible');
    expect(await panel.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(panel.locator('.rb-title').textContent()).resolves.toBe('Ana Pérez');
  });

  it('a contact with many messages that did not get through: all of them listed, the unconfirmed ones not counted as failed', async () => {
    const beto = await h.server.request('POST', '/api/v1/contacts', {
      token: h.ws.tokens.manager,
      body: { firstName: 'Beto', phone: '+5491160000002' },
    });
    const now = Date.now();
    // 25 failed (the channel's limit, over a month of broadcasts) and 2 with no answer from the provider.
    await h.server.database.client.execute({
      sql: `INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason, failed_at, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 27)
        SELECT b.workspace_id, b.id, b.channel_id, ?, '+5491160000002', CASE WHEN i <= 25 THEN 'failed' ELSE 'uncertain' END,
          CASE WHEN i <= 25 THEN 'quota_reached' ELSE 'uncertain' END, ? - i * 60000, ?, ? FROM broadcasts b, n WHERE b.id = ?`,
      args: [beto.body.id, now, now, now, s1],
    });
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open(`/demo/contacts/${beto.body.id}`);
    await expect.poll(() => helpdesk.pill().textContent(), { timeout: 10_000 }).toBe('Rebound: 25 fallidos');
    await helpdesk.pill().click();
    await expect.poll(() => helpdesk.panel().locator('.rb-contact-list > li').count(), { timeout: 10_000 }).toBe(27);
  });
});
