/**
 * The operators' CLI run as a real child process (tsx) over a temporary libSQL file; what it did is
 * checked through the services and the database on that same file.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFailure, FAILED_EXPORT_COLUMNS } from '@rebound/shared';
import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { planLines } from '../src/cli/commands/resend';
import { buildProgram } from '../src/cli/index';
import { failedMessagesCsv } from '../src/csv/export';
import { type DatabaseHandle, openDatabase } from '../src/db/client';
import { createBroadcast } from '../src/services/broadcasts';
import { createChannel } from '../src/services/channels';
import { createSegment } from '../src/services/segments';
import { authenticate } from '../src/services/tokens';

const SERVER = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rebound-cli-'));
const dbFile = join(dir, 'nested', 'cli.db');
const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${dbFile}` };
delete env.DATABASE_AUTH_TOKEN;
delete env.npm_lifecycle_event;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', ...args],
      { cwd: SERVER, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let database: DatabaseHandle | undefined;
const db = () => {
  if (!database) throw new Error('database not open yet');
  return database.db;
};
const count = async (query: ReturnType<typeof sql>) => Number((await db().all<{ n: number }>(query))[0]?.n ?? 0);

afterAll(() => {
  database?.close();
  rmSync(dir, { recursive: true, force: true });
});

let workspaceId = 0;
let broadcastId = 0;

describe('rebound CLI', () => {
  it('lists every command, and every command lists its options in --help', async () => {
    const leaves: { path: string[]; options: string[] }[] = [];
    const walk = (command: Command, path: string[]) => {
      const subs = command.commands.filter((sub) => sub.name() !== 'help');
      if (!subs.length) leaves.push({ path, options: command.options.map((option) => option.long as string) });
      for (const sub of subs) walk(sub, [...path, sub.name()]);
    };
    walk(buildProgram(), []);
    expect(leaves.map((leaf) => leaf.path.join(' '))).toEqual([
      'workspace create',
      'token create',
      'contacts import',
      'failures export',
      'failures show',
      'resend',
    ]);
    const [top, bare, ...helps] = await Promise.all([
      cli('--help'),
      cli(),
      ...leaves.map((leaf) => cli(...leaf.path, '--help')),
    ]);
    expect(top?.code).toBe(0);
    for (const leaf of leaves) expect(top?.stdout).toContain(`rebound ${leaf.path.join(' ')}`);
    expect(top?.stdout).toContain('DATABASE_URL');
    expect(bare?.code).toBe(2);
    leaves.forEach((leaf, i) => {
      const help = helps[i] as Run;
      expect(help.code, leaf.path.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: rebound ${leaf.path.join(' ')}`);
      for (const option of leaf.options) expect(help.stdout, `${leaf.path.join(' ')} ${option}`).toContain(option);
    });
    expect(existsSync(dbFile)).toBe(false);
  });

  it('workspace create makes and migrates the database and prints a working token per role', async () => {
    const run = await cli('workspace', 'create', '--name', 'Tienda Sur', '--roles', 'owner,manager,agent');
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(dbFile)).toBe(true);
    workspaceId = Number(/Workspace (\d+) "Tienda Sur"/.exec(run.stdout)?.[1]);
    const tokens = [...run.stdout.matchAll(/^\s+(owner|manager|agent)\s+(rb_\S+)$/gm)];
    expect(tokens.map((match) => match[1])).toEqual(['owner', 'manager', 'agent']);
    database = await openDatabase({ url: `file:${dbFile}` });
    for (const [, role, token] of tokens) {
      const auth = await authenticate(db(), token as string);
      expect(auth).toMatchObject({ workspaceId, workspaceName: 'Tienda Sur', workspaceLanguage: 'es', role });
    }

    const created = await cli(
      'token',
      'create',
      '--workspace',
      String(workspaceId),
      '--role',
      'agent',
      '--name',
      'Ana',
    );
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim().split('\n').at(-1) as string;
    expect(await authenticate(db(), token)).toMatchObject({ workspaceId, role: 'agent', tokenName: 'Ana' });
    expect(await count(sql`SELECT count(*) AS n FROM api_tokens WHERE token_hash LIKE 'rb_%'`)).toBe(0);
  });

  it('contacts import: all or nothing by default, then the good rows with the tags and the rejected ones listed', async () => {
    const csv = join(dir, 'contacts.csv');
    writeFileSync(
      csv,
      'First Name,Phone,Email\nAna,+5491155551234,ana@example.com\nBeto,+5491155551235,\nCarla,+5491155551236,\nDani,not-a-phone,\n"Eve,+549115555\n',
    );
    const ws = String(workspaceId);
    const strict = await cli('contacts', 'import', csv, '--workspace', ws, '--tag', 'vip');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('--no-all-or-nothing');
    expect(await count(sql`SELECT count(*) AS n FROM contacts`)).toBe(0);

    const rejectedOut = join(dir, 'rejected.csv');
    const run = await cli(
      'contacts',
      'import',
      csv,
      '--workspace',
      ws,
      '--tag',
      'vip',
      '--tag',
      'black friday',
      '--no-all-or-nothing',
      '--language',
      'en',
      '--rejected-out',
      rejectedOut,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/created\s+3/);
    expect(run.stdout).toMatch(/rejected\s+2/);
    expect(run.stdout).toContain('Phone number "not-a-phone" is not valid');
    expect(run.stderr).toMatch(/^Importing: 5\/5 rows/m);
    expect(run.stderr).not.toContain('\r');
    expect(await count(sql`SELECT count(*) AS n FROM contacts WHERE workspace_id = ${workspaceId}`)).toBe(3);
    const tagged = await db().all<{ name: string; n: number }>(sql`SELECT t.name, count(*) AS n
      FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id GROUP BY t.name ORDER BY t.name`);
    expect(tagged).toEqual([
      { name: 'black friday', n: 3 },
      { name: 'vip', n: 3 },
    ]);
    const rejected = readFileSync(rejectedOut, 'utf8');
    expect(rejected).toContain('phone_invalid');
    expect(rejected).toContain('malformed_row');
  });

  it('failures export writes the API export: reference header, same rows, same order', async () => {
    // A finished broadcast with three failed recipients (two over the daily limit, one blocked) and one sent.
    const channel = await createChannel(db(), workspaceId, { type: 'sandbox', name: 'Sandbox' });
    const segment = await createSegment(db(), workspaceId, {
      name: 'everyone',
      filter: { match: 'all', groups: [] },
    });
    const broadcast = await createBroadcast(db(), workspaceId, {
      name: 'Black Friday',
      channelId: channel.id,
      segmentId: segment.id,
      content: { text: 'Hola' },
    });
    broadcastId = broadcast.id;
    const now = Date.now();
    await db().run(sql`UPDATE broadcasts SET status = 'partially_failed', target_count = 4, started_at = ${now - 60_000},
      finished_at = ${now} WHERE id = ${broadcastId}`);
    await db().run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, contact_id, identifier, state, reason,
        provider_code, provider_message, attempts, next_attempt_at, failed_at, created_at, updated_at)
      SELECT workspace_id, ${broadcastId}, ${channel.id}, id, phone, 'failed',
        CASE WHEN first_name = 'Carla' THEN 'blocked' ELSE 'quota_reached' END, 'code', 'provider said no', 1, 0,
        ${now} - (4 - id) * 1000, ${now}, ${now}
      FROM contacts WHERE workspace_id = ${workspaceId}`);
    await db().run(sql`INSERT INTO messages (workspace_id, broadcast_id, channel_id, identifier, state, attempts,
        next_attempt_at, sent_at, created_at, updated_at)
      VALUES (${workspaceId}, ${broadcastId}, ${channel.id}, '+5491100000000', 'sent', 1, 0, ${now}, ${now}, ${now})`);

    const out = join(dir, 'failed.csv');
    const ws = String(workspaceId);
    const [toFile, toStdout] = await Promise.all([
      cli(
        'failures',
        'export',
        '--workspace',
        ws,
        '--broadcast',
        String(broadcastId),
        '--language',
        'en',
        '--out',
        out,
      ),
      cli('failures', 'export', '--workspace', ws, '--bom'),
    ]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stderr).toMatch(/Exported 3 failed messages to /);
    const written = readFileSync(out, 'utf8');
    const api = failedMessagesCsv(db(), workspaceId, { broadcastId: [broadcastId] }, { language: 'en' });
    expect(written).toBe(await new Response(api.stream).text());
    const lines = written.trimEnd().split('\r\n');
    expect(lines[0]).toBe(FAILED_EXPORT_COLUMNS.map((column) => column.en).join(','));
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('blocked');

    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdout.startsWith(`\uFEFF${FAILED_EXPORT_COLUMNS.map((column) => column.es).join(',')}\r\n`)).toBe(
      true,
    );
    expect(toStdout.stdout.trimEnd().split('\r\n')).toHaveLength(4);
  });

  it("failures show: counts by reason with the reason's title, re-send advice, target and completed", async () => {
    const ws = String(workspaceId);
    const [text, asJson] = await Promise.all([
      cli('failures', 'show', String(broadcastId), '--workspace', ws),
      cli('failures', 'show', String(broadcastId), '--workspace', ws, '--language', 'en', '--json'),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(describeFailure('quota_reached', 'es').title);
    expect(text.stdout).toMatch(/^\s+2\s+quota_reached\s+.*yes, later$/m);
    expect(text.stdout).toMatch(/^\s+1\s+blocked\s+.*no$/m);
    expect(text.stdout).toContain('Target 4');

    expect(asJson.code, asJson.stderr).toBe(0);
    const report = JSON.parse(asJson.stdout);
    expect(report.broadcast).toMatchObject({ id: broadcastId, status: 'partially_failed', targetCount: 4 });
    expect(report.total).toBe(3);
    expect(report.reasons).toEqual([
      expect.objectContaining({ code: 'quota_reached', count: 2, title: 'Daily messaging limit reached' }),
      expect.objectContaining({ code: 'blocked', count: 1, resend: 'never' }),
    ]);
  });

  it('bad input exits non-zero, names the problem and writes nothing', async () => {
    const tables = ['contacts', 'contact_tags', 'tags', 'segments', 'broadcasts', 'imports', 'api_tokens', 'events'];
    const snapshot = async () => {
      const counts: Record<string, number> = {};
      for (const table of tables) counts[table] = await count(sql.raw(`SELECT count(*) AS n FROM ${table}`));
      return counts;
    };
    const before = await snapshot();
    const ws = String(workspaceId);
    const never = join(dir, 'never.csv');
    const runs = await Promise.all([
      cli('resend', '999999', '--workspace', ws),
      cli('resend', String(broadcastId), '--workspace', ws, '--when', 'tomorrow'),
      cli('failures', 'show', String(broadcastId)),
      cli('contacts', 'import', join(dir, 'missing.csv'), '--workspace', ws, '--tag', 'x'),
      cli('failures', 'export', '--workspace', ws, '--from', 'yesterday', '--out', never),
      cli('token', 'create', '--workspace', '424242', '--role', 'agent'),
      cli('resend', String(broadcastId), '--workspace', ws, '--reason', 'bad_luck'),
      cli('failures', 'show', 'abc', '--workspace', ws),
      cli('failures', 'export', '--workspace', ws, '--from', '2026-11-30', '--to', '2026-11-01', '--out', never),
      cli('workspace', 'create', '--name', 'Tienda \u001b[31mRoja'),
    ]);
    const expected: [number, RegExp][] = [
      [1, /Broadcast was not found[\s\S]*999999/],
      [2, /--when "tomorrow": .*auto, now, capacity or an ISO 8601 time/],
      [2, /required option '--workspace <id>' not specified/],
      [1, /Cannot read ".*missing\.csv": no such file/],
      [2, /--from "yesterday": /],
      [1, /Workspace 424242 was not found/],
      [2, /--reason: .*quota_reached/],
      [2, /<broadcastId> "abc" is not an id/],
      [1, /The "from" date \(2026-11-30\) is not before the "to" date \(2026-11-01\)/],
      [2, /--name .*control character/i],
    ];
    runs.forEach((run, i) => {
      const [code, message] = expected[i] as [number, RegExp];
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    });
    expect(existsSync(never)).toBe(false);
    expect(await snapshot()).toEqual(before);
  });

  it('resend prints every part of a plan of linked re-sends, not only the first', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    const part = (broadcastId: number, at: string, count: number, why: string) => ({
      broadcastId,
      at,
      count,
      byReason: { quota_reached: count },
      why,
    });
    const lines = planLines(
      [
        part(41, '2026-12-07T10:00:00.000Z', 3, 'ahora'),
        part(42, '2026-12-08T10:21:00.000Z', 500, 'cuando se libere el límite'),
        part(43, '2026-12-09T10:21:00.000Z', 1_200, 'día 2 de 2'),
      ],
      now,
    );
    expect(lines[0]).toBe('The plan: 1,703 contacts in 3 linked re-sends.');
    const rows = (lines[1] ?? '').split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(
      /^ *broadcast 42 +500 contacts +2026-12-08T10:21:00.000Z +in 24.4 h +cuando se libere el límite$/,
    );
    expect(rows[2]).toMatch(/^ *broadcast 43 +1,200 contacts .* día 2 de 2$/);
    // A plan of one part is said by the line before it.
    expect(planLines([part(41, '2026-12-07T10:00:00.000Z', 3, 'ahora')], now)).toEqual([]);
  });

  it('resend tags the failed contacts, makes the segment and schedules the re-send', async () => {
    const ws = String(workspaceId);
    const run = await cli('resend', String(broadcastId), '--workspace', ws, '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ tagged: 2, newlyTagged: 2, skipped: { blocked: 1 }, reused: false });
    expect(result.tag).toMatch(/^transmisión fallida \d{1,2} [a-z]{3} \d{4} \(#\d+\)$/);
    const [resend] = await db().all<{ status: string; resend_of_id: number; segment_id: number; target_count: number }>(
      sql`SELECT status, resend_of_id, segment_id, target_count FROM broadcasts WHERE id = ${result.broadcastId}`,
    );
    expect(resend).toEqual({
      status: 'scheduled',
      resend_of_id: broadcastId,
      segment_id: result.segmentId,
      target_count: 2,
    });
    expect(Date.parse(result.scheduledAt)).toBeGreaterThan(Date.now() - 60_000);
    const [segment] = await db().all<{ name: string }>(sql`SELECT name FROM segments WHERE id = ${result.segmentId}`);
    expect(segment?.name).toBe(result.tag);

    // Asking again reuses the same re-send; the text names the skipped reason's title.
    const again = await cli('resend', String(broadcastId), '--workspace', ws);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`Tagged 2 contacts with "${result.tag}" (0 newly tagged)`);
    expect(again.stdout).toContain(describeFailure('blocked', 'es').title);
    expect(again.stdout).toContain(`Re-send: broadcast ${result.broadcastId} "Black Friday (reenvío)"`);
    expect(again.stdout).toContain('created by an earlier call');
    expect(await count(sql`SELECT count(*) AS n FROM broadcasts WHERE resend_of_id = ${broadcastId}`)).toBe(1);

    // The answer's warnings are printed: here, the blocked contact tagged with a segment's name.
    const tagged = await cli(
      'resend',
      String(broadcastId),
      '--workspace',
      ws,
      '--reason',
      'blocked',
      '--tag-only',
      '--tag',
      'everyone',
    );
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.stdout).toMatch(
      /^Warning: La etiqueta «everyone» ya está en uso \(es el nombre de otro segmento\); se usó «everyone \(#\d+\)»/m,
    );
  });
});
