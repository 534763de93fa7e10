/**
 * Runs every benchmark, prints a table and writes bench/results.json (../shared/bench-format.md).
 * `pnpm bench -- segments` runs only the named ones.
 */
import { availableParallelism, loadavg } from 'node:os';
import { benchBroadcastReads } from './broadcasts';
import { benchContacts } from './contacts';
import { benchExport, benchImport } from './csv';
import { benchHttp, benchMemory, benchSandbox } from './engine';
import { benchExtension } from './extension';
import { benchLog, benchResend } from './failures';
import { benchConcurrentImports, benchFairness } from './fairness';
import { benchGuard } from './guard';
import { type BenchResult, printTable, writeResults } from './lib/report';
import { benchLoad } from './load';
import { benchScale } from './scale';
import { benchSearch } from './search';
import { benchSegments } from './segments';

const benchmarks: Record<string, () => Promise<BenchResult[]>> = {
  segments: benchSegments,
  contacts: benchContacts,
  search: benchSearch,
  broadcasts: benchBroadcastReads,
  sandbox: benchSandbox,
  http: benchHttp,
  guard: benchGuard,
  memory: benchMemory,
  log: benchLog,
  resend: benchResend,
  export: benchExport,
  import: benchImport,
  extension: benchExtension,
  load: benchLoad,
  fairness: benchFairness,
  'import-rss': benchConcurrentImports,
  scale: benchScale,
};

const wanted = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = wanted.filter((name) => !(name in benchmarks));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

// Figures from a busy machine are not figures: say how busy it was when the run began.
const [load1, load5, load15] = loadavg().map((l) => l.toFixed(2));
console.log(`Load average at start: ${load1}, ${load5}, ${load15} (${availableParallelism()} cores)`);
const results: BenchResult[] = [
  {
    id: 'bench.load_average_at_start',
    value: Number(load1),
    unit: '',
    better: 'lower',
    note: `the machine's 1-minute load average when the run began (5 and 15 minutes: ${load5}, ${load15}; ${availableParallelism()} cores)`,
  },
];
for (const [name, run] of Object.entries(benchmarks)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const start = performance.now();
  process.stdout.write(`▶ ${name} … `);
  results.push(...(await run()));
  console.log(`done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}
printTable(results);
console.log(`\nWrote ${writeResults(results)}`);
