/**
 * A broadcast the quality guard paused, in real Chromium with the built extension (issue #15): the
 * panel says why in the agent's language, a manager resumes it from there, an agent sees why and no
 * button; the attention count counts it.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import { type Harness, harness, whatsappBroadcast, whatsappSimulator } from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExtensionBrowser, HelpdeskPage, launchWithExtension, OptionsPage, PopupPage } from './fixtures';

let h: Harness;
let browser: ExtensionBrowser;
let page: Page;
const paused: number[] = [];

async function status(id: number): Promise<string> {
  return (await h.get(id)).status;
}

beforeAll(async () => {
  h = await harness();
  // Two broadcasts whose contacts block the number (131048) one in five: the guard pauses both.
  for (const [i, name] of ['Promo verano', 'Promo invierno'].entries()) {
    const sim = await whatsappSimulator(h);
    sim.setSpike({ after: 0, share: 0.2, code: '131048' });
    const b = await whatsappBroadcast(h, sim, {
      tag: `guard ${i}`,
      name,
      count: 300,
      rate: 5000,
      start: 800_000 + i * 1000,
    });
    await h.schedule(b.id);
    paused.push(b.id);
  }
  await h.engine().runUntilIdle();
  for (const id of paused) expect(await status(id)).toBe('paused');

  browser = await launchWithExtension();
  page = await browser.context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function connectAs(token: string) {
  const options = new OptionsPage(page, browser.extensionId);
  await options.open();
  await options.setLanguage('es');
  await options.open();
  await options.connect(h.server.baseUrl, token);
  await options
    .connectionStatus()
    .filter({ hasText: /^Conectado/ })
    .waitFor();
  if ((await options.sites().count()) === 0) {
    await options.addSite(`${h.server.baseUrl}/demo/*`);
    await options.sites().first().waitFor();
  }
  await new HelpdeskPage(page, h.server.baseUrl).signIn(token);
}

describe('a paused broadcast in the panel', () => {
  it('a manager reads why it paused and resumes it from the panel', async () => {
    await connectAs(h.ws.tokens.manager);
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open(`/demo/broadcasts/${paused[0]}`);
    const why = helpdesk.panel().getByTestId('paused');
    await expect
      .poll(() => why.textContent(), { timeout: 15_000 })
      .toMatch(
        /^Pausamos «Promo verano»: el \d+ % de los contactos bloqueó o reportó el número en los últimos \d+ envíos/,
      );
    await expect.poll(() => helpdesk.panel().locator('.rb-status').textContent()).toBe('en pausa');
    await helpdesk.panel().getByRole('button', { name: 'Reanudar' }).click();
    await expect.poll(() => status(paused[0] as number), { timeout: 10_000 }).toBe('sending');
    // The panel shows it again, sending, without the pause.
    await expect.poll(() => helpdesk.panel().locator('.rb-status').textContent(), { timeout: 10_000 }).toBe('enviando');
    expect(await helpdesk.panel().getByTestId('paused').count()).toBe(0);
  }, 60_000);

  it('an agent reads why, and finds no button to resume it', async () => {
    await connectAs(h.ws.tokens.agent);
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open(`/demo/broadcasts/${paused[1]}`);
    const why = helpdesk.panel().getByTestId('paused');
    await expect.poll(() => why.textContent(), { timeout: 15_000 }).toMatch(/^Pausamos «Promo invierno»/);
    expect(await helpdesk.panel().getByRole('button', { name: 'Reanudar' }).count()).toBe(0);
    expect(await status(paused[1] as number)).toBe('paused');
  }, 60_000);
});

describe('the lineage in the popup', () => {
  it('says what the first send reached, what Rebound’s own re-send recovered, and that nobody is left', async () => {
    const sim = await whatsappSimulator(h);
    const b = await whatsappBroadcast(h, sim, { tag: 'linaje', name: 'Linaje', count: 10, rate: 5000, start: 810_000 });
    // Two contacts get a provider error once; the automatic re-send reaches them.
    for (const n of [0, 1]) sim.script(`54911${50_000_000 + 810_000 + n}`, { kind: 'serverError', times: 1 });
    await h.server.request('PATCH', `/api/v1/broadcasts/${b.id}`, {
      token: h.ws.tokens.manager,
      body: { autoRecovery: 1 },
    });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${b.id}`);
    const lineage = page.getByTestId('lineage');
    await lineage.waitFor({ timeout: 15_000 });
    expect(await lineage.locator('li').allTextContents()).toEqual([
      'Primer envío: llegó a 8',
      'Reintento 1: recuperó 2',
      'No queda nadie sin recibirlo',
    ]);
    expect(await lineage.locator('p').textContent()).toBe('Rebound reenvía por su cuenta hasta 1 vez');
  }, 60_000);
});

describe('another channel from the popup', () => {
  it('"Enviar por SMS" shows who has a number there and the segments, and sends them the text', async () => {
    const sim = await whatsappSimulator(h);
    const tw = await startTwilioSimulator({ accountSid: `AC${'e'.repeat(32)}`, authToken: 'tw' });
    h.simulators.push(tw);
    await h.channel({
      type: 'twilio_sms',
      name: 'SMS',
      credentials: { accountSid: `AC${'e'.repeat(32)}`, authToken: 'tw', from: '+15005550006' },
      baseUrl: tw.baseUrl,
    });
    const b = await whatsappBroadcast(h, sim, {
      tag: 'sin whatsapp',
      name: 'Aviso SMS',
      count: 6,
      rate: 5000,
      start: 820_000,
    });
    for (const n of [0, 1, 2]) sim.script(`54911${50_000_000 + 820_000 + n}`, { kind: 'fail', code: '131026' });
    await h.schedule(b.id);
    await h.engine({ maxAttempts: 1 }).runUntilIdle();
    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${b.id}`);
    const box = page.getByTestId('other-channel');
    await box.getByRole('button', { name: 'Enviar por SMS a los 3 contactos que WA Aviso SMS no alcanza' }).click();
    await expect
      .poll(() => box.locator('p').first().textContent(), { timeout: 10_000 })
      .toBe('3 tienen número en SMS · cada SMS: 1 segmento GSM-7');
    await box.getByRole('button', { name: 'Confirmar envío' }).click();
    await expect.poll(() => box.getByRole('status').textContent(), { timeout: 10_000 }).toMatch(/^Reenvío por SMS: 3 /);
    await h.engine().runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { Body: string }).Body)).toEqual(['Hola', 'Hola', 'Hola']);
  }, 60_000);
});
