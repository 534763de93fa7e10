/**
 * rebound: the operators' command line. Each command calls the service functions the API's route
 * handlers call (server/src/services, server/src/csv) on the database the server would open
 * (DATABASE_URL / DATABASE_AUTH_TOKEN, migrated on open): the same code as the API, not a second one.
 *
 * Exit codes: 0 done, 1 the command could not be carried out, 2 the command line is wrong.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerContacts } from './commands/contacts';
import { registerFailures } from './commands/failures';
import { registerResend } from './commands/resend';
import { registerToken } from './commands/token';
import { registerWorkspace } from './commands/workspace';
import { describeError } from './context';

const ENVIRONMENT = `
Environment (the same as the server's):
  DATABASE_URL         file: path, libsql://, http(s):// or ws(s):// URL (default: file:<repo>/data/rebound.db)
  DATABASE_AUTH_TOKEN  token for a remote libSQL server / Turso
A missing database file is created and migrated, as the server does.`;

export function buildProgram(): Command {
  const program = new Command('rebound')
    .description('Rebound for operators: workspaces, tokens, contact imports, failed messages and re-sends.')
    .exitOverride()
    .showHelpAfterError('(add --help to see the options)')
    .configureHelp({ sortSubcommands: false });
  registerWorkspace(program);
  registerToken(program);
  registerContacts(program);
  registerFailures(program);
  registerResend(program);
  program.addHelpText('after', () => `\nAll commands (each has --help):\n${commandList(program)}\n${ENVIRONMENT}`);
  return program;
}

/** Every runnable command with its required options: "rebound failures show <broadcastId> --workspace <id>". */
function commandList(program: Command): string {
  const lines: string[] = [];
  const walk = (command: Command, path: string[]) => {
    const subcommands = command.commands.filter((sub) => sub.name() !== 'help');
    if (subcommands.length === 0) {
      const args = command.registeredArguments.map((arg) => (arg.required ? `<${arg.name()}>` : `[${arg.name()}]`));
      const required = command.options.filter((option) => option.mandatory).map((option) => option.flags);
      lines.push(`  rebound ${[...path, ...args, ...required].join(' ')}`);
      return;
    }
    for (const sub of subcommands) walk(sub, [...path, sub.name()]);
  };
  for (const command of program.commands) walk(command, [command.name()]);
  return lines.join('\n');
}

/** Runs the command line and returns the exit code; errors go to stderr. */
export async function run(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has already printed its own message (or the help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const { message, exitCode } = describeError(error);
    process.stderr.write(`error: ${message}\n`);
    return exitCode;
  }
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  // Through `npm run rebound` the script runs in server/: relative paths are taken from where pnpm was started
  // (the repo root), not from server/.
  if (process.env.npm_lifecycle_event === 'cli' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  // Output piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await run();
}
