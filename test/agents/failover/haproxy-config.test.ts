import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haproxyConfig } from '../../../src/agents/failover/haproxy-config.js';
import { exitCodeFor } from '../../../src/cli/exit.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { renderHaproxyConfig } from '../../../src/agents/failover/haproxy-command.js';

function pgdeck(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function haproxyCheck(config: string): { code: number | null; output: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'pgdeck-haproxy-')), 'haproxy.cfg');
  writeFileSync(file, config);
  const result = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The `listen NAME` section: its lines up to the next section. */
function section(config: string, name: string): string[] {
  const lines = config.split('\n');
  const start = lines.indexOf(`listen ${name}`);
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('  '));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe('haproxyConfig (pure)', () => {
  const config = haproxyConfig({
    backends: [
      { name: 'pg0', port: 5432, checkPort: 8008 },
      { name: 'pg1', host: '10.0.0.6', port: 5433, checkPort: 8009 },
    ],
    writePort: 6000,
    readPort: 6001,
    bind: '0.0.0.0',
  });

  it('routes the write port to /primary and the read port to /replica, over every member', () => {
    const write = section(config, 'write');
    const read = section(config, 'read');
    expect(write).toContain('  bind 0.0.0.0:6000');
    expect(write).toContain('  option httpchk GET /primary');
    expect(read).toContain('  bind 0.0.0.0:6001');
    expect(read).toContain('  option httpchk GET /replica');
    for (const part of [write, read]) {
      expect(part).toContain('  server pg0 127.0.0.1:5432 check port 8008');
      expect(part).toContain('  server pg1 10.0.0.6:5433 check port 8009');
    }
  });

  it('is a configuration haproxy accepts', () => {
    const checked = haproxyCheck(config);
    expect(checked.output).toContain('Configuration file is valid');
    expect(checked.code).toBe(0);
  });
});

describe('pgdeck failover haproxy-config', () => {
  it('prints a configuration that passes haproxy -c, from --member flags', () => {
    const result = pgdeck([
      'failover',
      'haproxy-config',
      '--member',
      'pg0=10.0.0.5:5432:8008',
      '--member',
      'pg1=5433:8009',
      '--write-port',
      '7000',
      '--read-port',
      '7001',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(section(result.stdout, 'write')).toEqual(
      expect.arrayContaining(['  bind 127.0.0.1:7000', '  server pg0 10.0.0.5:5432 check port 8008']),
    );
    expect(section(result.stdout, 'read')).toEqual(
      expect.arrayContaining(['  bind 127.0.0.1:7001', '  server pg1 127.0.0.1:5433 check port 8009']),
    );
    expect(haproxyCheck(result.stdout).code).toBe(0);
  });

  it("adds the config file's own failover member", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pgdeck-haproxy-')), 'pgdeck.yaml');
    writeFileSync(
      file,
      'agents:\n  failover:\n    node: pg2\n    dataDir: /d\n    pgHost: 10.0.0.7\n    pgPort: 5434\n    apiUrl: http://10.0.0.7:8010\n',
    );
    const result = pgdeck(['failover', 'haproxy-config', '--config', file, '--member', 'pg0=10.0.0.5:5432:8008']);
    expect(result.code).toBe(0);
    expect(section(result.stdout, 'write')).toEqual(
      expect.arrayContaining([
        '  server pg0 10.0.0.5:5432 check port 8008',
        '  server pg2 10.0.0.7:5434 check port 8010',
      ]),
    );
  });

  it('a malformed --member exits 2 with one line naming the flag', () => {
    const result = pgdeck(['failover', 'haproxy-config', '--member', 'pg0']);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'pgdeck: --member: expected NAME=[HOST:]PGPORT:APIPORT (pg0=10.0.0.5:5432:8008), got "pg0"',
    ]);
  });
});

describe('renderHaproxyConfig: every mistake is a usage error naming its flag', () => {
  const base = { members: ['pg0=1:2'], writePort: '5000', readPort: '5001', bind: '127.0.0.1' };
  it.each([
    [{ members: [] }, '--member: no members; pass --member NAME=[HOST:]PGPORT:APIPORT once per member'],
    [{ members: ['pg0=1:2', 'pg0=3:4'] }, '--member: member "pg0" is given twice'],
    [{ members: ['pg0=1:70000'] }, '--member: expected a port (1-65535), got "70000"'],
    [{ writePort: '70000' }, '--write-port: expected a port (1-65535), got "70000"'],
    [{ readPort: '5000' }, '--read-port: must differ from --write-port'],
    [{ bind: 'a b' }, '--bind: expected an address, got "a b"'],
  ])('%j', (change, message) => {
    let error: unknown;
    try {
      renderHaproxyConfig({ ...base, ...change });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PgdeckError);
    expect((error as PgdeckError).kind).toBe('invalid-argument');
    expect(exitCodeFor(error)).toBe(2);
    expect((error as Error).message).toBe(message);
  });

  it('a configured member without an API port is named by its key', () => {
    expect(() => renderHaproxyConfig(base, { node: 'pg2', pgHost: 'h', pgPort: 5432, apiUrl: '' })).toThrow(
      'agents.failover.apiUrl: set it',
    );
  });
});
