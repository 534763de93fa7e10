/**
 * A broadcast the quality guard paused, in real Chromium with the built extension (issue #15): the
 * panel and the popup say why in the agent's language, a manager resumes it from either, an agent sees
 * why, that a manager can resume it, and no button; the toolbar count counts it and it cannot be marked
 * as reviewed away.
 */
import { startTwilioSimulator } from '@rebound/simulators';
import {
  type Harness,
  harness,
  until,
  vonageChannel,
  whatsappBroadcast,
  whatsappSimulator,
} from '@rebound/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  type ExtensionBrowser,
  HelpdeskPage,
  launchWithExtension,
  OptionsPage,
  PopupPage,
} from './fixtures';

let h: Harness;
let browser: ExtensionBrowser;
let page: Page;
const paused: number[] = [];

async function status(id: number): Promise<string> {
  return (await h.get(id)).status;
}

beforeAll(async () => {
  h = await harness();
  // Three broadcasts whose contacts block the number (131048) one in five: the guard pauses them all.
  for (const [i, name] of ['Promo verano', 'Promo invierno', 'Promo otoño'].entries()) {
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
    expect(await why.textContent()).toMatch(/Un gerente puede reanudarla\.$/);
    expect(await helpdesk.panel().getByRole('button', { name: 'Reanudar' }).count()).toBe(0);
    // Not "Todos los mensajes salieron": how far it got.
    expect(await helpdesk.panel().getByTestId('headline').textContent()).toMatch(/^Se detuvo en \d+ de 300$/);
    expect(await axeViolations(page, '[data-rebound]')).toEqual([]);
    expect(await status(paused[1] as number)).toBe('paused');
  }, 60_000);
});

/** The toolbar count: how many broadcasts need a look. */
const badgeText = async () =>
  (await browser.worker()).evaluate(() =>
    (
      globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string> } } }
    ).chrome.action.getBadgeText({}),
  );

describe('a paused broadcast in the popup', () => {
  it('an agent reads it as paused, why and who can resume it; it counts on the toolbar and cannot be marked as reviewed', async () => {
    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open();
    await expect
      .poll(() => popup.row('Promo invierno').locator('.rb-status').textContent(), { timeout: 15_000 })
      .toBe('en pausa');
    // The two still paused (the first was resumed above): nothing else in this workspace needs a look yet.
    await expect.poll(badgeText, { timeout: 10_000 }).toBe('2');
    await popup.row('Promo invierno').click();
    const why = page.getByTestId('paused');
    await expect.poll(() => why.textContent(), { timeout: 15_000 }).toMatch(/^Pausamos «Promo invierno»: el \d+ % /);
    expect(await why.textContent()).toMatch(/Un gerente puede reanudarla\.$/);
    expect(await page.getByRole('button', { name: 'Reanudar' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Marcar como revisada' }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
  }, 60_000);

  it('a manager resumes it from the popup: it leaves paused and the popup shows it sending', async () => {
    await connectAs(h.ws.tokens.manager);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${paused[2]}`);
    const why = page.getByTestId('paused');
    await expect.poll(() => why.textContent(), { timeout: 15_000 }).toMatch(/^Pausamos «Promo otoño»/);
    expect(await why.textContent()).not.toContain('Un gerente puede');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Reanudar' }).click();
    await expect.poll(() => status(paused[2] as number), { timeout: 10_000 }).not.toBe('paused');
    await expect.poll(() => page.locator('.rb-report .rb-status').textContent(), { timeout: 10_000 }).toBe('enviando');
    expect(await page.getByTestId('paused').count()).toBe(0);
    // Only Promo invierno is still paused.
    await expect.poll(badgeText, { timeout: 10_000 }).toBe('1');
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

  it('counts recipients with no answer as unconfirmed and left, never "nobody is left"', async () => {
    const sim = await whatsappSimulator(h);
    const b = await whatsappBroadcast(h, sim, {
      tag: 'linaje-sc',
      name: 'Linaje sc',
      count: 6,
      rate: 5000,
      start: 811_000,
    });
    // Two requests get no answer: they may have arrived. The automatic re-send does not take them.
    for (const n of [0, 1]) sim.script(`54911${50_000_000 + 811_000 + n}`, { kind: 'hang' });
    await h.server.request('PATCH', `/api/v1/broadcasts/${b.id}`, {
      token: h.ws.tokens.manager,
      body: { autoRecovery: 1 },
    });
    await h.schedule(b.id);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${b.id}`);
    const lineage = page.getByTestId('lineage');
    await lineage.waitFor({ timeout: 15_000 });
    expect(await lineage.locator('li').allTextContents()).toEqual([
      'Primer envío: llegó a 4, 2 sin confirmar',
      'Quedan 2: No se sabe si llegó (2)',
    ]);
  }, 60_000);
});

describe('a re-send cancelled mid-send, in the popup', () => {
  it('says it was re-sent and cancelled, the lineage shows what it reached and who is left, and it re-sends only the rest', async () => {
    const sim = await whatsappSimulator(h);
    // 3 a second, so that the cancel lands while the re-send is still going.
    const b = await whatsappBroadcast(h, sim, { tag: 'corte', name: 'Corte', count: 6, rate: 3, start: 812_000 });
    const phone = (n: number) => `54911${50_000_000 + 812_000 + n}`;
    for (let n = 0; n < 6; n++) sim.script(phone(n), { kind: 'fail', code: '131049' });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    for (let n = 0; n < 6; n++) sim.script(phone(n), { kind: 'accept' });
    const first = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true, reasons: ['recipient_limit'] },
    });
    expect(first.status, first.text).toBe(200);
    const firstId = first.body.broadcastId as number;
    const running = h.engine().runUntilIdle();
    await until(async () => ((await h.get(firstId)).counts.sent ?? 0) >= 2, 20_000, 10);
    const cancel = await h.server.request('POST', `/api/v1/broadcasts/${firstId}/cancel`, {
      token: h.ws.tokens.manager,
    });
    expect(cancel.status, cancel.text).toBe(200);
    await running;
    const { counts } = await h.get(firstId);
    const sent = counts.sent ?? 0;
    const left = counts.cancelled ?? 0;
    expect(sent + left).toBe(6);
    expect(left).toBeGreaterThan(0);

    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${b.id}`);
    const progress = page.getByTestId('resend-progress');
    await progress.waitFor({ timeout: 15_000 });
    // Its outcome, then the offer for the rest, counted by the server's plan, not the 6 failures by reason.
    const rest = page.getByRole('button', { name: `Etiquetar y reenviar ${left}` });
    await rest.waitFor({ timeout: 15_000 });
    expect(await progress.textContent()).toBe('Ya se reenvió: «Corte (reenvío)» (cancelada).');
    // The lineage counts what it reached and who is left.
    expect(await page.getByTestId('lineage').locator('li').allTextContents()).toEqual([
      'Primer envío: llegó a 0',
      `Reintento 1: recuperó ${sent}`,
      `Quedan ${left}: El contacto ya recibió muchos mensajes de marketing (${left})`,
    ]);
    expect(await axeViolations(page)).toEqual([]);
    await rest.click();
    // A second re-send of the same broadcast, to exactly those the first never sent.
    await expect
      .poll(
        async () => {
          const list = await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${b.id}&limit=10`, {
            token: h.ws.tokens.agent,
          });
          return (list.body.data as { id: number; targetCount: number | null }[])
            .filter((r) => r.id !== firstId)
            .map((r) => r.targetCount);
        },
        { timeout: 15_000 },
      )
      .toEqual([left]);
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
      // What the workspace pays Twilio a segment to Argentina: the popup prices the send before the click.
      prices: { smsPerSegment: { AR: 0.0456 } },
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
    // When it goes and what it costs (3 × US$ 0,0456), written as the agent's language writes money.
    expect(await box.locator('p').nth(1).textContent()).toMatch(/^Se enviará: 3 ahora · costo estimado \D*0,14\D*$/);
    await box.getByRole('button', { name: 'Confirmar envío' }).click();
    await expect.poll(() => box.getByRole('status').textContent(), { timeout: 10_000 }).toMatch(/^Reenvío por SMS: 3 /);
    await h.engine().runUntilIdle();
    expect(tw.requests.map((r) => (r.body as { Body: string }).Body)).toEqual(['Hola', 'Hola', 'Hola']);
  }, 60_000);
});

describe('a completed broadcast with unconfirmed recipients', () => {
  it('never looks fully delivered; once their wait for a report is over it counts on the toolbar, and its report re-sends them alone', async () => {
    const sim = await whatsappSimulator(h);
    const b = await whatsappBroadcast(h, sim, { tag: 'espera', name: 'Espera', count: 5, rate: 5000, start: 813_000 });
    // Two requests get no answer: they may have arrived, and nothing failed.
    for (const n of [0, 1]) sim.script(`54911${50_000_000 + 813_000 + n}`, { kind: 'hang' });
    await h.schedule(b.id);
    await h.engine({ requestTimeoutMs: 300 }).runUntilIdle();
    const done = await h.get(b.id);
    expect(done.status).toBe('completed');
    expect(done.counts.uncertain).toBe(2);

    await connectAs(h.ws.tokens.agent);
    const helpdesk = new HelpdeskPage(page, h.server.baseUrl);
    await helpdesk.open('/demo/');
    const rowBadge = page.locator(`tr[data-broadcast-id="${b.id}"] .rb-badge`);
    await expect.poll(() => rowBadge.textContent(), { timeout: 15_000 }).toBe('2 sin confirmar');
    expect(await axeViolations(page, '[data-rebound]')).toEqual([]);

    const popup = new PopupPage(page, browser.extensionId);
    await popup.open();
    await expect
      .poll(() => popup.row('Espera').locator('.rb-row-figures').textContent(), { timeout: 15_000 })
      .toBe('3 de 5 enviados · 2 sin confirmar');
    // Within the wait (24 h by default) a report may still come: nothing to do yet.
    const attention = async () =>
      (await h.server.request('GET', '/api/v1/broadcasts/attention', { token: h.ws.tokens.agent })).body.data.map(
        (x: { id: number }) => x.id,
      ) as number[];
    const waiting = await attention();
    expect(waiting).not.toContain(b.id);
    await expect.poll(async () => Number(await badgeText()), { timeout: 10_000 }).toBe(waiting.length);
    // A day later no report has come: a re-send of them can be asked for now, and the toolbar counts it.
    const dayAgo = Date.now() - 25 * 3_600_000;
    await h.server.database.client.execute({
      sql: 'UPDATE broadcasts SET finished_at = ?1, unconfirmed_at = ?1 WHERE id = ?2',
      args: [dayAgo, b.id],
    });
    await h.server.database.client.execute({
      sql: 'UPDATE messages SET failed_at = ? WHERE broadcast_id = ? AND failed_at IS NOT NULL',
      args: [dayAgo, b.id],
    });
    expect(await attention()).toEqual([b.id, ...waiting]);
    await popup.open();
    await popup.row('Espera').waitFor({ timeout: 15_000 });
    await expect.poll(async () => Number(await badgeText()), { timeout: 10_000 }).toBe(waiting.length + 1);

    // Its report offers them on their own, never by default, saying they may get it twice.
    await popup.open(`?broadcast=${b.id}`);
    const offer = page.getByTestId('resend-unconfirmed');
    await offer.waitFor({ timeout: 15_000 });
    // They went out: its headline never calls them "not sent", nor says all went out.
    expect(await page.getByTestId('headline').textContent()).toBe('2 sin confirmar');
    expect(await offer.locator('p').textContent()).toBe(
      '2 destinatarios siguen sin confirmar: ningún informe de entrega dijo si les llegó. Si les reenvía, pueden recibirlo dos veces.',
    );
    expect(await axeViolations(page)).toEqual([]);
    await offer.getByRole('button', { name: 'Reenviar a los 2 sin confirmar' }).click();
    const progress = page.getByTestId('resend-progress');
    await expect
      .poll(() => progress.textContent(), { timeout: 15_000 })
      .toContain('2 destinatarios sin confirmar se reenvían');
    const resends = (
      await h.server.request('GET', `/api/v1/broadcasts?resendOfId=${b.id}`, { token: h.ws.tokens.agent })
    ).body.data as { id: number; targetCount: number }[];
    expect(resends.map((r) => r.targetCount)).toEqual([2]);
    // Re-sent: it leaves the toolbar count, and the re-send goes to those two.
    await expect.poll(async () => Number(await badgeText()), { timeout: 10_000 }).toBe(waiting.length);
    for (const n of [0, 1]) sim.script(`54911${50_000_000 + 813_000 + n}`, { kind: 'accept' });
    await h.engine().runUntilIdle();
    const resent = await h.get(resends[0]?.id as number);
    expect(resent.status).toBe('completed');
    expect((resent.counts.sent ?? 0) + (resent.counts.delivered ?? 0)).toBe(2);
    expect(await axeViolations(page)).toEqual([]);
  }, 60_000);
});

describe('an SMS broadcast whose final receipts said "unknown"', () => {
  it('offers those recipients in its report once their wait is over, after its other failures were re-sent', async () => {
    const { sim, channel } = await vonageChannel(h, 'Vonage');
    await h.seedContacts(4, 'recibo desconocido', { start: 830_000 });
    const segment = await h.segment('Recibo desconocido', 'recibo desconocido');
    const b = await h.broadcast({
      name: 'Aviso Vonage',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    const number = (n: number) => `54911${50_000_000 + 830_000 + n}`;
    // Two receipts say the final state is unknown (they may have arrived), one failed, one delivered.
    sim.script(number(0), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(number(1), { kind: 'failLater', code: 'unknown', delayMs: 30 });
    sim.script(number(2), { kind: 'failLater', code: 'expired', delayMs: 30 });
    sim.script(number(3), { kind: 'deliverLater', delayMs: 30 });
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    await sim.settle();
    expect((await h.get(b.id)).failedByReason).toEqual({ uncertain: 2, provider_error: 1 });
    // The agent re-sent the failed one; the two "unknown" ones are never re-sent unasked.
    const first = await h.server.request('POST', `/api/v1/broadcasts/${b.id}/resend`, {
      token: h.ws.tokens.agent,
      body: { when: 'now', force: true },
    });
    expect(first.body.recipients).toBe(1);
    await h.engine().runUntilIdle();
    await sim.settle();
    // A day later no receipt has changed: the wait is over.
    const dayAgo = Date.now() - 25 * 3_600_000;
    await h.server.database.client.execute({
      sql: 'UPDATE broadcasts SET finished_at = ?1, unconfirmed_at = ?1 WHERE id = ?2',
      args: [dayAgo, b.id],
    });
    await h.server.database.client.execute({
      sql: 'UPDATE messages SET failed_at = ? WHERE broadcast_id = ? AND failed_at IS NOT NULL',
      args: [dayAgo, b.id],
    });
    const attention = async () =>
      (await h.server.request('GET', '/api/v1/broadcasts/attention', { token: h.ws.tokens.agent })).body.data.map(
        (x: { id: number }) => x.id,
      ) as number[];
    expect(await attention()).toContain(b.id);

    await connectAs(h.ws.tokens.agent);
    // Its row on the helpdesk says what the toolbar counts it for, not "ya se reenvió".
    await new HelpdeskPage(page, h.server.baseUrl).open('/demo/');
    const rowBadge = page.locator(`tr[data-broadcast-id="${b.id}"] .rb-badge`);
    await expect.poll(() => rowBadge.textContent(), { timeout: 15_000 }).toBe('2 sin confirmar');
    const popup = new PopupPage(page, browser.extensionId);
    // Its row calls them unconfirmed, not failed: the provider said it does not know.
    await popup.open();
    await expect
      .poll(() => popup.row('Aviso Vonage').locator('.rb-row-figures').textContent(), { timeout: 15_000 })
      .toBe('1 de 4 enviados · 1 fallido · 2 sin confirmar');
    await popup.open(`?broadcast=${b.id}`);
    // Before, its report offered nothing for them: it counted only recipients with no answer at all.
    const offer = page.getByTestId('resend-unconfirmed');
    await offer.waitFor({ timeout: 15_000 });
    expect(await offer.locator('p').textContent()).toBe(
      '2 destinatarios siguen sin confirmar: ningún informe de entrega dijo si les llegó. Si les reenvía, pueden recibirlo dos veces.',
    );
    await offer.getByRole('button', { name: 'Reenviar a los 2 sin confirmar' }).click();
    await expect
      .poll(() => page.getByTestId('resend-progress').textContent(), { timeout: 15_000 })
      .toContain('2 destinatarios sin confirmar se reenvían');
    expect(await attention()).not.toContain(b.id);
    expect(await axeViolations(page)).toEqual([]);
  }, 60_000);
});

describe('a number held with none of its broadcasts paused, in the popup', () => {
  it('says why beside a report on that number; a manager resumes the number, an agent is told who can', async () => {
    const sim = await whatsappSimulator(h);
    const b = await whatsappBroadcast(h, sim, {
      tag: 'numero',
      name: 'Número retenido',
      count: 2,
      rate: 5000,
      start: 812_000,
    });
    sim.webhookUrl = `${h.server.baseUrl}/webhooks/whatsapp/${b.channelId}`;
    await h.schedule(b.id);
    await h.engine().runUntilIdle();
    // Meta flags the number after the broadcast finished: nothing of it is paused, the number is held.
    await sim.signal({ kind: 'numberQuality', event: 'FLAGGED' });
    await connectAs(h.ws.tokens.agent);
    const popup = new PopupPage(page, browser.extensionId);
    await popup.open(`?broadcast=${b.id}`);
    const held = page.getByTestId('number-held');
    await expect
      .poll(() => held.textContent(), { timeout: 15_000 })
      .toContain('El número está en pausa: Meta marcó su calidad (FLAGGED)');
    expect(await held.textContent()).toContain('Un gerente puede reanudarlo.');
    expect(await held.getByRole('button').count()).toBe(0);
    await connectAs(h.ws.tokens.manager);
    await popup.open(`?broadcast=${b.id}`);
    await page.getByRole('button', { name: 'Reanudar el número' }).click();
    await expect.poll(() => held.count(), { timeout: 10_000 }).toBe(0);
    const channel = await h.server.request('GET', `/api/v1/channels/${b.channelId}`, { token: h.ws.tokens.manager });
    expect(channel.body.hold).toBeNull();
    expect(await axeViolations(page)).toEqual([]);
  }, 60_000);
});
