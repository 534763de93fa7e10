/**
 * /openapi.json lists the answers the handlers give, so that a generated client and a reader of /docs
 * expect them: a conflicting channel edit, a portfolio naming another workspace's channel, a full
 * import queue.
 */
import { describe, expect, it } from 'vitest';
import { startTestServer } from './helpers';

const server = await startTestServer();

describe('/openapi.json', () => {
  it('documents the statuses these handlers return', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    const answers = (path: string, method: string) =>
      Object.keys(doc.paths[`/api/v1${path}`]?.[method]?.responses ?? {});
    expect(answers('/channels/{id}', 'patch')).toContain('409');
    expect(answers('/portfolios', 'post')).toContain('404');
    expect(answers('/imports/contacts', 'post')).toContain('429');
  });
});
