/**
 * Runs every benchmark, prints a table and writes bench/results.json (../shared/bench-format.md).
 * `pnpm bench -- segments` runs only the named ones.
 */
import { benchContacts } from './contacts';
import { benchExport, benchImport } from './csv';
import { benchHttp, benchMemory, benchSandbox } from './engine';
import { benchExtension } from './extension';
import { benchLog, benchResend } from './failures';
import { benchConcurrentImports, benchFairness } from './fairness';
import { type BenchResult, printTable, writeResults } from './lib/report';
import { benchLoad } from './load';
import { benchSegments } from './segments';

const benchmarks: Record<string, () => Promise<BenchResult[]>> = {
  segments: benchSegments,
  contacts: benchContacts,
  sandbox: benchSandbox,
  http: benchHttp,
  memory: benchMemory,
  log: benchLog,
  resend: benchResend,
  export: benchExport,
  import: benchImport,
  extension: benchExtension,
  load: benchLoad,
  fairness: benchFairness,
  'import-rss': benchConcurrentImports,
};

const wanted = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = wanted.filter((name) => !(name in benchmarks));
if (unknown.length) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

const results: BenchResult[] = [];
for (const [name, run] of Object.entries(benchmarks)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const start = performance.now();
  process.stdout.write(`▶ ${name} … `);
  results.push(...(await run()));
  console.log(`done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}
printTable(results);
console.log(`\nWrote ${writeResults(results)}`);
