/**
 * "Enseñar esta página" in real Chromium with the built extension (issue #14): on two helpdesk pages
 * of our own that no built-in adapter knows (a grid of CSS-in-JS classes whose names link to their
 * broadcasts, and a plain table), the agent clicks one broadcast name; Rebound says how many names it
 * found, saves them as this site's adapter, and badges them at once. The options list what was
 * learned, refuse a broken selector, and removing it leaves the page bare again.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Harness, harness, S1_TEMPLATE, s1Broadcast } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type ExtensionBrowser, launchWithExtension, OptionsPage } from './fixtures';

let h: Harness;
let s1: number;
let browser: ExtensionBrowser;
let page: Page;
let site: Server;
let siteUrl: string;

/** A CRM's campaign list: divs with generated classes; each name links to its broadcast's report. */
const gridPage = (ids: { blackFriday: number; navidad: number }) => `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Campañas</title></head><body>
<div id="app">
  <nav class="sc-aXZVg hGzTmP"><a href="/campanas"><span>Campañas</span></a> <a href="/envios"><span>Envíos</span></a></nav>
  <h1 class="css-1x2y3z">Campañas</h1>
  <div class="sc-bdVaJa kXyZab">
    <div class="sc-htpNat fGhIjK"><span class="sc-ifAKCX">Nombre</span><span class="sc-ifAKCX">Estado</span></div>
    <div class="sc-htpNat fGhIjK"><a class="sc-EHOje" href="/campanas/${ids.blackFriday}/informe"><span>Black Friday</span></a><span class="sc-ifAKCX">Completada</span></div>
    <div class="sc-htpNat fGhIjK"><a class="sc-EHOje" href="/campanas/${ids.navidad}/informe"><span>Navidad</span></a><span class="sc-ifAKCX">Programada</span></div>
    <div class="sc-htpNat fGhIjK"><a class="sc-EHOje" href="/campanas/999999/informe"><span>Reyes</span></a><span class="sc-ifAKCX">Borrador</span></div>
  </div>
</div></body></html>`;

/**
 * A helpdesk whose links carry its own numbers: the workspace's in the path, its own campaign IDs in the
 * query (not Rebound's). Badges must come from the names, never from those numbers.
 */
const OWN_IDS_PAGE = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Campañas</title></head><body>
<ul class="campaigns">
  <li><a class="campaign" href="/app/7/campanas/view?id=9001">Black Friday</a></li>
  <li><a class="campaign" href="/app/7/campanas/view?id=9002">Navidad</a></li>
  <li><a class="campaign" href="/app/7/campanas/view?id=9003">Reyes</a></li>
</ul></body></html>`;

/** Another helpdesk's sends: a plain table without a class, the name in the second column. */
const TABLE_PAGE = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Envíos</title></head><body>
<section><h2>Envíos masivos</h2>
<table>
  <thead><tr><th>Fecha</th><th>Nombre</th><th>Estado</th></tr></thead>
  <tbody>
    <tr><td>25/11</td><td>Black Friday</td><td>Enviada</td></tr>
    <tr><td>24/12</td><td>Navidad</td><td>Programada</td></tr>
  </tbody>
</table></section></body></html>`;

/** The same sends after the helpdesk's redesign: no table any more, what was taught finds nothing. */
const REDESIGNED_TABLE_PAGE = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Envíos</title></head><body>
<section><h2>Envíos masivos</h2>
<ul class="sends">
  <li><span class="when">25/11</span> <strong class="send-name">Black Friday</strong> <em>Enviada</em></li>
  <li><span class="when">24/12</span> <strong class="send-name">Navidad</strong> <em>Programada</em></li>
</ul></section></body></html>`;
let redesigned = false;

/** The same sends drawn by the page's script a moment after it loads, as a single-page helpdesk draws them. */
const LATE_TABLE_PAGE = `<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Envíos</title></head><body>
<section><h2>Envíos masivos</h2><p id="loading">Cargando…</p></section>
<script>setTimeout(() => { document.getElementById('loading').outerHTML = ${JSON.stringify(
  TABLE_PAGE.slice(TABLE_PAGE.indexOf('<table>'), TABLE_PAGE.indexOf('</table>') + 8),
)}; }, 1500);</script></body></html>`;
let late = false;

/** The same sends filtered to none: the table is there, its body empty. */
const EMPTY_TABLE_PAGE = TABLE_PAGE.replace(/<tbody>[\s\S]*<\/tbody>/, '<tbody></tbody>');
let empty = false;

beforeAll(async () => {
  h = await harness();
  const { broadcastId, channelId } = await s1Broadcast(h, 'WhatsApp ventas');
  s1 = broadcastId;
  await h.schedule(s1);
  await h.engine().runUntilIdle();
  const segment = await h.segment('Navidad', 'black friday');
  const navidad = (await h.broadcast({ name: 'Navidad', channelId, segmentId: segment.id, content: S1_TEMPLATE })).id;

  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body =
      path === '/campanas'
        ? gridPage({ blackFriday: s1, navidad })
        : path === '/envios' && redesigned
          ? REDESIGNED_TABLE_PAGE
          : path === '/envios' && late
            ? LATE_TABLE_PAGE
            : path === '/envios' && empty
              ? EMPTY_TABLE_PAGE
              : path === '/envios' || path === '/otros-envios'
                ? TABLE_PAGE
                : path === '/app/7/campanas'
                  ? OWN_IDS_PAGE
                  : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? 'no');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

  browser = await launchWithExtension();
  page = await browser.context.newPage();
  const options = new OptionsPage(page, browser.extensionId);
  await options.open();
  await options.setLanguage('es');
  await options.open();
  await options.connect(h.server.baseUrl, h.ws.tokens.agent);
  await options
    .connectionStatus()
    .filter({ hasText: /^Conectado/ })
    .waitFor();
  await options.addSite(`${siteUrl}/*`);
  await options.sites().filter({ hasText: siteUrl }).waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  site?.close();
});

/** From the pill's offer to the teaching bar, as an agent goes. */
async function startTeaching() {
  const pill = page.locator('.rb-pill');
  await expect.poll(() => pill.textContent(), { timeout: 10_000 }).toBe('Rebound: enseñar esta página');
  await pill.click();
  await page.getByTestId('rebound-teach').waitFor();
}

/** Every text the pill showed over `ms`, read every 100 ms (none when it was not there). */
async function pillsFor(ms: number): Promise<string[]> {
  const pills = new Set<string>();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    pills.add(
      (await page
        .locator('.rb-pill')
        .textContent({ timeout: 100 })
        .catch(() => null)) ?? '',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [...pills];
}

describe('teaching Rebound a helpdesk it does not know', () => {
  it('a grid of generated classes: one click, three names found, saved, badged by the broadcast each links to', async () => {
    await page.goto(`${siteUrl}/campanas`);
    await startTeaching();
    await expect.poll(() => page.getByTestId('rebound-teach').textContent()).toContain('Haga clic en el nombre');
    // Picking a name must not follow its link.
    await page.locator('a[href$="/informe"] span', { hasText: 'Navidad' }).click();
    expect(new URL(page.url()).pathname).toBe('/campanas');
    await expect
      .poll(() => page.getByTestId('teach-found').textContent())
      .toBe('Encontré 3 nombres de transmisiones en esta página:');
    await expect
      .poll(() => page.locator('.rb-teach-names li').allTextContents())
      .toEqual(['Black Friday', 'Navidad', 'Reyes']);
    expect(await axeViolations(page, '[data-rebound]')).toEqual([]);
    await page.getByRole('button', { name: /^Guardar para 127\.0\.0\.1:\d+$/ }).click();
    await expect.poll(() => page.getByTestId('rebound-teach').textContent()).toContain('Guardado.');

    // Without a reload: Black Friday's badge, found by the ID its link carries.
    const badge = page.locator(`a[href="/campanas/${s1}/informe"] .rb-badge`);
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe('500 fallidos');
    expect(await badge.getAttribute('data-broadcast-id')).toBe(String(s1));
    await page.getByRole('button', { name: 'Cerrar' }).click();
    await expect.poll(() => page.getByTestId('rebound-teach').count()).toBe(0);

    // And on the next visit, from storage.
    await page.reload();
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe('500 fallidos');
  });

  it('a plain table: the name column only, not the dates or the states', async () => {
    await page.goto(`${siteUrl}/envios`);
    await startTeaching();
    await page.locator('td', { hasText: 'Black Friday' }).click();
    await expect
      .poll(() => page.getByTestId('teach-found').textContent())
      .toBe('Encontré 2 nombres de transmisiones en esta página:');
    await expect.poll(() => page.locator('.rb-teach-names li').allTextContents()).toEqual(['Black Friday', 'Navidad']);
    await page.getByRole('button', { name: /^Guardar para/ }).click();
    await expect
      .poll(() => page.locator('td', { hasText: 'Black Friday' }).locator('.rb-badge').textContent(), {
        timeout: 10_000,
      })
      .toBe('500 fallidos');
    // Nothing failed in Navidad (scheduled, nothing sent): no badge there, and none on other cells.
    expect(await page.locator('.rb-badge').count()).toBe(1);
  });

  it('a taught page that draws its list late is never offered to be taught again meanwhile', async () => {
    late = true;
    try {
      await page.goto(`${siteUrl}/envios`);
      expect((await pillsFor(3_500)).filter((text) => /enseñar/.test(text))).toEqual([]);
      await expect
        .poll(() => page.locator('td', { hasText: 'Black Friday' }).locator('.rb-badge').textContent(), {
          timeout: 10_000,
        })
        .toBe('500 fallidos');
    } finally {
      late = false;
    }
  });

  it('a taught list filtered to nothing is an empty list: never offered to be taught again', async () => {
    empty = true;
    try {
      await page.goto(`${siteUrl}/envios`);
      expect((await pillsFor(4_000)).filter((text) => /enseñar/.test(text))).toEqual([]);
    } finally {
      empty = false;
    }
  });

  it('a taught page whose markup changed says it finds no broadcasts and is taught again in one click', async () => {
    redesigned = true;
    await page.goto(`${siteUrl}/envios`);
    // Not a silent page without badges: the pill says so and offers the teaching bar.
    const pill = page.locator('.rb-pill');
    await expect
      .poll(() => pill.textContent(), { timeout: 10_000 })
      .toBe('Rebound: no encuentro transmisiones aquí; enseñar de nuevo');
    expect(await page.locator('.rb-badge').count()).toBe(0);
    await pill.click();
    await page.getByTestId('rebound-teach').waitFor();
    await page.locator('strong', { hasText: 'Black Friday' }).click();
    await expect
      .poll(() => page.getByTestId('teach-found').textContent())
      .toBe('Encontré 2 nombres de transmisiones en esta página:');
    await page.getByRole('button', { name: /^Guardar para/ }).click();
    await expect
      .poll(() => page.locator('strong', { hasText: 'Black Friday' }).locator('.rb-badge').textContent(), {
        timeout: 10_000,
      })
      .toBe('500 fallidos');
    // Taught again: the old reading of the page was replaced, not kept beside the new one.
    await page.getByRole('button', { name: 'Cerrar' }).click();
    await page.reload();
    await expect.poll(() => pill.textContent(), { timeout: 10_000 }).toBe('Rebound: 500 fallidos');
  });

  it("a helpdesk's own numbers in its links are not taken for Rebound's: the names find the broadcasts", async () => {
    await page.goto(`${siteUrl}/app/7/campanas`);
    await startTeaching();
    await page.locator('a.campaign', { hasText: 'Navidad' }).click();
    await expect
      .poll(() => page.getByTestId('teach-found').textContent())
      .toBe('Encontré 3 nombres de transmisiones en esta página:');
    await page.getByRole('button', { name: /^Guardar para/ }).click();
    await expect.poll(() => page.getByTestId('rebound-teach').textContent()).toContain('Guardado.');
    // Not "workspace 7" for every row, nor the helpdesk's 9001: Black Friday by its name, once.
    const badge = page.locator('a.campaign', { hasText: 'Black Friday' }).locator('.rb-badge');
    await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe('500 fallidos');
    expect(await badge.getAttribute('data-broadcast-id')).toBe(String(s1));
    expect(await page.locator('.rb-badge').count()).toBe(1);
  });

  it("a badge stays readable on a light helpdesk when the agent's system is dark", async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await page.goto(`${siteUrl}/campanas`);
      const badge = page.locator(`a[href="/campanas/${s1}/informe"] .rb-badge`);
      await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toBe('500 fallidos');
      expect(await axeViolations(page, '[data-rebound="badge"]')).toEqual([]);
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it("only the agent's own clicks pick a name and save: a page's scripts cannot teach in the agent's place", async () => {
    await page.goto(`${siteUrl}/otros-envios`);
    await startTeaching();
    // The page dispatches a click on a cell of its choosing: still picking.
    await page.evaluate(() => {
      const cell = [...document.querySelectorAll('td')].find((td) => td.textContent === '25/11');
      cell?.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
    });
    await expect.poll(() => page.getByTestId('rebound-teach').textContent()).toContain('Haga clic en el nombre');
    expect(await page.getByTestId('teach-found').count()).toBe(0);
    // The agent picks; the page clicks Save in the agent's place: nothing is saved.
    await page.locator('td', { hasText: 'Navidad' }).click();
    await page.getByTestId('teach-found').waitFor();
    await page.evaluate(() => {
      const root = document.querySelector('[data-rebound="teach"]')?.shadowRoot;
      (root?.querySelector('.rb-primary') as HTMLElement | null)?.click();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await page.getByTestId('rebound-teach').textContent()).not.toContain('Guardado.');
    await page.getByRole('button', { name: 'Cancelar' }).click();
  });

  it('the options list what was learned, refuse a broken selector, and removing it leaves the page bare', async () => {
    const options = new OptionsPage(page, browser.extensionId);
    await options.open();
    const learned = page.getByTestId('learned-sites').locator('li');
    await expect.poll(() => learned.count()).toBe(3);
    const grid = learned.filter({ hasText: '^/campanas/?$' });
    await expect.poll(() => grid.textContent()).toContain('Black Friday · Navidad · Reyes');

    await grid.getByRole('button', { name: 'Editar' }).click();
    await page.locator('input[name="learned-names"]').fill('div > a > span:nth-child(');
    await page.getByRole('button', { name: 'Guardar cambios' }).click();
    await expect
      .poll(() => page.getByTestId('learned-sites').getByRole('status').textContent())
      .toBe('El selector CSS no es válido (o está vacío). Corríjalo y vuelva a guardar.');
    await page.getByRole('button', { name: 'Cancelar' }).click();

    await grid.getByRole('button', { name: 'Quitar' }).click();
    await expect.poll(() => learned.count()).toBe(2);

    await page.goto(`${siteUrl}/campanas`);
    await expect
      .poll(() => page.locator('.rb-pill').textContent(), { timeout: 10_000 })
      .toBe('Rebound: enseñar esta página');
    expect(await page.locator('.rb-badge').count()).toBe(0);
  });
});
