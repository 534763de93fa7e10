// The main job: install, build the extension, then run the provider simulators and the server on the
// embedded database with the demo workspace (S1-S10). Ctrl+C stops it; running it again reuses the same
// database and demo.
import { resolve } from 'node:path';
import { install, pnpm } from './pnpm.mjs';

console.log('\n▶ Installing dependencies');
install();
console.log('\n▶ Building the extension');
pnpm(['exec', 'wxt', 'build']);
console.log('\n▶ Starting the provider simulators, the server and the demo workspace (Ctrl+C to stop)');
pnpm(['--filter', '@rebound/server', 'start'], {
  env: { ...process.env, DEMO: process.env.DEMO ?? 'on', EXTENSION_DIR: resolve('.output/chrome-mv3') },
});
