// The checkpoint thread's entry (db/checkpointer.ts), in plain JavaScript: it needs only the native
// driver, not the server's TypeScript.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const Database = require('libsql');

/** Each watched file: its connection, its checkpoint statement, the WAL as last fully copied, and until when it rests. */
const files = new Map();
let timer;

// Shared with the thread that started this one (checkpointer.ts): 0 idle, 1 while a call into the
// driver runs here, 2 once that thread is exiting. Ended in the middle of such a call, this thread
// would abort the whole process (the driver asserts, and panics abort), so that thread waits for
// the call in hand and none starts after.
const gate = new Int32Array(workerData.gate);

/** Runs `work` unless the process is exiting; false when it did not run. */
function native(work) {
  if (Atomics.compareExchange(gate, 0, 0, 1) !== 0) return false;
  try {
    work();
  } finally {
    Atomics.store(gate, 0, 0);
    Atomics.notify(gate, 0);
  }
  return true;
}

/** The WAL's size and modification time, or undefined when there is none (yet, or any more). */
function walStamp(path) {
  try {
    const stat = statSync(`${path}-wal`);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * One round, then a rest. Only a checkpoint that copies the whole WAL with no commit in between lets
 * the next commit start it over: under commits without pause that is the writers' own backstop, run
 * in the commit that takes the WAL past its size, and it needs the checkpoint lock a round holds.
 * On a slow disk a round outlasted the interval, rounds ran back to back and held that lock nearly
 * all the time, so the WAL never started over (CI saw 112 MB where the backstop keeps it near 40).
 * So the rest is at least as long as the round, and a file whose WAL is past the backstop's size is
 * left alone for a while (BACKSTOP_REST_MS), its lock to its writers' next commit; other files not.
 */
function checkpointAll() {
  const started = Date.now();
  native(() => checkpointRound(started));
  const rest = Math.max(workerData.everyMs, Date.now() - started);
  timer = files.size > 0 ? setTimeout(checkpointAll, rest) : undefined;
}

/** A round over every watched file not resting. */
function checkpointRound(now) {
  for (const [path, file] of files) {
    if (file.restUntil > now) continue;
    const stamp = walStamp(path);
    if (stamp === undefined || stamp === file.stamp) continue;
    try {
      // PASSIVE: copies what no reader still needs, without waiting for any reader or writer. It
      // answers [busy, frames in the WAL, frames copied]; the WAL counts as done only when all were
      // copied, so a round that was blocked or stopped short by a reader is tried again.
      const [busy, log, copied] = file.checkpoint.get();
      if (busy === 0 && log === copied) file.stamp = stamp;
      if (log >= workerData.backstopPages) file.restUntil = Date.now() + workerData.backstopRestMs;
    } catch {
      // The file gone or unreadable: the next round tries again, and the writers' backstop remains.
    }
  }
}

function watch(path) {
  // Never creates a file: one removed before this message arrived stays removed.
  if (files.has(path) || !existsSync(path)) return;
  native(() => {
    try {
      const db = new Database(path, { timeout: 0 });
      files.set(path, {
        db,
        checkpoint: db.prepare('PRAGMA wal_checkpoint(PASSIVE)').raw(),
        stamp: undefined,
        restUntil: 0,
      });
    } catch {
      // A file that cannot be opened here is left to its writers' own checkpoints.
    }
  });
}

function unwatch(path) {
  native(() => {
    try {
      files.get(path)?.db.close();
    } catch {
      // Closing is best effort: the entry goes either way.
    }
  });
  files.delete(path);
}

parentPort.on('message', (message) => {
  if (message.type === 'watch') watch(message.path);
  else if (message.type === 'unwatch') unwatch(message.path);
  if (files.size > 0 && timer === undefined) timer = setTimeout(checkpointAll, workerData.everyMs);
  if (files.size === 0 && timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
});
