/**
 * The CSV writer of the exports against papaparse: the same bytes as Papa.unparse for every kind of
 * cell an export holds (quotes, separators, line breaks, edge spaces, a byte-order mark, formulas,
 * numbers, empty cells), and the same values back from Papa.parse.
 */
import { neutralizeFormulaCell, restoreFormulaCell } from '@rebound/shared';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { csvStream } from '../src/csv/export';

const cells = [
  'plain',
  'María José Núñez',
  'a,b',
  'she said "hola"',
  'line\nbreak',
  'cr\rlf\r\n',
  ' leading space',
  'trailing space ',
  '\uFEFFbom inside',
  '=HYPERLINK("http://x")',
  '+5491140000001',
  '-12.5',
  '@sum',
  '\tstarts with a tab',
  '',
  null,
  undefined,
  0,
  -7,
  1732550400000,
  '🙂 emoji, y coma',
];

async function written(rows: (string | number | null | undefined)[][]) {
  async function* pages() {
    yield rows;
  }
  const reader = csvStream(['h1', 'h2'], pages()).getReader();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += new TextDecoder().decode(value);
  }
}

describe('CSV writer', () => {
  it('writes what Papa.unparse writes, and parses back to the neutralized values', async () => {
    const rows = cells.map((cell, i) => [cell, cells[(i + 5) % cells.length]]);
    const text = await written(rows);
    const expected = (values: (string | number | null | undefined)[][]) =>
      `${Papa.unparse(
        values.map((row) => row.map((cell) => neutralizeFormulaCell(cell == null ? '' : String(cell)))),
        // Papa's own quoting, plus a semicolon or a tab (see the next test).
        { newline: '\r\n', header: false, quotes: (value: unknown) => /[;\t]/.test(String(value)) },
      )}\r\n`;
    expect(text).toBe(`h1,h2\r\n${expected(rows)}`);
    const parsed = Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
    expect(parsed.slice(1)).toEqual(
      rows.map((row) => row.map((cell) => neutralizeFormulaCell(cell == null ? '' : String(cell)))),
    );
  });

  it("starts no formula where a spreadsheet that splits on ';' cuts a cell (Excel in es-AR, es-MX, pt-BR)", async () => {
    const hostile = ['x;=2+3;', 'a;@SUM(1)', 'tab\t=1+1', "b;'=ya citado", 'nota\n=1+1;', 'cr\r\n-2+3'];
    // After another cell, as in every export: a quote only counts at the start of a ';'-cell there.
    const text = await written([['42', ...hostile]]);
    const rows = text.slice(text.indexOf('\r\n') + 2);
    // Cut as that Excel cuts it: at every semicolon, tab and line break, the comma CSV's quotes aside.
    for (const cell of rows.split(/[;\t\r\n]/)) expect(cell, JSON.stringify(rows)).not.toMatch(/^[=+\-@]/);
    // Read as the comma CSV it is, then by the importer, the values are the same.
    const read = Papa.parse<string[]>(rows.trimEnd()).data[0] ?? [];
    expect(read.slice(1).map(restoreFormulaCell)).toEqual(hostile);
  });
});
