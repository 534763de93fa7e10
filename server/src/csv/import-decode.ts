/**
 * An uploaded file's bytes as text, read from disk a piece at a time: which encoding (a byte order
 * mark decides; otherwise valid UTF-8 is UTF-8 and anything else is Windows-1252, as Excel saves "CSV"
 * on a Spanish Windows), whether it is a binary file rather than text, and where a NUL byte is.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { IMPORT_LIMITS, type ImportEncoding } from '@rebound/shared';
import { ApiError } from '../lib/errors';

/** Bytes read from the file at a time. */
const PIECE = 256 * 1024;

const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

/** 413 for a file over the limit, whichever way it is noticed. */
export const fileTooLarge = () => new ApiError(413, 'import_file_too_large', { limit: mb(IMPORT_LIMITS.maxBytes) });

/** Signatures of the binary files people upload by mistake: zip (.xlsx, .docx), old .xls, PNG, JPEG, GIF, PDF. */
const MAGIC = [
  [0x50, 0x4b, 0x03, 0x04],
  [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  [0x89, 0x50, 0x4e, 0x47],
  [0xff, 0xd8, 0xff],
  [0x47, 0x49, 0x46, 0x38],
  [0x25, 0x50, 0x44, 0x46],
];

/**
 * Windows-1252's 0x80-0x9F: € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ (five bytes unassigned).
 * Node's TextDecoder('windows-1252') reads these bytes as Latin-1's C1 control characters instead.
 */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
].map((code) => String.fromCharCode(code));

export function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009f]/g, (char) => CP1252_HIGH[char.charCodeAt(0) - 0x80] ?? char);
}

export interface FileEncoding {
  encoding: ImportEncoding;
  /** Bytes of byte order mark to skip. */
  skip: number;
}

/** Reads the file's bytes piece by piece from `start`. */
async function* pieces(path: string, start = 0): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { start, highWaterMark: PIECE })) yield chunk as Buffer;
}

const nulRefusal = (line: number) => new ApiError(422, 'import_nul_byte', { line });

/**
 * The file's encoding, from one pass over its bytes. Refuses a file over the limit (413), a binary file
 * by its signature (import_not_csv), and a NUL character with the line it is on (import_nul_byte).
 */
export async function detectEncoding(path: string): Promise<FileEncoding> {
  const { size } = await stat(path);
  if (size > IMPORT_LIMITS.maxBytes) throw fileTooLarge();
  let head: Uint8Array = new Uint8Array(0);
  for await (const piece of pieces(path)) {
    head = piece.subarray(0, 8);
    break;
  }
  if (MAGIC.some((magic) => magic.every((byte, i) => head[i] === byte))) throw new ApiError(422, 'import_not_csv');
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', skip: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', skip: 2 };
  // A UTF-8 byte order mark in front of Windows-1252 text (files pasted together) still is no UTF-8.
  const skip = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let valid = true;
  let line = 1;
  for await (const piece of pieces(path, skip)) {
    const nul = piece.indexOf(0);
    const upTo = nul === -1 ? piece.length : nul;
    for (let at = piece.indexOf(10); at !== -1 && at < upTo; at = piece.indexOf(10, at + 1)) line++;
    if (nul !== -1) throw nulRefusal(line);
    if (valid) {
      try {
        utf8.decode(piece, { stream: true });
      } catch {
        valid = false;
      }
    }
  }
  if (valid) {
    try {
      utf8.decode();
    } catch {
      valid = false;
    }
  }
  return { encoding: valid ? 'utf-8' : 'windows-1252', skip };
}

/**
 * The file as text, a piece at a time, every line ending a line feed (Excel on Windows writes CRLF,
 * other tools LF, and files get pasted together). A NUL in UTF-16 text is refused with its line here.
 */
export async function* decodedText(path: string, { encoding, skip }: FileEncoding): AsyncGenerator<string> {
  const decoder = encoding === 'windows-1252' ? undefined : new TextDecoder(encoding, { ignoreBOM: true });
  let pendingCr = false;
  let line = 1;
  const normalize = (text: string): string => {
    let out = pendingCr ? `\r${text}` : text;
    pendingCr = out.endsWith('\r');
    if (pendingCr) out = out.slice(0, -1);
    out = out.replace(/\r\n?/g, '\n');
    const nul = out.indexOf('\u0000');
    if (nul !== -1) {
      for (let at = out.indexOf('\n'); at !== -1 && at < nul; at = out.indexOf('\n', at + 1)) line++;
      throw nulRefusal(line);
    }
    for (let at = out.indexOf('\n'); at !== -1; at = out.indexOf('\n', at + 1)) line++;
    return out;
  };
  for await (const piece of pieces(path, skip)) {
    const text = decoder ? decoder.decode(piece, { stream: true }) : decodeWindows1252(piece);
    const out = normalize(text);
    if (out) yield out;
  }
  const rest = normalize(decoder ? decoder.decode() : '');
  if (rest || pendingCr) yield pendingCr ? `${rest}\n` : rest;
}
