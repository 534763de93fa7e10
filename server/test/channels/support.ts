/**
 * Scaffolding shared by the provider adapter tests: a stand-in for Rebound's webhook endpoint, the
 * per-file simulator lifecycle, and the connection-level sends every adapter is checked against.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderSimulator } from '@rebound/simulators/base';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type {
  ChannelAdapter,
  ChannelConfig,
  OutboundMessage,
  SendOutcome,
  WebhookRequest,
} from '../../src/channels/types';

// The adapters built in these files take their allowlist from the environment, as the engine's do; the
// simulators they send to listen on 127.0.0.1 (as in helpers.ts TEST_PROVIDER_URL_ALLOWLIST).
process.env.PROVIDER_URL_ALLOWLIST = '127.0.0.1';

/** What the recorder answers every request with; a body goes out as text/html. */
export interface RecorderAnswer {
  status: number;
  body?: string;
}

/**
 * A tiny HTTP server on 127.0.0.1 standing in for Rebound's webhook endpoint (or for a provider that
 * answers something odd): records each request's method, full URL, headers and raw body.
 */
export class CallbackRecorder {
  readonly requests: WebhookRequest[] = [];
  /** `http://127.0.0.1:<port>` once started. */
  origin = '';
  private server: Server | undefined;

  constructor(private readonly answer: RecorderAnswer = { status: 200 }) {}

  /** The full URL of a path on this recorder. */
  url(path: string): string {
    return `${this.origin}${path}`;
  }

  async start(): Promise<this> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
      }
      this.requests.push({
        method: req.method ?? 'GET',
        url: `${this.origin}${req.url}`,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      });
      const { status, body } = this.answer;
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'text/html' });
      res.end(body);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Forgets the requests seen so far. */
  reset(): void {
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }
}

export function startCallbackRecorder(answer?: RecorderAnswer): Promise<CallbackRecorder> {
  return new CallbackRecorder(answer).start();
}

/** A simulator, a recorder: anything a test file keeps running across its tests. */
interface TestServer {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  reset(): void;
}

/** Starts the servers (in order) before the file's tests, stops them after, and resets each before every test. */
export function runDuringTests(...servers: TestServer[]): void {
  beforeAll(async () => {
    for (const server of servers) await server.start();
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });
  beforeEach(() => {
    for (const server of servers) server.reset();
  });
}

/** The signal for one ordinary adapter send: gives up after 5 s. */
export function signal(): AbortSignal {
  return AbortSignal.timeout(5_000);
}

/** The SMS tests' outbound message (Rebound message 42), with a per-message status callback when given. */
export function smsMessage(
  to: string,
  statusCallbackUrl?: string,
  text = 'Black Friday: 30% off today',
): OutboundMessage {
  return { messageId: 42, to, content: { text }, useTemplate: false, ...(statusCallbackUrl && { statusCallbackUrl }) };
}

/** `send(message, signal?, config?)` through a fresh adapter; the config defaults to the file's channel. */
export function adapterSend(create: (config: ChannelConfig) => ChannelAdapter, channel: () => ChannelConfig) {
  return (message: OutboundMessage, sendSignal: AbortSignal = signal(), config: ChannelConfig = channel()) =>
    create(config).send(message, sendSignal);
}

/** The base URL of a simulator that was started and stopped again: nothing listens there. */
export async function urlOfStoppedSimulator(started: Promise<ProviderSimulator>): Promise<string> {
  const simulator = await started;
  const { baseUrl } = simulator;
  await simulator.stop();
  return baseUrl;
}

/**
 * Sends once to `hangTo`, scripted to never answer (with a 300 ms signal), and once to `resetTo`,
 * scripted to drop the connection after the request; returns both outcomes.
 */
export async function sendIntoHangAndReset(
  sim: ProviderSimulator,
  adapter: ChannelAdapter,
  message: (to: string) => OutboundMessage,
  hangTo: string,
  resetTo: string = hangTo,
): Promise<{ hung: SendOutcome; dropped: SendOutcome }> {
  sim.script(hangTo, { kind: 'hang' });
  const hung = await adapter.send(message(hangTo), AbortSignal.timeout(300));
  sim.script(resetTo, { kind: 'reset' });
  const dropped = await adapter.send(message(resetTo), signal());
  return { hung, dropped };
}

/** A webhook POST as the provider signs it (headers and body built by the simulator), received at `url`. */
export function postedRequest(url: string, signed: { headers: Record<string, string>; body: string }): WebhookRequest {
  return { method: 'POST', url, headers: new Headers(signed.headers), rawBody: signed.body };
}
