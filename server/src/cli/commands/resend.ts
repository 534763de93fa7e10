/** rebound resend: tag and re-send the failed recipients of a broadcast (resendFailed, as POST /broadcasts/{id}/resend). */
import {
  describeFailure,
  FAILURE_REASONS,
  type FailureReason,
  type Language,
  ResendBodySchema,
  type ResendResult,
} from '@rebound/shared';
import type { Command } from 'commander';
import {
  collect,
  counted,
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

interface ResendOptions {
  workspace: string;
  reason?: string[];
  when?: string;
  tag?: string;
  tagOnly?: boolean;
  language?: string;
  json?: boolean;
}

function inWords(at: string, now: number): string {
  const minutes = Math.round((Date.parse(at) - now) / 60_000);
  if (minutes <= 1) return 'now';
  if (minutes < 90) return `in ${minutes} min`;
  return `in ${(minutes / 60).toFixed(1)} h`;
}

/**
 * A plan of several linked re-sends (each reason at its own useful time, or a quota backlog in daily
 * waves), one line each: the first line alone would hide the contacts of the later parts.
 */
export function planLines(plan: ResendResult['plan'], now: number): string[] {
  if (plan.length < 2) return [];
  const total = plan.reduce((sum, part) => sum + part.count, 0);
  return [
    `The plan: ${counted(total, 'contact')} in ${plan.length} linked re-sends.`,
    table(
      plan.map((part) => [
        part.broadcastId === null ? '-' : `broadcast ${part.broadcastId}`,
        counted(part.count, 'contact'),
        part.at,
        inWords(part.at, now),
        part.why,
      ]),
      [1],
    ),
  ];
}

export function registerResend(program: Command): void {
  program
    .command('resend')
    .description("Tag a broadcast's failed recipients, and re-send to them through a segment of that tag")
    .argument('<broadcastId>', 'the broadcast whose failed recipients get the re-send')
    .requiredOption('--workspace <id>', 'workspace id')
    .option(
      '--reason <code>',
      'include this failure reason (repeat for several; default: those a re-send can help)',
      collect,
    )
    .option(
      '--when <when>',
      'auto (the default: each reason at its earliest useful time, as linked re-sends; the quota when it has room), now, or an ISO 8601 time',
    )
    .option('--tag <tag>', 'the tag to give (default: "failed broadcast MMDDYY (#id)" in the workspace language)')
    .option('--tag-only', 'only tag the contacts: no segment, no broadcast')
    .option('--language <language>', 'reason titles: es, en or pt (default: the workspace language)')
    .option('--json', 'print the API answer (JSON)')
    .addHelpText(
      'after',
      `\nReasons: ${FAILURE_REASONS.join(', ')}\n` +
        '\nExample:\n  rebound resend 42 --workspace 1 --reason quota_reached --when capacity',
    )
    .action(async (broadcastArg: string, opts: ResendOptions) => {
      const broadcastId = parseId(broadcastArg, '<broadcastId>');
      const workspaceId = parseId(opts.workspace, '--workspace');
      const language = parseLanguage(opts.language);
      const body = parseWith(
        ResendBodySchema,
        {
          tag: opts.tag,
          reasons: opts.reason,
          when: opts.when,
          tagOnly: opts.tagOnly ?? false,
        },
        { tag: '--tag', reasons: '--reason', when: '--when', tagOnly: '--tag-only' },
        {
          when: 'use auto, now, capacity or an ISO 8601 time with its offset such as 2026-11-25T14:00:00Z',
          reasons: `use ${FAILURE_REASONS.join(', ')}`,
        },
      );
      const [{ getBroadcast }, { resendFailed }] = await Promise.all([
        import('../../services/broadcasts'),
        import('../../services/resend'),
      ]);
      const now = Date.now();
      const { result, resend, lang } = await withDatabase(async (db, where) => {
        const workspace = await findWorkspace(db, workspaceId, where);
        const lang: Language = language ?? workspace.language;
        const result = await resendFailed(db, { ...scopeOf(workspace), language: lang }, broadcastId, body, now);
        const resend = result.broadcastId ? await getBroadcast(db, workspaceId, result.broadcastId, lang) : undefined;
        return { result, resend, lang };
      });
      if (opts.json) {
        json(result);
        return;
      }
      out(
        `Tagged ${counted(result.tagged, 'contact')} with "${result.tag}" (${number(result.newlyTagged)} newly tagged).`,
      );
      const skipped = Object.entries(result.skipped).sort((a, b) => b[1] - a[1]);
      if (skipped.length) {
        out('Not in this re-send (reasons not chosen, or not plannable now):');
        out(
          table(
            skipped.map(([code, n]) => [
              number(n),
              code,
              (FAILURE_REASONS as readonly string[]).includes(code)
                ? describeFailure(code as FailureReason, lang).title
                : '',
            ]),
            [0],
          ),
        );
      }
      for (const warning of result.warnings) out(`Warning: ${warning.message}`);
      if (body.tagOnly) {
        out('Tag only: no segment or broadcast was created.');
        return;
      }
      if (resend && result.scheduledAt) {
        out(
          `Re-send: broadcast ${resend.id} "${resend.name}" to segment ${result.segmentId}, ${counted(resend.targetCount ?? 0, 'contact')}, ` +
            `scheduled for ${result.scheduledAt} (${inWords(result.scheduledAt, now)})${result.reused ? ', created by an earlier call' : ''}.`,
        );
        for (const line of planLines(result.plan, now)) out(line);
        out("The server's broadcast engine sends it then (ENGINE=on on a process using this database).");
        out(`Follow it with: rebound failures show ${resend.id} --workspace ${workspaceId}`);
      } else if (resend) {
        out(
          `Re-send: broadcast ${resend.id} "${resend.name}" is ${resend.status}${result.reused ? ' (created by an earlier call)' : ''}.`,
        );
      }
    });
}
