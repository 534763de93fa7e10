/**
 * A failed-messages CSV on its way to the page that saves it. Chromium refuses a runtime message over
 * 64 MiB, which a broadcast's CSV passes at about 150,000 failed recipients: the file goes in parts, the
 * first with the answer, the rest asked for one by one under an unguessable ID, and let go after the last
 * (or after five minutes).
 */
import type { CsvFirstPart } from '../lib/messaging';

/** Characters in one part: at most 3 bytes each once serialized, well under the limit. */
export const CSV_PART_CHARS = 8 * 1024 * 1024;
const HOLD_MS = 5 * 60_000;

const held = new Map<string, string[]>();

/** Splits `text` into parts of at most `size` characters, never between the two halves of an emoji. */
export function splitText(text: string, size: number): string[] {
  const parts: string[] = [];
  let from = 0;
  while (from < text.length) {
    let to = Math.min(from + size, text.length);
    const last = text.charCodeAt(to - 1);
    if (to < text.length && last >= 0xd800 && last <= 0xdbff && to - 1 > from) to--;
    parts.push(text.slice(from, to));
    from = to;
  }
  return parts.length ? parts : [''];
}

/** The first part of the file, the others held for takeCsvPart. */
export function csvInParts(file: { name: string; text: string }, size = CSV_PART_CHARS): CsvFirstPart {
  const [first = '', ...rest] = splitText(file.text, size);
  if (rest.length === 0) return { name: file.name, text: first, id: '', rest: 0 };
  const id = crypto.randomUUID();
  held.set(id, rest);
  setTimeout(() => held.delete(id), HOLD_MS);
  return { name: file.name, text: first, id, rest: rest.length };
}

/** Part `index` (from 0) of those after the first; the last one lets the file go. */
export function takeCsvPart(id: string, index: number): string {
  const parts = held.get(id);
  const part = parts?.[index];
  if (parts === undefined || part === undefined) throw new Error('csv_part_gone');
  if (index === parts.length - 1) held.delete(id);
  return part;
}
