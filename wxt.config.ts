import preact from '@preact/preset-vite';
import { EXTENSION_PUBLIC_KEY } from '@rebound/shared/extension';
import { defineConfig } from 'wxt';

// The extension lives in extension/; the server and shared/ are workspace packages beside it.
export default defineConfig({
  srcDir: 'extension',
  imports: false,
  vite: () => ({
    plugins: [preact()],
    // Terser with a second pass: about 900 bytes less of the content script, which every helpdesk page
    // loads (ext.content_script_kb, within 60 kB), than the default minifier alone; anonymous functions as
    // arrows, 460 more (nothing here news one: the browser tests run this build); declarations hoisted
    // (what the language does anyway), 160 more.
    build: {
      minify: 'terser',
      terserOptions: {
        ecma: 2020,
        compress: { passes: 2, unsafe_arrows: true, hoist_funs: true, hoist_vars: true },
      },
    },
  }),
  manifest: ({ browser }) => ({
    name: 'Rebound',
    description: 'Explains failed broadcasts and re-sends them in one click.',
    // The key fixes the Chromium extension ID, which the server's CORS allowlist names.
    ...(browser === 'firefox'
      ? { browser_specific_settings: { gecko: { id: 'rebound@rebound.invalid', strict_min_version: '115.0' } } }
      : { key: EXTENSION_PUBLIC_KEY }),
    permissions: ['storage', 'alarms', 'notifications', 'scripting'],
    // The local server (the embedded default and its demo helpdesk). Other servers and helpdesks are asked
    // for in the options page, one origin at a time.
    host_permissions: ['http://127.0.0.1/*', 'http://localhost/*'],
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    action: { default_title: 'Rebound' },
    content_security_policy: {
      extension_pages: "script-src 'self'; object-src 'self'; base-uri 'none'; form-action 'none'",
    },
  }),
});
