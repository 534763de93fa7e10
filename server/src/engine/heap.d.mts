/**
 * The engine's heap limit in MB. Its live heap stays small whatever the audience (about 40 MB at a
 * million recipients: it holds batches, not broadcasts), but V8 sizes the room it leaves garbage by the
 * limit: at Node's default (a share of the machine's memory) garbage piled up to 120 MB between
 * collections.
 */
export const ENGINE_HEAP_MB: number;
