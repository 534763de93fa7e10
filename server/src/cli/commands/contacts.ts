/**
 * rebound contacts import: the CSV import of POST /imports/contacts (runContactImport), with the same
 * form schema, the same report (importView) and the same rejected-rows CSV (rejectedRowsCsv).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { IMPORT_LIMITS, ImportFormSchema } from '@rebound/shared';
import type { Command } from 'commander';
import type { Database } from '../../db/client';
import {
  CliError,
  collect,
  findWorkspace,
  json,
  number,
  out,
  parseId,
  parseLanguage,
  parseWith,
  scopeOf,
  table,
  withDatabase,
} from '../context';
import { ProgressBar } from '../progress';

/** How many rejected rows the text summary lists (the --rejected-out file has them all). */
const REJECTED_SHOWN = 20;

interface ImportOptions {
  workspace: string;
  mode?: string;
  identifier?: string;
  tag?: string[];
  dryRun?: boolean;
  allOrNothing: boolean;
  mapping?: string;
  language?: string;
  rejectedOut?: string;
  json?: boolean;
}

/** The file's bytes, or an error that says what is wrong with the path. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  const fail = (error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`Cannot read "${path}": no such file. Check the path.`);
    if (code === 'EACCES' || code === 'EPERM')
      throw new CliError(`Cannot read "${path}": permission denied. Check the file's permissions.`);
    throw new CliError(`Cannot read "${path}": ${(error as Error).message}`);
  };
  const info = await stat(path).catch(fail);
  if (info.isDirectory()) throw new CliError(`Cannot read "${path}": it is a directory, not a CSV file.`);
  if (info.size > IMPORT_LIMITS.maxBytes) throw (await import('../../csv/import')).fileTooLarge();
  return new Uint8Array(await readFile(path).catch(fail));
}

/**
 * Follows the import's own progress (the imports row's processedRows of totalRows, which
 * runContactImport moves as it goes), the way GET /imports/{id} lets a client follow it.
 */
async function followImport(db: Database, workspaceId: number, afterId: number, bar: ProgressBar) {
  const [{ and, eq, gt }, { imports }] = await Promise.all([import('drizzle-orm'), import('../../db/schema')]);
  let inFlight: Promise<void> | undefined;
  const poll = async () => {
    const [row] = await db
      .select({ total: imports.totalRows, processed: imports.processedRows })
      .from(imports)
      .where(and(eq(imports.workspaceId, workspaceId), gt(imports.id, afterId)))
      .orderBy(imports.id)
      .limit(1);
    if (row) bar.update(row.processed, row.total);
  };
  const timer = setInterval(() => {
    inFlight ??= poll()
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
  }, 100);
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}

export function registerContacts(program: Command): void {
  const contacts = program.command('contacts').description('Contacts: import a CSV file');

  contacts
    .command('import')
    .description('Import contacts from a CSV file, as POST /api/v1/imports/contacts does')
    .argument('<file>', 'CSV file: UTF-8 or Windows-1252, comma, semicolon or tab, under 20 MB')
    .requiredOption('--workspace <id>', 'workspace id')
    .option('--mode <mode>', 'add (new contacts only), update (existing only) or upsert (both); default upsert')
    .option('--identifier <field>', 'column that finds existing contacts: contactId, phone or email')
    .option('--tag <tag>', 'tag every created or updated contact (repeat for several)', collect)
    .option('--dry-run', 'report what would be created, updated and rejected; write nothing')
    .option(
      '--no-all-or-nothing',
      'write the good rows even when some are rejected (default: one rejected row, nothing written)',
    )
    .option('--mapping <json>', 'column header to field, e.g. \'{"Celular": "phone", "Plan": "custom.plan"}\'')
    .option(
      '--language <language>',
      'language of the rejection reasons: es, en or pt (default: the workspace language)',
    )
    .option('--rejected-out <file>', 'write every rejected row with its reason to this CSV file')
    .option('--json', 'print the import as the API answers it (JSON)')
    .addHelpText(
      'after',
      '\nExample (the manual recovery path: re-import the failed-messages export with a tag):\n' +
        '  rebound contacts import failed.csv --workspace 1 --mode update --identifier contactId --tag "failed broadcast 112526"',
    )
    .action(async (file: string, opts: ImportOptions) => {
      const workspaceId = parseId(opts.workspace, '--workspace');
      const language = parseLanguage(opts.language);
      // The API's form schema, the file aside: the command line is checked before the file is read.
      const form = parseWith(
        ImportFormSchema.omit({ file: true }),
        {
          mode: opts.mode,
          identifier: opts.identifier,
          tags: opts.tag,
          dryRun: opts.dryRun ? 'true' : 'false',
          allOrNothing: opts.allOrNothing ? 'true' : 'false',
          mapping: opts.mapping,
        },
        {
          mode: '--mode',
          identifier: '--identifier',
          tags: '--tag',
          dryRun: '--dry-run',
          allOrNothing: '--no-all-or-nothing',
          mapping: '--mapping',
        },
      );
      const bytes = await readInputFile(file);
      const fileName = basename(file).slice(0, 255) || null;
      const [{ sql }, { importOptionsOf, runContactImport }, { importView, rejectedRowsCsv }] = await Promise.all([
        import('drizzle-orm'),
        import('../../csv/import'),
        import('../../csv/import-report'),
      ]);
      const { record, lang, csv } = await withDatabase(async (db, where) => {
        const workspace = await findWorkspace(db, workspaceId, where);
        const lang = language ?? workspace.language;
        const [{ last = 0 } = {}] = await db.all<{ last: number }>(
          sql`SELECT coalesce(max(id), 0) AS last FROM imports WHERE workspace_id = ${workspaceId}`,
        );
        const bar = new ProgressBar({ label: 'Importing', unit: 'rows' });
        const stopFollowing = await followImport(db, workspaceId, last, bar);
        try {
          const record = await runContactImport(db, scopeOf(workspace), {
            fileName,
            bytes,
            options: importOptionsOf(form),
            language: lang,
          });
          await stopFollowing();
          bar.update(record.processedRows, record.totalRows);
          bar.finish();
          return { record, lang, csv: opts.rejectedOut ? rejectedRowsCsv(record, lang, true) : undefined };
        } catch (error) {
          await stopFollowing();
          bar.stop();
          throw error;
        }
      });

      const view = importView(record, lang);
      if (opts.rejectedOut && csv !== undefined) await writeFile(opts.rejectedOut, csv);
      if (opts.json) json(view);
      else {
        const header =
          view.status === 'completed'
            ? `Import ${view.id} completed${view.dryRun ? ' (dry run: nothing was written)' : ''}.`
            : `Import ${view.id} failed: nothing was written.`;
        out(header);
        out(
          table(
            [
              ['created', number(view.created)],
              ['updated', number(view.updated)],
              ['rejected', number(view.rejected)],
            ],
            [1],
          ),
        );
        if (view.tags.length && view.status === 'completed' && !view.dryRun)
          out(`Tagged every created or updated contact with: ${view.tags.map((t) => `"${t}"`).join(', ')}`);
        if (view.rejected > 0) {
          const shown = view.rejectedRows.slice(0, REJECTED_SHOWN);
          out(
            `Rejected rows${view.rejected > shown.length ? ` (first ${shown.length} of ${number(view.rejected)})` : ''}:`,
          );
          out(table(shown.map((row) => [`line ${row.row}`, row.reason])));
          out(
            opts.rejectedOut
              ? `Every rejected row with its reason: ${opts.rejectedOut}`
              : `Every rejected row with its reason: add --rejected-out <file.csv>, or GET ${view.rejectedCsvUrl}`,
          );
        }
      }
      if (view.status === 'failed') {
        const hint = view.error?.code === 'import_rows_rejected' ? ' (on the command line: --no-all-or-nothing)' : '';
        throw new CliError(`${view.error?.message ?? 'The import failed.'}${hint}`);
      }
    });
}
