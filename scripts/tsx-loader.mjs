// The tsx loader the server package installs, as a URL for `node --import`: the server's TypeScript
// run with Node alone (no pnpm on PATH). A fresh clone is installed first, on stderr so that a
// command's own output (--json) stays clean.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pnpm } from './pnpm.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromServer = createRequire(join(root, 'server', 'package.json'));

function resolveLoader() {
  try {
    return pathToFileURL(fromServer.resolve('tsx')).href;
  } catch {
    return undefined;
  }
}

export function serverTsxLoader() {
  let loader = resolveLoader();
  if (!loader) {
    console.error('▶ Installing dependencies');
    pnpm(['install', '--frozen-lockfile'], { stdio: ['ignore', 2, 2] });
    loader = resolveLoader();
  }
  if (!loader) {
    console.error('✖ tsx is missing from server/node_modules after the install.');
    process.exit(1);
  }
  return loader;
}
