// The engine thread's entry, in plain JavaScript: a worker does not inherit the tsx loader the server
// runs under, so it loads the TypeScript module through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./thread.ts', import.meta.url);
