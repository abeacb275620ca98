import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { connectKube, KUBE_RESOURCES, type KubeObject } from '../../agents/adapters/kube.js';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { POSTGRES_CLUSTERS } from '../../agents/patroni-operator/deps.js';
import type { PostgresClusterStatus } from '../../agents/patroni-operator/types.js';
import { checkoutFile } from '../../checkout-file.js';
import { waitUntil } from '../procs/daemon.js';
import { WORKER_NAMESPACE } from './citus-pods.js';

export const SAMPLE_MANIFEST = 'manifests/components/sample/postgrescluster.yaml';
const FIELD_MANAGER = 'pgdeck-lab';
/** Patroni labels its pods with their role; kwok runs no Patroni, so the lab does, as the kubelet stand-in does the rest. */
const PATRONI_MANAGER = 'pgdeck-lab-patroni';
const RUNNING_WITHIN_MS = 180_000;

export interface SampleCluster {
  readonly namespace: string;
  readonly name: string;
  /** The operator's status of the sample, as last read. */
  status(): PostgresClusterStatus;
  stop(): Promise<void>;
}

/** The sample of manifests/components/sample (the one `pgdeck deploy --sample` applies). */
export function sampleObject(): KubeObject {
  const file = checkoutFile(SAMPLE_MANIFEST);
  if (file === undefined) throw new PgdeckError('unavailable', `${SAMPLE_MANIFEST} not found beside this module`);
  return parse(readFileSync(file, 'utf8')) as KubeObject;
}

export function describeSample(sample: Pick<SampleCluster, 'namespace' | 'name'>, s: PostgresClusterStatus): string {
  const primary = s.primaryPod === undefined || s.primaryPod === null ? '' : `, primary ${s.primaryPod}`;
  return `PostgresCluster ${sample.namespace}/${sample.name}: ${s.phase ?? 'no status yet'}, ${s.readyReplicas ?? 0} of ${s.replicas ?? '?'} ready${primary} (pod roles labelled by the lab, kwok runs no Patroni)`;
}

/**
 * The sample PostgresCluster, applied once the operator runs: a static PersistentVolume per replica
 * (no provisioner without a kubelet), the cluster, and the role labels Patroni would put on its pods
 * (the first pod the primary); resolves once the operator reports it Running.
 */
export async function startSampleCluster(kubeconfig: string, signal: AbortSignal): Promise<SampleCluster> {
  const sample = sampleObject();
  const name = sample.metadata?.name ?? 'sample';
  const spec = (sample.spec ?? {}) as { replicas?: number; storage?: { size?: string } };
  const kube = connectKube({ source: { kind: 'kubeconfig', path: kubeconfig } });
  const own = new AbortController();
  const both = AbortSignal.any([signal, own.signal]);
  const objects = kube.objects(FIELD_MANAGER);
  let last: PostgresClusterStatus = {};
  const pods = kube.informers.informer<KubeObject>(
    {
      resource: KUBE_RESOURCES.pods,
      namespace: WORKER_NAMESPACE,
      labelSelector: `application=spilo,cluster-name=${name}`,
    },
    both,
  );
  let chain = Promise.resolve();
  const labelRoles = (): void => {
    chain = chain.then(async () => {
      for (const pod of pods.list()) {
        const role = pod.metadata?.name === `${name}-0` ? 'master' : 'replica';
        if (pod.metadata?.deletionTimestamp !== undefined || pod.metadata?.labels?.['spilo-role'] === role) continue;
        const ready = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
        if (ready?.some((c) => c.type === 'Ready' && c.status === 'True') !== true) continue;
        await kube
          .objects(PATRONI_MANAGER)
          .apply(KUBE_RESOURCES.pods, {
            metadata: { name: pod.metadata?.name, namespace: WORKER_NAMESPACE, labels: { 'spilo-role': role } },
          })
          .catch(() => undefined);
      }
    });
  };
  const unsubscribe = pods.subscribe(labelRoles);
  const stop = async (): Promise<void> => {
    own.abort();
    unsubscribe();
    await chain;
    await kube.close();
  };
  try {
    for (let i = 0; i < (spec.replicas ?? 1); i++)
      await objects.apply(KUBE_RESOURCES.persistentVolumes, {
        metadata: { name: `lab-${name}-${i}`, labels: { 'app.kubernetes.io/part-of': 'pgdeck-lab' } },
        spec: {
          capacity: { storage: spec.storage?.size ?? '10Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/var/lib/pgdeck-lab/${name}-${i}` },
        },
      });
    await objects.apply(POSTGRES_CLUSTERS, {
      ...sample,
      metadata: { ...sample.metadata, namespace: WORKER_NAMESPACE },
    });
    await waitUntil(
      `the operator reporting PostgresCluster ${name} Running`,
      async () => {
        const got = await objects.get<KubeObject>({ resource: POSTGRES_CLUSTERS, namespace: WORKER_NAMESPACE, name });
        last = (got?.status ?? {}) as PostgresClusterStatus;
        return last.phase === 'Running';
      },
      RUNNING_WITHIN_MS,
      { signal, intervalMs: 250 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { namespace: WORKER_NAMESPACE, name, status: () => last, stop };
}
