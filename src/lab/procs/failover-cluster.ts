import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pgRunAs } from '../../agents/failover/pg-tools.js';
import { checkoutFile } from '../../checkout-file.js';
import { killTree, startDaemon, waitUntil, type Daemon } from './daemon.js';
import { startEtcd, type EtcdServer } from './etcd.js';
import { freePort } from './ports.js';
import { createServiceDir, isAlive } from './service-dir.js';

export interface FailoverMember {
  readonly name: string;
  /** The address its postgres and its API listen on (127.0.0.1 unless placed elsewhere). */
  readonly host: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly apiUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The daemon process (null while it is down). */
  daemonPid(): number | null;
  /** The postmaster PID from postmaster.pid (null when postgres is down). */
  postgresPid(): number | null;
  /** Signals the daemon only. */
  killDaemon(sig?: NodeJS.Signals): void;
  /** Signals the postmaster and every backend (each backend leads its own session, so not by group). */
  killPostgres(sig?: NodeJS.Signals): void;
  /** The daemon and its postgres at once: a crash of the node's processes. */
  killNode(sig?: NodeJS.Signals): void;
  startDaemon(): Promise<void>;
  pgUrl(database?: string): string;
}

export interface FailoverCluster {
  readonly etcd: EtcdServer;
  readonly token: string;
  readonly members: readonly FailoverMember[];
  member(name: string): FailoverMember;
  /** The member whose `/primary` answers 200 (null when none does). */
  primary(): Promise<string | null>;
  /** Waits until one primary serves and every other member streams from it. */
  waitHealthy(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface FailoverClusterOptions {
  readonly members?: number;
  readonly synchronous?: boolean;
  /** With `synchronous`: no commit returns without a synchronous standby (`--synchronous-strict`). */
  readonly synchronousStrict?: boolean;
  readonly ttlSeconds?: number;
  readonly loopIntervalMs?: number;
  readonly cluster?: string;
  /** How to run pgdeck: default the built `dist/main.js` beside this module's tree, else tsx on src/main.ts. */
  readonly command?: readonly string[];
  readonly pgParameters?: Readonly<Record<string, string>>;
  /** initdb's `--wal-segsize` (MB) for the bootstrap (the agent's `walSegmentSizeMb`). */
  readonly walSegmentSizeMb?: number;
  readonly startTimeoutMs?: number;
  /** An etcd to use instead of starting one. */
  readonly etcd?: EtcdServer;
  /** The API token (default: a random one); clusters a console attaches to together share one. */
  readonly token?: string;
  /** What each daemon's SIGTERM does to its postgres (`--on-stop`; the agent's default is `stop`). */
  readonly onStop?: 'stop' | 'leave';
  /** Where member `index` runs: its address and a command its daemon runs under (`ip netns exec NS`). */
  readonly placement?: (index: number) => MemberPlacement;
}

export interface MemberPlacement {
  readonly host: string;
  readonly wrap: readonly string[];
}

function defaultCommand(): string[] {
  const root = dirname(checkoutFile('package.json') ?? process.cwd());
  const built = join(root, 'dist', 'main.js');
  if (existsSync(built)) return [process.execPath, built];
  return [process.execPath, '--import', 'tsx', join(root, 'src', 'main.ts')];
}

async function getJson(
  url: string,
  timeoutMs = 500,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A failover cluster on loopback: one etcd and N `pgdeck --agent failover` daemons, each supervising its PostgreSQL. */
export async function startFailoverCluster(options: FailoverClusterOptions = {}): Promise<FailoverCluster> {
  const count = options.members ?? 3;
  const ownEtcd = options.etcd === undefined;
  const etcd = options.etcd ?? (await startEtcd());
  const dir = createServiceDir('failover', await pgRunAs());
  const command = options.command ?? defaultCommand();
  const token = options.token ?? randomBytes(24).toString('hex');
  const members: FailoverMember[] = [];
  const daemons = new Map<string, Daemon>();
  for (let i = 0; i < count; i++)
    members.push(await member(`pg${i}`, options.placement?.(i) ?? { host: '127.0.0.1', wrap: [] }));

  async function member(name: string, placement: MemberPlacement): Promise<FailoverMember> {
    const { host } = placement;
    const argv = [...placement.wrap, ...command];
    const [pgPort, apiPort] = [await freePort(), await freePort()];
    const home = join(dir.path, name);
    mkdirSync(home, { recursive: true });
    const dataDir = join(home, 'data');
    const apiUrl = `http://${host}:${apiPort}`;
    const params = { fsync: 'off', shared_buffers: "'32MB'", max_connections: '60', ...options.pgParameters };
    const configFile = join(home, 'pgdeck.json');
    const segment = options.walSegmentSizeMb === undefined ? {} : { walSegmentSizeMb: options.walSegmentSizeMb };
    writeFileSync(configFile, JSON.stringify({ agents: { failover: { pgParameters: params, ...segment } } }));
    const args = [
      ...argv.slice(1),
      '--agent',
      'failover',
      '--node',
      name,
      '--cluster',
      options.cluster ?? 'lab',
      '--etcd',
      etcd.endpoint,
      '--data-dir',
      dataDir,
      '--pg-port',
      String(pgPort),
      '--api-url',
      apiUrl,
      ...(host === '127.0.0.1' ? [] : ['--pg-host', host]),
      '--listen',
      `${host}:${apiPort}`,
      '--log-level',
      'info',
      '--config',
      configFile,
      ...(options.synchronous === true ? ['--synchronous'] : []),
      ...(options.synchronousStrict === true ? ['--synchronous-strict'] : []),
      ...(options.ttlSeconds === undefined ? [] : ['--ttl', String(options.ttlSeconds)]),
      ...(options.loopIntervalMs === undefined ? [] : ['--loop-interval', String(options.loopIntervalMs)]),
      ...(options.onStop === undefined ? [] : ['--on-stop', options.onStop]),
    ];
    const env = { ...process.env, PGDECK_TOKEN: token, NODE_ENV: 'production' };
    const pidOf = (): number | null => {
      const file = join(dataDir, 'postmaster.pid');
      if (!existsSync(file)) return null;
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
      return pid > 0 && isAlive(pid) ? pid : null;
    };
    const signal = (pid: number | null, sig: NodeJS.Signals): void => {
      if (pid === null) return;
      try {
        process.kill(pid, sig);
      } catch {
        return;
      }
    };
    const self: FailoverMember = {
      name,
      host,
      pgPort,
      apiPort,
      apiUrl,
      dataDir,
      logFile: join(dir.path, `${name}.log`),
      daemonPid: () => {
        const d = daemons.get(name);
        return d !== undefined && isAlive(d.pid) ? d.pid : null;
      },
      postgresPid: pidOf,
      killDaemon: (sig = 'SIGKILL') => signal(self.daemonPid(), sig),
      killPostgres: (sig = 'SIGKILL') => {
        const pid = pidOf();
        if (pid !== null) killTree(pid, sig);
      },
      killNode: (sig = 'SIGKILL') => {
        const pid = pidOf();
        self.killDaemon(sig);
        if (pid !== null) killTree(pid, sig);
      },
      startDaemon: async () => {
        const d = startDaemon({ name, command: argv[0]!, args, dir, env });
        daemons.set(name, d);
        await waitUntil(
          `failover daemon ${name}`,
          async () => (await getJson(`${apiUrl}/health`)).status === 200,
          options.startTimeoutMs ?? 30_000,
          { logFile: d.logFile, logFrom: d.logOffset, processes: [{ name: `daemon ${name}`, daemon: d }] },
        );
      },
      pgUrl: (database = 'postgres') => `postgresql://postgres@${host}:${pgPort}/${database}`,
    };
    return self;
  }

  /** The primary's own published view (what its actions check) shows every other member streaming. */
  async function primarySeesStreaming(primary: string, others: readonly string[]): Promise<boolean> {
    const res = await getJson(`${cluster.member(primary).apiUrl}/state`, 500, {
      authorization: `Bearer ${token}`,
    }).catch(() => null);
    if (res === null || res.status !== 200) return false;
    const seen =
      (res.body as { state?: { members?: { name: string; role: string; state: string }[] } } | null)?.state?.members ??
      [];
    return others.every((name) => seen.some((m) => m.name === name && m.role === 'replica' && m.state === 'streaming'));
  }

  const cluster: FailoverCluster = {
    etcd,
    token,
    members,
    member: (name) => {
      const m = members.find((x) => x.name === name);
      if (m === undefined) throw new Error(`no member ${name}`);
      return m;
    },
    primary: async () => {
      const answers = await Promise.all(
        members.map((m) =>
          getJson(`${m.apiUrl}/primary`).then(
            (r) => (r.status === 200 ? m.name : null),
            () => null,
          ),
        ),
      );
      return answers.find((a) => a !== null) ?? null;
    },
    waitHealthy: async (timeoutMs = 120_000) => {
      let found = '';
      await waitUntil(
        'a primary with every other member streaming',
        async () => {
          const primary = await cluster.primary();
          if (primary === null) return false;
          const others = members.filter((m) => m.name !== primary);
          const streaming = await Promise.all(
            others.map((m) =>
              getJson(`${m.apiUrl}/replica`).then(
                (r) => r.status === 200,
                () => false,
              ),
            ),
          );
          found = primary;
          return (
            streaming.every(Boolean) &&
            (await primarySeesStreaming(
              primary,
              others.map((m) => m.name),
            ))
          );
        },
        timeoutMs,
        { intervalMs: 100 },
      );
      return found;
    },
    stop: async () => {
      await Promise.all([...daemons.values()].map((d) => d.stop(5000)));
      for (const m of members) m.killPostgres('SIGQUIT');
      await delay(50);
      for (const m of members) {
        const deadline = Date.now() + 5000;
        while (m.postgresPid() !== null && Date.now() < deadline) await delay(20);
        m.killPostgres('SIGKILL');
      }
      if (ownEtcd) await etcd.stop();
      dir.remove();
    },
  };
  try {
    for (const m of members) await m.startDaemon();
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw error;
  }
  return cluster;
}
