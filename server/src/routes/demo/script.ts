/**
 * The demo page's script, /demo/assets/app.js: client/app.ts and what it imports (TypeScript, type-checked
 * with the DOM's types by client/tsconfig.json), bundled by esbuild in memory. Built once per process, on
 * the first router, because the server runs its TypeScript sources and has no build step of its own.
 */
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

let script: string | undefined;

export function demoScript(): string {
  if (script === undefined) {
    const result = buildSync({
      entryPoints: [fileURLToPath(new URL('./client/app.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      // Served as UTF-8: the page's words stay readable in the script ("Cargando…", not "\u2026").
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
    });
    const [output] = result.outputFiles;
    if (!output) throw new Error('The demo page script built to nothing.');
    script = output.text;
  }
  return script;
}
