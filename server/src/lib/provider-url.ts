/**
 * Where Rebound may send a provider request: the one decision behind a channel's `baseUrl`, used by the
 * API when a channel is saved and by the engine's HTTP client when it connects. Credentials travel with
 * every send, so a base URL that leads into Rebound's own network (loopback, private, link-local, CGNAT,
 * cloud metadata) is refused unless the operator allowed that host in PROVIDER_URL_ALLOWLIST.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Why an address is not a provider's: the kinds of internal or reserved addresses. */
export type InternalAddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'metadata'
  | 'multicast'
  | 'reserved';

export interface ProviderUrlRefusal {
  reason: InternalAddressKind | 'scheme';
  /** The URL's host as written (name or IP). */
  host: string;
  /** The address it leads to (the host itself when it is an IP). */
  address: string;
}

/** A send refused before any byte left: the address the base URL leads to is internal. */
export class ProviderUrlRefusedError extends Error {
  override name = 'ProviderUrlRefusedError';
  constructor(readonly refusal: ProviderUrlRefusal) {
    super(describeProviderUrlRefusal(refusal));
  }
}

const KIND_NAMES: Record<InternalAddressKind, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  link_local: 'a link-local address',
  cgnat: 'a carrier-grade NAT address',
  metadata: 'a cloud metadata address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

/**
 * The refusal as the failure log shows it (English, like the providers' own messages): by the host as
 * written, never by the address a name resolved to, which would map Rebound's own network for whoever
 * reads the log (as the 422 at saving says it).
 */
export function describeProviderUrlRefusal({ reason, host }: ProviderUrlRefusal): string {
  if (reason === 'scheme') return `Not sent: the channel's base URL must start with http:// or https://`;
  return (
    `Not sent: the channel's base URL leads to ${host}, to ${KIND_NAMES[reason]}, and Rebound ` +
    `sends credentials only to a provider's own servers. An operator can allow it in PROVIDER_URL_ALLOWLIST.`
  );
}

// ---------------------------------------------------------------------------------------------------------
// The allowlist

interface AllowEntry {
  host: string;
  port?: number;
}

/** Parsed lists by their text, so the engine's agents and the API share one per distinct list. */
const parsedLists = new Map<string, AllowEntry[]>();

/** The host as the WHATWG URL parser writes it: lower case, IPv4 in dotted decimal, IPv6 compressed, no brackets. */
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const hostname = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname;
  return hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** One entry: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address. Throws on anything else. */
function parseEntry(raw: string): AllowEntry {
  const entry = raw.trim();
  const match = isIP(entry) === 6 ? [entry, entry] : /^(\[[^\]]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/.exec(entry);
  const port = match?.[2] !== undefined && match[2] !== match[1] ? Number(match[2]) : undefined;
  if (!match?.[1] || (port !== undefined && (port < 1 || port > 65535))) {
    throw new Error(`"${entry}" is not a host or host:port`);
  }
  try {
    return { host: canonicalHost(match[1]), ...(port !== undefined && { port }) };
  } catch {
    throw new Error(`"${entry}" is not a host or host:port`);
  }
}

function parseAllowlist(entries: readonly string[]): AllowEntry[] {
  const key = entries.join(',');
  let parsed = parsedLists.get(key);
  if (!parsed) {
    parsed = entries.filter((entry) => entry.trim() !== '').map(parseEntry);
    parsedLists.set(key, parsed);
  }
  return parsed;
}

/** The comma-separated PROVIDER_URL_ALLOWLIST as entries; throws naming the first bad one (config.ts checks it). */
export function splitProviderUrlAllowlist(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  parseAllowlist(entries);
  return entries;
}

/** A stable name for a list, to share one HTTP agent per distinct list. */
export function providerUrlAllowlistKey(allowlist: readonly string[]): string {
  return parseAllowlist(allowlist)
    .map((entry) => (entry.port === undefined ? entry.host : `${entry.host}:${entry.port}`))
    .sort()
    .join(',');
}

function allowed(allowlist: readonly string[], host: string, port: number): boolean {
  return parseAllowlist(allowlist).some((entry) => entry.host === host && (entry.port ?? port) === port);
}

// ---------------------------------------------------------------------------------------------------------
// Addresses

type Range = [base: bigint, prefix: number, kind: InternalAddressKind];

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

/** 128 bits of an IPv6 address that net.isIP already accepted (a zone index is dropped). */
function ipv6Value(address: string): bigint {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const v4 = ipv4Value(dotted);
    text = `${text.slice(0, -dotted.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

const v4 = (address: string, prefix: number, kind: InternalAddressKind): Range => [ipv4Value(address), prefix, kind];
const v6 = (address: string, prefix: number, kind: InternalAddressKind): Range => [ipv6Value(address), prefix, kind];

/** First match wins: the metadata addresses sit inside wider ranges. */
const IPV4_RANGES: Range[] = [
  v4('169.254.169.254', 32, 'metadata'),
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'cgnat'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link_local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'),
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

const IPV6_RANGES: Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('fd00:ec2::254', 128, 'metadata'),
  v6('fc00::', 7, 'private'),
  v6('fe80::', 10, 'link_local'),
  v6('fec0::', 10, 'private'),
  v6('ff00::', 8, 'multicast'),
  v6('100::', 64, 'reserved'),
];

/** IPv6 forms that carry an IPv4 address, which is what they reach: [prefix, prefix length, bit offset of the IPv4]. */
const EMBEDDED_IPV4: [bigint, number, number][] = [
  [ipv6Value('::ffff:0:0'), 96, 0], // IPv4-mapped
  [ipv6Value('::'), 96, 0], // IPv4-compatible (deprecated)
  [ipv6Value('64:ff9b::'), 96, 0], // NAT64
  [ipv6Value('2002::'), 16, 80], // 6to4
];

function inRange(value: bigint, bits: number, base: bigint, prefix: number): boolean {
  const shift = BigInt(bits - prefix);
  return value >> shift === base >> shift;
}

function classifyIpv4(value: bigint): InternalAddressKind | undefined {
  return IPV4_RANGES.find(([base, prefix]) => inRange(value, 32, base, prefix))?.[2];
}

/** What kind of internal address this IP is, or undefined for an ordinary public one. */
export function classifyAddress(address: string): InternalAddressKind | undefined {
  const family = isIP(address.split('%')[0] ?? '');
  if (family === 4) return classifyIpv4(ipv4Value(address));
  if (family !== 6) return undefined;
  const value = ipv6Value(address);
  const own = IPV6_RANGES.find(([base, prefix]) => inRange(value, 128, base, prefix))?.[2];
  if (own) return own;
  for (const [base, prefix, offset] of EMBEDDED_IPV4) {
    if (inRange(value, 128, base, prefix)) return classifyIpv4((value >> BigInt(offset)) & 0xffffffffn);
  }
  return undefined;
}

/** Names that lead inside whatever they resolve to (or when they do not resolve here). */
function classifyName(host: string): InternalAddressKind | undefined {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (host === 'metadata.google.internal' || host === 'metadata.goog') return 'metadata';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Checks

export interface ResolveOptions {
  /** Resolves a name to its addresses (tests and the engine use the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

/**
 * The addresses a connection to `host:port` may use, each checked; throws ProviderUrlRefusedError when the
 * host leads to an internal address (any of its addresses: a name with one public and one private record
 * is refused). An allowed host is returned unresolved. DNS failures are thrown as the resolver threw them.
 */
export async function resolveProviderHost(
  rawHost: string,
  port: number,
  allowlist: readonly string[],
  { resolve = systemResolve }: ResolveOptions = {},
): Promise<string[]> {
  const host = canonicalHost(rawHost);
  if (allowed(allowlist, host, port)) return [host];
  const refuse = (reason: InternalAddressKind, address: string) => {
    if (allowed(allowlist, canonicalHost(address), port)) return;
    throw new ProviderUrlRefusedError({ reason, host, address });
  };
  if (isIP(host)) {
    const kind = classifyAddress(host);
    if (kind) refuse(kind, host);
    return [host];
  }
  const named = classifyName(host);
  if (named) refuse(named, host);
  const addresses = await resolve(host);
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (kind) refuse(kind, address);
  }
  return addresses;
}

/**
 * The check when a channel is saved: http(s) only, and a host that does not lead to an internal address.
 * A name that does not resolve right now passes (the send-time check covers it when it does).
 */
export async function checkProviderUrl(
  url: string,
  allowlist: readonly string[],
  options: ResolveOptions = {},
): Promise<ProviderUrlRefusal | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { reason: 'scheme', host: '', address: '' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { reason: 'scheme', host: parsed.hostname, address: '' };
  }
  const port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
  const resolve = options.resolve ?? systemResolve;
  // A resolver that hangs must not hold the request: after a while the name counts as unresolved.
  const bounded = (host: string) =>
    Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('lookup timed out')), 5_000).unref()),
    ]);
  try {
    await resolveProviderHost(parsed.hostname, port, allowlist, { resolve: bounded });
    return undefined;
  } catch (error) {
    if (error instanceof ProviderUrlRefusedError) return error.refusal;
    return undefined;
  }
}
