// `npm run server` / `npm run engine`: the API (with its engine unless ENGINE=off) or an engine process
// alone, with Node and the tsx loader the server package installs; no pnpm on PATH needed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ENGINE_HEAP_MB } from '../server/src/engine/heap.mjs';
import { root, serverTsxLoader } from './tsx-loader.mjs';

const entries = { server: 'main.ts', engine: 'engine-main.ts' };
const entry = entries[process.argv[2]];
if (!entry) {
  console.error(`usage: node scripts/serve.mjs ${Object.keys(entries).join('|')}`);
  process.exit(2);
}
const loader = serverTsxLoader();
// An engine process gets the engine's heap limit, as the server's engine thread does (engine/heap.d.mts).
const heap = entry === entries.engine ? [`--max-old-space-size=${ENGINE_HEAP_MB}`] : [];
const child = spawn(process.execPath, [...heap, '--import', loader, join(root, 'server', 'src', entry)], {
  stdio: 'inherit',
  cwd: join(root, 'server'),
});
// Ctrl+C and a stop signal reach the server, which closes cleanly.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
