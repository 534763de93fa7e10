/** Benchmarks measured in a process of their own (peak RSS is a process's): run one, read its result. */
import { spawn } from 'node:child_process';

/**
 * Runs `script` under tsx with `args` (and `env` added, and Node's `flags`) and resolves with the JSON
 * object on the last line it printed; rejects when it exits non-zero or prints no such line.
 */
export function runChild<T>(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  flags: string[] = [],
): Promise<T> {
  const name = script.split('/').at(-1);
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
    });
    child.on('error', reject);
    // 'close': the child's output is all read by then.
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${name} ${args.join(' ')} exited with ${code}`));
      try {
        resolve(JSON.parse(text.trim().split('\n').at(-1) ?? ''));
      } catch {
        reject(new Error(`${name} ${args.join(' ')} printed no result: ${text.slice(-200)}`));
      }
    });
  });
}
