// `npm run rebound -- <command>`: the operator CLI (server/src/cli) with Node and the tsx loader the
// server package installs; no pnpm on PATH needed. Relative paths stay relative to where npm was run.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pnpm } from './pnpm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromServer = createRequire(join(root, 'server', 'package.json'));

function tsxLoader() {
  try {
    return pathToFileURL(fromServer.resolve('tsx')).href;
  } catch {
    return undefined;
  }
}

let loader = tsxLoader();
if (!loader) {
  // A fresh clone: install first (pnpm through npx), on stderr so that --json output stays clean.
  console.error('▶ Installing dependencies');
  pnpm(['install', '--frozen-lockfile'], { stdio: ['ignore', 2, 2] });
  loader = tsxLoader();
}
if (!loader) {
  console.error('✖ tsx is missing from server/node_modules after the install.');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', loader, join(root, 'server', 'src', 'cli', 'index.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() },
);
process.exit(result.status ?? 1);
