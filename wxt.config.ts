import preact from '@preact/preset-vite';
import { defineConfig } from 'wxt';

// The extension lives in extension/; the server and shared/ are workspace packages beside it.
export default defineConfig({
  srcDir: 'extension',
  imports: false,
  vite: () => ({ plugins: [preact()] }),
  manifest: {
    name: 'Rebound',
    description: 'Explains failed broadcasts and re-sends them in one click.',
    permissions: ['storage'],
  },
});
