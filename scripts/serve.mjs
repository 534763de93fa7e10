// `npm run server` / `npm run engine`: the API (with its engine unless ENGINE=off) or an engine process
// alone, with Node and the tsx loader the server package installs; no pnpm on PATH needed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pnpm } from './pnpm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = { server: 'main.ts', engine: 'engine-main.ts' };
const entry = entries[process.argv[2]];
if (!entry) {
  console.error(`usage: node scripts/serve.mjs ${Object.keys(entries).join('|')}`);
  process.exit(2);
}
const fromServer = createRequire(join(root, 'server', 'package.json'));
const tsxLoader = () => {
  try {
    return pathToFileURL(fromServer.resolve('tsx')).href;
  } catch {
    return undefined;
  }
};

let loader = tsxLoader();
if (!loader) {
  console.error('▶ Installing dependencies');
  pnpm(['install', '--frozen-lockfile'], { stdio: ['ignore', 2, 2] });
  loader = tsxLoader();
}
if (!loader) {
  console.error('✖ tsx is missing from server/node_modules after the install.');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', loader, join(root, 'server', 'src', entry)], {
  stdio: 'inherit',
  cwd: join(root, 'server'),
});
// Ctrl+C and a stop signal reach the server, which closes cleanly.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
