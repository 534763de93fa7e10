/**
 * A big failed-messages CSV goes to the page in parts: Chromium refuses a runtime message over 64 MiB,
 * which a broadcast's CSV passes at about 150,000 failed recipients. The parts put together are the file,
 * byte for byte, emoji and accents included.
 */
import { describe, expect, it } from 'vitest';
import { CSV_PART_CHARS, csvInParts, splitText, takeCsvPart } from '../../background/csv-parts';

describe('a CSV in parts', () => {
  it('a part is small enough for one message at its worst (3 bytes a character once serialized)', () => {
    expect(CSV_PART_CHARS * 3).toBeLessThan(64 * 1024 * 1024);
  });

  it('put together, the parts are the file; an emoji is never cut in half', async () => {
    const text = `\uFEFFNombre,Teléfono\r\n${Array.from({ length: 400 }, (_, i) => `José 😀 ${i},+54911${i}\r\n`).join('')}`;
    for (const size of [7, 16, 1000]) {
      const parts = splitText(text, size);
      expect(parts.join('')).toBe(text);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(size);
        // A lone half of a surrogate pair would be saved as U+FFFD.
        expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(part))).toBe(part);
      }
    }
    const first = csvInParts({ name: 'fallidos.csv', text }, 1000);
    expect(first.rest).toBeGreaterThan(1);
    const parts = [first.text];
    for (let index = 0; index < first.rest; index++) parts.push(takeCsvPart(first.id, index));
    expect(new Blob(parts).size).toBe(new Blob([text]).size);
    expect(await new Blob(parts).text()).toBe(text);
    // Let go after the last part: asked again, it is gone.
    expect(() => takeCsvPart(first.id, 0)).toThrow('csv_part_gone');
    expect(() => takeCsvPart('not-an-id', 0)).toThrow('csv_part_gone');
  });

  it('a small file is one part, as before', () => {
    expect(csvInParts({ name: 'f.csv', text: 'a,b\r\n' })).toEqual({ name: 'f.csv', text: 'a,b\r\n', id: '', rest: 0 });
  });
});
