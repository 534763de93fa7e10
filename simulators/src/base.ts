/**
 * The part every provider simulator shares: an HTTP server on 127.0.0.1, per-recipient scripts,
 * a log of every send request, and delivery callbacks posted (signed) to Rebound's webhook.
 * Each provider module only describes its wire format: how a send request looks, and how the
 * provider answers and calls back.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  /**
   * Read the request, then drop the connection without answering. The provider did not take the
   * message; with `afterAccept` it did (it goes out, its callbacks follow) and only the answer is lost.
   * Either way the client cannot tell: the request may have been sent.
   */
  | { kind: 'reset'; afterAccept?: boolean }
  /** Accept, then report a failure with this code through a signed delivery callback. */
  | { kind: 'failLater'; code: string; message?: string; delayMs?: number }
  /**
   * Accept, then report delivery through a signed delivery callback; `readShare` of them (0 to 1, spread
   * evenly over the sends) are then reported read, where the provider reports reading (WhatsApp).
   */
  | { kind: 'deliverLater'; delayMs?: number; readShare?: number };

/**
 * Something a contact does that the provider reports by webhook on its own, not as the outcome of a
 * send. What each becomes is the provider's business (see each format's contactEvent()).
 */
export type ContactEvent =
  /** The contact writes to the business. On SMS, a keyword such as STOP is how a contact opts out. */
  | { kind: 'message'; from: string; text: string; at?: Date }
  /** The contact opts out or blocks the business (WhatsApp user_preferences "stop", Telegram block, SMS STOP). */
  | { kind: 'optOut'; from: string; at?: Date }
  /** The contact takes it back (WhatsApp "resume", Telegram unblock, SMS START). */
  | { kind: 'optIn'; from: string; at?: Date };

/**
 * Something the provider reports about the business account itself, not about one contact: WhatsApp's
 * message_template_status_update (Meta paused or disabled a template) and phone_number_quality_update.
 */
export type AccountEvent =
  | { kind: 'templateStatus'; template: string; language?: string; event: string; reason?: string; at?: Date }
  | { kind: 'numberQuality'; event: string; currentLimit?: string; at?: Date };

/**
 * A spike of failures for the quality guard: after the first `after` sends, `share` of the later ones
 * (spread evenly: with 0.1, every tenth) fail with `code`, as contacts blocking or reporting the number.
 */
export interface Spike {
  after: number;
  share: number;
  code: string;
  message?: string;
}

/** A contact event as the provider reports it, and whether the provider itself now refuses sends to the contact. */
export interface ContactEventReport {
  callback: Callback | null;
  /** "out": later sends to the contact fail with the format's opt-out error; "in": they go through again. */
  subscription?: 'out' | 'in';
}

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
  /** The signed report that the contact read the message; absent when the provider reports no reading (SMS). */
  readCallback?(context: CallbackContext): Callback;
  /** A contact event as the provider posts it to `url`, signed; absent when the provider reports none. */
  contactEvent?(event: ContactEvent, url: string): ContactEventReport;
  /**
   * The error the provider answers a send to a contact who opted out with (WhatsApp 131050 for
   * marketing templates, Twilio 21610, Telegram 403 blocked); undefined when this send still goes through.
   */
  optOutFailure?(send: ParsedSend): { code: string; message?: string } | undefined;
  /** An account event as the provider posts it to `url`, signed; absent when the provider reports none. */
  accountEvent?(event: AccountEvent, url: string): Callback;
}

export interface SentRequest {
  recipient: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
  behavior: Behavior['kind'];
  body: unknown;
  /** The provider took the message: it goes out (whether or not the answer reaches the client). */
  accepted: boolean;
  /**
   * The HTTP status of the answer, once all of it was handed to the connection; never set when the
   * connection was dropped first (reset, restart) or the request hangs.
   */
  status?: number;
}

/**
 * Faults drawn at random for recipients without a script of their own, per request, as shares of
 * requests (0 to 1). The draw for a recipient's n-th request depends only on the seed, the recipient
 * and n, so a run is reproducible whatever order the requests come in.
 */
export interface Faults {
  /** Answered with the provider's throttling error (429 with Retry-After or retry_after). */
  throttle?: number;
  /** Answered with the provider's 5xx error, before processing. */
  serverError?: number;
  /** Read, then the connection dropped: not taken by the provider. */
  reset?: number;
  /** Taken by the provider, then the connection dropped before the answer. */
  resetAfterAccept?: number;
  /** The wait throttling answers ask for (default 1). */
  retryAfterSeconds?: number;
  seed?: number;
}

/** A restart of the simulator: the connections it cut and the requests it dropped unanswered. */
export interface Restart {
  at: number;
  /**
   * Connections open at the moment (busy or idle), counting those the kernel completed but the server
   * had not accepted yet: each may have carried a request not yet read.
   */
  connections: number;
  /** Requests read and not yet answered, whose answers were lost. */
  dropped: number;
}

export interface SimulatorOptions {
  port?: number;
  /** Where callbacks go when a request names no callback URL of its own. */
  webhookUrl?: string;
  /** Where contact events go (Twilio: the number's "A message comes in" URL); default webhookUrl. */
  inboundUrl?: string;
  /** Delay before each answer, to stand in for the provider's latency. */
  latencyMs?: number;
}

export class ProviderSimulator {
  readonly requests: SentRequest[] = [];
  /** Callbacks posted, with the answer Rebound gave. */
  /** Each callback posted: Rebound's answer (status, body) and the signed request itself (to post again as a replay). */
  readonly callbacks: { url: string; status: number; body?: string; request?: Callback }[] = [];
  /** Every restart(), in order. */
  readonly restarts: Restart[] = [];
  private readonly scripts = new Map<string, Behavior>();
  /** Contacts the provider itself refuses to message now (they opted out through emit()). */
  private readonly optedOut = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private defaultBehavior: Behavior = { kind: 'accept' };
  /** Deliveries reported so far, to spread a deliverLater's readShare evenly. */
  private delivered = 0;
  private faults: Faults | undefined;
  private spike: Spike | undefined;
  /** Send requests read so far (what a spike counts). */
  private sends = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Requests read and not yet answered. */
  private readonly unanswered = new Set<SentRequest>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pendingCallbacks = new Set<Promise<void>>();
  baseUrl = '';
  webhookUrl: string | undefined;
  inboundUrl: string | undefined;

  constructor(
    readonly format: ProviderFormat,
    private readonly options: SimulatorOptions = {},
  ) {
    this.webhookUrl = options.webhookUrl;
    this.inboundUrl = options.inboundUrl;
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

  /** Random faults for recipients without a script (the default behavior for the rest); undefined clears them. */
  setFaults(faults: Faults | undefined): this {
    this.faults = faults;
    return this;
  }

  /** Failures from the `after`-th send on, for recipients without a script; undefined clears it. */
  setSpike(spike: Spike | undefined): this {
    this.spike = spike;
    this.sends = 0;
    return this;
  }

  /**
   * The provider reports something about the account (a template paused, the number flagged): the
   * signed request goes to `url`, else webhookUrl, and is recorded in `callbacks` with Rebound's answer.
   */
  async signal(event: AccountEvent, url?: string): Promise<{ status: number; body: string }> {
    const target = url ?? this.webhookUrl;
    const callback = target ? this.format.accountEvent?.(event, target) : undefined;
    if (!callback)
      throw new Error(`${this.format.name}: no webhook for a "${event.kind}" event (or no URL to post it to)`);
    return this.post(callback);
  }

  reset(): void {
    this.spike = undefined;
    this.sends = 0;
    this.scripts.clear();
    this.optedOut.clear();
    this.attempts.clear();
    this.requests.length = 0;
    this.callbacks.length = 0;
    this.restarts.length = 0;
    this.defaultBehavior = { kind: 'accept' };
    this.faults = undefined;
  }

  /**
   * The contact does something the provider reports by webhook (writes, opts out, opts back in): the
   * signed request goes to `url`, else inboundUrl, else webhookUrl, and is recorded in `callbacks`
   * with Rebound's answer. An opt-out also makes the provider refuse later sends to the contact, as
   * the real one does, until an opt-in. Returns Rebound's answer (status 0 when it could not be reached).
   */
  async emit(event: ContactEvent, url?: string): Promise<{ status: number; body: string }> {
    const target = url ?? this.inboundUrl ?? this.webhookUrl;
    const report = target ? this.format.contactEvent?.(event, target) : undefined;
    if (!report)
      throw new Error(`${this.format.name}: no webhook for a "${event.kind}" event (or no URL to post it to)`);
    const key = normalizeRecipient(event.from);
    if (report.subscription === 'out') this.optedOut.add(key);
    if (report.subscription === 'in') this.optedOut.delete(key);
    if (!report.callback) return { status: 0, body: '' };
    return this.post(report.callback);
  }

  /** Requests read and not yet answered (waiting out the latency, or hanging). */
  get pending(): number {
    return this.unanswered.size + this.hanging.size;
  }

  /** How many send requests reached the simulator for a recipient. */
  countFor(recipient: string): number {
    const key = normalizeRecipient(recipient);
    return this.requests.filter((r) => normalizeRecipient(r.recipient) === key).length;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    // Listening again after a restart takes the same port.
    const port = this.baseUrl ? Number(new URL(this.baseUrl).port) : (this.options.port ?? 0);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /**
   * Stops listening and listens again on the same port, as a provider's restart looks from outside:
   * every connection is cut, requests read and not yet answered lose their answers, and while it is
   * down connections are refused. What the provider already took still goes out: callbacks due are kept.
   */
  async restart({ downMs = 0 }: { downMs?: number } = {}): Promise<Restart> {
    const restart: Restart = {
      at: Date.now(),
      connections: this.sockets.size + acceptBacklog(Number(new URL(this.baseUrl).port)),
      dropped: this.unanswered.size + this.hanging.size,
    };
    this.restarts.push(restart);
    await this.close();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
    return restart;
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
    await this.close();
  }

  /** Stops listening and cuts every connection, answered or not. */
  private async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    // closeAllConnections() only knows sockets with an HTTP parser: cut the rest too.
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.unanswered.clear();
    await closed;
  }

  /** The spike's failure for this send, when it is one of its share. */
  private spiked(): Behavior | undefined {
    const n = ++this.sends;
    const spike = this.spike;
    if (!spike || n <= spike.after) return undefined;
    const k = n - spike.after;
    if (Math.floor(k * spike.share) === Math.floor((k - 1) * spike.share)) return undefined;
    return { kind: 'fail', code: spike.code, ...(spike.message !== undefined && { message: spike.message }) };
  }

  /** What to do with a request to an unscripted recipient: a random fault, or the default behavior. */
  private behaviorFor(key: string, attempt: number): Behavior {
    const faults = this.faults;
    if (!faults) return this.defaultBehavior;
    let draw = uniform(`${faults.seed ?? 0}:${key}:${attempt}`);
    const pick = (share: number | undefined) => {
      draw -= share ?? 0;
      return draw < 0;
    };
    if (pick(faults.throttle)) return { kind: 'throttle', retryAfterSeconds: faults.retryAfterSeconds ?? 1 };
    if (pick(faults.serverError)) return { kind: 'serverError' };
    if (pick(faults.reset)) return { kind: 'reset' };
    if (pick(faults.resetAfterAccept)) return { kind: 'reset', afterAccept: true };
    return this.defaultBehavior;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Stamped on arrival (its headers read), not after the body: reading takes turns of a busy event loop.
    const at = Date.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // The connection went away before the request was read (a restart): nothing reached the provider.
      return;
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith('/__simulator/')) return this.control(url, req.method ?? 'GET', rawBody, res);

    const parsed = this.format.parseSend({ method: req.method ?? 'GET', url, headers: req.headers, rawBody });
    if ('status' in parsed) return this.respond(res, parsed);

    const key = normalizeRecipient(parsed.recipient);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const refusal = this.optedOut.has(key) ? this.format.optOutFailure?.(parsed) : undefined;
    const behavior =
      this.scripts.get(key) ??
      (refusal ? ({ kind: 'fail', ...refusal } satisfies Behavior) : (this.spiked() ?? this.behaviorFor(key, attempt)));
    const entry: SentRequest = {
      recipient: parsed.recipient,
      at,
      behavior: behavior.kind,
      body: parsed.body,
      accepted: false,
    };
    this.requests.push(entry);

    switch (behavior.kind) {
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'reset':
        if (!behavior.afterAccept) {
          req.socket.destroy();
          return;
        }
        break;
      case 'fail':
        return this.respond(res, this.format.fail(behavior.code, behavior.message, parsed), entry);
      case 'throttle':
        if (attempt <= (behavior.times ?? Number.POSITIVE_INFINITY)) {
          return this.respond(res, this.format.throttle(behavior.retryAfterSeconds ?? 1, parsed), entry);
        }
        break;
      case 'serverError':
        if (attempt <= (behavior.times ?? Number.POSITIVE_INFINITY))
          return this.respond(res, this.format.serverError(parsed), entry);
        break;
    }
    const providerMessageId = this.format.newMessageId();
    entry.accepted = true;
    // Taken, then the connection lost: what follows (callbacks) is as for any message, the default behavior.
    const then = behavior.kind === 'reset' ? this.defaultBehavior : behavior;
    if (behavior.kind === 'reset') req.socket.destroy();
    else await this.respond(res, this.format.accept(providerMessageId, parsed), entry);
    if (then.kind === 'failLater' || then.kind === 'deliverLater') {
      const outcome =
        then.kind === 'failLater'
          ? {
              kind: 'failed' as const,
              code: then.code,
              ...(then.message !== undefined && { message: then.message }),
            }
          : { kind: 'delivered' as const };
      this.later(then.delayMs ?? 20, () => this.postCallback(outcome, providerMessageId, parsed));
      // Read a moment after delivery, where the provider reports reading (WhatsApp): the demo's funnel.
      if (then.kind === 'deliverLater' && then.readShare) {
        const share = Math.min(1, Math.max(0, then.readShare));
        this.delivered++;
        if (Math.floor(this.delivered * share) > Math.floor((this.delivered - 1) * share))
          this.later((then.delayMs ?? 20) * 2, () => this.postCallback({ kind: 'read' }, providerMessageId, parsed));
      }
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
    outcome: { kind: 'delivered' } | { kind: 'read' } | { kind: 'failed'; code: string; message?: string },
    providerMessageId: string,
    send: ParsedSend,
  ): Promise<void> {
    const url = send.callbackUrl ?? this.webhookUrl;
    if (!url) return;
    const context = {
      providerMessageId,
      recipient: send.recipient,
      url,
      ...(send.clientRef !== undefined && { clientRef: send.clientRef }),
    };
    const callback =
      outcome.kind === 'read' ? (this.format.readCallback?.(context) ?? null) : this.format.callback(outcome, context);
    if (!callback) return;
    await this.post(callback);
  }

  /** Posts a signed callback and records Rebound's answer. */
  private async post(callback: Callback): Promise<{ status: number; body: string }> {
    let answer: { status: number; body: string };
    try {
      answer = await postCallback(callback);
    } catch (error) {
      answer = { status: 0, body: String(error) };
    }
    this.callbacks.push({ url: callback.url, ...answer, request: callback });
    return answer;
  }

  private async respond(res: ServerResponse, response: SimResponse, entry?: SentRequest): Promise<void> {
    if (entry) this.unanswered.add(entry);
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    if (entry) this.unanswered.delete(entry);
    if (res.destroyed) return;
    // Answered once the whole answer is handed to the connection, not when it is queued in this process.
    if (entry) res.once('finish', () => (entry.status = response.status));
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
      case 'POST /__simulator/faults':
        this.setFaults(body.faults as Faults | undefined);
        return json(200, { ok: true });
      case 'POST /__simulator/restart':
        // Answered first: the restart cuts this connection too.
        json(200, { ok: true });
        res.once('finish', () => void this.restart({ downMs: Number(body.downMs ?? 0) }));
        return;
      case 'POST /__simulator/webhook':
        this.webhookUrl = String(body.url);
        if (typeof body.inboundUrl === 'string') this.inboundUrl = body.inboundUrl;
        return json(200, { ok: true });
      case 'POST /__simulator/emit': {
        const event = body.event as ContactEvent;
        const at = (event as { at?: unknown }).at;
        const withDate = typeof at === 'string' || typeof at === 'number' ? { ...event, at: new Date(at) } : event;
        this.emit(withDate as ContactEvent, typeof body.url === 'string' ? body.url : undefined).then(
          (answer) => json(200, { ok: true, answer }),
          (error: unknown) => json(400, { error: error instanceof Error ? error.message : String(error) }),
        );
        return;
      }
      case 'POST /__simulator/spike':
        this.setSpike(body.spike as Spike | undefined);
        return json(200, { ok: true });
      case 'POST /__simulator/signal': {
        const event = body.event as AccountEvent;
        this.signal(event, typeof body.url === 'string' ? body.url : undefined).then(
          (answer) => json(200, { ok: true, answer }),
          (error: unknown) => json(400, { error: error instanceof Error ? error.message : String(error) }),
        );
        return;
      }
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

/** A number in [0, 1) from a string: FNV-1a, then a murmur3 finalizer to spread the bits. */
function uniform(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Providers write phone numbers with or without +; scripts and counts ignore the difference. */
export function normalizeRecipient(recipient: string): string {
  return recipient.replace(/^\+/, '');
}

/**
 * Connections the kernel completed on a listening port that the process has not accepted yet. A busy
 * process accepts them a few at a time, and the client may already have written its request on them;
 * closing the server resets them with it. Linux reports the count as a listener's rx_queue in
 * /proc/net/tcp; elsewhere it is 0.
 */
function acceptBacklog(port: number): number {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const [, address, , state, queues] = line.trim().split(/\s+/);
      // State 0A is LISTEN; queues is "tx_queue:rx_queue" in hex.
      if (address?.endsWith(local) && state === '0A') return Number.parseInt(queues?.split(':')[1] ?? '0', 16);
    }
  } catch {
    // No /proc (not Linux): nothing more can be counted.
  }
  return 0;
}

/**
 * Callbacks go out over a few kept-alive connections, as a provider's webhook sender does: an
 * unbounded client opens a connection per callback while Rebound is busy, and floods its listener.
 */
const callbackAgent = new Agent({ keepAlive: true, maxSockets: 16 });

function postCallback(callback: Callback): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      callback.url,
      { method: callback.method ?? 'POST', headers: callback.headers, agent: callbackAgent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(callback.body);
  });
}
