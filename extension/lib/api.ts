/**
 * The Rebound API as the extension uses it. Only the background calls it (it holds the host permission
 * and the token); pages and content scripts reach it through messaging (lib/messaging.ts).
 */
import type {
  AttentionList,
  Broadcast,
  BroadcastEvent,
  Channel,
  Contact,
  EventPage,
  FailedMessage,
  FailureDescription,
  FailureSummary,
  Me,
  ResendBody,
  ResendResult,
} from '@rebound/shared';
import { API_LEVEL, API_LEVEL_HEADER } from '@rebound/shared/api-level';
import type { Language } from '@rebound/shared/i18n';

/** An error with the server's own words (the API answers in the agent's language). */
export class ReboundError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ReboundError';
  }
}

export interface ApiOptions {
  backendUrl: string;
  token: string;
  language: Language;
  fetch?: typeof fetch;
}

export type Api = ReturnType<typeof createApi>;

export function createApi(options: ApiOptions) {
  const base = normalizeBackendUrl(options.backendUrl);
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await send(method, path, body, signal);
    return (await response.json()) as T;
  }

  /**
   * A heavy read (a search, a re-send's preview) refused for the heavy limit was not done: asked again
   * after Retry-After (5 s at most, three times), rather than shown as the answer.
   */
  async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const response = await sendOnce(method, path, body, signal);
      if (response.status !== 429 || attempt > 3) return checked(response);
      // Only the heavy limit: a refusal for bad tokens is not helped by asking again.
      const refused = (await response
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: string } } | null;
      if (refused?.error?.code !== 'too_many_heavy_operations') return checked(response);
      const seconds = Math.min(5, Math.max(1, Number(response.headers.get('Retry-After')) || 1));
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      if (signal?.aborted) return checked(response);
    }
  }

  async function sendOnce(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    // A server saved before plain http:// elsewhere was refused (connect): the token is not sent to it.
    if (plainHttpElsewhere(base)) throw new ReboundError('insecure_url', base);
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${options.token}`,
          'Accept-Language': options.language,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ReboundError('network', base);
    }
    return response;
  }

  async function checked(response: Response): Promise<Response> {
    // A server from before this extension's level (or before the header) cannot be trusted to answer
    // what is asked: said as such, before any answer is read.
    if (Number(response.headers.get(API_LEVEL_HEADER) ?? 0) < API_LEVEL) {
      throw new ReboundError('server_outdated', base, response.status);
    }
    if (!response.ok) {
      const payload = (await response.json().catch(() => null)) as {
        error?: { code?: string; message?: string };
      } | null;
      throw new ReboundError(
        payload?.error?.code ?? `http_${response.status}`,
        payload?.error?.message ?? `HTTP ${response.status}`,
        response.status,
      );
    }
    return response;
  }

  return {
    baseUrl: base,
    /** Whether these settings still name this server and token: what this API brought belongs to them. */
    isFor: (settings: { backendUrl: string; token: string }) =>
      settings.token === options.token && sameBackend(settings.backendUrl, base),
    me: () => request<Me>('GET', '/api/v1/me'),
    broadcasts: (
      query: { names?: string[]; ids?: number[]; limit?: number; resendOfId?: number; resendOfIds?: number[] } = {},
    ) => {
      const params = new URLSearchParams({ limit: String(query.limit ?? 50) });
      for (const name of query.names ?? []) params.append('name', name);
      for (const id of query.ids ?? []) params.append('id', String(id));
      if (query.resendOfId !== undefined) params.set('resendOfId', String(query.resendOfId));
      for (const id of query.resendOfIds ?? []) params.append('resendOfId', String(id));
      return request<{ data: Broadcast[]; nextCursor: string | null }>('GET', `/api/v1/broadcasts?${params}`);
    },
    broadcast: async (id: number) => request<Broadcast>('GET', `/api/v1/broadcasts/${idIn(id)}`),
    /** The broadcasts that need an agent, newest first (the rule in @rebound/shared's attention.ts). */
    attention: (limit = 100) => request<AttentionList>('GET', `/api/v1/broadcasts/attention?limit=${limit}`),
    summary: async (broadcastId: number) =>
      request<FailureSummary>('GET', `/api/v1/failed-messages/summary?broadcastId=${idIn(broadcastId)}`),
    failedMessages: (query: {
      contactId?: number;
      broadcastId?: number;
      reason?: string;
      cursor?: string;
      limit?: number;
    }) => {
      const params = new URLSearchParams();
      if (query.contactId !== undefined) params.set('contactId', String(query.contactId));
      if (query.broadcastId !== undefined) params.set('broadcastId', String(query.broadcastId));
      if (query.reason) params.set('reason', query.reason);
      if (query.cursor) params.set('cursor', query.cursor);
      params.set('limit', String(query.limit ?? 20));
      return request<{ data: FailedMessage[]; nextCursor: string | null }>('GET', `/api/v1/failed-messages?${params}`);
    },
    /** The failed-messages CSV of one broadcast (one reason), with a BOM so that Excel reads the accents. */
    failedCsv: async (query: { broadcastId: number; reason?: string }) => {
      const params = new URLSearchParams({ broadcastId: String(query.broadcastId), bom: 'true' });
      if (query.reason) params.set('reason', query.reason);
      const response = await send('GET', `/api/v1/exports/failed-messages.csv?${params}`);
      const disposition = response.headers.get('Content-Disposition') ?? '';
      const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? 'failed-messages.csv';
      // Not response.text(): its UTF-8 decoding drops the BOM the server wrote for Excel.
      return { name, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer()) };
    },
    contact: (ref: string) => request<Contact>('GET', `/api/v1/contacts/${encodeURIComponent(ref)}`),
    failureReasons: () => request<{ data: FailureDescription[] }>('GET', '/api/v1/failure-reasons'),
    channels: () => request<{ data: Channel[] }>('GET', '/api/v1/channels'),
    resume: async (broadcastId: number) => request<Broadcast>('POST', `/api/v1/broadcasts/${idIn(broadcastId)}/resume`),
    resumeChannel: async (channelId: number) => request<Channel>('POST', `/api/v1/channels/${idIn(channelId)}/resume`),
    cancelResend: async (broadcastId: number, resendIds: number[]) =>
      request<{ cancelled: number[] }>('POST', `/api/v1/broadcasts/${idIn(broadcastId)}/resend/cancel`, { resendIds }),
    resend: async (broadcastId: number, body: ResendBody) =>
      request<ResendResult>('POST', `/api/v1/broadcasts/${idIn(broadcastId)}/resend`, body),
    events: (since: string | null) =>
      // The server writes each type's data by shared's eventDataSchemas: the page reads as typed events.
      request<Omit<EventPage, 'data'> & { data: BroadcastEvent[] }>(
        'GET',
        `/api/v1/events?wait=0&limit=100${since ? `&since=${since}` : ''}`,
      ),
    /** The live stream; the caller reads it with an SSE parser. */
    eventStream: (since: string | null, signal: AbortSignal) =>
      send('GET', `/api/v1/events${since ? `?since=${since}` : ''}`, undefined, signal),
  };
}

/**
 * An ID as it goes into a path: a positive whole number, nothing else. A message's ID comes from a
 * content script, which a page's script may have taken over: "42/schedule?" would reach another route.
 */
function idIn(id: unknown): string {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw new ReboundError('bad_id', 'not an ID');
  return String(id);
}

/**
 * A server on another machine over plain http://: every request carries the agent's token, which anyone on
 * the way (the office Wi-Fi) would read. Only this computer's own server may go without TLS.
 */
export function plainHttpElsewhere(backendUrl: string): boolean {
  const { protocol, hostname } = new URL(backendUrl.trim());
  return protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/** "http://127.0.0.1:8787/" → "http://127.0.0.1:8787"; throws on anything that is not an http(s) URL. */
function sameBackend(input: string, base: string): boolean {
  try {
    return normalizeBackendUrl(input) === base;
  } catch {
    return false;
  }
}

export function normalizeBackendUrl(input: string): string {
  const url = new URL(input.trim());
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('not http');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
