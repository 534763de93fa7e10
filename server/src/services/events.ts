/**
 * The event stream's reading side: a workspace's events in id order after a cursor, each with a
 * sentence that says what happened in the agent's language.
 */
import {
  type ApiErrorCode,
  apiErrors,
  describeFailure,
  errorMessage,
  FAILURE_REASONS,
  type FailureReason,
  fixedLocale,
  type Language,
  type Localized,
  PauseSchema,
  pauseText,
  type StreamEvent,
} from '@rebound/shared';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';

export interface EventRow {
  id: number;
  type: string;
  broadcast_id: number | null;
  data: string | Record<string, unknown> | null;
  created_at: number;
}

/** The workspace's events after the given id, oldest first. */
export async function eventsAfter(db: Database, workspaceId: number, afterId: number, limit: number) {
  return db.all<EventRow>(sql`SELECT id, type, broadcast_id, data, created_at FROM events
    WHERE workspace_id = ${workspaceId} AND id > ${afterId} ORDER BY id LIMIT ${limit}`);
}

/** The id of the workspace's newest event (0 when there is none): the cursor for "only new events". */
export async function latestEventId(db: Database, workspaceId: number): Promise<number> {
  const [row] = await db.all<{ id: number | null }>(
    sql`SELECT max(id) AS id FROM events WHERE workspace_id = ${workspaceId}`,
  );
  return row?.id ?? 0;
}

/** A cursor as the client sent it: an event id, "now", or nothing (from the start). */
export async function resolveCursor(db: Database, workspaceId: number, cursor: string | undefined): Promise<number> {
  if (!cursor) return 0;
  if (cursor === 'now') return latestEventId(db, workspaceId);
  const id = Number(cursor);
  // Checked at the edge (EventCursorSchema); an unsafe one here is a bug, never "from the start".
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`not an event cursor: ${cursor}`);
  return id;
}

/** One page for polling: the events after the cursor and the cursor to ask with next. */
export async function eventPage(
  db: Database,
  workspaceId: number,
  query: { since?: string | undefined; limit: number },
  language: Language,
): Promise<{ data: StreamEvent[]; nextCursor: string; hasMore: boolean }> {
  const after = await resolveCursor(db, workspaceId, query.since);
  const rows = await eventsAfter(db, workspaceId, after, query.limit + 1);
  const page = rows.slice(0, query.limit);
  return {
    data: page.map((row) => toEvent(row, language)),
    nextCursor: String(page.at(-1)?.id ?? after),
    hasMore: rows.length > query.limit,
  };
}

function parseData(data: EventRow['data']): Record<string, unknown> {
  if (data == null) return {};
  if (typeof data === 'object') return data;
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function toEvent(row: EventRow, language: Language): StreamEvent {
  const data = parseData(row.data);
  return {
    id: row.id,
    type: row.type,
    broadcastId: row.broadcast_id,
    data,
    createdAt: new Date(row.created_at).toISOString(),
    message: eventMessage(row.type, data, language),
  };
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** 1.500 in Spanish and Portuguese, 1,500 in English. */
export function formatCount(value: number, language: Language): string {
  return new Intl.NumberFormat(fixedLocale(language)).format(value);
}

/** 2026-11-25 14:05 UTC: the same for everyone, whatever their time zone. */
function formatTime(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) return undefined;
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A count and the words that agree with it: "1 quedó fuera", "3 quedaron fuera". One is singular, zero
 * plural in all three ("0 contatos", as Brazilian agents write it, though CLDR gives pt's zero the singular).
 */
const plural = (n: number, language: Language, one: Record<Language, string>, many: Record<Language, string>) =>
  `${formatCount(n, language)} ${n === 1 ? one[language] : many[language]}`;

const LEFT_OUT = {
  one: { es: 'quedó fuera', en: 'left out', pt: 'ficou de fora' },
  many: { es: 'quedaron fuera', en: 'left out', pt: 'ficaram de fora' },
};

const UNCONFIRMED = {
  one: { es: 'sin confirmar', en: 'unconfirmed', pt: 'não confirmada' },
  many: { es: 'sin confirmar', en: 'unconfirmed', pt: 'não confirmadas' },
};

const CONTACTS = {
  one: { es: 'contacto', en: 'contact', pt: 'contato' },
  many: { es: 'contactos', en: 'contacts', pt: 'contatos' },
};

function reasonTitle(code: string, language: Language): string {
  const reason: FailureReason = (FAILURE_REASONS as readonly string[]).includes(code)
    ? (code as FailureReason)
    : 'provider_error';
  return describeFailure(reason, language).title;
}

/** The reasons of a messages.failed event, most frequent first: "Title" or "Title (300), Title (200)". */
function reasonsText(byReason: unknown, language: Language): string {
  if (!byReason || typeof byReason !== 'object') return '';
  const entries = Object.entries(byReason as Record<string, unknown>)
    .map(([code, n]) => [code, num(n)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '';
  if (entries.length === 1) return reasonTitle(entries[0]?.[0] ?? '', language);
  const shown = entries.slice(0, 3).map(([code, n]) => `${reasonTitle(code, language)} (${formatCount(n, language)})`);
  const rest = entries.length - shown.length;
  if (rest > 0)
    shown.push(
      `${{ es: 'y', en: 'and', pt: 'e mais' }[language]} ${plural(rest, language, { es: 'motivo más', en: 'more reason', pt: 'motivo' }, { es: 'motivos más', en: 'more reasons', pt: 'motivos' })}`,
    );
  return shown.join(', ');
}

function broadcastError(code: unknown, language: Language): string | undefined {
  if (typeof code !== 'string' || !(code in apiErrors)) return undefined;
  return errorMessage(code as ApiErrorCode, language);
}

/** What an event means, in one sentence for the agent. */
export function eventMessage(type: string, data: Record<string, unknown>, language: Language): string {
  // One sentence per language, picked here: every case below gives all three.
  const say = (words: Localized) => words[language];
  const name =
    typeof data.name === 'string' && data.name
      ? data.name
      : say({ es: 'Transmisión', en: 'Broadcast', pt: 'Transmissão' });
  const n = (value: unknown) => formatCount(num(value), language);
  switch (type) {
    case 'broadcast.scheduled': {
      const at = formatTime(data.at);
      const target = plural(num(data.target), language, CONTACTS.one, CONTACTS.many);
      const what = data.resendOfId
        ? say({ es: 'reenvío programado', en: 're-send scheduled', pt: 'reenvio agendado' })
        : say({ es: 'programada', en: 'scheduled', pt: 'agendada' });
      return at
        ? say({
            es: `${name}: ${what} para el ${at} (${target})`,
            en: `${name}: ${what} for ${at} (${target})`,
            pt: `${name}: ${what} para ${at} (${target})`,
          })
        : `${name}: ${what} (${target})`;
    }
    case 'broadcast.started': {
      const to = plural(num(data.recipients), language, CONTACTS.one, CONTACTS.many);
      const excluded = num(data.excluded);
      const left = excluded > 0 ? `; ${plural(excluded, language, LEFT_OUT.one, LEFT_OUT.many)}` : '';
      return say({
        es: `${name}: comenzó el envío a ${to}${left}`,
        en: `${name}: sending started to ${to}${left}`,
        pt: `${name}: começou o envio para ${to}${left}`,
      });
    }
    case 'broadcast.completed': {
      const excluded = num(data.excluded);
      const uncertain = num(data.uncertain);
      // It went to the unconfirmed too (they may have it): counted among those it was sent to.
      const to = plural(num(data.sent) + uncertain, language, CONTACTS.one, CONTACTS.many);
      // Completed with unconfirmed recipients is not "all delivered": said, as the badge says it.
      const asides = [
        ...(uncertain > 0 ? [plural(uncertain, language, UNCONFIRMED.one, UNCONFIRMED.many)] : []),
        ...(excluded > 0 ? [plural(excluded, language, LEFT_OUT.one, LEFT_OUT.many)] : []),
      ];
      const left = asides.length ? ` (${asides.join(', ')})` : '';
      return say({
        es: `${name}: se envió a ${to}${left}`,
        en: `${name}: sent to ${to}${left}`,
        pt: `${name}: enviada para ${to}${left}`,
      });
    }
    case 'broadcast.partially_failed': {
      const notSent = num(data.failed) + num(data.excluded);
      const total = num(data.sent) + notSent + num(data.uncertain);
      const uncertain = num(data.uncertain);
      const unknown = uncertain > 0 ? ` (${plural(uncertain, language, UNCONFIRMED.one, UNCONFIRMED.many)})` : '';
      const one = notSent === 1;
      return say({
        es: `${name}: ${n(notSent)} de ${n(total)} no se ${one ? 'envió' : 'enviaron'}${unknown}`,
        en: `${name}: ${n(notSent)} of ${n(total)} ${one ? 'was' : 'were'} not sent${unknown}`,
        pt: `${name}: ${n(notSent)} de ${n(total)} não ${one ? 'foi enviada' : 'foram enviadas'}${unknown}`,
      });
    }
    case 'broadcast.failed': {
      const error = broadcastError(data.errorCode, language);
      if (error) return `${name}: ${error}`;
      const total = num(data.sent) + num(data.failed) + num(data.excluded) + num(data.uncertain);
      if (total === 1)
        return say({
          es: `${name}: falló la transmisión; su único mensaje no se envió`,
          en: `${name}: the broadcast failed; its one message did not go out`,
          pt: `${name}: a transmissão falhou; sua única mensagem não foi enviada`,
        });
      return say({
        es: `${name}: falló la transmisión; no se envió ninguno de los ${n(total)} mensajes`,
        en: `${name}: the broadcast failed; none of its ${n(total)} messages went out`,
        pt: `${name}: a transmissão falhou; nenhuma das ${n(total)} mensagens foi enviada`,
      });
    }
    case 'broadcast.cancelled':
      return say({
        es: `${name}: transmisión cancelada`,
        en: `${name}: broadcast cancelled`,
        pt: `${name}: transmissão cancelada`,
      });
    case 'broadcast.paused': {
      const pause = PauseSchema.safeParse(data.pause);
      if (pause.success) return pauseText(name, pause.data, language);
      return say({
        es: `${name}: transmisión pausada`,
        en: `${name}: broadcast paused`,
        pt: `${name}: transmissão pausada`,
      });
    }
    case 'broadcast.resumed': {
      const by = typeof data.by === 'object' && data.by && 'tokenName' in data.by ? String(data.by.tokenName) : '';
      const who = by ? say({ es: ` por ${by}`, en: ` by ${by}`, pt: ` por ${by}` }) : '';
      return say({
        es: `${name}: transmisión reanudada${who}`,
        en: `${name}: broadcast resumed${who}`,
        pt: `${name}: transmissão retomada${who}`,
      });
    }
    case 'messages.failed': {
      const count = num(data.count);
      const messages = data.late
        ? plural(
            count,
            language,
            { es: 'mensaje falló', en: 'message failed', pt: 'mensagem falhou' },
            { es: 'mensajes fallaron', en: 'messages failed', pt: 'mensagens falharam' },
          ) + say({ es: ' después del envío', en: ' after sending', pt: ' depois do envio' })
        : plural(
            count,
            language,
            { es: 'mensaje fallido', en: 'failed message', pt: 'mensagem com falha' },
            { es: 'mensajes fallidos', en: 'failed messages', pt: 'mensagens com falha' },
          );
      const reasons = reasonsText(data.byReason, language);
      return reasons ? `${name}: ${messages} — ${reasons}` : `${name}: ${messages}`;
    }
    case 'resend.scheduled': {
      const original = typeof data.originalName === 'string' ? data.originalName : name;
      const who = plural(num(data.tagged), language, CONTACTS.one, CONTACTS.many);
      const at = formatTime(data.at);
      return say({
        es: `${original}: reenvío a ${who} programado${at ? ` para el ${at}` : ''}`,
        en: `${original}: re-send to ${who} scheduled${at ? ` for ${at}` : ''}`,
        pt: `${original}: reenvio para ${who} agendado${at ? ` para ${at}` : ''}`,
      });
    }
    case 'resend.finished': {
      const sent = plural(
        num(data.sent),
        language,
        { es: 'enviado', en: 'sent', pt: 'enviada' },
        { es: 'enviados', en: 'sent', pt: 'enviadas' },
      );
      const failed = num(data.failed);
      const still =
        failed > 0
          ? `; ${plural(failed, language, { es: 'volvió a fallar', en: 'failed again', pt: 'falhou de novo' }, { es: 'volvieron a fallar', en: 'failed again', pt: 'falharam de novo' })}`
          : '';
      return say({
        es: `${name}: reenvío terminado, ${sent}${still}`,
        en: `${name}: re-send finished, ${sent}${still}`,
        pt: `${name}: reenvio concluído, ${sent}${still}`,
      });
    }
    case 'contact.opt_out_removed': {
      const who = typeof data.name === 'string' && data.name ? data.name : String(data.identifier ?? '');
      const channel = typeof data.channelName === 'string' ? data.channelName : '';
      const note = typeof data.note === 'string' && data.note ? ` («${data.note}»)` : '';
      return say({
        es: `${who}: se quitó la baja en ${channel}; volverá a recibir transmisiones${note}`,
        en: `${who}: opt-out on ${channel} removed; they will get broadcasts again${note}`,
        pt: `${who}: o descadastro em ${channel} foi removido; voltará a receber transmissões${note}`,
      });
    }
    default:
      return `${name}: ${type}`;
  }
}
