/** rebound token create: one more API token for a workspace (createToken, as POST /tokens does). */
import { TokenCreateSchema } from '@rebound/shared';
import type { Command } from 'commander';
import { findWorkspace, json, out, parseId, parseWith, withDatabase } from '../context';

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens: create one for a workspace');

  token
    .command('create')
    .description('Create an API token and print it once (only its hash is stored)')
    .requiredOption('--workspace <id>', 'workspace id')
    .requiredOption('--role <role>', 'agent, manager or owner')
    .option('--name <label>', 'a label to recognise the token by (default: "<role> token")')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', '\nExample:\n  rebound token create --workspace 1 --role agent --name "Extension of Ana"')
    .action(async (opts: { workspace: string; role: string; name?: string; json?: boolean }) => {
      const workspaceId = parseId(opts.workspace, '--workspace');
      const input = parseWith(
        TokenCreateSchema,
        { name: opts.name ?? `${opts.role} token`, role: opts.role },
        { name: '--name', role: '--role' },
      );
      const created = await withDatabase(async (db, where) => {
        const { createToken } = await import('../../services/tokens');
        await findWorkspace(db, workspaceId, where);
        return createToken(db, workspaceId, input.name, input.role);
      });
      if (opts.json) {
        const { id, name, role, prefix, token: value } = created;
        json({ id, workspaceId, name, role, prefix, token: value });
        return;
      }
      out(`Token ${created.id} "${created.name}" (${created.role}) for workspace ${workspaceId}, shown this once:`);
      out(created.token);
    });
}
