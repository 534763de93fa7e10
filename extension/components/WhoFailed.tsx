/**
 * Who failed: a broadcast's failed recipients, of one reason or all, 50 at a time, and the CSV of
 * them, so that an agent can call or write to the ones that matter without leaving the helpdesk.
 */
import { useSignal } from '@preact/signals';
import type { Language } from '@rebound/shared/i18n';
import { formatNumber, translate } from '../lib/i18n';
import { ask, sendMessage, type WhoRow } from '../lib/messaging';
import type { BroadcastReport } from '../lib/report';

/** Saves text as a file from this page (the panel's or the popup's): the background cannot. */
function save(name: string, parts: string[]) {
  const url = URL.createObjectURL(new Blob(parts, { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function WhoFailed({ report, language }: { report: BroadcastReport; language: Language }) {
  const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) =>
    translate(language, key, params);
  const broadcastId = report.broadcast.id;
  const open = useSignal(false);
  const reason = useSignal('');
  const rows = useSignal<WhoRow[]>([]);
  const next = useSignal<string | null>(null);
  const busy = useSignal(false);
  const error = useSignal('');
  const total = reason.value ? (report.reasons.find((r) => r.code === reason.value)?.count ?? 0) : report.notSent;

  async function load(more: boolean) {
    busy.value = true;
    error.value = '';
    try {
      const page = await ask(
        sendMessage('failedPage', {
          broadcastId,
          ...(reason.value ? { reason: reason.value } : {}),
          ...(more && next.value ? { cursor: next.value } : {}),
        }),
      );
      rows.value = more ? [...rows.value, ...page.rows] : page.rows;
      next.value = page.nextCursor;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  }

  async function download() {
    error.value = '';
    try {
      const file = await ask(
        sendMessage('failedCsv', { broadcastId, ...(reason.value ? { reason: reason.value } : {}) }),
      );
      // A big file comes in parts (a runtime message holds at most 64 MiB).
      const parts = [file.text];
      for (let index = 0; index < file.rest; index++)
        parts.push(await ask(sendMessage('failedCsvPart', { id: file.id, index })));
      save(file.name, parts);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  return (
    <div class="rb-section rb-who" data-testid="who-failed">
      <h3 class="rb-subtitle">{t('whoHeading')}</h3>
      {!open.value ? (
        <button
          type="button"
          class="rb-secondary"
          aria-expanded="false"
          onClick={() => {
            open.value = true;
            void load(false);
          }}
        >
          {t('whoShow')}
        </button>
      ) : (
        <>
          {report.reasons.length > 1 && (
            <label class="rb-field">
              {t('whoReason')}
              <select
                value={reason.value}
                onChange={(event) => {
                  reason.value = (event.target as HTMLSelectElement).value;
                  void load(false);
                }}
              >
                <option value="">{t('whoAllReasons')}</option>
                {report.reasons.map((r) => (
                  <option key={r.code} value={r.code}>
                    {r.title} ({formatNumber(language, r.count)})
                  </option>
                ))}
              </select>
            </label>
          )}
          {/* Not a scroll box of its own: the panel scrolls, so the keyboard reaches every name. */}
          <ul class="rb-who-list" aria-busy={busy.value} aria-label={t('whoHeading')}>
            {rows.value.map((row) => (
              <li key={row.id}>
                <span class="rb-who-name">{row.name ?? t('whoNoName')}</span>
                <span class="rb-muted">
                  {[row.identifier, reason.value ? null : row.reasonTitle].filter(Boolean).join(' · ')}
                </span>
              </li>
            ))}
          </ul>
          <p class="rb-muted" aria-live="polite">
            {t('whoShown', { shown: rows.value.length, total: Math.max(total, rows.value.length) })}
          </p>
          {next.value && (
            <button type="button" class="rb-link" disabled={busy.value} onClick={() => void load(true)}>
              {t('whoMore', { count: Math.min(50, Math.max(total - rows.value.length, 1)) })}
            </button>
          )}
        </>
      )}
      <button type="button" class="rb-link rb-who-csv" onClick={() => void download()}>
        {t('whoDownload')}
      </button>
      {error.value && (
        <p class="rb-error" role="alert">
          {error.value}
        </p>
      )}
    </div>
  );
}
