// The engine's heap limit in MB, for its thread (thread.ts) and for an engine process (scripts/serve.mjs,
// scripts/cluster.mjs). Plain JavaScript so that the launch scripts, which run without tsx, read it too.
export const ENGINE_HEAP_MB = 1024;
