/**
 * The one HTTP client adapters use: undici with kept-alive connections, and errors sorted by the only
 * question that matters to the engine: could the request have reached the provider?
 */

import { Agent, buildConnector, type Dispatcher, errors } from 'undici';
import { providerUrlAllowlistFromEnv } from '../config';
import { ProviderUrlRefusedError, providerUrlAllowlistKey, resolveProviderHost } from '../lib/provider-url';
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

const agents = new Map<string, Agent>();
/** The agent of each allowlist array seen: adapters hand the same array with every request. */
const agentOf = new WeakMap<readonly string[], Agent>();

/**
 * Kept-alive connections shared by every adapter in the process (one agent per allowlist). Each new
 * connection resolves the host itself, checks every address (lib/provider-url.ts) and connects to the
 * address it checked, so a name that changed its DNS since the channel was saved still cannot lead the
 * request, and its credentials, into Rebound's own network.
 */
export function httpAgent(allowlist: readonly string[]): Agent {
  const known = agentOf.get(allowlist);
  if (known) return known;
  const key = providerUrlAllowlistKey(allowlist);
  let agent = agents.get(key);
  if (!agent) {
    const connect = buildConnector({ timeout: 5_000 });
    agent = new Agent({
      connections: 256,
      keepAliveTimeout: 30_000,
      connect(options, callback) {
        const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
        resolveProviderHost(options.hostname, port, allowlist).then(
          // `host` keeps the name, so TLS still sends it (SNI) and checks the certificate against it.
          ([address = options.hostname]) => connect({ ...options, hostname: address }, callback),
          (error: Error) => callback(error, null),
        );
      },
    });
    agents.set(key, agent);
  }
  agentOf.set(allowlist, agent);
  return agent;
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
  /** Internal hosts this request may reach anyway (PROVIDER_URL_ALLOWLIST entries). */
  allowlist?: readonly string[];
}

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  // Refused before any connection (a header value a credential stored before its check made invalid).
  'UND_ERR_INVALID_ARG',
  // The TLS handshake failed, before any byte of the request: https:// on a plain port, a certificate
  // expired, self-signed, for another name, or from an issuer nobody trusts.
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The most of an answer kept: providers answer a send in a few hundred bytes. A base URL that streams
 * more (a misconfigured or hostile host) is cut off instead of filling the engine's memory; the request
 * reached it, so the outcome is uncertain.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * One request, answered as status, headers and text. Written on undici's dispatch handler rather than
 * `request()`: the engine sends thousands a second, and `request()` builds a response stream, an async
 * resource and a promise chain for each answer, about 30 µs of CPU a request more than collecting a
 * few hundred bytes. Timeouts, abort and errors are undici's own, as before.
 */
export function httpRequest(url: string, options: HttpRequest = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // A base URL stored before the API checked it could name another scheme: refused, never "maybe sent".
  if (!/^https?:\/\//i.test(url))
    return Promise.reject(new ProviderUrlRefusedError({ reason: 'scheme', host: '', address: '' }));
  let target: URL;
  try {
    target = new URL(url);
  } catch (error) {
    return Promise.reject(classifyNetworkError(error));
  }
  const signal = options.signal === NEVER_ABORTED ? undefined : options.signal;
  if (signal?.aborted) return Promise.reject(classifyNetworkError(abortReason(signal)));
  return new Promise<HttpAnswer>((resolve, reject) => {
    const answer = new Answer(resolve, reject, signal);
    try {
      httpAgent(options.allowlist ?? providerUrlAllowlistFromEnv()).dispatch(
        {
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: options.method ?? 'POST',
          headers: options.headers ?? {},
          body: options.body ?? null,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        answer,
      );
    } catch (error) {
      answer.onResponseError(undefined, error as Error);
    }
  });
}

/** Why a request was aborted: the signal's reason, or undici's own error when it gave none. */
function abortReason(signal: AbortSignal): Error {
  return signal.reason ?? new errors.RequestAbortedError();
}

/** Collects one answer for httpRequest: a class, so that each request allocates one object, not six closures. */
class Answer implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: HttpAnswer['headers'] = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (error: Error) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const signal = this.signal;
    if (!signal) return;
    // Aborted while connecting (DNS, the allowlist check, the connect, a free connection): nothing is written.
    if (signal.aborted) {
      controller.abort(abortReason(signal));
      return;
    }
    this.onAbort = () => controller.abort(abortReason(signal));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: HttpAnswer['headers'],
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > MAX_ANSWER_BYTES) {
      controller.abort(new MaybeSentError(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.settle();
    const { chunks } = this;
    const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.resolve({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.settle();
    this.reject(classifyNetworkError(error));
  }

  private settle(): void {
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

export function classifyNetworkError(error: unknown): NotSentError | MaybeSentError | ProviderUrlRefusedError {
  if (error instanceof ProviderUrlRefusedError || error instanceof MaybeSentError || error instanceof NotSentError)
    return error;
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
  // Refused before connecting: nothing left, and sending again would be refused the same way.
  if (error instanceof ProviderUrlRefusedError)
    return { kind: 'failed', providerCode: 'connection', providerMessage: error.message };
  if (error instanceof NotSentError)
    return { kind: 'retry', providerCode: 'connection', providerMessage: error.message };
  return { kind: 'uncertain', providerMessage: error instanceof Error ? error.message : String(error) };
}

/** Longest provider text kept in the failure log. */
export const PROVIDER_TEXT_MAX = 300;

/**
 * A field read from the provider's error format as the failure log may show it: markup and control
 * characters (C0, C1, bidirectional overrides) become spaces, and it is capped at PROVIDER_TEXT_MAX.
 */
export function providerText(value: string): string {
  const text = value
    .replace(/<[^>]*>?/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > PROVIDER_TEXT_MAX ? `${text.slice(0, PROVIDER_TEXT_MAX - 1)}…` : text;
}

/** A code read from a provider's answer, when it looks like one (digits, letters, a few separators). */
export function providerCodeText(value: unknown): string | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const code = String(value).trim();
  return /^[\w.:-]{1,40}$/.test(code) ? code : undefined;
}

/**
 * An answer that is not in the provider's error format says only its status: a body from anything else
 * (a proxy, an internal page) is never shown.
 */
export function unrecognizedAnswer(status: number): string {
  return `HTTP ${status} (the answer was not in the provider's format)`;
}
