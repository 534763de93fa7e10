/** The built extension as the browser reads it: identity, permissions kept small, a strict page policy. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXTENSION_PUBLIC_KEY } from '@rebound/shared/extension';
import { describe, expect, it } from 'vitest';
import { EXTENSION_DIR } from './fixtures';

const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('the Chromium build', () => {
  const manifest = read(EXTENSION_DIR);

  it('carries the key that fixes its ID, and asks only for what it uses', () => {
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.key).toBe(EXTENSION_PUBLIC_KEY);
    expect([...manifest.permissions].sort()).toEqual(['alarms', 'notifications', 'scripting', 'storage']);
    // Helpdesk sites and other servers are asked for at run time, one origin at a time.
    expect(manifest.host_permissions).toEqual(['http://127.0.0.1/*', 'http://localhost/*']);
    expect(manifest.optional_host_permissions).toEqual(['https://*/*', 'http://*/*']);
    expect(manifest.content_scripts ?? []).toEqual([]);
  });

  it('its pages run under a policy without inline or remote scripts', () => {
    const policy: string = manifest.content_security_policy.extension_pages;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("object-src 'self'");
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it('the content script stays within its budget', () => {
    // The benchmark's target (ext.content_script_kb ≤ 60): minified by Terser with a second pass.
    expect(statSync(join(EXTENSION_DIR, 'content-scripts/overlay.js')).size).toBeLessThanOrEqual(60 * 1024);
  });
});

describe('the Firefox build', () => {
  const dir = resolve(EXTENSION_DIR, '../firefox-mv2');
  it.skipIf(!existsSync(dir))('has a Gecko ID instead of a Chromium key, and the same pages', () => {
    const manifest = read(dir);
    expect(manifest.key).toBeUndefined();
    expect(manifest.browser_specific_settings.gecko.id).toBe('rebound@rebound.invalid');
    expect(manifest.options_ui.page).toBe('options.html');
    expect(existsSync(join(dir, 'content-scripts/overlay.js'))).toBe(true);
  });
});
