// The browser tests drive Debian's Chromium (playwright cannot download browsers here). Installs it when
// missing and this user may (root with apt-get); otherwise says exactly what to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function ensureChromium() {
  const path = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(path)) return path;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    throw new Error(
      `Chromium not found at ${path}. Install it (sudo apt-get install -y chromium) or set CHROMIUM to its path.`,
    );
  }
  console.log('Installing Chromium from Debian (apt-get install -y chromium)');
  const apt = (args) =>
    execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  } catch {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  return path;
}
