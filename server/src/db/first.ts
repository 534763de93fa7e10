import type { SQL } from 'drizzle-orm';
import type { Database } from './client';

/**
 * The first row of a raw query, or undefined. drizzle's db.get() throws on an empty result with the
 * libSQL driver, so queries that may match nothing (UPDATE ... RETURNING, OFFSET) go through here.
 */
export async function first<T>(db: Pick<Database, 'all'>, query: SQL): Promise<T | undefined> {
  const rows = await db.all<T>(query);
  return rows[0];
}
