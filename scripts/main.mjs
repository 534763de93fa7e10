// The main job: install, build the extension, then run the server on the embedded database with
// the demo workspace. Ctrl+C stops it; running it again reuses the same database and demo.
import { resolve } from 'node:path';
import { install, pnpm } from './pnpm.mjs';

console.log('\n▶ Installing dependencies');
install();
console.log('\n▶ Building the extension');
pnpm(['exec', 'wxt', 'build']);
console.log(`
The extension is built in ${resolve('.output/chrome-mv3')}
To load it in Chrome or Chromium:
  1. Open chrome://extensions and turn on "Developer mode".
  2. Click "Load unpacked" and choose the folder above.
`);
console.log('▶ Starting the server (Ctrl+C to stop)');
pnpm(['--filter', '@rebound/server', 'start']);
