import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../src/agents/adapters/kube.js';
import { installCrd as installLabCrd } from '../../src/lab/stack/kube-parts.js';
import { POSTGRES_CLUSTERS } from '../../src/agents/patroni-operator/deps.js';
import type { Phase, PostgresClusterStatus } from '../../src/agents/patroni-operator/types.js';

/** Polls `check` every 100 ms until it returns a value other than false/undefined. */
export async function until<T>(
  what: string,
  check: () => Promise<T | false | undefined> | T | false | undefined,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Applies the PostgresCluster CRD (the object manifests/crd/ holds) and waits until it is Established. */
export async function installCrd(admin: KubeClient): Promise<void> {
  await installLabCrd(admin.objects('bench-installer'));
}

/** A namespace whose `default` ServiceAccount exists. */
export async function benchNamespace(admin: KubeClient, name: string): Promise<void> {
  const objects = admin.objects('bench-installer');
  await objects.apply(KUBE_RESOURCES.namespaces, { metadata: { name } });
  const serviceAccounts = { ...KUBE_RESOURCES.namespaces, plural: 'serviceaccounts', kind: 'ServiceAccount' };
  await until(
    `the ServiceAccount ${name}/default`,
    () => objects.get({ resource: { ...serviceAccounts, namespaced: true }, namespace: name, name: 'default' }),
    30_000,
  );
}

/** Static PersistentVolumes of class `manual`, so the claims bind without a provisioner (kwok runs no kubelet). */
export async function createVolumes(admin: KubeClient, prefix: string, count: number): Promise<void> {
  const objects = admin.objects('bench-volumes');
  const one = (i: number) =>
    objects.apply(KUBE_RESOURCES.persistentVolumes, {
      metadata: { name: `${prefix}-${i}` },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'manual',
        persistentVolumeReclaimPolicy: 'Retain',
        hostPath: { path: `/tmp/${prefix}-${i}` },
      },
    });
  for (let i = 0; i < count; i += 20)
    await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => one(i + j)));
}

export function benchSpec(replicas: number): Record<string, unknown> {
  return { version: 16, replicas, storage: { size: '1Gi', storageClass: 'manual' } };
}

const ready = (pod: KubeObject): boolean =>
  pod.metadata?.deletionTimestamp === undefined &&
  ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

/**
 * Stands in for Patroni in each Spilo pod: once a pod is Ready, labels it `spilo-role` master (ordinal 0)
 * or replica, as Patroni's Kubernetes DCS does when its member takes the leader key or follows. `readyAt`:
 * when each cluster's last member was seen Ready (performance.now()), by cluster name.
 */
export function labelRolesAsPatroni(
  admin: KubeClient,
  namespace: string,
  members: number,
  signal: AbortSignal,
): { labelled(): number; readonly readyAt: ReadonlyMap<string, number> } {
  const informer = admin.informers.informer(
    { resource: KUBE_RESOURCES.pods, namespace, labelSelector: 'application=spilo' },
    signal,
  );
  const patroni = admin.objects('patroni');
  const done = new Set<string>();
  const readyPods = new Map<string, number>();
  const readyAt = new Map<string, number>();
  informer.subscribe((change) => {
    if (change.kind !== 'added' && change.kind !== 'modified') return;
    const pod = change.object;
    const name = pod.metadata?.name ?? '';
    if (done.has(name) || !ready(pod) || pod.metadata?.labels?.['spilo-role'] !== undefined) return;
    done.add(name);
    const cluster = pod.metadata?.labels?.['cluster-name'] ?? '';
    readyPods.set(cluster, (readyPods.get(cluster) ?? 0) + 1);
    if (readyPods.get(cluster) === members) readyAt.set(cluster, performance.now());
    const role = name.endsWith('-0') ? 'master' : 'replica';
    patroni
      .apply(KUBE_RESOURCES.pods, { metadata: { name, namespace, labels: { 'spilo-role': role } } })
      .catch(() => done.delete(name));
  });
  return { labelled: () => done.size, readyAt };
}

/** When each PostgresCluster was first seen in `phase` (performance.now()), from a watch, by name. */
export function phaseTimes(
  admin: KubeClient,
  namespace: string,
  phase: Phase,
  signal: AbortSignal,
): ReadonlyMap<string, number> {
  const informer = admin.informers.informer({ resource: POSTGRES_CLUSTERS, namespace }, signal);
  const reached = new Map<string, number>();
  informer.subscribe((change) => {
    if (change.kind !== 'added' && change.kind !== 'modified') return;
    const name = change.object.metadata?.name ?? '';
    const status = change.object.status as PostgresClusterStatus | undefined;
    if (status?.phase === phase && !reached.has(name)) reached.set(name, performance.now());
  });
  return reached;
}
