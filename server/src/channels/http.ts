/**
 * The one HTTP client adapters use: undici with kept-alive connections, and errors sorted by the only
 * question that matters to the engine: could the request have reached the provider?
 */
import { Agent, errors, request } from 'undici';
import type { SendOutcome } from './types';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** The request never left (refused, DNS, connect timeout): sending again is safe. */
export class NotSentError extends Error {
  override name = 'NotSentError';
}

/** The request may have reached the provider (timeout while waiting, connection dropped): do not resend. */
export class MaybeSentError extends Error {
  override name = 'MaybeSentError';
}

let sharedAgent: Agent | undefined;

/** Kept-alive connections shared by every adapter in the process. */
export function httpAgent(): Agent {
  sharedAgent ??= new Agent({ connections: 256, keepAliveTimeout: 30_000, connectTimeout: 5_000 });
  return sharedAgent;
}

/**
 * The signal to give when there is nothing to cancel (timeouts are `timeoutMs`). undici attaches a
 * listener to every signal it is handed, a cost per request at thousands a second; this one it never sees.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Gives up waiting for an answer after this long; the outcome is then uncertain. */
  timeoutMs?: number;
}

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export async function httpRequest(url: string, options: HttpRequest = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const res = await request(url, {
      method: options.method ?? 'POST',
      headers: options.headers ?? {},
      body: options.body ?? null,
      signal: options.signal === NEVER_ABORTED ? null : (options.signal ?? null),
      dispatcher: httpAgent(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  } catch (error) {
    throw classifyNetworkError(error);
  }
}

export function classifyNetworkError(error: unknown): NotSentError | MaybeSentError {
  const code =
    (error as { code?: string; cause?: { code?: string } }).code ??
    (error as { cause?: { code?: string } }).cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof errors.ConnectTimeoutError || (code && NOT_SENT_CODES.has(code))) {
    return new NotSentError(`${code ?? 'connect'}: ${message}`);
  }
  return new MaybeSentError(`${code ?? (error instanceof Error ? error.name : 'error')}: ${message}`);
}

/** Retry-After in seconds or an HTTP date, as milliseconds. */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * What a failed request means for the recipient: never sent, so safe to retry; or possibly sent,
 * so uncertain until a delivery report says otherwise. Every adapter ends its request this way.
 */
export function networkOutcome(error: unknown): SendOutcome {
  if (error instanceof NotSentError)
    return { kind: 'retry', providerCode: 'connection', providerMessage: error.message };
  return { kind: 'uncertain', providerMessage: error instanceof Error ? error.message : String(error) };
}
