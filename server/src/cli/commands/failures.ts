/**
 * rebound failures export / show: the failed-messages CSV of GET /exports/failed-messages.csv (the
 * same row function, the same streamed CSV) and the report of a broadcast (GET /broadcasts/{id} and
 * GET /failed-messages/summary).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import {
  describeFailure,
  exportHeaders,
  FAILED_EXPORT_COLUMNS,
  type FailureFilters,
  FailureFiltersSchema,
  type FailureReason,
  type Language,
} from '@rebound/shared';
import type { Command } from 'commander';
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
  table,
  withDatabase,
} from '../context';
import { ProgressBar } from '../progress';

const FILTER_FLAGS = {
  broadcastId: '--broadcast',
  from: '--from',
  to: '--to',
  channelId: '--channel',
  reason: '--reason',
  subtype: '--subtype',
};
const FILTER_HINTS = {
  from: "a day such as 2026-11-25 (from its midnight in the workspace's time zone) or an ISO 8601 time",
  to: "a day such as 2026-11-25 (that whole day, in the workspace's time zone) or an ISO 8601 time",
};

/** Words for "can a re-send help" in the CLI's English. */
const RESEND_WORDS = { now: 'yes', later: 'yes, later', never: 'no' } as const;

interface ExportOptions {
  workspace: string;
  broadcast?: string[];
  from?: string;
  to?: string;
  channel?: string;
  reason?: string;
  subtype?: string;
  out?: string;
  language?: string;
  bom?: boolean;
}

/** Writes chunks with backpressure: one page of rows in memory at a time. */
async function writeAll(stream: ReadableStream<Uint8Array>, sink: NodeJS.WritableStream): Promise<void> {
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    if (!sink.write(next.value)) await once(sink, 'drain');
  }
}

export function registerFailures(program: Command): void {
  const failures = program.command('failures').description('Failed messages: export them as CSV, or show a report');

  failures
    .command('export')
    .description('Export failed messages as CSV, with the columns and order of the API export (newest first)')
    .requiredOption('--workspace <id>', 'workspace id')
    .option('--broadcast <id>', 'only this broadcast (repeat for several)', collect)
    .option(
      '--from <day|time>',
      "failures from this day (2026-11-25, in the workspace's time zone) or at or after this ISO 8601 time",
    )
    .option(
      '--to <day|time>',
      "failures up to and including this day (in the workspace's time zone), or before this ISO 8601 time",
    )
    .option('--channel <id>', 'only this channel')
    .option('--reason <code>', 'only this failure reason, e.g. quota_reached')
    .option('--subtype <kind>', 'only failed, excluded or unconfirmed (sent, no answer or delivery report)')
    .option('--out <file>', 'write the CSV to this file (default: standard output)')
    .option('--language <language>', 'headers and reason titles: es, en or pt (default: the workspace language)')
    .option('--bom', 'start with a UTF-8 byte order mark, so Excel reads the accents')
    .addHelpText(
      'after',
      '\nExamples:\n  rebound failures export --workspace 1 --broadcast 42 --language es --bom --out failed-42.csv\n' +
        '  rebound failures export --workspace 1 --from 2026-11-25 --to 2026-11-25 --out failed-25.csv',
    )
    .action(async (opts: ExportOptions) => {
      const workspaceId = parseId(opts.workspace, '--workspace');
      const language = parseLanguage(opts.language);
      const filters: FailureFilters = parseWith(
        FailureFiltersSchema,
        {
          broadcastId: opts.broadcast,
          from: opts.from,
          to: opts.to,
          channelId: opts.channel,
          reason: opts.reason,
          subtype: opts.subtype,
        },
        FILTER_FLAGS,
        FILTER_HINTS,
      );
      const [{ csvStream, failedExportRow }, { allFailedMessages, failureSummary }, { unconfirmedWindowMs }] =
        await Promise.all([import('../../csv/export'), import('../../services/failures'), import('../../config')]);
      await withDatabase(async (db, where) => {
        const workspace = await findWorkspace(db, workspaceId, where);
        const lang: Language = language ?? workspace.language;
        const { total } = await failureSummary(db, workspaceId, filters);
        const bar = new ProgressBar({ label: 'Exporting', unit: 'rows', total });
        let written = 0;
        const windowMs = unconfirmedWindowMs();
        // The export's own pieces (failedMessagesCsv's body), with a count of the rows handed on.
        async function* pages() {
          for await (const rows of allFailedMessages(db, workspaceId, filters, 1000)) {
            yield rows.map((row) => failedExportRow(row, lang, windowMs));
            written += rows.length;
            bar.update(written);
          }
        }
        const stream = csvStream(exportHeaders(FAILED_EXPORT_COLUMNS, lang), pages(), { bom: opts.bom ?? false });
        const file = opts.out ? createWriteStream(opts.out, { flags: 'w' }) : undefined;
        try {
          if (file) {
            await once(file, 'open').catch((error: Error) => {
              throw new CliError(`Cannot write "${opts.out}": ${error.message}`);
            });
            await writeAll(stream, file);
            file.end();
            await once(file, 'finish');
          } else {
            await writeAll(stream, process.stdout);
          }
          bar.finish(`Exported ${number(written)} failed messages${opts.out ? ` to ${opts.out}` : ''}`);
        } catch (error) {
          bar.stop();
          if (file) {
            file.destroy();
            if (file.pending === false) await unlink(opts.out as string).catch(() => undefined);
          }
          throw error;
        }
      });
    });

  failures
    .command('show')
    .description("Show why a broadcast's messages failed: counts by reason, whether a re-send can help, target")
    .argument('<broadcastId>', 'broadcast id')
    .requiredOption('--workspace <id>', 'workspace id')
    .option('--language <language>', 'reason titles: es, en or pt (default: the workspace language)')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExample:\n  rebound failures show 42 --workspace 1 --language en')
    .action(async (broadcastArg: string, opts: { workspace: string; language?: string; json?: boolean }) => {
      const broadcastId = parseId(broadcastArg, '<broadcastId>');
      const workspaceId = parseId(opts.workspace, '--workspace');
      const language = parseLanguage(opts.language);
      const [{ getBroadcast }, { failureSummary }] = await Promise.all([
        import('../../services/broadcasts'),
        import('../../services/failures'),
      ]);
      const report = await withDatabase(async (db, where) => {
        const workspace = await findWorkspace(db, workspaceId, where);
        const lang: Language = language ?? workspace.language;
        const broadcast = await getBroadcast(db, workspaceId, broadcastId, lang);
        const summary = await failureSummary(db, workspaceId, { broadcastId: [broadcastId] });
        const reasons = Object.entries(summary.byReason)
          .map(([code, count]) => {
            const reason = describeFailure(code as FailureReason, lang);
            return { code, title: reason.title, action: reason.action, resend: reason.resend, count };
          })
          .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
        return { broadcast, summary, reasons, language: lang };
      });
      const { broadcast, summary, reasons } = report;
      if (opts.json) {
        json({
          broadcast: {
            id: broadcast.id,
            name: broadcast.name,
            status: broadcast.status,
            channelId: broadcast.channelId,
            targetCount: broadcast.targetCount,
            completedCount: broadcast.completedCount,
            counts: broadcast.counts,
            resendOfId: broadcast.resendOfId,
          },
          language: report.language,
          total: summary.total,
          retryable: summary.retryable,
          unconfirmed: summary.unconfirmed,
          reasons,
        });
        return;
      }
      out(`Broadcast ${broadcast.id} "${broadcast.name}": ${broadcast.status} (channel ${broadcast.channelId})`);
      const states = Object.entries(broadcast.counts)
        .map(([state, n]) => `${state} ${number(n)}`)
        .join(', ');
      out(
        `Target ${number(broadcast.targetCount)}, completed ${number(broadcast.completedCount)}${states ? `; ${states}` : ''}`,
      );
      if (summary.total === 0) {
        out('No failed messages.');
        return;
      }
      out('');
      out(
        table(
          [
            ['COUNT', 'REASON', 'TITLE', 'RE-SEND HELPS'],
            ...reasons.map((r) => [number(r.count), r.code, r.title, RESEND_WORDS[r.resend]]),
          ],
          [0],
        ),
      );
      out('');
      const helps = summary.retryable.now + summary.retryable.later;
      out(
        `${number(summary.total)} not sent: a re-send can help ${number(helps)} (${number(summary.retryable.now)} now, ` +
          `${number(summary.retryable.later)} after a wait), not ${number(summary.retryable.never)}.`,
      );
      if (summary.unconfirmed > 0)
        out(
          `${number(summary.unconfirmed)} unconfirmed: sent, but no answer or delivery report says whether they arrived.`,
        );
      if (helps > 0) out(`Tag and re-send them: rebound resend ${broadcast.id} --workspace ${workspaceId}`);
    });
}
