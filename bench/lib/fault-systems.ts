import type { EtcdServer } from '../../src/lab/procs/etcd.js';
import { startFailoverCluster, type MemberPlacement } from '../../src/lab/procs/failover-cluster.js';
import type { NetnsBridge, NetnsNode } from '../../src/lab/procs/netns.js';
import { startPatroniCluster, type PatroniTiming } from '../../src/lab/procs/patroni.js';
import { startWriteProbe, type WriteProbe } from '../../src/lab/workload/write-probe.js';
import { pgServer, streamingReplicas } from '../failover.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The libpq write probe over `servers` (INSERT every 20 ms, target_session_attrs=read-write), from the host. */
function multiHostProbe(servers: readonly { host: string; pgPort: number }[], firstSeq: number): WriteProbe {
  const [hosts, ports] = [servers.map((s) => s.host), servers.map((s) => s.pgPort)];
  return startWriteProbe(hosts.join(','), ports.join(','), 20, { firstSeq });
}

/** Member `i` in namespace `i` of the bridge. */
const placed =
  (network: NetnsBridge) =>
  (i: number): MemberPlacement => ({ host: network.nodes[i]!.address, wrap: network.nodes[i]!.wrap });

/** What a fault needs from a cluster under test: pgdeck's daemons or Patroni, the same verbs. */
export interface FaultSystem {
  readonly name: string;
  readonly members: readonly string[];
  /** The cluster's etcd, shared by every system of the run (they run one after another). */
  readonly etcd: EtcdServer;
  /** Where the member's postgres and API listen: 127.0.0.1, or its namespace's address on the bridge. */
  host(member: string): string;
  pgPort(member: string): number;
  /** Where the member's daemon answers `/primary` (200 on the writable primary) for haproxy's checks. */
  apiPort(member: string): number;
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
  /** Signals the node's daemon and postgres together (SIGSTOP, SIGCONT: a node cut off without a reset). */
  signalNode(member: string, sig: NodeJS.Signals): void;
  /** The write probe over `members` (default all), its sequence numbers from `firstSeq` + 1 on. */
  probe(members?: readonly string[], firstSeq?: number): WriteProbe;
  /** The member's network namespace when the system runs on a bridge (the partition needs one). */
  netns?(member: string): NetnsNode;
  stop(): Promise<void>;
}

/** pgdeck's daemons; with a network each node (daemon and postgres) in its own namespace on the bridge. */
export async function pgdeckSystem(etcd: EtcdServer, network?: NetnsBridge): Promise<FaultSystem> {
  const cluster = await startFailoverCluster({
    etcd,
    cluster: 'bench-faults',
    synchronous: true,
    pgParameters: { fsync: 'on', ...(network === undefined ? {} : { hba_file: `'${network.hbaFile}'` }) },
    startTimeoutMs: 60_000,
    ...(network === undefined ? {} : { placement: placed(network) }),
  });
  const index = (m: string): number => cluster.members.findIndex((x) => x.name === m);
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
    host: (m) => cluster.member(m).host,
    pgPort: (m) => cluster.member(m).pgPort,
    apiPort: (m) => cluster.member(m).apiPort,
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
    probe: (members = cluster.members.map((m) => m.name), firstSeq = 0) =>
      multiHostProbe(members.map(cluster.member), firstSeq),
    ...(network === undefined ? {} : { netns: (m: string) => network.nodes[index(m)]! }),
    stop: () => cluster.stop(),
  };
}

/** Debian's Patroni; with a network each node (Patroni and postgres) in its own namespace on the bridge. */
export async function patroniSystem(
  etcd: EtcdServer,
  name: string,
  timing: PatroniTiming,
  network?: NetnsBridge,
): Promise<FaultSystem> {
  const cluster = await startPatroniCluster({
    etcdEndpoint: etcd.endpoint,
    members: 3,
    timing,
    synchronous: true,
    ...(network === undefined ? {} : { placement: placed(network), trustNetwork: network.cidr }),
  });
  const index = (m: string): number => cluster.members.findIndex((x) => x.name === m);
  const member = (m: string): (typeof cluster.members)[number] => cluster.members[index(m)]!;
  return {
    name,
    members: cluster.members.map((m) => m.name),
    etcd,
    host: (m) => member(m).host,
    pgPort: (m) => member(m).pgPort,
    apiPort: (m) => member(m).apiPort,
    healthy: async () => {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const leader = await cluster.leader().catch(() => null);
        if (leader !== null && (await streamingReplicas(pgServer(member(leader)))) === cluster.members.length - 1)
          return leader;
        if (Date.now() > deadline) throw new Error(`${name}: no leader with every replica streaming`);
        await sleep(200);
      }
    },
    killNode: (m) => member(m).crash(),
    killPostgres: (m) => member(m).killPostgres(),
    signalDaemon: (m, sig) => member(m).signalDaemon(sig),
    signalNode: (m, sig) => member(m).signalNode(sig),
    restart: (m) => member(m).start(),
    switchover: () => cluster.switchover(),
    probe: (members = cluster.members.map((m) => m.name), firstSeq = 0) =>
      multiHostProbe(members.map(member), firstSeq),
    ...(network === undefined ? {} : { netns: (m: string) => network.nodes[index(m)]! }),
    stop: () => cluster.destroy(),
  };
}
