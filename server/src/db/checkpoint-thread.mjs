// The checkpoint thread's entry (db/checkpointer.ts), in plain JavaScript: it needs only the native
// driver, not the server's TypeScript.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const Database = require('libsql');

/** Each watched file: its connection and the WAL's size and time when it was last checkpointed. */
const files = new Map();
let timer;

/** The WAL's size and modification time, or undefined when there is none (yet, or any more). */
function walStamp(path) {
  try {
    const stat = statSync(`${path}-wal`);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function checkpointAll() {
  for (const [path, file] of files) {
    const stamp = walStamp(path);
    if (stamp === undefined || stamp === file.stamp) continue;
    try {
      // PASSIVE: copies what no reader still needs, without waiting for any reader or writer.
      file.db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get();
      file.stamp = stamp;
    } catch {
      // Busy (another process checkpointing) or the file gone: the next round tries again.
    }
  }
}

parentPort.on('message', (message) => {
  if (message.type === 'watch' && !files.has(message.path)) {
    try {
      files.set(message.path, { db: new Database(message.path, { timeout: 0 }), stamp: undefined });
    } catch {
      // A file that cannot be opened here is left to its writers' own checkpoints.
    }
  } else if (message.type === 'unwatch') {
    files.get(message.path)?.db.close();
    files.delete(message.path);
  }
  if (files.size > 0 && timer === undefined) timer = setInterval(checkpointAll, workerData.everyMs);
  if (files.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
});
