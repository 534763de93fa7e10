// Every benchmark: a table on stdout and bench/results.json. Extra arguments pick benchmarks by name.
import { install, pnpm } from './pnpm.mjs';

install();
pnpm(['--filter', '@rebound/bench', 'run', 'bench', ...process.argv.slice(2)]);
