import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One figure, in the shape ../shared/bench-format.md fixes. */
export interface BenchResult {
  id: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower';
  target?: number;
  note: string;
}

export function meetsTarget(result: BenchResult): boolean | undefined {
  if (result.target === undefined) return undefined;
  return result.better === 'higher' ? result.value >= result.target : result.value <= result.target;
}

export function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => {
    const ok = meetsTarget(r);
    return [
      r.id,
      `${formatNumber(r.value)} ${r.unit}`,
      r.target === undefined ? '' : `${r.better === 'higher' ? '≥' : '≤'} ${formatNumber(r.target)}`,
      ok === undefined ? '' : ok ? 'yes' : 'NO',
      r.note,
    ];
  });
  const header = ['id', 'value', 'target', 'met', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

export function writeResults(results: BenchResult[]): string {
  const file = fileURLToPath(new URL('../results.json', import.meta.url));
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 100) / 100);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}
