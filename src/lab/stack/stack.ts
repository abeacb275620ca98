import type { CitusCluster } from '../procs/citus.js';
import type { LabAgents } from './agents.js';
import type { CitusPods } from './citus-pods.js';
import type { EtcdServer } from '../procs/etcd.js';
import type { FailoverCluster } from '../procs/failover-cluster.js';
import type { HaproxyServer } from '../procs/haproxy.js';
import type { KubeControlPlane } from '../procs/kube-control-plane.js';
import type { NetnsBridge, NetnsNode } from '../procs/netns.js';
import type { RedisServer } from '../procs/redis.js';
import type { SampleCluster } from './sample-cluster.js';

/** The running parts of one lab, as the supervisor holds them. */
export interface Stack {
  /** With `--netns`: the bridge and the nodes' namespaces. */
  network?: NetnsBridge;
  etcd?: EtcdServer;
  failover?: FailoverCluster;
  haproxy?: HaproxyServer;
  redis?: RedisServer;
  citus?: CitusCluster;
  kube?: KubeControlPlane;
  /** The Citus workers behind the worker StatefulSet's pods. */
  citusPods?: CitusPods;
  /** patroni-operator, the autoscaler and citus-sync, once the control plane is up. */
  agents?: LabAgents;
  /** The sample PostgresCluster and the role labels the lab puts on its pods. */
  sample?: SampleCluster;
  /** Nodes a `freeze` drill stopped, so `thaw` finds them. */
  readonly frozen: Set<string>;
  /** Nodes a `partition` drill cut off, so `heal` finds them. */
  readonly partitioned: Set<string>;
}

/**
 * Stops what runs, each part after what depends on it and nothing later than it must: the agents
 * first (they use Redis, Citus and the control plane), then in parallel the control plane, Citus,
 * Redis, and haproxy -> the failover cluster -> etcd -> the network. A frozen node is thawed and a cut
 * one healed, so each can shut down.
 */
export async function stopStack(stack: Stack): Promise<void> {
  for (const name of stack.frozen) stack.failover?.member(name).killNode('SIGCONT');
  for (const name of stack.partitioned) nodeOf(stack, name)?.heal();
  const quietly = (stop: (() => Promise<void>) | undefined): Promise<void> =>
    stop === undefined ? Promise.resolve() : stop().catch(() => undefined);
  await Promise.all([quietly(stack.sample?.stop), quietly(stack.agents?.stop), quietly(stack.citusPods?.stop)]);
  await Promise.all([
    quietly(stack.kube?.stop),
    quietly(stack.citus?.stop),
    quietly(stack.redis?.stop),
    (async () => {
      await quietly(stack.haproxy?.stop);
      await quietly(stack.failover?.stop);
      await quietly(stack.etcd?.stop);
      stack.network?.remove();
    })(),
  ]);
}

/** The namespace failover member `name` runs in (undefined without `--netns`). */
export function nodeOf(stack: Stack, name: string): NetnsNode | undefined {
  const index = stack.failover?.members.findIndex((m) => m.name === name) ?? -1;
  return index < 0 ? undefined : stack.network?.nodes[index];
}
