import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

// One runner for the workspace: each package is a project with its own tests.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', root: './shared', include: ['test/**/*.test.ts'] } },
      {
        test: {
          name: 'server',
          root: './server',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The extension's logic with WXT's fake browser APIs and a DOM.
        plugins: [WxtVitest(), preact()],
        test: { name: 'extension', include: ['extension/test/unit/**/*.test.{ts,tsx}'], environment: 'happy-dom' },
      },
      {
        // Real Chromium with the built extension (.output/chrome-mv3, built by the test command first).
        test: {
          name: 'browser',
          include: ['extension/test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
