/**
 * A local file's WAL is copied into the database by the checkpoint thread (db/checkpointer.ts), not in
 * the commits of the engine's or the API's writer, whose synchronous driver would hold its event loop
 * through the copy and its sync. The writers' own checkpoint stays as a backstop.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKSTOP_REST_MS, CHECKPOINT_EVERY_MS, WRITER_CHECKPOINT_PAGES } from '../src/db/checkpointer';
import { type Database, openDatabase } from '../src/db/client';
import { sleep } from '../src/lib/timers';
import { until } from './engine/harness';

/** The native driver the client opens local files with: a connection outside Rebound's handles. */
const NativeDatabase = createRequire(import.meta.url)('libsql') as new (
  path: string,
  options: { timeout: number },
) => { exec(sql: string): void; close(): void };

const dir = mkdtempSync(join(tmpdir(), 'rebound-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `commits` commits of about 100 KB each, through the handle's writer. */
async function write(db: Database, commits: number) {
  await db.run(sql`CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body BLOB)`);
  for (let i = 0; i < commits; i++) await db.run(sql`INSERT INTO filler (body) SELECT randomblob(100000)`);
}

describe('WAL checkpoints off the writers', () => {
  it('what the writer commits reaches the database file soon, though far below the writer’s own checkpoint', async () => {
    const path = join(dir, 'soon.db');
    const handle = await openDatabase({ url: `file:${path}` });
    try {
      const before = statSync(path).size;
      // 3 MB: under SQLite's default of 1,000 pages, where a writer would leave it all in the WAL.
      await write(handle.db, 30);
      await until(() => statSync(path).size >= before + 3_000_000, 5_000, 20);
    } finally {
      handle.close();
    }
  });

  it('a round a reader stopped short is taken up again once the reader is done, with no further writes', async () => {
    const path = join(dir, 'reader.db');
    const handle = await openDatabase({ url: `file:${path}` });
    const reader = new NativeDatabase(path, { timeout: 5_000 });
    try {
      await write(handle.db, 1);
      // A read that began before the writes keeps the pages it reads: no checkpoint may overwrite them.
      reader.exec('BEGIN');
      reader.exec('SELECT count(*) FROM filler');
      const before = statSync(path).size;
      await write(handle.db, 30);
      await sleep(5 * CHECKPOINT_EVERY_MS);
      reader.exec('COMMIT');
      await until(() => statSync(path).size >= before + 3_000_000, 5_000, 20);
    } finally {
      reader.close();
      handle.close();
    }
  });

  it('the WAL stays bounded while a writer commits without pause', async () => {
    // A checkpoint that races commits cannot let the WAL start over: the writer's own, at
    // WRITER_CHECKPOINT_PAGES, does. Without it the WAL would hold all 150 MB written here.
    const path = join(dir, 'bounded.db');
    const handle = await openDatabase({ url: `file:${path}` });
    try {
      await write(handle.db, 1_500);
      const pageSize = Number((await handle.client.execute('PRAGMA page_size')).rows[0]?.[0]);
      expect(statSync(`${path}-wal`).size).toBeLessThan(2 * WRITER_CHECKPOINT_PAGES * pageSize);
      expect(Number((await handle.client.execute('SELECT count(*) FROM filler')).rows[0]?.[0])).toBe(1_500);
    } finally {
      handle.close();
    }
  });

  it('once the WAL is past the writers’ backstop, the thread leaves the copying to them for a while', async () => {
    // Under commits without pause only the writers' own checkpoint lets the WAL start over, and it
    // needs the lock the thread's rounds hold. On a slow disk rounds ran back to back and the WAL grew
    // to 112 MB in CI; now the thread steps aside for BACKSTOP_REST_MS, then goes on.
    const path = join(dir, 'backstop.db');
    const handle = await openDatabase({ url: `file:${path}` });
    // A writer with no checkpoint of its own, so that only the thread copies anything here.
    const writer = new NativeDatabase(path, { timeout: 5_000 });
    try {
      writer.exec('PRAGMA wal_autocheckpoint=0');
      // No sync per commit: the commits below must land well inside the rest, even on a slow disk.
      writer.exec('PRAGMA synchronous=OFF');
      writer.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)');
      // One commit past the backstop's size: 42 MB, about 10,500 pages of 4 KB.
      const pageSize = Number((await handle.client.execute('PRAGMA page_size')).rows[0]?.[0]);
      const rows = Math.ceil((WRITER_CHECKPOINT_PAGES * pageSize * 1.05) / 100_000);
      const before = statSync(path).size;
      writer.exec('BEGIN');
      for (let i = 0; i < rows; i++) writer.exec('INSERT INTO filler (body) SELECT randomblob(100000)');
      writer.exec('COMMIT');
      // The round that copies it sees the WAL past the backstop.
      await until(() => statSync(path).size >= before + rows * 100_000, 10_000, 10);
      // The file grows page by page as the round copies: the copy is done once its size holds.
      let copied = statSync(path).size;
      for (let seen = -1; seen !== copied; ) {
        seen = copied;
        await sleep(20);
        copied = statSync(path).size;
      }
      // 3 MB more, in commits of their own: well inside the rest, no round copies them.
      for (let i = 0; i < 30; i++) writer.exec('INSERT INTO filler (body) SELECT randomblob(100000)');
      await sleep(BACKSTOP_REST_MS * 0.4);
      expect(statSync(path).size).toBe(copied);
      // After the rest the thread copies again.
      await until(() => statSync(path).size >= copied + 3_000_000, 5_000, 20);
    } finally {
      writer.close();
      handle.close();
    }
  });

  it('a closed database is let go: the thread no longer checkpoints it', async () => {
    const path = join(dir, 'closed.db');
    const handle = await openDatabase({ url: `file:${path}` });
    await write(handle.db, 5);
    handle.close();
    // The thread lets go at its next message; a round it had already begun may still finish.
    await sleep(3 * CHECKPOINT_EVERY_MS);
    // Another program writes to the file afterwards, without checkpoints of its own.
    const other = new NativeDatabase(path, { timeout: 5_000 });
    try {
      other.exec('PRAGMA wal_autocheckpoint=0');
      const before = statSync(path).size;
      for (let i = 0; i < 30; i++) other.exec('INSERT INTO filler (body) SELECT randomblob(100000)');
      await sleep(20 * CHECKPOINT_EVERY_MS);
      expect(statSync(path).size).toBe(before);
    } finally {
      other.close();
    }
  });

  it('runs in a script started with flags its own file must not inherit, which then ends cleanly', async () => {
    const path = join(dir, 'script.db');
    // As `node --input-type=module -e …` runs a script: that flag is refused for a thread started from a file.
    const script = `
      import { statSync } from 'node:fs';
      import { sql } from 'drizzle-orm';
      import { openDatabase } from './src/db/client.ts';
      const handle = await openDatabase({ url: ${JSON.stringify(`file:${path}`)} });
      await handle.db.run(sql\`CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)\`);
      const before = statSync(${JSON.stringify(path)}).size;
      for (let i = 0; i < 30; i++) await handle.db.run(sql\`INSERT INTO filler (body) SELECT randomblob(100000)\`);
      const until = Date.now() + 5_000;
      while (statSync(${JSON.stringify(path)}).size < before + 3_000_000 && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 20));
      console.log(statSync(${JSON.stringify(path)}).size >= before + 3_000_000 ? 'copied' : 'not copied');
      handle.close();`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('copied');
    expect(code).toBe(0);
  }, 30_000);
});
