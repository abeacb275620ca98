import { CoreV1Api } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../../src/agents/adapters/kube.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import { operatorConfigSchema } from '../../../src/agents/patroni-operator/config.js';
import { CRD_MANIFEST_PATH } from '../../../src/agents/patroni-operator/crd.js';
import { POSTGRES_CLUSTERS } from '../../../src/agents/patroni-operator/deps.js';
import { patroniOperatorAgent } from '../../../src/agents/patroni-operator/index.js';
import type {
  OperatorConfig,
  OperatorMemory,
  OperatorState,
  PostgresClusterStatus,
} from '../../../src/agents/patroni-operator/types.js';
import { parse } from 'yaml';
import { adminKube, eventually, type KubeTestCluster } from '../../helpers/kube.js';

export type RunningOperator = RunningAgent<
  OperatorConfig,
  Awaited<ReturnType<typeof patroniOperatorAgent.connect>>,
  OperatorState,
  OperatorMemory
> & {
  /** The agent's own signal (its context's), for counting what listens on it. */
  readonly signal: AbortSignal;
};

/** Applies the generated CRD manifest (the file in the repository) and waits until it is Established. */
export async function installCrd(admin: KubeClient): Promise<void> {
  const crd = parse(readFileSync(CRD_MANIFEST_PATH, 'utf8')) as KubeObject;
  await admin.objects('test-installer').apply(KUBE_RESOURCES.customResourceDefinitions, crd);
  await eventually('the PostgresCluster CRD established', async () => {
    const got = await admin.objects('test-installer').get<KubeObject>({
      resource: KUBE_RESOURCES.customResourceDefinitions,
      name: 'postgresclusters.pgdeck.io',
    });
    const conditions = (got?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
    return conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
  });
}

/** An operator replica over the admin kubeconfig, watching `namespace`, electing over a Lease there. */
export async function startOperator(
  cluster: KubeTestCluster,
  namespace: string,
  instance: string,
): Promise<RunningOperator> {
  const config = operatorConfigSchema.parse({ kubeconfig: cluster.plane.kubeconfigPath, namespace, instance });
  const lease = adminKube(cluster);
  let signal: AbortSignal | undefined;
  const definition: typeof patroniOperatorAgent = {
    ...patroniOperatorAgent,
    connect: (c, ctx) => {
      signal = ctx.signal;
      return patroniOperatorAgent.connect(c, ctx);
    },
  };
  const running = await startAgent(definition, config, {
    leaderElector: lease.leaderElectorFactory({
      namespace,
      timings: { leaseDurationSeconds: 4, renewDeadlineMs: 3000, retryPeriodMs: 500 },
    }),
    keyed: { concurrency: 8 },
  });
  const close = running.close;
  return {
    ...running,
    signal: signal!,
    close: async () => {
      await close();
      await lease.close();
    },
  };
}

/** Static PersistentVolumes of class `manual`, so the claims bind without a provisioner (there is no kubelet). */
export async function createVolumes(admin: KubeClient, prefix: string, count: number): Promise<void> {
  const objects = admin.objects('test-volumes');
  for (let i = 0; i < count; i++)
    await objects.apply(KUBE_RESOURCES.persistentVolumes, {
      metadata: { name: `${prefix}-${i}` },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'manual',
        persistentVolumeReclaimPolicy: 'Delete',
        hostPath: { path: `/tmp/${prefix}-${i}` },
      },
    });
}

export function clusterSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 16, replicas: 3, storage: { size: '1Gi', storageClass: 'manual' }, ...extra };
}

export async function createCluster(
  admin: KubeClient,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<KubeObject> {
  return admin.objects('test-user').apply(POSTGRES_CLUSTERS, { metadata: { name, namespace }, spec });
}

export async function readCluster(admin: KubeClient, namespace: string, name: string): Promise<KubeObject | undefined> {
  return admin.objects('test-user').get<KubeObject>({ resource: POSTGRES_CLUSTERS, namespace, name });
}

export const statusOf = (o: KubeObject | undefined): PostgresClusterStatus =>
  (o?.status ?? {}) as PostgresClusterStatus;

/** The cluster's pods that kwok reports Ready, by name. */
export async function readyPods(cluster: KubeTestCluster, namespace: string, name: string): Promise<string[]> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `application=spilo,cluster-name=${name}` });
  return pods.items
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .filter((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.metadata?.name ?? '')
    .sort();
}

/**
 * Labels the cluster's pods as Patroni would once it runs: `primary` master, the others replica, once
 * `replicas` pods are Ready; resolves with the pods' names.
 */
export async function labelRoles(
  cluster: KubeTestCluster,
  admin: KubeClient,
  namespace: string,
  name: string,
  replicas: number,
  primary = `${name}-0`,
): Promise<string[]> {
  const pods = await eventually(
    `${replicas} ready pods of ${name}`,
    async () => {
      const ready = await readyPods(cluster, namespace, name);
      return ready.length === replicas ? ready : undefined;
    },
    60_000,
  );
  const patroni = admin.objects('patroni');
  for (const pod of pods)
    await patroni.apply(KUBE_RESOURCES.pods, {
      metadata: { name: pod, namespace, labels: { 'spilo-role': pod === primary ? 'master' : 'replica' } },
    });
  return pods;
}
