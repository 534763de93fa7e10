/**
 * Logging that never writes a secret: API tokens, bearer headers, provider tokens in URLs (Telegram's
 * /bot<token>/), access_token parameters and basic-auth passwords are masked before anything is printed.
 */
const SECRETS: [RegExp, string][] = [
  [/rb_[A-Za-z0-9_-]{8,}/g, 'rb_***'],
  [/(Bearer\s+)\S+/gi, '$1***'],
  [/(\/bot)\d+:[A-Za-z0-9_-]+/g, '$1***'],
  [/((?:access_token|token|auth_token|api_secret|sig|signature)=)[^&\s"']+/gi, '$1***'],
  [/(\/\/[^/:@\s]+:)[^@/\s]+@/g, '$1***@'],
];

export function redact(text: string): string {
  return SECRETS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** The error with its causes, as one string (stacks included), masked. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return redact(parts.join('\ncaused by: '));
}

export function logError(context: string, error?: unknown): void {
  console.error(redact(context), error === undefined ? '' : describeError(error));
}
