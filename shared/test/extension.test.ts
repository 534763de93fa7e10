import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EXTENSION_ID, EXTENSION_ORIGIN, EXTENSION_PUBLIC_KEY } from '../src/extension';

describe('the extension identity', () => {
  it('the ID is the one Chromium derives from the manifest key', () => {
    const digest = createHash('sha256').update(Buffer.from(EXTENSION_PUBLIC_KEY, 'base64')).digest('hex');
    const derived = [...digest.slice(0, 32)].map((hex) => String.fromCharCode(97 + Number.parseInt(hex, 16))).join('');
    expect(EXTENSION_ID).toBe(derived);
    expect(EXTENSION_ORIGIN).toBe(`chrome-extension://${derived}`);
  });
});
