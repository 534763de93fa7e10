/** What an import looks like from outside: the API answer and the rejected-rows CSV, in the reader's language. */
import {
  type ApiErrorCode,
  apiErrors,
  errorMessage,
  IMPORT_REJECTED_COLUMNS,
  type Import,
  type ImportRejectedRow,
  importRowReasonMessage,
  type Language,
} from '@rebound/shared';
import { toCsv } from './export';
import type { ImportRecord, StoredImportOptions, StoredRejection } from './import';

/** How many rejected rows the JSON answer lists; the CSV has them all. */
export const IMPORT_REJECTED_PREVIEW = 100;

function reasonOf(rejection: StoredRejection, language: Language): string {
  try {
    return importRowReasonMessage(rejection.code, language, rejection.params);
  } catch {
    return rejection.reason;
  }
}

function rejectedRow(rejection: StoredRejection, language: Language): ImportRejectedRow {
  return {
    row: rejection.row,
    identifier: rejection.identifier,
    code: rejection.code,
    reason: reasonOf(rejection, language),
  };
}

/** `queuePosition`: where a queued import stands in its workspace's queue (1 = next). */
export function importView(record: ImportRecord, language: Language, queuePosition: number | null = null): Import {
  const options = record.options as StoredImportOptions;
  const rejections = record.rejectedRows as StoredRejection[];
  const percent = record.totalRows ? Math.floor((record.processedRows / record.totalRows) * 100) : 0;
  return {
    id: record.id,
    status: record.status,
    queuePosition: record.status === 'queued' ? (queuePosition ?? 1) : null,
    fileName: record.fileName,
    mode: options.mode,
    identifier: options.identifier,
    tags: options.tags,
    dryRun: options.dryRun,
    allOrNothing: options.allOrNothing,
    encoding: options.encoding as Import['encoding'],
    delimiter: options.delimiter,
    columns: options.columns,
    progress: { totalRows: record.totalRows, processedRows: record.processedRows, percent },
    created: record.created,
    updated: record.updated,
    rejected: record.rejected,
    rejectedRows: rejections.slice(0, IMPORT_REJECTED_PREVIEW).map((rejection) => rejectedRow(rejection, language)),
    rejectedCsvUrl: `/api/v1/imports/${record.id}/rejected.csv`,
    error: record.errorCode
      ? {
          code: record.errorCode,
          message:
            record.errorCode === 'import_rows_rejected' ||
            record.errorCode === 'internal_error' ||
            record.errorCode === 'import_interrupted'
              ? errorMessage(record.errorCode, language, { count: record.rejected })
              : record.errorParams && Object.hasOwn(apiErrors, record.errorCode)
                ? errorMessage(record.errorCode as ApiErrorCode, language, record.errorParams)
                : (record.errorMessage ?? record.errorCode),
        }
      : null,
    createdAt: record.createdAt.toISOString(),
    finishedAt: record.finishedAt ? record.finishedAt.toISOString() : null,
  };
}

/**
 * Every rejected row with its reason. A cell a spreadsheet would run as a formula (= + - @, tab, CR at the
 * start) gets a leading quote: an identifier cell comes from the uploaded file and is not to be trusted.
 */
export function rejectedRowsCsv(record: ImportRecord, language: Language, bom: boolean): string {
  const rows = (record.rejectedRows as StoredRejection[]).map((rejection) => {
    const row = rejectedRow(rejection, language);
    return [String(row.row), row.identifier ?? '', row.code, row.reason];
  });
  // The exports' writer: formulas neutralized, and quoted where a spreadsheet would split or trim.
  return `${bom ? '\uFEFF' : ''}${toCsv([IMPORT_REJECTED_COLUMNS.map((column) => column[language]), ...rows])}`;
}
