import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = 'deploy/systemd/pgdeck-failover.service';
const text = readFileSync(UNIT, 'utf8');

function settings(key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('the failover agent systemd unit', () => {
  it('passes systemd-analyze verify (ExecStart pointed at this checkout)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgdeck-unit-'));
    const unit = join(dir, 'pgdeck-failover.service');
    writeFileSync(unit, text.replace('/usr/bin/pgdeck', `${process.execPath} ${resolve('src/main.ts')}`));
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the headless failover agent with its config and token files', () => {
    expect(settings('ExecStart')).toEqual([
      '/usr/bin/pgdeck --agent failover --config ${PGDECK_CONFIG} --token-file /etc/pgdeck/token',
    ]);
    expect(settings('Environment')).toContain('PGDECK_CONFIG=/etc/pgdeck/failover.yaml');
  });

  it('is hardened: no new privileges, a read-only system, no capabilities, only the data dir writable', () => {
    expect(settings('User')).toEqual(['postgres']);
    expect(settings('NoNewPrivileges')).toEqual(['yes']);
    expect(settings('ProtectSystem')).toEqual(['strict']);
    expect(settings('ProtectHome')).toEqual(['yes']);
    expect(settings('PrivateTmp')).toEqual(['yes']);
    expect(settings('CapabilityBoundingSet')).toEqual(['']);
    expect(settings('ReadWritePaths')).toEqual(['/var/lib/postgresql']);
  });
});
