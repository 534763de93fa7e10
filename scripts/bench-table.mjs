// Writes the README's benchmark table from a full run's results, between the markers
// `<!-- bench-table -->` and `<!-- /bench-table -->`: the figures are the run's, never typed.
//   node scripts/bench-table.mjs bench/results.example.json [--partial]
// A results file missing figures the table has (a run of some benchmarks only) is refused unless --partial.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const args = process.argv.slice(2);
const partial = args.includes('--partial');
const source = args.find((arg) => arg !== '--partial');
if (!source) {
  console.error('Name the results to write, e.g. node scripts/bench-table.mjs bench/results.example.json');
  process.exit(2);
}
const results = JSON.parse(readFileSync(source, 'utf8'));

const number = (value) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100);
const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const rows = results.map((r) => {
  // A figure that did not come out (NaN or Infinity is written as null) is no value, never 0 and never met.
  const measured = typeof r.value === 'number' && Number.isFinite(r.value);
  const met =
    r.target === undefined || (measured && (r.better === 'higher' ? r.value >= r.target : r.value <= r.target));
  const target =
    r.target === undefined
      ? ''
      : `${r.better === 'higher' ? '≥' : '≤'} ${number(r.target)}${met ? '' : ' (**not met**)'}`;
  const value = measured ? `${number(r.value)} ${r.unit}`.trim() : 'no value';
  return [`\`${r.id}\``, value, target, cell(r.note)];
});
const header = ['id', 'value', 'target', 'what'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');

const text = readFileSync(readme, 'utf8');
const start = text.indexOf('<!-- bench-table -->');
const end = text.indexOf('<!-- /bench-table -->');
if (start < 0 || end < start) {
  console.error('README.md has no <!-- bench-table --> … <!-- /bench-table --> section.');
  process.exit(1);
}
const before = new Set([...text.slice(start, end).matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]));
const missing = [...before].filter((id) => !results.some((r) => r.id === id));
if (missing.length && !partial) {
  console.error(
    `${source} lacks ${missing.length} figures the table has (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}): a run of some benchmarks only? Write a full run's results, or pass --partial.`,
  );
  process.exit(1);
}
writeFileSync(readme, `${text.slice(0, start)}<!-- bench-table -->\n${table}\n${text.slice(end)}`);
console.log(`Wrote ${results.length} figures from ${source} into README.md`);
