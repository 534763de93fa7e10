/**
 * The one-way arrows of ARCHITECTURE.md are lint rules (biome.json): each is proved here on a
 * deliberate violation, written at the path it guards in a copy of the lint configuration, next to
 * the same file without the violation, which must pass.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const biome = join(repo, 'node_modules/.bin/biome');
const work = mkdtempSync(join(tmpdir(), 'rebound-layering-'));
const config = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8'));
// No git in the copy: the ignore file is the repository's business, not the rule's.
config.vcs = { enabled: false };
writeFileSync(join(work, 'biome.json'), JSON.stringify(config));
cpSync(join(repo, 'lint'), join(work, 'lint'), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Lints one file at `path` in the copy: the diagnostics' text, or '' when it passes. */
function lint(path: string, source: string): string {
  const file = join(work, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  try {
    execFileSync(biome, ['lint', '--max-diagnostics=5', path], { cwd: work, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return `${stdout}${stderr}`;
  } finally {
    rmSync(file);
  }
}

const rules = [
  {
    arrow: 'a channel adapter never imports the engine or the services',
    path: 'server/src/channels/probe.ts',
    bad: "import { x } from '../engine/engine';\nexport const y = x;\n",
    good: "import { x } from './types';\nexport const y = x;\n",
    message: 'a channel adapter speaks to its provider only',
  },
  {
    arrow: 'a route never reads the tables',
    path: 'server/src/routes/probe/index.ts',
    bad: "import { x } from '../../db/schema/channels';\nexport const y = x;\n",
    good: "import { x } from '../../services/channels';\nexport const y = x;\n",
    message: 'the tables are read in services',
  },
  {
    arrow: 'shared never imports the server',
    path: 'shared/src/probe.ts',
    bad: "import { x } from '@rebound/server/services/channels';\nexport const y = x;\n",
    good: "import { x } from './channels';\nexport const y = x;\n",
    message: 'shared is imported by the server and the extension and imports neither',
  },
  {
    arrow: 'the extension never imports server code',
    path: 'extension/lib/probe.ts',
    bad: "import { x } from '../../server/src/services/channels';\nexport const y = x;\n",
    good: "import { x } from '@rebound/shared';\nexport const y = x;\n",
    message: 'the extension talks to the server over HTTP only',
  },
  {
    arrow: "the extension's tests reach the server through test-support only",
    path: 'extension/test/unit/probe.test.ts',
    bad: "import { x } from '../../../server/test/engine/harness';\nexport const y = x;\n",
    good: "import { x } from '@rebound/test-support';\nexport const y = x;\n",
    message: 'reach the server through @rebound/test-support',
  },
  {
    arrow: 'only the demo loads the provider simulators',
    path: 'server/src/services/probe.ts',
    bad: "import { x } from '@rebound/simulators';\nexport const y = x;\n",
    good: "import { x } from './channels';\nexport const y = x;\n",
    message: 'only server/src/demo-workspace loads them',
  },
  {
    arrow: 'a channel adapter never loads the provider simulators either',
    path: 'server/src/channels/probe.ts',
    bad: "import { x } from '@rebound/simulators';\nexport const y = x;\n",
    good: "import { x } from './types';\nexport const y = x;\n",
    message: 'only server/src/demo-workspace loads them',
  },
  {
    arrow: 'only main.ts loads the demo workspace',
    path: 'server/src/services/probe.ts',
    bad: "import { x } from '../demo-workspace/simulators';\nexport const y = x;\n",
    good: "import { x } from './channels';\nexport const y = x;\n",
    message: 'loaded by main.ts alone',
  },
  {
    arrow: 'a route never loads the demo workspace (the demo helpdesk pages are routes/demo)',
    path: 'server/src/routes/probe/index.ts',
    bad: "import { x } from '../../demo-workspace';\nexport const y = x;\n",
    good: "import { x } from '../demo';\nexport const y = x;\n",
    message: 'loaded by main.ts alone',
  },
  {
    arrow: 'main.ts never imports the provider simulators itself',
    path: 'server/src/main.ts',
    bad: "import { x } from '@rebound/simulators';\nexport const y = x;\n",
    good: "const demo = await import('./demo-workspace');\nexport const y = demo;\n",
    message: 'only server/src/demo-workspace loads them',
  },
  {
    arrow: 'no double assertion in source',
    path: 'server/src/services/probe.ts',
    bad: 'export const y = (1 as unknown as string).length;\n',
    good: 'export const y = String(1).length;\n',
    message: 'A double assertion',
  },
];

describe('layering rules in the lint configuration', () => {
  for (const rule of rules) {
    it(`${rule.arrow}: a violation fails the lint, the same file without it passes`, () => {
      expect(lint(rule.path, rule.bad)).toContain(rule.message);
      expect(lint(rule.path, rule.good)).toBe('');
    });
  }

  it('the demo loads the provider simulators (the one place that may)', () => {
    expect(
      lint('server/src/demo-workspace/probe.ts', "import { y } from '@rebound/simulators';\nexport const z = y;\n"),
    ).toBe('');
  });
});
