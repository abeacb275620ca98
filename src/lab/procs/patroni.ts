import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { killTree, startDaemon, waitUntil, type Daemon } from './daemon.js';
import { pgBinDir, pgRunAs } from '../../agents/failover/pg-tools.js';
import type { MemberPlacement } from './failover-cluster.js';
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
  /** Where its PostgreSQL and REST API listen (127.0.0.1, or its namespace's address with a placement). */
  readonly host: string;
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
  /** libpq multi-host list: the members' hosts (`127.0.0.1,127.0.0.1,...`) and the matching ports. */
  readonly hosts: string;
  readonly ports: string;
  /** The member Patroni reports as leader, from its REST API. */
  leader(): Promise<string | null>;
  /** `patronictl switchover --force` to any healthy replica; resolves when patronictl returns. */
  switchover(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Debian's Patroni, N members, one etcd (v3 API), on free ports: on loopback, or with a placement each
 * member (Patroni and its PostgreSQL) inside its own network namespace at its address there.
 */
export async function startPatroniCluster(options: {
  etcdEndpoint: string;
  members?: number;
  /** The members' names (default `patroni0`, `patroni1`, ...), e.g. the pod names they stand behind. */
  names?: readonly string[];
  timing?: PatroniTiming;
  synchronous?: boolean;
  /** initdb's `--wal-segsize` (MB) for the bootstrap (PostgreSQL's 16 when unset). */
  walSegmentSizeMb?: number;
  /** Where member `index` runs: its address and the command Patroni runs under (`ip netns exec NS`). */
  placement?: (index: number) => MemberPlacement;
  /** A network (CIDR) the members trust besides loopback: the placement's bridge. */
  trustNetwork?: string;
}): Promise<PatroniCluster> {
  const runAs = await pgRunAs();
  const dir = createServiceDir('patroni', runAs);
  const scope = `pgdeck-peer-${process.pid}-${Date.now()}`;
  const timing = options.timing ?? patroniDefaults;
  const count = options.members ?? 3;
  const configs: {
    name: string;
    host: string;
    wrap: readonly string[];
    pgPort: number;
    apiPort: number;
    dataDir: string;
    file: string;
  }[] = [];
  for (let i = 0; i < count; i++) {
    const name = options.names?.[i] ?? `patroni${i}`;
    const { host, wrap } = options.placement?.(i) ?? { host: '127.0.0.1', wrap: [] };
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
          host,
          trustNetwork: options.trustNetwork,
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
    configs.push({ name, host, wrap, pgPort, apiPort, dataDir, file });
  }
  const daemons = new Map<string, Daemon>();
  const launch = (c: (typeof configs)[number]): void => {
    // Inside a namespace: `ip netns exec` needs root, so Patroni drops to the postgres user after it
    // (setpriv execs, as `ip netns exec` does: the daemon's PID is Patroni's).
    const dropTo =
      c.wrap.length === 0 || runAs === undefined
        ? []
        : ['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--init-groups'];
    const argv = [...c.wrap, ...dropTo, 'patroni', c.file];
    daemons.set(
      c.name,
      startDaemon({
        name: c.name,
        command: argv[0]!,
        args: argv.slice(1),
        dir,
        cwd: join(dir.path, c.name),
        env: { ...process.env, HOME: join(dir.path, c.name) },
        ...(runAs === undefined || c.wrap.length > 0 ? {} : { runAs }),
      }),
    );
  };
  const members: PatroniMember[] = configs.map((c) => ({
    name: c.name,
    host: c.host,
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
      await waitUntil(`Patroni ${c.name}`, () => apiRunning(c.host, c.apiPort), 60_000);
    },
    stop: async () => {
      await daemons.get(c.name)?.stop(15_000);
    },
  }));
  const first = configs[0]!;
  launch(first);
  await waitUntil(
    'Patroni leader bootstrap',
    async () => (await role(first.host, first.apiPort)) === 'primary',
    60_000,
    {
      logFile: join(dir.path, `${first.name}.log`),
    },
  );
  for (const c of configs.slice(1)) launch(c);
  for (const c of configs.slice(1))
    await waitUntil(`Patroni replica ${c.name}`, async () => (await role(c.host, c.apiPort)) === 'replica', 90_000, {
      logFile: join(dir.path, `${c.name}.log`),
    });
  if (options.synchronous === true)
    await waitUntil('Patroni synchronous standby', () => hasSyncStandby(first.host, first.apiPort), 60_000);
  const leader = async (): Promise<string | null> => {
    for (const c of configs) if ((await role(c.host, c.apiPort).catch(() => null)) === 'primary') return c.name;
    return null;
  };
  return {
    scope,
    members,
    hosts: configs.map((c) => c.host).join(','),
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
  host: string;
  trustNetwork?: string | undefined;
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
    restapi: { listen: `${m.host}:${m.apiPort}`, connect_address: `${m.host}:${m.apiPort}` },
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
      listen: `${m.host}:${m.pgPort}`,
      connect_address: `${m.host}:${m.pgPort}`,
      data_dir: m.dataDir,
      bin_dir: pgBinDir(),
      pgpass: join(m.socketDir, 'pgpass'),
      authentication: { superuser: { username: 'postgres' }, replication: { username: 'postgres' } },
      parameters: { unix_socket_directories: m.socketDir },
      pg_hba: [
        'local all all trust',
        'host all all 127.0.0.1/32 trust',
        'host replication all 127.0.0.1/32 trust',
        ...(m.trustNetwork === undefined
          ? []
          : [`host all all ${m.trustNetwork} trust`, `host replication all ${m.trustNetwork} trust`]),
      ],
      remove_data_directory_on_rewind_failure: true,
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}

async function role(host: string, apiPort: number): Promise<string | null> {
  const response = await fetch(`http://${host}:${apiPort}/patroni`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { role?: string; state?: string };
  return body.state === 'running' ? (body.role === 'master' ? 'primary' : (body.role ?? null)) : null;
}

async function hasSyncStandby(host: string, apiPort: number): Promise<boolean> {
  const response = await fetch(`http://${host}:${apiPort}/cluster`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { members?: { role?: string }[] };
  return (body.members ?? []).some((m) => m.role === 'sync_standby');
}

async function apiRunning(host: string, apiPort: number): Promise<boolean> {
  return (await role(host, apiPort)) !== null;
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
