import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every migration, as the server applies them. */
export const ALL_MIGRATIONS = fileURLToPath(new URL('../drizzle', import.meta.url));

/**
 * A migrations folder in `dir` holding those before `tag` ("0011"), to write a database as an older
 * Rebound did before applying the rest from ALL_MIGRATIONS.
 */
export function migrationsBefore(dir: string, tag: string): string {
  const before = join(dir, 'before');
  mkdirSync(join(before, 'meta'), { recursive: true });
  for (const file of readdirSync(ALL_MIGRATIONS))
    if (file.endsWith('.sql')) copyFileSync(join(ALL_MIGRATIONS, file), join(before, file));
  const journal = JSON.parse(readFileSync(join(ALL_MIGRATIONS, 'meta', '_journal.json'), 'utf8'));
  journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < tag);
  writeFileSync(join(before, 'meta', '_journal.json'), JSON.stringify(journal));
  return before;
}
