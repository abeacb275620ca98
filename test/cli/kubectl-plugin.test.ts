import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const PLUGIN = resolve('dist/kubectl-pgdeck.js');
const MAIN = resolve('dist/main.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let path = '';

/** Runs `command` by name, found on a PATH whose first directory holds only `kubectl-pgdeck`. */
function run(command: string, args: readonly string[]): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, PATH: path }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

beforeAll(() => {
  if (!existsSync(PLUGIN)) throw new Error('dist/kubectl-pgdeck.js is missing: run `npm run build` first');
  chmodSync(PLUGIN, 0o755);
  chmodSync(MAIN, 0o755);
  const bin = mkdtempSync(join(tmpdir(), 'pgdeck-plugin-'));
  symlinkSync(PLUGIN, join(bin, 'kubectl-pgdeck'));
  symlinkSync(MAIN, join(bin, 'pgdeck'));
  path = [bin, process.env.PATH ?? ''].join(delimiter);
});

describe('the kubectl-pgdeck bin', () => {
  it('is the same CLI: the same output and exit code as pgdeck for a command and a mistake', () => {
    for (const args of [['--version'], ['failover', 'haproxy-config', '--member', 'pg0=5432:8008']]) {
      const plugin = run('kubectl-pgdeck', args);
      const direct = run('pgdeck', args);
      expect(plugin.code).toBe(0);
      expect(plugin.stdout).not.toBe('');
      expect(plugin).toEqual(direct);
    }
    const plugin = run('kubectl-pgdeck', ['status']);
    expect(plugin.code).toBe(2);
    expect(plugin.stderr.trimEnd().split('\n')).toEqual([
      'pgdeck: status: no agents to ask; pass their URLs or list them under `attach:` in the config',
    ]);
    expect(plugin).toEqual(run('pgdeck', ['status']));
  });

  it.skipIf(!onPath('kubectl'))('runs as `kubectl pgdeck` when kubectl is installed', () => {
    const result = run('kubectl', ['pgdeck', 'status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pgdeck: status: no agents to ask');
  });
});
