/**
 * Rebound's API as the page reads it: through /demo/api/…, where the server adds the bearer token from
 * its HttpOnly cookie. The token is handed to the server once (/demo/session) and never kept here.
 */
import type { Channel, Me } from '@rebound/shared';
import { session, t } from './state';

/** The page size of the lists that load more on demand. */
export const PAGE_SIZE = 50;

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** No session at all (never signed in, or signed out), as opposed to a token that stopped working. */
    readonly signedOut = false,
  ) {
    super(message);
  }
}

type Param = string | number | null | undefined;

/** Reads the API through /demo/api/…: the server adds the bearer token from its cookie. */
export async function api<T>(path: string, params: Record<string, Param | readonly Param[]> = {}): Promise<T> {
  const url = new URL(`/demo${path}`, location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const item of [value].flat()) {
      if (item !== null && item !== undefined && item !== '') url.searchParams.append(name, String(item));
    }
  }
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'Accept-Language': session.lang, Accept: 'application/json' } });
  } catch {
    throw new ApiFailure(0, 'network_error', t('networkError'));
  }
  return readAnswer<T>(res);
}

/** The page's session: the token goes to the server once and stays there. */
export async function signIn(candidate: string): Promise<Me> {
  let res: Response;
  try {
    res = await fetch('/demo/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': session.lang, Accept: 'application/json' },
      body: JSON.stringify({ token: candidate }),
    });
  } catch {
    throw new ApiFailure(0, 'network_error', t('networkError'));
  }
  return readAnswer<Me>(res);
}

/** An answer's body, typed as the API's schema says it is; an error answer thrown as an ApiFailure. */
async function readAnswer<T>(res: Response): Promise<T> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error: { code?: unknown; message?: unknown } | undefined =
      body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object'
        ? body.error
        : undefined;
    throw new ApiFailure(
      res.status,
      typeof error?.code === 'string' ? error.code : 'http_error',
      typeof error?.message === 'string' ? error.message : t('httpError', { status: res.status }),
      res.headers.get('X-Demo-Session') === 'none',
    );
  }
  return body as T;
}

/** A contact ref (ID, phone:+52…, email:…) as one path segment. */
export function refPath(ref: string): string {
  return encodeURIComponent(ref).replace(/%3A/gi, ':').replace(/%2B/gi, '+').replace(/%40/gi, '@');
}

export async function channelNames(): Promise<Map<number, string>> {
  const { data } = await api<{ data: Channel[] }>('/api/v1/channels');
  return new Map(data.map((channel) => [channel.id, channel.name]));
}
