/**
 * DATABASE_AUTH_TOKEN against a real sqld that checks JWTs (keys made here, Ed25519): a read-write
 * token opens, migrates and writes; a read-only, missing or foreign token is refused at start with
 * what to do, and an engine process given one exits instead of starting.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseAccessError, openDatabase } from '../src/db/client';
import { type SqldCluster, startSqld } from './sqld';

const ENGINE_MAIN = fileURLToPath(new URL('../src/engine-main.ts', import.meta.url));
const SERVER_DIR = dirname(dirname(ENGINE_MAIN));

/** A JWT as sqld reads it: EdDSA, claim `a` is the access ("rw" or "ro"). */
function jwt(privateKey: KeyObject, access: 'rw' | 'ro'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part({ a: access, iat: Math.floor(Date.now() / 1000) })}`;
  return `${signed}.${sign(null, Buffer.from(signed), privateKey).toString('base64url')}`;
}

const keys = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
let sqld: SqldCluster;

beforeAll(async () => {
  // sqld takes the public key as URL-safe base64 of its 32 raw bytes: the JWK's `x`.
  sqld = await startSqld({ jwtPublicKey: (keys.publicKey.export({ format: 'jwk' }) as { x: string }).x });
});
afterAll(() => sqld?.close());

describe('DATABASE_AUTH_TOKEN on a libSQL server', () => {
  it('a read-write token opens the database, applies the migrations and writes', async () => {
    const database = await openDatabase({ url: sqld.primary.url, authToken: jwt(keys.privateKey, 'rw') });
    try {
      await database.client.execute("INSERT INTO workspaces (name, language, created_at) VALUES ('Tienda', 'es', 0)");
      const rows = await database.client.execute('SELECT count(*) AS n FROM workspaces');
      expect(rows.rows[0]?.n).toBe(1);
    } finally {
      database.close();
    }
  });

  it('a read-only token is refused at start, saying it must be read-write', async () => {
    const opening = openDatabase({ url: sqld.primary.url, authToken: jwt(keys.privateKey, 'ro') });
    await expect(opening).rejects.toBeInstanceOf(DatabaseAccessError);
    await expect(opening).rejects.toThrow(/DATABASE_AUTH_TOKEN is read-only at 127\.0\.0\.1:\d+.*read-write token/);
  });

  it('a missing token, or one signed with another key, is refused with what to set', async () => {
    await expect(openDatabase({ url: sqld.primary.url })).rejects.toThrow(
      /refused DATABASE_AUTH_TOKEN \(none was given\)\. Set DATABASE_AUTH_TOKEN to a read-write token/,
    );
    await expect(openDatabase({ url: sqld.primary.url, authToken: jwt(other.privateKey, 'rw') })).rejects.toThrow(
      /refused DATABASE_AUTH_TOKEN \(expired, malformed or not signed with its key\)/,
    );
  });

  it('an engine process given a read-only token exits with the message, not a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_MAIN], {
      env: { ...process.env, DATABASE_URL: sqld.primary.url, DATABASE_AUTH_TOKEN: jwt(keys.privateKey, 'ro') },
      cwd: SERVER_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('The engine did not start. DATABASE_AUTH_TOKEN is read-only');
    expect(output).not.toMatch(/\n\s+at /);
    expect(output).not.toContain('"event":"started"');
  });
});
