/**
 * The demo page's script, /demo/assets/app.js: client/app.ts and what it imports (TypeScript, type-checked
 * with the DOM's types by client/tsconfig.json), bundled by esbuild in memory, because the server runs its
 * TypeScript sources and has no build step of its own. Built on the first request for it, not at start:
 * a build that fails (an esbuild binary missing for this platform, say) costs the demo its script and
 * nothing else, and a server with the demo off never runs it.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./client/app.ts', import.meta.url));

let built: Promise<string> | undefined;

/** The bundle, built once per process (a failed build is tried again on the next request). */
export function demoScript(): Promise<string> {
  built ??= buildDemoScript(ENTRY).catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Bundles a page script from its entry module. */
export async function buildDemoScript(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Served as UTF-8: the page's words stay readable in the script ("Cargando…", not "\u2026").
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
    // Module comments name paths from here, not from wherever the server was started.
    absWorkingDir: dirname(entry),
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('The demo page script built to nothing.');
  return output.text;
}
