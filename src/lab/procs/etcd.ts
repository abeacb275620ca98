import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, waitUntil, type Daemon } from './daemon.js';
import { freePort, retryOnPortTaken } from './ports.js';
import { createServiceDir, type ServiceDir } from './service-dir.js';

export interface EtcdServer {
  /** Every member's client URL, comma-separated (what `--etcd` takes). */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly pid: number;
  readonly logFile: string;
  /** 1 or 3. */
  readonly members: number;
  /** Each member's log file by member name (`lab0`, `lab1`, ...). */
  readonly logFiles: Readonly<Record<string, string>>;
  /** Sends a signal to every running member (SIGKILL, SIGSTOP, SIGCONT). */
  kill(sig?: NodeJS.Signals): void;
  /**
   * Stops one member and starts it again on the same ports and data; with three members it is the
   * leader (quorum is kept, a new leader is elected). Resolves with the member's name once it is healthy.
   */
  restart(): Promise<string>;
  /** Stops every member, deletes their data and starts a new etcd cluster (a new cluster id) on the same ports. */
  wipe(): Promise<void>;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  /** The etcd binary; default `PGDECK_ETCD_BIN` or `etcd` on PATH. */
  readonly binary?: string;
  readonly startTimeoutMs?: number;
  /** Cluster members (default 1). */
  readonly members?: 1 | 3;
  /** The address clients connect to (default 127.0.0.1): a test bridge's own address for network namespaces. */
  readonly clientHost?: string;
}

/**
 * An etcd of one or three members on free loopback ports, in its own temp dir. A free port can be
 * taken by a parallel test between the pick and the bind: then it starts again on new ports (three tries).
 */
export function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  return retryOnPortTaken(() => startOnce(options));
}

interface Member {
  readonly name: string;
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  daemon: Daemon | undefined;
}

async function startOnce(options: EtcdOptions): Promise<EtcdServer> {
  const dir = createServiceDir('etcd');
  const count = options.members ?? 1;
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const name = `lab${i}`;
    members.push({
      name,
      endpoint: `http://${options.clientHost ?? '127.0.0.1'}:${clientPort}`,
      clientPort,
      peerPort,
      dataDir: join(dir.path, count === 1 ? 'data' : `data-${name}`),
      logFile: join(dir.path, count === 1 ? 'etcd.log' : `${name}.log`),
      daemon: undefined,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  const binary = options.binary ?? process.env.PGDECK_ETCD_BIN ?? 'etcd';
  const argsOf = (m: Member): string[] => {
    const peer = `http://127.0.0.1:${m.peerPort}`;
    return [
      ...['--name', m.name, '--data-dir', m.dataDir],
      ...['--listen-client-urls', m.endpoint, '--advertise-client-urls', m.endpoint],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token],
      ...['--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'warn'],
    ];
  };
  let token = 'pgdeck-lab';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const stopMember = async (m: Member): Promise<void> => {
    await m.daemon?.stop();
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map(stopMember));
  };
  const launch = (m: Member): Daemon => {
    const started = startDaemon({ name: count === 1 ? 'etcd' : m.name, command: binary, args: argsOf(m), dir });
    m.daemon = started;
    return started;
  };
  const healthy = async (m: Member): Promise<void> =>
    waitUntil(`etcd ${m.name} on ${m.endpoint}`, () => etcdHealthy(m.endpoint), timeoutMs, {
      logFile: m.logFile,
      processes: members.flatMap((x) => (x.daemon === undefined ? [] : [{ name: `etcd ${x.name}`, daemon: x.daemon }])),
    });
  try {
    for (const m of members) launch(m);
    await Promise.all(members.map(healthy));
  } catch (error) {
    await cleanup(dir, stopAll);
    throw error;
  }
  const first = members[0]!;
  return {
    endpoint: members.map((m) => m.endpoint).join(','),
    clientPort: first.clientPort,
    peerPort: first.peerPort,
    dataDir: first.dataDir,
    get pid() {
      return first.daemon?.pid ?? 0;
    },
    logFile: first.logFile,
    members: count,
    logFiles: Object.fromEntries(members.map((m) => [m.name, m.logFile])),
    kill: (sig = 'SIGKILL') => {
      for (const m of members) m.daemon?.signal(sig);
    },
    restart: async () => {
      const target = count === 1 ? first : await leaderOf(members);
      await stopMember(target);
      launch(target);
      await healthy(target);
      return target.name;
    },
    wipe: async () => {
      await stopAll();
      for (const m of members) rmSync(m.dataDir, { recursive: true, force: true });
      token = `pgdeck-lab-${randomBytes(4).toString('hex')}`;
      for (const m of members) launch(m);
      await Promise.all(members.map(healthy));
    },
    stop: () => cleanup(dir, stopAll),
  };
}

/** The member that leads now (from any member's status through the JSON gateway); the first one when none answers. */
async function leaderOf(members: readonly Member[]): Promise<Member> {
  for (const m of members) {
    try {
      const res = await fetch(`${m.endpoint}/v3/maintenance/status`, {
        method: 'POST',
        body: '{}',
        signal: AbortSignal.timeout(1000),
      });
      const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
      if (body.leader === undefined) continue;
      if (body.leader === body.header?.member_id) return m;
      const list = await fetch(`${m.endpoint}/v3/cluster/member/list`, {
        method: 'POST',
        body: '{}',
        signal: AbortSignal.timeout(1000),
      });
      const found = ((await list.json()) as { members?: { ID?: string; name?: string }[] }).members?.find(
        (x) => x.ID === body.leader,
      );
      const leader = members.find((x) => x.name === found?.name);
      if (leader !== undefined) return leader;
    } catch {
      continue;
    }
  }
  return members[0]!;
}

async function etcdHealthy(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { health?: string };
  return response.ok && body.health === 'true';
}

async function cleanup(dir: ServiceDir, stop: () => Promise<void>): Promise<void> {
  await stop().catch(() => undefined);
  dir.remove();
}
