import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PgLink } from '../../agents/adapters/pg.js';
import { checkoutFile } from '../../checkout-file.js';
import { citusAvailable, startCitus, type CitusCluster } from '../procs/citus.js';
import { startEtcd, type EtcdServer } from '../procs/etcd.js';
import { startFailoverCluster, type FailoverCluster } from '../procs/failover-cluster.js';
import { startHaproxy, type HaproxyServer } from '../procs/haproxy.js';
import { kubeBinaries } from '../procs/kube-binaries.js';
import type { NetnsBridge } from '../procs/netns.js';
import { startKubeControlPlane, type KubeControlPlane } from '../procs/kube-control-plane.js';
import { startRedis, type RedisServer } from '../procs/redis.js';
import { PgdeckError } from '../../agents/kernel/errors.js';
import type { LabOptions } from './options.js';
import type { ComponentState } from './state.js';

/** What a started component tells the state file. */
export type Published = Pick<ComponentState, 'detail' | 'endpoints' | 'logs'>;

export function publishEtcd(etcd: EtcdServer): Published {
  const detail = etcd.members === 1 ? '1 member' : `${etcd.members} members`;
  return { detail, endpoints: { url: etcd.endpoint }, logs: etcd.logFiles };
}

export function publishFailover(cluster: FailoverCluster, options: LabOptions, network?: NetnsBridge): Published {
  const endpoints: Record<string, string> = {};
  const logs: Record<string, string> = {};
  for (const m of cluster.members) {
    endpoints[m.name] = m.apiUrl;
    endpoints[`${m.name}-pg`] = m.pgUrl();
    logs[m.name] = m.logFile;
  }
  const mode = options.synchronous ? 'synchronous' : 'asynchronous';
  const placed = network === undefined ? '' : `, each in its own network namespace on bridge ${network.name}`;
  return { detail: `${cluster.members.length} members, ${mode} replication${placed}`, endpoints, logs };
}

export function publishHaproxy(proxy: HaproxyServer): Published {
  return {
    detail: 'write port -> /primary, read port -> /replica',
    endpoints: {
      write: `postgresql://postgres@127.0.0.1:${proxy.writePort}/postgres`,
      read: `postgresql://postgres@127.0.0.1:${proxy.readPort}/postgres`,
    },
    logs: { haproxy: proxy.logFile },
  };
}

export function publishRedis(redis: RedisServer): Published {
  return { detail: 'append-only, fsync always', endpoints: { url: redis.url }, logs: {} };
}

export function publishCitus(citus: CitusCluster): Published {
  const mode = citus.mode === 'citus' ? 'Citus' : 'SQL stand-in (the citus extension is not installed)';
  const endpoints: Record<string, string> = { coordinator: citus.coordinator.server.url() };
  for (const w of citus.workers) endpoints[w.name] = w.server.url();
  const logs: Record<string, string> = { coordinator: citus.coordinator.server.logFile };
  for (const w of citus.workers) logs[w.name] = w.server.logFile;
  return { detail: `${citus.workers.length} workers, ${mode}`, endpoints, logs };
}

export function publishKube(kube: KubeControlPlane): Published {
  return {
    detail: `${kube.nodeNames.length} kwok nodes, ready in ${(kube.startMs / 1000).toFixed(1)} s`,
    endpoints: { server: kube.server, kubeconfig: kube.kubeconfigPath },
    logs: { dir: kube.dir },
  };
}

/** With a network, etcd's clients reach it at the host's address on the bridge. */
export const startLabEtcd = (options: LabOptions, network?: NetnsBridge): Promise<EtcdServer> =>
  startEtcd({ members: options.etcdMembers, clientHost: network?.hostAddress });

export const startLabRedis = (): Promise<RedisServer> => startRedis({ persistent: true });

/** With a network, node `i` runs in namespace `i`, at its address there, its servers trusting the bridge. */
export function startLabFailover(
  etcd: EtcdServer,
  options: LabOptions,
  network?: NetnsBridge,
): Promise<FailoverCluster> {
  return startFailoverCluster({
    etcd,
    members: options.nodes,
    synchronous: options.synchronous,
    cluster: 'lab',
    command: options.command,
    ...(network === undefined
      ? {}
      : {
          pgParameters: { hba_file: `'${network.hbaFile}'` },
          placement: (i: number) => ({ host: network.nodes[i]!.address, wrap: network.nodes[i]!.wrap }),
        }),
  });
}

export function startLabHaproxy(cluster: FailoverCluster): Promise<HaproxyServer> {
  return startHaproxy(
    cluster.members.map((m) => ({ name: m.name, host: m.host, port: m.pgPort, checkPort: m.apiPort })),
  );
}

/** The coordinator with its workers registered, real Citus when installed, else the stand-in. */
export async function startLabCitus(workers: number): Promise<CitusCluster> {
  const citus = await startCitus({ workers, mode: citusAvailable() ? 'citus' : 'standin' });
  const c = citus.coordinator;
  const link = new PgLink({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' }, 10_000);
  try {
    await link.query('SELECT citus_set_coordinator_host($1::text, $2::int)', [c.host, c.port]);
    for (const w of citus.workers) await link.query('SELECT citus_add_node($1::text, $2::int)', [w.host, w.port]);
  } catch (error) {
    await citus.stop();
    throw error;
  } finally {
    await link.close();
  }
  return citus;
}

/** The control-plane binaries, or null when they must be built first. */
export function kubeReady(): boolean {
  try {
    kubeBinaries();
    return true;
  } catch (error) {
    if (error instanceof PgdeckError) return false;
    throw error;
  }
}

/** Runs scripts/control-plane/build, reporting each line of its output; resolves when it succeeded. */
export function buildControlPlane(onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const script = checkoutFile('scripts/control-plane/build');
  if (script === undefined)
    return Promise.reject(new PgdeckError('unavailable', 'scripts/control-plane/build not found beside this module'));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new PgdeckError('unavailable', `scripts/control-plane/build exited with ${code}`)),
    );
  });
}

export const startLabKube = (signal: AbortSignal): Promise<KubeControlPlane> =>
  startKubeControlPlane({ nodes: 3, signal });
