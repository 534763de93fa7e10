/**
 * The one schema module: the tables, written by area in schema/ and all exported from here (what
 * imports it and drizzle-kit read). Times are epoch milliseconds. Every row that belongs to a workspace
 * carries workspace_id, and every query filters on it: that is what keeps workspaces apart.
 */

export * from './schema/broadcasts';
export * from './schema/channels';
export * from './schema/contacts';
export * from './schema/events';
export * from './schema/imports';
export * from './schema/resends';
export * from './schema/workspaces';
