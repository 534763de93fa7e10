/**
 * What the CLI prints for an unexpected error: the message alone, or with REBOUND_DEBUG set (read
 * in config.ts) the stack trace too; secrets masked either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeError } from '../src/cli/context';

const saved = process.env.REBOUND_DEBUG;
afterEach(() => {
  if (saved === undefined) delete process.env.REBOUND_DEBUG;
  else process.env.REBOUND_DEBUG = saved;
});

describe('CLI error output', () => {
  const error = () => new Error('could not reach https://api.example.test/send?access_token=EAAG-secret-value');

  it('is the message alone by default, secrets masked, exit code 1', () => {
    delete process.env.REBOUND_DEBUG;
    const { message, exitCode } = describeError(error());
    expect(exitCode).toBe(1);
    expect(message).toBe('could not reach https://api.example.test/send?access_token=***');
    expect(message).not.toContain('\n    at ');
  });

  it('leaves the stack trace out with REBOUND_DEBUG=off or 0', () => {
    for (const value of ['off', '0', 'false', '']) {
      process.env.REBOUND_DEBUG = value;
      expect(describeError(error()).message, value).not.toContain('\n    at ');
    }
  });

  it('masks secrets in whatever is thrown, an Error or not', () => {
    expect(describeError('token rb_abcdefghijklmnop refused').message).toBe('token rb_*** refused');
  });

  it('adds the stack trace with REBOUND_DEBUG set, secrets masked', () => {
    process.env.REBOUND_DEBUG = 'on';
    const { message } = describeError(error());
    expect(message).toContain('\n    at ');
    expect(message).toContain('access_token=***');
    expect(message).not.toContain('EAAG-secret-value');
  });
});
