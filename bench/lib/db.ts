import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatabaseHandle, openDatabase } from '@rebound/server/db';

/** A fresh libSQL file in a temp folder, removed by dispose(). */
export async function tempDatabase(name: string): Promise<DatabaseHandle & { dispose(): void; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), `rebound-bench-${name}-`));
  const url = `file:${join(dir, 'bench.db')}`;
  const handle = await openDatabase({ url });
  return {
    ...handle,
    url,
    dispose() {
      handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
