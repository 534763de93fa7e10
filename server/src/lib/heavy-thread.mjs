// A heavy thread's entry, in plain JavaScript: a worker does not inherit the tsx loader the server runs
// under, so it loads the TypeScript module through tsx's API (like engine/thread-entry.mjs).
import { tsImport } from 'tsx/esm/api';

await tsImport('./heavy-tasks.ts', import.meta.url);
