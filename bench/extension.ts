/**
 * ext.*: the content script's size (the production build, minified) and how soon the overlay paints after
 * its data arrives, in real Chromium with the built extension on the demo helpdesk.
 */
import { statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '@rebound/server/app';
import { createToken } from '@rebound/server/services/tokens';
import { EXTENSION_DIR, HelpdeskPage, launchWithExtension, OptionsPage } from '../extension/test/browser/fixtures';
import { seedFailures } from './failures';
import { tempDatabase } from './lib/db';
import { type BenchResult, median, percentile } from './lib/report';

const PAGE_LOADS = 20;

export async function benchExtension(): Promise<BenchResult[]> {
  const script = join(EXTENSION_DIR, 'content-scripts/overlay.js');
  const results: BenchResult[] = [
    {
      id: 'ext.content_script_kb',
      value: Math.round((statSync(script).size / 1024) * 10) / 10,
      unit: 'kB',
      better: 'lower',
      target: 60,
      note: 'content-scripts/overlay.js of the production build (minified by Terser, two passes): Preact, signals, the overlay',
    },
  ];

  const database = await tempDatabase('ext');
  const server = serve({ fetch: createApp({ db: database.db, demo: true }).fetch, port: 0, hostname: '127.0.0.1' });
  let browser: Awaited<ReturnType<typeof launchWithExtension>> | undefined;
  try {
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchWithExtension();
    const { workspace, broadcastIds } = await seedFailures(database, 1_500);
    const { token } = await createToken(database.db, workspace.id, 'bench agent', 'agent');
    const page = await browser.context.newPage();
    const options = new OptionsPage(page, browser.extensionId);
    await options.open();
    await options.connect(baseUrl, token);
    await options
      .connectionStatus()
      .filter({ hasText: /«Bench»|"Bench"/ })
      .waitFor();
    await options.addSite(`${baseUrl}/demo/*`);
    await options.sites().first().waitFor();
    const helpdesk = new HelpdeskPage(page, baseUrl);
    await helpdesk.signIn(token);

    const samples: number[] = [];
    for (let i = 0; i < PAGE_LOADS; i++) {
      await helpdesk.open(`/demo/broadcasts/${broadcastIds[i % broadcastIds.length]}`);
      const panel = page.locator('[data-rebound="panel"][data-render-ms]');
      await panel.waitFor({ state: 'attached', timeout: 15_000 });
      samples.push(Number(await panel.getAttribute('data-render-ms')));
    }
    results.push({
      id: 'ext.overlay_render_ms',
      value: Math.round(percentile(samples, 95) * 10) / 10,
      unit: 'ms',
      better: 'lower',
      target: 100,
      note: `p95 of ${PAGE_LOADS} panel renders (median ${median(samples).toFixed(1)} ms), data arrival to next paint, headless Chromium`,
    });
  } finally {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    database.dispose();
  }
  return results;
}
