import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function expectErrorLines(result: { code: number | null; stderr: string }, lines: readonly string[]): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trimEnd().split('\n')).toEqual(lines);
}

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pgdeck-cli-')), 'pgdeck.yaml');
  writeFileSync(file, text);
  return file;
}

describe('pgdeck CLI: user mistakes exit 2 with one line each', () => {
  it('a bad environment value names the key and the variable', () => {
    expectOneLineError(
      pgdeck(['config', 'show'], { PGDECK_LISTEN: 'nowhere' }),
      2,
      'pgdeck: config: listen (PGDECK_LISTEN): expected host:port, got "nowhere"',
    );
  });

  it('--ttl two says it expected a number', () => {
    expectErrorLines(pgdeck(['--agent', 'failover', '--node', 'pg0', '--data-dir', '/d', '--ttl', 'two']), [
      'pgdeck: config: agents.failover.initial.ttlSeconds (--ttl): expected a number, got "two"',
    ]);
  });

  it('--patroni-api-annotation=maybe says it expected true or false', () => {
    expectErrorLines(pgdeck(['--agent', 'patroni-operator', '--patroni-api-annotation=maybe']), [
      'pgdeck: config: agents.patroni-operator.patroniApiAnnotation (--patroni-api-annotation): expected true or false, got "maybe"',
    ]);
  });

  it('with --agent failover, a flag of another agent names its owner', () => {
    expectErrorLines(pgdeck(['--agent', 'failover', '--node', 'pg0', '--data-dir', '/d', '--redis-host', 'r']), [
      'pgdeck: --redis-host is a flag of the autoscaler agent, not of failover',
    ]);
  });

  it('an unknown nested key in the file is named by its path', () => {
    const file = yamlFile('agents:\n  failover:\n    node: pg0\n    dataDir: /d\n    ttlSeconds: 3\n');
    expectErrorLines(pgdeck(['--agent', 'failover', '--config', file]), [
      `pgdeck: config: agents.failover.ttlSeconds (file ${file}): unknown key (did you mean agents.failover.initial.ttlSeconds?)`,
    ]);
  });

  it('every problem at once, one line each, no stack trace', () => {
    const file = yamlFile('listen: nowhere\nkube:\n  namspace: x\n');
    const result = pgdeck(['--agent', 'failover', '--config', file, '--synchronous=maybe', '--log-level', 'xml'], {
      POD_NAMESPACE: 'Bad_NS',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr.trimEnd().split('\n').sort()).toEqual(
      [
        'pgdeck: config: agents.failover.node: required (--node, or env PGDECK_NODE or PATRONI_NAME)',
        'pgdeck: config: agents.failover.dataDir: required (--data-dir, or env PGDATA or PATRONI_POSTGRESQL_DATA_DIR)',
        `pgdeck: config: listen (file ${file}): expected host:port, got "nowhere"`,
        'pgdeck: config: logLevel (--log-level): expected one of debug, info, warn, error, silent, got "xml"',
        `pgdeck: config: kube.namspace (file ${file}): unknown key (did you mean kube.namespace?)`,
        'pgdeck: config: kube.namespace (POD_NAMESPACE): expected a DNS-1123 label, got "Bad_NS"',
        'pgdeck: config: agents.failover.initial.synchronousMode (--synchronous): expected true or false, got "maybe"',
      ].sort(),
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

  it('--version prints the package version', () => {
    const result = pgdeck(['--version']);
    expect(result.code).toBe(0);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(result.stdout.trim()).toBe(version);
  });

  it('config show prints each section, secrets masked, and where values came from', () => {
    const file = yamlFile('agents:\n  failover:\n    dataDir: /srv/pg\n');
    const result = pgdeck(
      ['config', 'show', '-o', 'json', '--agent', 'failover', '--node', 'pg1', '--ttl', '4', '--config', file],
      { PGDECK_TOKEN: 'a-token-of-twenty-chars', POD_NAMESPACE: 'pg-prod', POSTGRES_PASSWORD: 'hunter2-secret' },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('a-token-of-twenty-chars');
    expect(result.stdout).not.toContain('hunter2');
    const doc = JSON.parse(result.stdout) as {
      file: string;
      global: { token: string; kube: { namespace: string }; color: boolean };
      agents: Record<string, { node: string; dataDir: string; initial: { ttlSeconds: number } }>;
      sources: Record<string, string>;
    };
    expect(doc.file).toBe(file);
    expect(doc.global).toMatchObject({ token: '********', kube: { namespace: 'pg-prod' }, color: true });
    expect(Object.keys(doc.agents)).toEqual(['failover']);
    expect(doc.agents.failover).toMatchObject({ node: 'pg1', dataDir: '/srv/pg', initial: { ttlSeconds: 4 } });
    expect(doc.sources).toEqual({
      token: 'env PGDECK_TOKEN',
      'kube.namespace': 'env POD_NAMESPACE',
      'agents.failover.dataDir': `file ${file}`,
      'agents.failover.node': 'flag --node',
      'agents.failover.initial.ttlSeconds': 'flag --ttl',
    });
  });

  it('NO_COLOR and --no-color make color a global false; PGDECK_* names fill the global section', () => {
    const show = (args: string[], env: NodeJS.ProcessEnv): { color: boolean; readonly: boolean; logLevel: string } => {
      const result = pgdeck(['config', 'show', '-o', 'json', ...args], env);
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as { global: { color: boolean; readonly: boolean; logLevel: string } }).global;
    };
    expect(show([], { NO_COLOR: '1' }).color).toBe(false);
    expect(show(['--no-color'], { NO_COLOR: '' }).color).toBe(false);
    expect(show([], { NO_COLOR: '', PGDECK_READONLY: 'true', PGDECK_LOG_LEVEL: 'debug' })).toMatchObject({
      color: true,
      readonly: true,
      logLevel: 'debug',
    });
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
