import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOUR_MS } from '@rebound/shared';
import { z } from 'zod';
import { splitProviderUrlAllowlist } from './lib/provider-url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A local file's path is taken from the repo root, whichever directory the process runs in (the CLI
 * runs from the root, the server and the engine from server/): one DATABASE_URL=file:data/rebound.db
 * is one file for all three, not a second, empty database beside the first.
 */
export function fromRepoRoot(url: string): string {
  const match = /^file:(?!\/)([^?]*)(\?.*)?$/.exec(url);
  if (!match || match[1] === ':memory:' || match[1] === '') return url;
  return `file:${resolve(repoRoot, match[1] ?? '')}${match[2] ?? ''}`;
}

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().default('file:data/rebound.db').transform(fromRepoRoot),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Rebound's address as providers reach it, for delivery callback URLs; defaults to http://HOST:PORT. */
  PUBLIC_URL: z.url().optional(),
  /** Helpdesk origins allowed to call the API from a browser, comma-separated (the extension's is always allowed). */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url().transform((url) => new URL(url).origin))),
  /** Bad API tokens one address may send per minute before it gets 429 (slows token guessing). */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
  /** on: behind a reverse proxy, the client's address is the last X-Forwarded-For entry (the proxy's). */
  TRUST_PROXY: z.enum(['on', 'off']).default('off'),
  /** on: start the provider simulators and the demo workspace with S1-S10 (the README's main job). */
  DEMO: z.enum(['on', 'off']).default('off'),
  /** Where the built extension is, to print how to load it (the main job sets it). */
  EXTENSION_DIR: z.string().optional(),
  /** Run the broadcast engine in this process (several processes may share one database). */
  ENGINE: z.enum(['on', 'off']).default('on'),
  ENGINE_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /**
   * Internal hosts a channel's base URL may lead to (provider simulators, your own proxy), comma-separated
   * `host` or `host:port`; DEMO=on adds 127.0.0.1. The API and the engine read it through lib/provider-url.ts.
   */
  PROVIDER_URL_ALLOWLIST: z
    .string()
    .default('')
    .transform((value, ctx) => {
      try {
        return splitProviderUrlAllowlist(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Heavy operations (search, segment preview, pre-flight, import) one token may run at once; more get 429. CSV downloads have their own fixed limit (lib/heavy.ts). */
  HEAVY_PER_TOKEN: z.coerce.number().int().min(1).max(1000).default(4),
  /** Heavy operations one workspace may run at once, all its tokens together. */
  HEAVY_PER_WORKSPACE: z.coerce.number().int().min(1).max(1000).default(8),
  /** Threads that run the heavy reads off the API's event loop; default one per spare core, at most 4. */
  HEAVY_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  /** Distinct custom-field keys a workspace may hold (also the most custom columns a contacts export has). */
  CUSTOM_FIELD_KEYS_MAX: z.coerce.number().int().min(1).max(10_000).default(200),
});

export type Config = z.infer<typeof EnvSchema>;

/** Reads the environment once at start-up; a bad value stops the server with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(EnvSchema, env);
}

/** A process of the engine alone (engine-main.ts): several may share one database. */
const EngineEnvSchema = z.object({
  DATABASE_URL: z
    .string({ error: 'is required, e.g. file:data/rebound.db or libsql://…' })
    .min(1, 'is required, e.g. file:data/rebound.db or libsql://…')
    .transform(fromRepoRoot),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  PUBLIC_URL: z.url().optional(),
  /** This process's name in leases and logs; default: host and process ID. */
  WORKER_ID: z.string().optional(),
  ENGINE_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /** How long a claimed recipient stays this process's without a heartbeat before another may take it. */
  LEASE_MS: z.coerce.number().int().min(500).default(60_000),
  POLL_MS: z.coerce.number().int().min(5).default(250),
});

export type EngineConfig = z.infer<typeof EngineEnvSchema>;

export function loadEngineConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  return parseEnv(EngineEnvSchema, env);
}

/**
 * How often a connected event stream looks for new events, sends a keep-alive comment, and asks whether an
 * idle stream's token was revoked by another process. Read per stream, so tests can shorten them; a value
 * that is no positive number keeps the default.
 */
const EventStreamEnvSchema = z.object({
  REBOUND_EVENTS_POLL_MS: z.coerce.number().positive().catch(500),
  REBOUND_EVENTS_HEARTBEAT_MS: z.coerce.number().positive().catch(15_000),
  REBOUND_EVENTS_TOKEN_CHECK_MS: z.coerce.number().positive().catch(10_000),
});

export function eventStreamTiming(env: NodeJS.ProcessEnv = process.env) {
  const timing = EventStreamEnvSchema.parse(env);
  return {
    pollMs: timing.REBOUND_EVENTS_POLL_MS,
    heartbeatMs: timing.REBOUND_EVENTS_HEARTBEAT_MS,
    tokenCheckMs: timing.REBOUND_EVENTS_TOKEN_CHECK_MS,
  };
}

/**
 * How long an unconfirmed message (the request may have reached the provider; no answer or delivery
 * report since) waits for a delivery callback before a re-send may go to it: UNCONFIRMED_AFTER_HOURS,
 * 24 by default. Read on each call, so tests and operators can change it without a restart.
 */
export const DEFAULT_UNCONFIRMED_AFTER_HOURS = 24;

export function unconfirmedWindowMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.UNCONFIRMED_AFTER_HOURS?.trim();
  const hours = raw ? Number(raw) : DEFAULT_UNCONFIRMED_AFTER_HOURS;
  // A value that is not a number of hours falls back to the default rather than allowing an early re-send.
  return (Number.isFinite(hours) && hours >= 0 ? hours : DEFAULT_UNCONFIRMED_AFTER_HOURS) * HOUR_MS;
}

/** REBOUND_DEBUG (on, 1, true…; off, 0, false or unset leave it off): the CLI adds an error's stack trace. */
export function cliDebug(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.REBOUND_DEBUG?.trim().toLowerCase();
  return Boolean(value) && !['0', 'off', 'false', 'no'].includes(value ?? '');
}

/** One array per distinct setting, so callers that read it per request share one HTTP agent cheaply. */
const allowlistsFromEnv = new Map<string, readonly string[]>();

/**
 * The allowlist the API and the engine use unless given one: PROVIDER_URL_ALLOWLIST, plus 127.0.0.1 when
 * DEMO=on, because the demo's provider simulators listen there (on fresh ports at each start).
 */
export function providerUrlAllowlistFromEnv(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const key = `${env.PROVIDER_URL_ALLOWLIST ?? ''}|${env.DEMO ?? ''}`;
  let list = allowlistsFromEnv.get(key);
  if (!list) {
    const entries = splitProviderUrlAllowlist(env.PROVIDER_URL_ALLOWLIST);
    list = Object.freeze(env.DEMO === 'on' ? [...entries, '127.0.0.1'] : entries);
    allowlistsFromEnv.set(key, list);
  }
  return list;
}

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
