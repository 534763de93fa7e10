/**
 * What every command shares: the database the server would open (same environment, same defaults,
 * same migrations), the workspace named by --workspace, option validation through the API's own zod
 * schemas, and errors rendered the way the API renders them.
 */
import { type ApiErrorCode, errorMessage, type Language, LanguageSchema } from '@rebound/shared';
import { z } from 'zod';
import { cliDebug, loadConfig } from '../config';
import type { Database } from '../db/client';
import type { workspaces } from '../db/schema';
import { ApiError, renderDetails } from '../lib/errors';
import { redact } from '../lib/log';

/** The command line itself is wrong (an option's value, a missing argument): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command was well formed but could not be carried out: exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export type WorkspaceRow = typeof workspaces.$inferSelect;

/** Where an option's value goes in a schema, and how the operator wrote it. */
export type FlagNames = Record<string, string>;

/**
 * Parses with one of the API's schemas; a failure names each flag with the schema's own message,
 * e.g. `--when "tomorrow": Invalid input`.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  flags: FlagNames,
  hints: Record<string, string> = {},
): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const flag = flags[key] ?? key;
    const raw = input[key];
    const value = raw === undefined || typeof raw === 'object' ? '' : ` "${String(raw)}"`;
    const hint = hints[key] ? ` (${hints[key]})` : '';
    return `${flag}${value}: ${issue.message}${hint}`;
  });
  throw new UsageError(lines.join('\n'));
}

/** --workspace and positional ids: a positive whole number. */
export function parseId(value: string | undefined, flag: string): number {
  const id = Number(value);
  if (!value || !/^\d+$/.test(value.trim()) || !Number.isSafeInteger(id) || id <= 0)
    throw new UsageError(`${flag} "${value ?? ''}" is not an id: use a positive whole number such as 12.`);
  return id;
}

export function parseLanguage(value: string | undefined): Language | undefined {
  if (value === undefined) return undefined;
  return parseWith(z.object({ language: LanguageSchema }), { language: value }, { language: '--language' }).language;
}

/**
 * The database as the server opens it: DATABASE_URL / DATABASE_AUTH_TOKEN, migrations applied. The
 * database modules (and, in the commands, the services) load only here: --help and usage errors stay fast.
 */
export async function withDatabase<T>(run: (db: Database, where: string) => Promise<T>): Promise<T> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const { describeDatabaseUrl, openDatabase } = await import('../db/client');
  const where = databaseLabel(config.DATABASE_URL, describeDatabaseUrl);
  const handle = await openDatabase({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN }).catch(
    (error: unknown) => {
      throw new CliError(`Cannot open the database ${where}: ${(error as Error).message}`);
    },
  );
  try {
    return await run(handle.db, where);
  } finally {
    handle.close();
  }
}

/** The database for messages: a file's path, or a remote URL without its query (which may hold a token). */
function databaseLabel(url: string, describe: (url: string) => { path?: string }): string {
  try {
    const target = describe(url);
    return target.path ?? url.split('?')[0] ?? url;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

export async function findWorkspace(db: Database, id: number, where: string): Promise<WorkspaceRow> {
  const [{ eq }, { workspaces }] = await Promise.all([import('drizzle-orm'), import('../db/schema')]);
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id));
  if (!row)
    throw new CliError(
      `Workspace ${id} was not found in ${where}. Check --workspace and DATABASE_URL, or create one with: rebound workspace create --name <name>`,
    );
  return row;
}

/** What the services need to know about the workspace (the same shape the API's auth context has). */
export function scopeOf(workspace: WorkspaceRow) {
  return { workspaceId: workspace.id, defaultCountry: workspace.defaultCountry };
}

/** An ApiError as the API would word it (in English), with its details underneath. */
export function renderApiError(error: ApiError, language: Language = 'en'): string {
  let message: string;
  try {
    message = errorMessage(error.code as ApiErrorCode, language, error.params);
  } catch {
    message = error.code;
  }
  const lines = [`${message} [${error.code}]`];
  const details = renderDetails(error.details, language);
  if (Array.isArray(details)) {
    for (const item of details) {
      const issue = item as { path?: unknown; message?: unknown };
      lines.push(
        typeof issue.message === 'string' ? `  ${String(issue.path ?? '')}: ${issue.message}` : `  ${String(item)}`,
      );
    }
  } else if (details && typeof details === 'object') {
    for (const [key, value] of Object.entries(details))
      lines.push(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  return lines.join('\n');
}

/** The message and exit code of anything a command throws; secrets masked, whatever its words echo. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: redact(error.message), exitCode: 2 };
  if (error instanceof CliError) return { message: redact(error.message), exitCode: 1 };
  if (error instanceof ApiError) return { message: redact(renderApiError(error)), exitCode: 1 };
  if (error instanceof Error) {
    const detail = cliDebug() ? `\n${redact(error.stack ?? '')}` : '';
    return { message: `${redact(error.message)}${detail}`, exitCode: 1 };
  }
  return { message: redact(String(error)), exitCode: 1 };
}

/** Repeatable options: --tag a --tag b. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const json = (value: unknown) => out(JSON.stringify(value, null, 2));
export const number = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : value.toLocaleString('en-US');
/** "1 contact", "2 contacts": a count with its noun (the CLI speaks English). */
export const counted = (value: number, noun: string) => `${number(value)} ${noun}${value === 1 ? '' : 's'}`;

/** Left-aligned columns; a column listed in `right` is right-aligned (counts). */
export function table(rows: string[][], right: number[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const width = widths[i] ?? 0;
          if (i === row.length - 1 && !right.includes(i)) return cell;
          return right.includes(i) ? cell.padStart(width) : cell.padEnd(width);
        })
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join('\n');
}
