/**
 * The API's level: raised when the extension starts to need something a server did not have before
 * (a route, a field). Every API answer carries it in API_LEVEL_HEADER; an extension built at a higher
 * level than the server's (or talking to a server from before the header) says so on its pill and in
 * its options, instead of failing in ways that look like bugs.
 */
export const API_LEVEL = 1;
export const API_LEVEL_HEADER = 'Rebound-Api-Level';
