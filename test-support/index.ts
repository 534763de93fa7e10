/**
 * The one door from the extension's tests to the server: the harness the server's own tests use (a real
 * server on 127.0.0.1 over a libSQL file, the broadcast engine, the WhatsApp simulator, the S1 scenario).
 * biome.json forbids any other import of server code from extension/, tests included.
 */
export * from '../server/test/engine/harness';
