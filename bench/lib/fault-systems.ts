import type { EtcdServer } from '../../src/lab/procs/etcd.js';
import { startFailoverCluster } from '../../src/lab/procs/failover-cluster.js';
import { startPatroniCluster, type PatroniTiming } from '../../src/lab/procs/patroni.js';
import { startWriteProbe, type WriteProbe } from '../../src/lab/workload/write-probe.js';
import { firstWriteAfter, streamingReplicas } from '../failover.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a fault needs from a cluster under test: pgdeck's daemons or Patroni, the same verbs. */
export interface FaultSystem {
  readonly name: string;
  readonly members: readonly string[];
  /** The cluster's etcd, shared by every system of the run (they run one after another). */
  readonly etcd: EtcdServer;
  pgPort(member: string): number;
  /** The writable primary once every other member streams from it. */
  healthy(): Promise<string>;
  /** The node's daemon and postgres, kill -9. */
  killNode(member: string): void;
  killPostgres(member: string): void;
  signalDaemon(member: string, sig: NodeJS.Signals): void;
  /** Starts the member's daemon again after a kill. */
  restart(member: string): Promise<void>;
  switchover(primary: string): Promise<void>;
  /** The daemon that leads the failover decisions, when it is not the primary's own (pgdeck only). */
  leader?(primary: string): Promise<string | null>;
  /** Signals the node's daemon and postgres together (SIGSTOP, SIGCONT: a node cut off without a reset; pgdeck only). */
  signalNode?(member: string, sig: NodeJS.Signals): void;
  /** Stop to the new primary's first committed write, from the system's own record (pgdeck only). */
  firstWriteAfter?(victim: string, stopAt: number): Promise<number>;
  probe(): WriteProbe;
  stop(): Promise<void>;
}

export async function pgdeckSystem(etcd: EtcdServer): Promise<FaultSystem> {
  const cluster = await startFailoverCluster({
    etcd,
    cluster: 'bench-faults',
    synchronous: true,
    pgParameters: { fsync: 'on' },
    startTimeoutMs: 60_000,
  });
  const post = async (member: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${cluster.member(member).apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  return {
    name: 'pgdeck',
    members: cluster.members.map((m) => m.name),
    etcd,
    pgPort: (m) => cluster.member(m).pgPort,
    healthy: () => cluster.waitHealthy(),
    killNode: (m) => cluster.member(m).killNode(),
    killPostgres: (m) => cluster.member(m).killPostgres(),
    signalDaemon: (m, sig) => cluster.member(m).killDaemon(sig),
    restart: async (m) => {
      if (cluster.member(m).daemonPid() === null) await cluster.member(m).startDaemon();
    },
    switchover: async (primary) => {
      const body = await post(primary, '/actions/switchover', {});
      if (body['ok'] !== true) throw new Error(`switchover failed: ${String(body['message'])}`);
    },
    leader: async (primary) => {
      const res = await fetch(`${cluster.member(primary).apiUrl}/state`, {
        headers: { authorization: `Bearer ${cluster.token}` },
        signal: AbortSignal.timeout(1000),
      });
      const seen = (await res.json()) as { state?: { leader?: { name: string } | null } };
      return seen.state?.leader?.name ?? null;
    },
    signalNode: (m, sig) => cluster.member(m).killNode(sig),
    firstWriteAfter: (victim, stopAt) => firstWriteAfter(cluster, victim, stopAt, 60_000),
    probe: () =>
      startWriteProbe(cluster.members.map(() => '127.0.0.1').join(','), cluster.members.map((m) => m.pgPort).join(',')),
    stop: () => cluster.stop(),
  };
}

export async function patroniSystem(etcd: EtcdServer, name: string, timing: PatroniTiming): Promise<FaultSystem> {
  const cluster = await startPatroniCluster({ etcdEndpoint: etcd.endpoint, members: 3, timing, synchronous: true });
  const member = (m: string): (typeof cluster.members)[number] => cluster.members.find((x) => x.name === m)!;
  return {
    name,
    members: cluster.members.map((m) => m.name),
    etcd,
    pgPort: (m) => member(m).pgPort,
    healthy: async () => {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const leader = await cluster.leader().catch(() => null);
        if (leader !== null && (await streamingReplicas(member(leader).pgPort)) === cluster.members.length - 1)
          return leader;
        if (Date.now() > deadline) throw new Error(`${name}: no leader with every replica streaming`);
        await sleep(200);
      }
    },
    killNode: (m) => member(m).crash(),
    killPostgres: (m) => member(m).killPostgres(),
    signalDaemon: (m, sig) => member(m).signalDaemon(sig),
    restart: (m) => member(m).start(),
    switchover: () => cluster.switchover(),
    probe: () => startWriteProbe(cluster.hosts, cluster.ports),
    stop: () => cluster.destroy(),
  };
}
