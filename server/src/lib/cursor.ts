/** Opaque page cursors: base64url of the last row's id, so clients never build them. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ id: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (!cursor) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'id' in parsed && Number.isSafeInteger(parsed.id)) {
      return parsed.id as number;
    }
  } catch {
    // fall through
  }
  return Number.NaN;
}
