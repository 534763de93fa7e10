/** Child of benchExport(): streams the whole failed-message export and reports time and peak RSS. */

import { failedMessagesCsv } from '@rebound/server/csv/export';
import { openDatabase } from '@rebound/server/db';
import { peakRssMb } from './lib/peak-rss';

const database = await openDatabase({ url: process.env.BENCH_DB ?? '' });
const start = performance.now();
const { stream } = failedMessagesCsv(database.db, Number(process.env.BENCH_WORKSPACE), {}, { language: 'en' });
let bytes = 0;
let lines = 0;
const reader = stream.getReader();
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  bytes += value.length;
  // Counted with indexOf, not a loop over every byte, which cost more than a tenth of the export.
  for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) lines++;
}
const seconds = (performance.now() - start) / 1000;
database.close();
console.log(JSON.stringify({ seconds, rssMb: peakRssMb(), rows: lines, mb: bytes / 1e6 }));
