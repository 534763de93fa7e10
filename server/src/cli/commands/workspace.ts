/** rebound workspace create: a workspace and its first tokens (createWorkspace, as the demo and the tests use). */
import { cleanText, LanguageSchema, RoleSchema } from '@rebound/shared';
import type { Command } from 'commander';
import { z } from 'zod';
import { json, out, parseWith, table, UsageError, withDatabase } from '../context';

const WorkspaceOptionsSchema = z.object({
  // Shown in every agent's panel and in exports: no control characters (an ANSI escape, a NUL).
  name: cleanText().trim().min(1, 'A workspace needs a name').max(200),
  language: LanguageSchema,
  country: z.string().trim().toUpperCase(),
  roles: z.array(RoleSchema).min(1),
});

export function registerWorkspace(program: Command): void {
  const workspace = program.command('workspace').description('Workspaces: create one with its API tokens');

  workspace
    .command('create')
    .description('Create a workspace and print its id and API tokens (shown once; only their hash is stored)')
    .requiredOption('--name <name>', 'workspace name')
    .option('--language <language>', 'language of reasons, tags and re-send names: es, en or pt', 'es')
    .option('--country <code>', 'ISO 3166 country for phone numbers written without +', 'AR')
    .option('--roles <roles>', 'one token per role, comma-separated: owner,manager,agent', 'owner')
    .option('--json', 'print JSON instead of text')
    .addHelpText(
      'after',
      '\nExample:\n  rebound workspace create --name "Tienda Sur" --language es --roles owner,manager,agent',
    )
    .action(async (opts: { name: string; language: string; country: string; roles: string; json?: boolean }) => {
      const roles = [
        ...new Set(
          opts.roles
            .split(',')
            .map((role) => role.trim())
            .filter(Boolean),
        ),
      ];
      const input = parseWith(
        WorkspaceOptionsSchema,
        { name: opts.name, language: opts.language, country: opts.country, roles },
        { name: '--name', language: '--language', country: '--country', roles: '--roles' },
        { roles: 'use owner, manager and/or agent' },
      );
      const [{ isCountryCode }, { createWorkspace }] = await Promise.all([
        import('../../lib/phone'),
        import('../../services/workspaces'),
      ]);
      if (!isCountryCode(input.country))
        throw new UsageError(
          `--country "${opts.country}": Unknown country code; use ISO 3166 alpha-2 such as AR, MX, CO, ES, BR.`,
        );
      const created = await withDatabase((db) =>
        createWorkspace(db, { name: input.name, language: input.language, defaultCountry: input.country }, input.roles),
      );
      const { workspace: ws, tokens } = created;
      if (opts.json) {
        json({
          workspace: { id: ws.id, name: ws.name, language: ws.language, defaultCountry: ws.defaultCountry },
          tokens: tokens.map((t) => ({ id: t.id, role: t.role, name: t.name, prefix: t.prefix, token: t.token })),
        });
        return;
      }
      out(`Workspace ${ws.id} "${ws.name}" created (language ${ws.language}, country ${ws.defaultCountry}).`);
      out('API tokens, shown this once (only their hash is stored):');
      out(table(tokens.map((t) => [t.role, t.token])));
      out(`Use one as "Authorization: Bearer <token>", or in the extension's options. Workspace id: ${ws.id}`);
    });
}
