// Writes the README's benchmark table from bench/results.json (a full `npm run bench`), between the
// markers `<!-- bench-table -->` and `<!-- /bench-table -->`: the figures are the run's, never typed.
//   node scripts/bench-table.mjs [results.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const source = process.argv[2] ?? fileURLToPath(new URL('../bench/results.json', import.meta.url));
const results = JSON.parse(readFileSync(source, 'utf8'));

const number = (value) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100);
const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const rows = results.map((r) => {
  const met = r.target === undefined || (r.better === 'higher' ? r.value >= r.target : r.value <= r.target);
  const target =
    r.target === undefined
      ? ''
      : `${r.better === 'higher' ? '≥' : '≤'} ${number(r.target)}${met ? '' : ' (**not met**)'}`;
  return [`\`${r.id}\``, `${number(r.value)} ${r.unit}`.trim(), target, cell(r.note)];
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
writeFileSync(readme, `${text.slice(0, start)}<!-- bench-table -->\n${table}\n${text.slice(end)}`);
console.log(`Wrote ${results.length} figures from ${source} into README.md`);
