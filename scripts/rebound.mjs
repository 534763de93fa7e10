// `npm run rebound -- <command>`: the operator CLI (server/src/cli) with Node and the tsx loader the
// server package installs; no pnpm on PATH needed. Relative paths stay relative to where npm was run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, serverTsxLoader } from './tsx-loader.mjs';

const result = spawnSync(
  process.execPath,
  ['--import', serverTsxLoader(), join(root, 'server', 'src', 'cli', 'index.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() },
);
process.exit(result.status ?? 1);
