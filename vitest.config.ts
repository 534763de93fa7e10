import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

/**
 * Tests that run several processes, or measure rates from timestamps: they run after the others, one
 * file at a time, so that on a 2-core machine no other test takes their CPU and skews a rate check.
 */
const HEAVY = [
  'test/engine/processes.test.ts',
  'test/engine/scale-out.test.ts',
  'test/engine/provider-faults.test.ts',
  'test/engine/storage-faults.test.ts',
  'test/main-job.test.ts',
  'test/readme-commands.test.ts',
  // Latency checks (p99 under 200 ms while one user does heavy work): alone, like the rate checks.
  'test/fairness.test.ts',
  'test/imports-off-loop.test.ts',
  'test/resend-preview-fairness.test.ts',
  // Writes 150 MB with syncs to bound the WAL: alone, not beside the parallel files.
  'test/checkpoints.test.ts',
];

/** Journeys that also run against sqld (REBOUND_TEST_DATABASE=sqld; test/helpers.ts starts one per file). */
const SQLD_JOURNEYS = [
  'test/engine/provider-scenarios.test.ts',
  'test/engine/s9-manual-path.test.ts',
  'test/engine/resend-policy.test.ts',
  'test/engine/scale-out.test.ts',
];
/** Only for a libSQL server: tokens checked by a sqld with a key, and an API process on a replica. */
const SQLD_ONLY = ['test/sqld-auth.test.ts', 'test/sqld-replica.test.ts', 'test/engine/sqld-faults.test.ts'];

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
          exclude: [...HEAVY, ...SQLD_ONLY],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The core journeys again, on a real libSQL server (sqld, scripts/sqld.mjs) instead of a file:
        // S1, S9 and the re-send. Last, one file at a time (each starts its own sqld).
        test: {
          name: 'server-sqld',
          root: './server',
          include: [...SQLD_JOURNEYS, ...SQLD_ONLY],
          env: { REBOUND_TEST_DATABASE: 'sqld' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        // The extension's logic with WXT's fake browser APIs and a DOM.
        plugins: [WxtVitest(), preact()],
        test: {
          name: 'extension',
          include: ['extension/test/unit/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          // The words, as every surface but the content script registers them at start.
          setupFiles: ['extension/lib/all-words.ts'],
        },
      },
      {
        test: {
          name: 'server-processes',
          root: './server',
          include: HEAVY,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Real Chromium with the built extension (.output/chrome-mv3, built by the test command first).
        test: {
          name: 'browser',
          include: ['extension/test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
