// The import thread's entry, in plain JavaScript: a worker does not inherit the tsx loader the server
// runs under, so it loads the TypeScript module through tsx's API (like lib/heavy-thread.mjs).
import { tsImport } from 'tsx/esm/api';

await tsImport('./import-thread.ts', import.meta.url);
