import { connectKube, KUBE_RESOURCES, type KubeObject } from '../../agents/adapters/kube.js';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { waitUntil } from '../procs/daemon.js';
import type { CitusCluster, CitusNode } from '../procs/citus.js';

export const WORKER_SET = 'citus-worker';
export const WORKER_NAMESPACE = 'default';
export const WORKER_SELECTOR = `app=${WORKER_SET}`;
/** citus-sync's `annotation` addressing reads a worker's address here (its default key). */
export const ADDRESS_ANNOTATION = 'pgdeck.io/citus-address';
const FIELD_MANAGER = 'pgdeck-lab';

/**
 * The lab's stand-in for the kubelet of the Citus worker pods: kwok runs no containers, so behind
 * pod `citus-worker-N` the lab runs the real PostgreSQL worker `workerN+1` of its Citus topology
 * (the first ones are those `lab up` started; more are started when the StatefulSet grows) and
 * writes its loopback address into the pod's `pgdeck.io/citus-address` annotation, which is what
 * citus-sync registers. A worker stops once its pod is gone (after citus-sync drained it and released
 * its finalizer) and keeps its data dir, as a StatefulSet keeps a pod's volume for a scale-up.
 */
export interface CitusPods {
  /** Pod name -> the address behind it, as annotated. */
  bound(): Readonly<Record<string, string>>;
  /** The last error of reconciling the pods with the workers (null when in step). */
  lastError(): string | null;
  stop(): Promise<void>;
}

const ordinalOf = (pod: KubeObject): number => Number((pod.metadata?.name ?? '').slice(WORKER_SET.length + 1));
const addressOf = (node: CitusNode): string => `${node.host}:${node.port}`;

/** The worker StatefulSet (one replica per running worker), and the pods bound to the workers; resolves once they are. */
export async function backCitusPods(kubeconfig: string, citus: CitusCluster, signal: AbortSignal): Promise<CitusPods> {
  const kube = connectKube({ source: { kind: 'kubeconfig', path: kubeconfig } });
  const objects = kube.objects(FIELD_MANAGER);
  const stopped = new Set<number>();
  const bound = new Map<string, string>();
  const own = new AbortController();
  const both = AbortSignal.any([signal, own.signal]);
  let error: string | null = null;
  let stopsAllowed = false;
  try {
    await objects.apply(KUBE_RESOURCES.statefulSets, workerSet(citus.workers.length));
  } catch (cause) {
    await kube.close();
    throw cause;
  }
  const pods = kube.informers.informer<KubeObject>(
    { resource: KUBE_RESOURCES.pods, namespace: WORKER_NAMESPACE, labelSelector: WORKER_SELECTOR },
    both,
  );

  /** Level-triggered: the pods there now against the workers running now. */
  const reconcile = async (): Promise<void> => {
    const present = pods.list().filter((p) => Number.isInteger(ordinalOf(p)));
    const wanted = new Set(present.map(ordinalOf));
    for (const pod of present) {
      const node = await workerFor(citus, ordinalOf(pod), stopped);
      const address = addressOf(node);
      if (pod.metadata?.deletionTimestamp === undefined && pod.metadata?.annotations?.[ADDRESS_ANNOTATION] !== address)
        await objects.apply(KUBE_RESOURCES.pods, {
          metadata: {
            name: pod.metadata?.name,
            namespace: WORKER_NAMESPACE,
            annotations: { [ADDRESS_ANNOTATION]: address },
          },
        });
      bound.set(pod.metadata!.name!, address);
    }
    for (const name of [...bound.keys()]) if (!present.some((p) => p.metadata?.name === name)) bound.delete(name);
    if (!stopsAllowed || !pods.state().synced) return;
    for (const [i, node] of citus.workers.entries())
      if (!wanted.has(i) && !stopped.has(i)) {
        await node.stop();
        stopped.add(i);
      }
  };
  let chain = Promise.resolve();
  let queued = false;
  const schedule = (): void => {
    if (queued || both.aborted) return;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      try {
        await reconcile();
        error = null;
      } catch (cause) {
        error = cause instanceof Error ? cause.message.split('\n')[0]! : String(cause);
        setTimeout(schedule, 1000).unref();
      }
    });
  };
  const unsubscribe = pods.subscribe(schedule);
  schedule();
  const close = async (): Promise<void> => {
    own.abort();
    unsubscribe();
    await chain;
    await kube.close();
  };
  try {
    await waitUntil(
      `the ${citus.workers.length} Citus worker pods bound to the lab's workers`,
      () =>
        Promise.resolve(
          citus.workers.every((node, i) =>
            pods
              .list()
              .some((p) => ordinalOf(p) === i && p.metadata?.annotations?.[ADDRESS_ANNOTATION] === addressOf(node)),
          ),
        ),
      120_000,
      { signal, intervalMs: 100 },
    );
  } catch (cause) {
    await close();
    throw cause;
  }
  stopsAllowed = true;
  schedule();
  return { bound: () => Object.fromEntries(bound), lastError: () => error, stop: close };
}

/** The worker behind ordinal `i`: running, started again, or a new one (workers are added in order). */
async function workerFor(citus: CitusCluster, i: number, stopped: Set<number>): Promise<CitusNode> {
  if (i > 64) throw new PgdeckError('invalid', `pod ${WORKER_SET}-${i}: the lab backs at most 65 Citus workers`);
  while (citus.workers.length <= i) await citus.addWorker();
  const node = citus.workers[i]!;
  if (stopped.has(i)) {
    await node.server.start();
    stopped.delete(i);
  }
  return node;
}

/** The Citus worker StatefulSet: kwok schedules and readies its pods; the lab runs what is behind them. */
function workerSet(replicas: number): KubeObject {
  const labels = { app: WORKER_SET };
  return {
    metadata: { name: WORKER_SET, namespace: WORKER_NAMESPACE, labels },
    spec: {
      replicas,
      serviceName: WORKER_SET,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] },
      },
    },
  };
}
