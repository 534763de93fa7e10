/**
 * CSV exports, streamed page by page: each page of rows is read from the database only when the client
 * is ready for more, turned into CSV and let go, so memory stays flat however many rows.
 */
import {
  CONTACT_EXPORT_COLUMNS,
  type ContactExportQuery,
  EXPORT_RESEND_LABELS,
  EXPORT_TAG_SEPARATOR,
  EXPORT_VALUE_LABELS,
  exportHeaders,
  FAILED_EXPORT_COLUMNS,
  type FailedExportKey,
  type FailureFilters,
  type Language,
  neutralizeFormulaCell,
} from '@rebound/shared';
import { type SQL, sql } from 'drizzle-orm';
import { unconfirmedWindowMs } from '../config';
import type { Database } from '../db/client';
import { logError } from '../lib/log';
import { getCustomFieldKeyCap } from '../services/contacts';
import { allFailedMessages, type FailedRow, toFailedMessage } from '../services/failures';
import { tagKey, tagNamesByContact } from '../services/tags';

const BOM = '\uFEFF';
const NEWLINE = '\r\n';

export interface CsvExport {
  filename: string;
  stream: ReadableStream<Uint8Array>;
}

/** Rows as cells; null and undefined become empty cells. */
type Cells = (string | number | null | undefined)[];

/**
 * A cell that must be quoted: it holds the separator, a quote, a line break or a byte-order mark
 * (RFC 4180), or starts or ends with a space, which spreadsheets would trim (as papaparse quotes). Also a
 * semicolon or a tab: Excel in a decimal-comma locale (es-AR, es-MX, pt-BR) splits a .csv on ";", so
 * "x;=2+3" unquoted would be two cells there, the second a formula; quoted, it is one cell of text.
 */
const needsQuotes = /[",;\t\r\n\uFEFF]|^ | $/;
const quote = /"/g;

/**
 * One CSV cell: formulas neutralized, quoted only when needed. Written here rather than with
 * Papa.unparse, whose general per-cell checks took a fifth of a million-row export; the tests read
 * every export back with papaparse.
 */
function csvCell(cell: Cells[number]): string {
  // A number's text is never a formula, a separator or a quote.
  if (typeof cell === 'number') return String(cell);
  if (cell == null || cell === '') return '';
  const text = neutralizeFormulaCell(cell);
  return needsQuotes.test(text) ? `"${text.replace(quote, '""')}"` : text;
}

/** Rows as CSV text, each line ended by CRLF: the writer of every CSV the API answers. */
export function toCsv(rows: Cells[]): string {
  let text = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : ',') + csvCell(row[i]);
    text += line + NEWLINE;
  }
  return text;
}

/**
 * A byte stream of a CSV file: the header row first, then each page of rows as the reader asks for it
 * (pull-based, so a slow client slows the database reads instead of filling memory). Every cell that a
 * spreadsheet would run as a formula is neutralized. A failure after the first byte ends the stream with
 * an error: the download breaks instead of looking complete.
 */
export function csvStream(headers: string[], pages: AsyncIterable<Cells[]>, options: { bom?: boolean } = {}) {
  const encoder = new TextEncoder();
  const iterator = pages[Symbol.asyncIterator]();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode((options.bom ? BOM : '') + toCsv([headers])));
          return;
        }
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) {
              controller.close();
              return;
            }
            if (next.value.length) {
              controller.enqueue(encoder.encode(toCsv(next.value)));
              return;
            }
          }
        } catch (error) {
          logError('[rebound] CSV export failed mid-stream', error);
          throw error;
        }
      },
      async cancel() {
        await iterator.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** failed-messages-2026-11-25.csv: the day of the export, UTC. */
export function exportFilename(base: string, now = new Date()): string {
  return `${base}-${now.toISOString().slice(0, 10)}.csv`;
}

/**
 * One row of the failed-messages export, in FAILED_EXPORT_COLUMNS order. Every word Rebound writes is
 * in the file's language; Error holds the provider's own words when it gave some, else our reason's title.
 */
export function failedExportRow(row: FailedRow, language: Language, windowMs: number = unconfirmedWindowMs()): Cells {
  const message = toFailedMessage(row, language, windowMs);
  // Unconfirmed messages go out again only when asked for, once their wait for a report is over.
  const resend =
    message.subtype === 'unconfirmed'
      ? EXPORT_RESEND_LABELS.onRequest[language]
      : EXPORT_RESEND_LABELS[message.reason.resend][language];
  const cells: Record<FailedExportKey, string | number | null> = {
    dateTime: row.failed_at == null ? '' : message.failedAt,
    senderId: message.sender.id,
    senderType: EXPORT_VALUE_LABELS[message.sender.type][language],
    contactId: message.contact.id,
    messageId: message.messageId,
    contentType: EXPORT_VALUE_LABELS[message.contentType][language],
    content: message.content,
    channelId: message.channel.id,
    type: EXPORT_VALUE_LABELS[message.type][language],
    subtype: EXPORT_VALUE_LABELS[message.subtype][language],
    error: message.providerMessage ?? message.reason.title,
    reasonCode: message.reason.code,
    reason: message.reason.title,
    resend,
    providerCode: message.providerCode,
    broadcast: message.sender.name,
    contactName: message.contact.name,
    identifier: message.contact.identifier,
    resendAfter: message.retryAfter,
  };
  return FAILED_EXPORT_COLUMNS.map((column) => cells[column.key]);
}

/** The failed-message log as CSV, newest first, with the same filters as the log. */
export function failedMessagesCsv(
  db: Database,
  workspaceId: number,
  filters: FailureFilters,
  options: { language: Language; bom?: boolean | undefined; pageSize?: number },
): CsvExport {
  async function* pages() {
    const windowMs = unconfirmedWindowMs();
    for await (const rows of allFailedMessages(db, workspaceId, filters, options.pageSize ?? 2000)) {
      yield rows.map((row) => failedExportRow(row, options.language, windowMs));
    }
  }
  return {
    filename: exportFilename('failed-messages'),
    stream: csvStream(exportHeaders(FAILED_EXPORT_COLUMNS, options.language), pages(), { bom: options.bom ?? false }),
  };
}

interface ContactExportRow {
  id: number;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  email: string | null;
  language: string | null;
  custom_fields: string | null;
}

function contactConditions(workspaceId: number, filters: Pick<ContactExportQuery, 'tag'>): SQL {
  const parts: SQL[] = [sql`c.workspace_id = ${workspaceId}`];
  if (filters.tag) {
    parts.push(sql`c.id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
      WHERE t.workspace_id = ${workspaceId} AND t.key = ${tagKey(filters.tag)})`);
  }
  return sql.join(parts, sql` AND `);
}

/**
 * The custom field keys the exported contacts use, sorted: one column each, never more than the
 * workspace's cap of distinct keys (a workspace filled before the cap existed gets its first keys).
 */
export async function customFieldKeys(
  db: Database,
  workspaceId: number,
  filters: Pick<ContactExportQuery, 'tag'> = {},
  maxKeys: number = getCustomFieldKeyCap(),
): Promise<string[]> {
  const rows = await db.all<{ key: string }>(sql`SELECT DISTINCT j.key AS key
    FROM contacts c, json_each(c.custom_fields) j
    WHERE ${contactConditions(workspaceId, filters)} AND json_valid(c.custom_fields) ORDER BY j.key
    LIMIT ${maxKeys}`);
  return rows.map((row) => row.key);
}

function parseCustomFields(value: string | null): Record<string, unknown> {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Every contact of the workspace (or with the tag), in id order, a page at a time. */
async function* contactPages(
  db: Database,
  workspaceId: number,
  filters: Pick<ContactExportQuery, 'tag'>,
  keys: string[],
  pageSize: number,
): AsyncGenerator<Cells[]> {
  let after = 0;
  for (;;) {
    const rows = await db.all<ContactExportRow>(sql`SELECT c.id, c.first_name, c.last_name, c.phone, c.email,
        c.language, c.custom_fields
      FROM contacts c WHERE ${contactConditions(workspaceId, filters)} AND c.id > ${after}
      ORDER BY c.id LIMIT ${pageSize}`);
    if (rows.length === 0) return;
    const tagMap = await tagNamesByContact(
      db,
      rows.map((row) => row.id),
    );
    yield rows.map((row) => {
      const custom = parseCustomFields(row.custom_fields);
      const fixed: Record<(typeof CONTACT_EXPORT_COLUMNS)[number]['key'], string | number | null> = {
        contactId: row.id,
        firstName: row.first_name,
        lastName: row.last_name,
        phone: row.phone,
        email: row.email,
        language: row.language,
        tags: (tagMap.get(row.id) ?? []).join(EXPORT_TAG_SEPARATOR),
      };
      return [
        ...CONTACT_EXPORT_COLUMNS.map((column) => fixed[column.key]),
        ...keys.map((key) => {
          const value = custom[key];
          return value == null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
        }),
      ];
    });
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]?.id ?? after;
  }
}

/** Contacts as CSV: the fixed columns, then one column per custom field key (headed by the key itself). */
export async function contactsCsv(
  db: Database,
  workspaceId: number,
  filters: Pick<ContactExportQuery, 'tag'>,
  options: { language: Language; bom?: boolean | undefined; pageSize?: number; maxKeys?: number },
): Promise<CsvExport> {
  const keys = await customFieldKeys(db, workspaceId, filters, options.maxKeys);
  const headers = [...exportHeaders(CONTACT_EXPORT_COLUMNS, options.language), ...keys];
  return {
    filename: exportFilename('contacts'),
    stream: csvStream(headers, contactPages(db, workspaceId, filters, keys, options.pageSize ?? 1000), {
      bom: options.bom ?? false,
    }),
  };
}
