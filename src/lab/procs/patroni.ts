import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { killTree, startDaemon, waitUntil, type Daemon } from './daemon.js';
import { pgBinDir, pgRunAs } from '../../agents/failover/pg-tools.js';
import { freePort } from './ports.js';
import { createServiceDir, isAlive, subdir } from './service-dir.js';

/** Patroni's timing knobs; its defaults are ttl 30, loop_wait 10, retry_timeout 10. */
export interface PatroniTiming {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
}

export const patroniDefaults: PatroniTiming = { ttl: 30, loopWait: 10, retryTimeout: 10 };

export interface PatroniMember {
  readonly name: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly dataDir: string;
  /** Kills Patroni and the member's PostgreSQL (postmaster and backends): the node's processes die. */
  crash(): void;
  /** Kills the member's PostgreSQL only (postmaster and backends); Patroni keeps running. */
  killPostgres(): void;
  /** Signals the Patroni daemon only (SIGSTOP, SIGCONT). */
  signalDaemon(sig: NodeJS.Signals): void;
  /** Signals Patroni and the member's PostgreSQL together (SIGSTOP, SIGCONT: the node frozen). */
  signalNode(sig: NodeJS.Signals): void;
  /** Starts Patroni again for this member (it rejoins, with pg_rewind when needed). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PatroniCluster {
  readonly scope: string;
  readonly members: readonly PatroniMember[];
  /** libpq multi-host list: `127.0.0.1,127.0.0.1,...` and the matching ports. */
  readonly hosts: string;
  readonly ports: string;
  /** The member Patroni reports as leader, from its REST API. */
  leader(): Promise<string | null>;
  /** `patronictl switchover --force` to any healthy replica; resolves when patronictl returns. */
  switchover(): Promise<void>;
  destroy(): Promise<void>;
}

/** Debian's Patroni, N members, one etcd (v3 API), everything on loopback free ports. */
export async function startPatroniCluster(options: {
  etcdEndpoint: string;
  members?: number;
  /** The members' names (default `patroni0`, `patroni1`, ...), e.g. the pod names they stand behind. */
  names?: readonly string[];
  timing?: PatroniTiming;
  synchronous?: boolean;
  /** initdb's `--wal-segsize` (MB) for the bootstrap (PostgreSQL's 16 when unset). */
  walSegmentSizeMb?: number;
}): Promise<PatroniCluster> {
  const runAs = await pgRunAs();
  const dir = createServiceDir('patroni', runAs);
  const scope = `pgdeck-peer-${process.pid}-${Date.now()}`;
  const timing = options.timing ?? patroniDefaults;
  const count = options.members ?? 3;
  const configs: { name: string; pgPort: number; apiPort: number; dataDir: string; file: string }[] = [];
  for (let i = 0; i < count; i++) {
    const name = options.names?.[i] ?? `patroni${i}`;
    const [pgPort, apiPort] = [await freePort(), await freePort()];
    const home = subdir(dir, name, runAs);
    const dataDir = join(home, 'data');
    const file = join(home, 'patroni.yml');
    writeFileSync(
      file,
      stringify(
        memberConfig({
          scope,
          name,
          pgPort,
          apiPort,
          dataDir,
          socketDir: home,
          etcd: options.etcdEndpoint,
          timing,
          synchronous: options.synchronous ?? false,
          walSegmentSizeMb: options.walSegmentSizeMb,
        }),
      ),
    );
    if (runAs !== undefined) chownSync(file, runAs.uid, runAs.gid);
    configs.push({ name, pgPort, apiPort, dataDir, file });
  }
  const daemons = new Map<string, Daemon>();
  const launch = (c: (typeof configs)[number]): void => {
    daemons.set(
      c.name,
      startDaemon({
        name: c.name,
        command: 'patroni',
        args: [c.file],
        dir,
        cwd: join(dir.path, c.name),
        env: { ...process.env, HOME: join(dir.path, c.name) },
        ...(runAs === undefined ? {} : { runAs }),
      }),
    );
  };
  const members: PatroniMember[] = configs.map((c) => ({
    name: c.name,
    pgPort: c.pgPort,
    apiPort: c.apiPort,
    dataDir: c.dataDir,
    crash: () => {
      daemons.get(c.name)?.signal('SIGKILL');
      killPostmaster(c.dataDir);
    },
    killPostgres: () => killPostmaster(c.dataDir),
    signalDaemon: (sig) => daemons.get(c.name)?.signal(sig),
    signalNode: (sig) => {
      daemons.get(c.name)?.signal(sig);
      killPostmaster(c.dataDir, sig);
    },
    start: async () => {
      launch(c);
      await waitUntil(`Patroni ${c.name}`, () => apiRunning(c.apiPort), 60_000);
    },
    stop: async () => {
      await daemons.get(c.name)?.stop(15_000);
    },
  }));
  const first = configs[0]!;
  launch(first);
  await waitUntil('Patroni leader bootstrap', async () => (await role(first.apiPort)) === 'primary', 60_000, {
    logFile: join(dir.path, `${first.name}.log`),
  });
  for (const c of configs.slice(1)) launch(c);
  for (const c of configs.slice(1))
    await waitUntil(`Patroni replica ${c.name}`, async () => (await role(c.apiPort)) === 'replica', 90_000, {
      logFile: join(dir.path, `${c.name}.log`),
    });
  if (options.synchronous === true)
    await waitUntil('Patroni synchronous standby', () => hasSyncStandby(first.apiPort), 60_000);
  const leader = async (): Promise<string | null> => {
    for (const c of configs) if ((await role(c.apiPort).catch(() => null)) === 'primary') return c.name;
    return null;
  };
  return {
    scope,
    members,
    hosts: configs.map(() => '127.0.0.1').join(','),
    ports: configs.map((c) => String(c.pgPort)).join(','),
    leader,
    switchover: async () => {
      const ctl = startDaemon({
        name: 'patronictl',
        command: 'patronictl',
        args: ['-c', first.file, 'switchover', '--force', scope],
        dir,
        ...(runAs === undefined ? {} : { runAs }),
      });
      while (isAlive(ctl.pid)) await delay(20);
    },
    destroy: async () => {
      await Promise.all([...daemons.values()].map((d) => d.stop(15_000)));
      for (const c of configs) killPostmaster(c.dataDir);
      dir.remove();
    },
  };
}

function memberConfig(m: {
  scope: string;
  name: string;
  pgPort: number;
  apiPort: number;
  dataDir: string;
  socketDir: string;
  etcd: string;
  timing: PatroniTiming;
  synchronous: boolean;
  walSegmentSizeMb?: number | undefined;
}): object {
  return {
    scope: m.scope,
    name: m.name,
    log: { level: 'WARNING' },
    restapi: { listen: `127.0.0.1:${m.apiPort}`, connect_address: `127.0.0.1:${m.apiPort}` },
    etcd3: { hosts: [m.etcd.replace(/^https?:\/\//, '')] },
    bootstrap: {
      dcs: {
        ttl: m.timing.ttl,
        loop_wait: m.timing.loopWait,
        retry_timeout: m.timing.retryTimeout,
        maximum_lag_on_failover: 1048576,
        synchronous_mode: m.synchronous,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            wal_log_hints: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            wal_keep_size: '256MB',
            hot_standby: 'on',
            fsync: 'on',
          },
        },
      },
      initdb: [
        { encoding: 'UTF8' },
        'data-checksums',
        ...(m.walSegmentSizeMb === undefined ? [] : [{ 'wal-segsize': String(m.walSegmentSizeMb) }]),
      ],
    },
    postgresql: {
      listen: `127.0.0.1:${m.pgPort}`,
      connect_address: `127.0.0.1:${m.pgPort}`,
      data_dir: m.dataDir,
      bin_dir: pgBinDir(),
      pgpass: join(m.socketDir, 'pgpass'),
      authentication: { superuser: { username: 'postgres' }, replication: { username: 'postgres' } },
      parameters: { unix_socket_directories: m.socketDir },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
      remove_data_directory_on_rewind_failure: true,
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}

async function role(apiPort: number): Promise<string | null> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/patroni`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { role?: string; state?: string };
  return body.state === 'running' ? (body.role === 'master' ? 'primary' : (body.role ?? null)) : null;
}

async function hasSyncStandby(apiPort: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/cluster`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { members?: { role?: string }[] };
  return (body.members ?? []).some((m) => m.role === 'sync_standby');
}

async function apiRunning(apiPort: number): Promise<boolean> {
  return (await role(apiPort)) !== null;
}

/** Signals the postmaster recorded in `postmaster.pid` with all its backends (none running: no-op). */
function killPostmaster(dataDir: string, sig: NodeJS.Signals = 'SIGKILL'): void {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0) killTree(pid, sig);
}
