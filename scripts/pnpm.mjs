// Runs the pinned pnpm: the global one when it is the right version, otherwise through npx
// (a fresh machine has only Node and npm, and corepack cannot download here).
import { execFileSync, spawnSync } from 'node:child_process';

const PNPM_VERSION = '12.4.2';

function globalPnpmMatches() {
  try {
    return (
      execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ===
      PNPM_VERSION
    );
  } catch {
    return false;
  }
}

const command = globalPnpmMatches() ? ['pnpm'] : ['npx', '-y', `pnpm@${PNPM_VERSION}`];

/** Runs pnpm with the given arguments, streaming its output; exits the process if it fails. */
export function pnpm(args, options = {}) {
  const [bin, ...pre] = command;
  const result = spawnSync(bin, [...pre, ...args], { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`\n✖ pnpm ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

/** Installs exactly what the lockfile says. */
export function install() {
  pnpm(['install', '--frozen-lockfile']);
}
