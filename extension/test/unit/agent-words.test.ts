import { describe, expect, it } from 'vitest';
import { agentWords } from '../../background/handlers';
import { ReboundError } from '../../lib/api';
import '../../lib/all-words';

describe('words about the server, by who reads them', () => {
  const unreachable = new ReboundError('network', 'https://rebound.interno.acme');

  it("names the server's address on the extension's own pages", () => {
    expect(agentWords(unreachable, 'es', true)).toBe(
      'No se pudo conectar con el servidor de Rebound (https://rebound.interno.acme).',
    );
  });

  it("leaves it out of a panel's words, which the helpdesk page's scripts can read", () => {
    expect(agentWords(unreachable, 'es', false)).toBe('No se pudo conectar con el servidor de Rebound.');
    const outdated = agentWords(new ReboundError('server_outdated', 'https://rebound.interno.acme', 200), 'en', false);
    expect(outdated).toMatch(/^The Rebound server is older than this extension\./);
    expect(outdated).not.toContain('acme');
  });
});
