/** Helpers of the failed-log tests: a draft broadcast to hang rows on, and rows written as the engine writes them. */
import { sql } from 'drizzle-orm';
import Papa from 'papaparse';
import type { TestServer } from './helpers';

export interface SeededRow {
  state: 'failed' | 'excluded' | 'uncertain';
  reason: string | null;
  failedAt: number;
  providerCode?: string | null;
  providerMessage?: string | null;
  useTemplate?: boolean;
  retryAfterAt?: number | null;
  identifier?: string;
  contactId?: number | null;
}

/** A channel and a draft broadcast of the workspace, made through the API. */
export async function draftBroadcast(
  server: TestServer,
  token: string,
  name: string,
  content: Record<string, unknown> = { text: 'Hola' },
): Promise<{ channelId: number; broadcastId: number }> {
  const post = async (path: string, body: unknown) => {
    const res = await server.request('POST', path, { token, body });
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${res.text}`);
    return res.body;
  };
  const channel = await post('/api/v1/channels', { type: 'sandbox', name: `${name} channel` });
  const segment = await post('/api/v1/segments', {
    name: `${name} segment`,
    filter: { groups: [{ conditions: [{ type: 'tag', operator: 'hasAnyOf', tags: ['nobody'] }] }] },
  });
  const broadcast = await post('/api/v1/broadcasts', { name, channelId: channel.id, segmentId: segment.id, content });
  return { channelId: channel.id, broadcastId: broadcast.id };
}

/** Message rows as an engine (this one or an older one) leaves them; returns their ids in order. */
export async function seedRows(
  server: TestServer,
  workspaceId: number,
  target: { channelId: number; broadcastId: number },
  rows: SeededRow[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, row] of rows.entries()) {
    const inserted = await server.database.db.all<{ id: number }>(sql`INSERT INTO messages (workspace_id, broadcast_id,
        channel_id, contact_id, identifier, state, reason, provider_code, provider_message, attempts, next_attempt_at,
        dispatched_at, use_template, retry_after_at, failed_at, created_at, updated_at)
      VALUES (${workspaceId}, ${target.broadcastId}, ${target.channelId}, ${row.contactId ?? null},
        ${row.identifier ?? `+54911420000${String(i).padStart(2, '0')}`}, ${row.state}, ${row.reason},
        ${row.providerCode ?? null}, ${row.providerMessage ?? null}, 1, 0,
        ${row.state === 'excluded' ? null : row.failedAt}, ${row.useTemplate ? 1 : 0}, ${row.retryAfterAt ?? null},
        ${row.failedAt}, ${row.failedAt}, ${row.failedAt})
      RETURNING id`);
    ids.push(inserted[0]?.id ?? 0);
  }
  return ids;
}

/** A CSV export parsed back: header and rows. */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const rows = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { skipEmptyLines: true }).data;
  return { header: rows[0] ?? [], rows: rows.slice(1) };
}
