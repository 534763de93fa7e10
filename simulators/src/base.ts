/**
 * The part every provider simulator shares: an HTTP server on 127.0.0.1, per-recipient scripts,
 * a log of every send request, and delivery callbacks posted (signed) to Rebound's webhook.
 * Each provider module only describes its wire format: how a send request looks, and how the
 * provider answers and calls back.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the simulator does with a send request to one recipient. */
export type Behavior =
  | { kind: 'accept' }
  /** Refuse at once with the provider's error for this code (e.g. WhatsApp "131026", Twilio "21610"). */
  | { kind: 'fail'; code: string; message?: string }
  /** Answer 429 (with Retry-After or the provider's own field) `times` times, then accept. */
  | { kind: 'throttle'; retryAfterSeconds?: number; times?: number }
  /** Answer 5xx `times` times, then accept. */
  | { kind: 'serverError'; times?: number }
  /** Read the request and never answer. */
  | { kind: 'hang' }
  /** Read the request, then drop the connection without answering. */
  | { kind: 'reset' }
  /** Accept, then report a failure with this code through a signed delivery callback. */
  | { kind: 'failLater'; code: string; message?: string; delayMs?: number }
  /** Accept, then report delivery through a signed delivery callback. */
  | { kind: 'deliverLater'; delayMs?: number };

/** A send request as the simulator understood it. */
export interface ParsedSend {
  recipient: string;
  /** The client reference Rebound sent (WhatsApp biz_opaque_callback_data, Vonage client-ref, ...), if any. */
  clientRef?: string;
  /** A per-message callback URL given in the request (Twilio StatusCallback, MessageBird reportUrl), if any. */
  callbackUrl?: string;
  body: unknown;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface Callback {
  url: string;
  method?: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

export interface CallbackContext {
  providerMessageId: string;
  recipient: string;
  clientRef?: string;
  /** The callback URL from the request, else the simulator's configured webhook URL. */
  url: string;
}

/** The wire format of one provider. */
export interface ProviderFormat {
  name: string;
  /**
   * Reads a request. Returns the parsed send, or a response to give at once (unknown path, bad auth,
   * malformed body) exactly as the provider would.
   */
  parseSend(request: {
    method: string;
    url: URL;
    headers: IncomingMessage['headers'];
    rawBody: string;
  }): ParsedSend | SimResponse;
  newMessageId(): string;
  accept(providerMessageId: string, send: ParsedSend): SimResponse;
  fail(code: string, message: string | undefined, send: ParsedSend): SimResponse;
  throttle(retryAfterSeconds: number, send: ParsedSend): SimResponse;
  serverError(send: ParsedSend): SimResponse;
  /** The signed callback for a later outcome, or null when the provider has no such callback. */
  callback(
    outcome: { kind: 'delivered' } | { kind: 'failed'; code: string; message?: string },
    context: CallbackContext,
  ): Callback | null;
}

export interface SentRequest {
  recipient: string;
  at: number;
  behavior: Behavior['kind'];
  body: unknown;
}

export interface SimulatorOptions {
  port?: number;
  /** Where callbacks go when a request names no callback URL of its own. */
  webhookUrl?: string;
  /** Delay before each answer, to stand in for the provider's latency. */
  latencyMs?: number;
}

export class ProviderSimulator {
  readonly requests: SentRequest[] = [];
  /** Callbacks posted, with the answer Rebound gave. */
  readonly callbacks: { url: string; status: number; body?: string }[] = [];
  private readonly scripts = new Map<string, Behavior>();
  private readonly attempts = new Map<string, number>();
  private defaultBehavior: Behavior = { kind: 'accept' };
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pendingCallbacks = new Set<Promise<void>>();
  baseUrl = '';
  webhookUrl: string | undefined;

  constructor(
    readonly format: ProviderFormat,
    private readonly options: SimulatorOptions = {},
  ) {
    this.webhookUrl = options.webhookUrl;
  }

  /** Scripts what happens to sends to one recipient (as the provider sees it: E.164, PSID, chat ID). */
  script(recipient: string, behavior: Behavior): this {
    this.scripts.set(normalizeRecipient(recipient), behavior);
    return this;
  }

  setDefault(behavior: Behavior): this {
    this.defaultBehavior = behavior;
    return this;
  }

  reset(): void {
    this.scripts.clear();
    this.attempts.clear();
    this.requests.length = 0;
    this.callbacks.length = 0;
    this.defaultBehavior = { kind: 'accept' };
  }

  /** How many send requests reached the simulator for a recipient. */
  countFor(recipient: string): number {
    const key = normalizeRecipient(recipient);
    return this.requests.filter((r) => normalizeRecipient(r.recipient) === key).length;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server?.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Waits for callbacks already due to be posted. */
  async settle(): Promise<void> {
    while (this.timers.size > 0 || this.pendingCallbacks.size > 0) {
      await Promise.all([...this.pendingCallbacks]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith('/__simulator/')) return this.control(url, req.method ?? 'GET', rawBody, res);

    const parsed = this.format.parseSend({ method: req.method ?? 'GET', url, headers: req.headers, rawBody });
    if ('status' in parsed) return this.respond(res, parsed);

    const key = normalizeRecipient(parsed.recipient);
    const behavior = this.scripts.get(key) ?? this.defaultBehavior;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    this.requests.push({ recipient: parsed.recipient, at: Date.now(), behavior: behavior.kind, body: parsed.body });

    switch (behavior.kind) {
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'fail':
        return this.respond(res, this.format.fail(behavior.code, behavior.message, parsed));
      case 'throttle':
        if (attempt <= (behavior.times ?? Number.POSITIVE_INFINITY)) {
          return this.respond(res, this.format.throttle(behavior.retryAfterSeconds ?? 1, parsed));
        }
        break;
      case 'serverError':
        if (attempt <= (behavior.times ?? Number.POSITIVE_INFINITY))
          return this.respond(res, this.format.serverError(parsed));
        break;
    }
    const providerMessageId = this.format.newMessageId();
    await this.respond(res, this.format.accept(providerMessageId, parsed));
    if (behavior.kind === 'failLater' || behavior.kind === 'deliverLater') {
      const outcome =
        behavior.kind === 'failLater'
          ? {
              kind: 'failed' as const,
              code: behavior.code,
              ...(behavior.message !== undefined && { message: behavior.message }),
            }
          : { kind: 'delivered' as const };
      this.later(behavior.delayMs ?? 20, () => this.postCallback(outcome, providerMessageId, parsed));
    }
  }

  private later(delayMs: number, run: () => Promise<void>) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const pending = run().finally(() => this.pendingCallbacks.delete(pending));
      this.pendingCallbacks.add(pending);
    }, delayMs);
    this.timers.add(timer);
  }

  private async postCallback(
    outcome: { kind: 'delivered' } | { kind: 'failed'; code: string; message?: string },
    providerMessageId: string,
    send: ParsedSend,
  ): Promise<void> {
    const url = send.callbackUrl ?? this.webhookUrl;
    if (!url) return;
    const callback = this.format.callback(outcome, {
      providerMessageId,
      recipient: send.recipient,
      url,
      ...(send.clientRef !== undefined && { clientRef: send.clientRef }),
    });
    if (!callback) return;
    try {
      const res = await fetch(callback.url, {
        method: callback.method ?? 'POST',
        headers: callback.headers,
        ...(callback.body !== undefined && { body: callback.body }),
      });
      this.callbacks.push({ url: callback.url, status: res.status, body: await res.text() });
    } catch (error) {
      this.callbacks.push({ url: callback.url, status: 0, body: String(error) });
    }
  }

  private async respond(res: ServerResponse, response: SimResponse): Promise<void> {
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    if (res.destroyed) return;
    res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
    res.end(response.body);
  }

  /** A small HTTP control surface, for simulators driven from another process (the demo, child-process tests). */
  private control(url: URL, method: string, rawBody: string, res: ServerResponse) {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const body = rawBody ? (JSON.parse(rawBody) as Record<string, unknown>) : {};
    switch (`${method} ${url.pathname}`) {
      case 'POST /__simulator/script':
        this.script(String(body.recipient), body.behavior as Behavior);
        return json(200, { ok: true });
      case 'POST /__simulator/default':
        this.setDefault(body.behavior as Behavior);
        return json(200, { ok: true });
      case 'POST /__simulator/webhook':
        this.webhookUrl = String(body.url);
        return json(200, { ok: true });
      case 'POST /__simulator/reset':
        this.reset();
        return json(200, { ok: true });
      case 'GET /__simulator/requests':
        return json(200, { requests: this.requests });
      default:
        return json(404, { error: 'unknown simulator control path' });
    }
  }
}

/** Providers write phone numbers with or without +; scripts and counts ignore the difference. */
export function normalizeRecipient(recipient: string): string {
  return recipient.replace(/^\+/, '');
}
