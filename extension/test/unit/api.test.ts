import { describe, expect, it } from 'vitest';
import { normalizeBackendUrl } from '../../lib/api';

describe('the server URL the agent types', () => {
  it('is kept as origin and path, without a trailing slash', () => {
    expect(normalizeBackendUrl(' http://127.0.0.1:8787/ ')).toBe('http://127.0.0.1:8787');
    expect(normalizeBackendUrl('https://rebound.example.com/tienda/')).toBe('https://rebound.example.com/tienda');
  });

  it('must be http or https', () => {
    expect(() => normalizeBackendUrl('ftp://example.com')).toThrow();
    expect(() => normalizeBackendUrl('127.0.0.1:8787')).toThrow();
  });
});
