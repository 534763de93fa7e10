// The whole test suite, from a fresh clone: install, lint, type-check, then every test.
import { mkdirSync, readFileSync } from 'node:fs';
import { install, pnpm } from './pnpm.mjs';

const step = (title) => console.log(`\n▶ ${title}`);

step('Installing dependencies (pnpm, frozen lockfile)');
install();
step('Lint and format check (Biome)');
pnpm(['exec', 'biome', 'ci', '.']);
step('Type check (TypeScript strict)');
pnpm(['run', 'typecheck']);
step('Building the extension');
pnpm(['exec', 'wxt', 'build']);
step('Tests (vitest: shared, server)');
mkdirSync('.tmp', { recursive: true });
pnpm(['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.tmp/vitest.json']);

// One plain closing line that any CI can read.
const report = JSON.parse(readFileSync('.tmp/vitest.json', 'utf8'));
console.log(`\ntests: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
