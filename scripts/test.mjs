// The whole test suite, from a fresh clone: install, lint, type-check, then every test.
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
pnpm(['exec', 'vitest', 'run']);
