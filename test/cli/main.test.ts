import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const TOKEN = 'cli-test-token-0123456789';

function pgdeck(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOneLineError(result: { code: number | null; stderr: string }, code: number, text: string): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(text);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('pgdeck CLI: user mistakes exit 2 with one line', () => {
  it('a bad environment value names the key and the variable', () => {
    expectOneLineError(
      pgdeck(['config', 'show'], { REDIS_PORT: 'abc' }),
      2,
      'pgdeck: config: redis.port (REDIS_PORT): expected a number from 1 to 65535, got "abc"',
    );
  });

  it('an unknown flag or command', () => {
    expectOneLineError(pgdeck(['--frob']), 2, 'pgdeck: Unknown argument: frob');
    expectOneLineError(pgdeck(['bogus']), 2, 'Unknown argument: bogus');
  });

  it('an unknown agent lists the known ones', () => {
    expectOneLineError(pgdeck(['--agent', 'nope']), 2, '--agent: unknown agent "nope"; known agents:');
  });

  it('a missing config file', () => {
    expectOneLineError(
      pgdeck(['config', 'show', '--config', '/nonexistent.yaml']),
      2,
      'config: cannot read /nonexistent.yaml',
    );
  });

  it('status with nothing to ask, and with an unreachable agent (a runtime failure: exit 1)', () => {
    expectOneLineError(pgdeck(['status']), 2, 'status: no agents to ask');
    expectOneLineError(pgdeck(['status', 'http://127.0.0.1:9/']), 1, 'status: http://127.0.0.1:9/: bad port');
  });
});

describe('pgdeck CLI: help, completion, config show', () => {
  it.each([[[]], [['status']], [['attach']], [['config']], [['action']]])('--help %o', (command) => {
    const result = pgdeck([...command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`pgdeck ${command.join(' ')}`.trim());
    expect(result.stdout).toContain('--config');
  });

  it('prints a shell completion script', () => {
    const result = pgdeck(['completion']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('_pgdeck_yargs_completions');
  });

  it('config show masks secrets and says where values came from', () => {
    const result = pgdeck(['config', 'show', '-o', 'json'], {
      POSTGRES_PASSWORD: 'hunter2-very-secret',
      PGDECK_TOKEN: 'a-token-of-twenty-chars',
      CITUS_HOST: 'coord',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain('a-token-of-twenty-chars');
    const doc = JSON.parse(result.stdout) as {
      config: { citus: { host: string; password: string }; token: string };
      sources: Record<string, string>;
    };
    expect(doc.config.citus).toMatchObject({ host: 'coord', password: '********' });
    expect(doc.config.token).toBe('********');
    expect(doc.sources['citus.password']).toBe('env POSTGRES_PASSWORD');
  });
});

describe('pgdeck CLI against a real headless agent', () => {
  let url = '';
  let child: ReturnType<typeof spawn>;
  beforeAll(async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/headless-counter.ts', '--token', TOKEN, '--target', '3'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    url = await new Promise<string>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
  });
  afterAll(() => {
    child.kill('SIGTERM');
  });

  it('status -o json, yaml and table show the same snapshot', () => {
    const env = { PGDECK_TOKEN: TOKEN };
    const json = pgdeck(['status', url, '-o', 'json'], env);
    expect(json.code).toBe(0);
    const [snapshot] = JSON.parse(json.stdout) as {
      agent: string;
      health: { status: string };
      source: { url: string };
    }[];
    expect(snapshot).toMatchObject({ agent: 'counter', source: { url } });
    const yaml = parse(pgdeck(['status', url, '-o', 'yaml'], env).stdout) as { agent: string }[];
    expect(yaml[0]?.agent).toBe('counter');
    const table = pgdeck(['status', url], env).stdout.split('\n');
    expect(table[0]).toMatch(/^AGENT\s+SOURCE\s+HEALTH\s+READY\s+SUMMARY$/);
    expect(table[1]).toMatch(new RegExp(`^counter\\s+${url.replace(/[.]/g, '\\.')}\\s+\\w+\\s+(yes|no)\\s+\\S`));
  });

  it('status without the token is refused', () => {
    const result = pgdeck(['status', url], { PGDECK_TOKEN: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/401|token|unauthori/i);
  });

  it('action --preview and invoke, and --readonly refuses to invoke', () => {
    const env = { PGDECK_TOKEN: TOKEN };
    const preview = pgdeck(['action', url, 'bump', '--arg', 'by=2', '--preview'], env);
    expect(preview.code).toBe(0);
    expect(JSON.parse(preview.stdout)).toMatchObject({ action: 'bump', allowed: true });
    const invoked = pgdeck(['action', url, 'bump', '--arg', 'by=2'], env);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toMatchObject({ action: 'bump', ok: true });
    expectOneLineError(pgdeck(['action', url, 'bump', '--readonly'], env), 2, '--readonly: refusing to invoke bump');
    expectOneLineError(pgdeck(['action', url, 'nope'], env), 2, 'nope');
    expectOneLineError(pgdeck(['action', url, 'bump', '--arg', 'oops'], env), 2, '--arg oops: expected key=value');
  });
});
