import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { Etcd3 } from 'etcd3';
import { startPostgres } from '../../src/lab/procs/postgres.js';
import { isAlive, sweepOrphans } from '../../src/lab/procs/service-dir.js';
import { withEtcd, withPgCluster, withRedis } from '../helpers/services.js';

const DEFAULT_PORTS = [5432, 2379, 6379];

describe('service launchers', () => {
  const cluster = withPgCluster(1);
  const etcd = withEtcd();
  const redis = withRedis();

  it('starts PostgreSQL with a streaming replica on free ports', async () => {
    const { primary, replicas } = cluster();
    const replica = replicas[0]!;
    expect(DEFAULT_PORTS).not.toContain(primary.port);
    const client = new Client({ connectionString: primary.url() });
    await client.connect();
    try {
      await client.query('CREATE TABLE probe (n int)');
      await client.query('INSERT INTO probe VALUES ($1)', [42]);
      const repl = await client.query<{ application_name: string; state: string }>(
        'SELECT application_name, state FROM pg_stat_replication',
      );
      expect(repl.rows).toEqual([{ application_name: replica.name, state: 'streaming' }]);
    } finally {
      await client.end();
    }
    const standby = new Client({ connectionString: replica.url() });
    await standby.connect();
    try {
      expect((await standby.query('SELECT pg_is_in_recovery() AS r')).rows[0]).toEqual({ r: true });
      let rows: unknown[] = [];
      for (let i = 0; i < 50 && rows.length === 0; i++) {
        rows = (await standby.query('SELECT n FROM probe').catch(() => ({ rows: [] }))).rows;
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([{ n: 42 }]);
    } finally {
      await standby.end();
    }
  });

  it('kills PostgreSQL with all its backends and starts it again', async () => {
    const { replicas } = cluster();
    const replica = replicas[0]!;
    const pid = replica.pid;
    replica.kill('SIGKILL');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(pid)).toBe(false);
    await replica.start();
    expect(replica.pid).not.toBe(pid);
    expect(isAlive(replica.pid)).toBe(true);
  });

  it('starts etcd and survives a restart with its data', async () => {
    const server = etcd();
    const client = new Etcd3({ hosts: server.endpoint });
    try {
      await client.put('pgdeck/test').value('kept');
      await server.restart();
      expect(await client.get('pgdeck/test').string()).toBe('kept');
    } finally {
      client.close();
    }
  });

  it('starts redis', async () => {
    const server = redis();
    const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
    await client.connect();
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('stops a server by PID, starts it again on its data, and destroy removes its dir', async () => {
    const { primary } = cluster();
    const pid = primary.pid;
    await primary.stop();
    expect(isAlive(pid)).toBe(false);
    await primary.start();
    expect(isAlive(primary.pid)).toBe(true);
    const extra = await startPostgres({ name: 'extra' });
    const extraPid = extra.pid;
    await extra.destroy();
    expect(isAlive(extraPid)).toBe(false);
    expect(existsSync(extra.dataDir)).toBe(false);
  });

  it('sweeps the servers of a run that crashed', async () => {
    // A temp dir of its own: any test starting a server sweeps the shared one, and could take this orphan first.
    const root = mkdtempSync(join(tmpdir(), 'pgdeck-sweep-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/orphan-maker.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: root },
    });
    const orphanPid = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('orphan maker exited early')));
    });
    expect(isAlive(orphanPid)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(orphanPid)).toBe(true);
    expect(sweepOrphans(root)).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 50 && isAlive(orphanPid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive(orphanPid)).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });

  it('leaves a dir another worker has just made (no owner.pid yet) alone, and sweeps it once it is old', () => {
    const path = mkdtempSync(join(tmpdir(), 'pgdeck-svc-newborn-'));
    try {
      sweepOrphans();
      expect(existsSync(path)).toBe(true);
      const old = new Date(Date.now() - 120_000);
      utimesSync(path, old, old);
      sweepOrphans();
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});
