// Every benchmark: a table on stdout and bench/results.json. Extra arguments pick benchmarks by name.
import { ensureChromium } from './chromium.mjs';
import { install, pnpm } from './pnpm.mjs';

install();
// The extension figures read the production build and load it in Chromium.
pnpm(['exec', 'wxt', 'build']);
ensureChromium();
// The benchmarks' provider simulators listen on 127.0.0.1, which channels may reach only when allowed.
pnpm(['--filter', '@rebound/bench', 'run', 'bench', ...process.argv.slice(2)], {
  env: { ...process.env, PROVIDER_URL_ALLOWLIST: process.env.PROVIDER_URL_ALLOWLIST || '127.0.0.1' },
});
