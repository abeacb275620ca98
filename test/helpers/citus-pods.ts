import { ApiException, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { eventually, orNotFound, type KubeTestCluster } from './kube.js';

export const WORKER_LABEL = { app: 'citus-worker' };
export const WORKER_SELECTOR = 'app=citus-worker';
export const ADDRESS_ANNOTATION = 'pgdeck.io/citus-address';

/**
 * Worker pods as a kubelet would report them, without a kubelet: each pod is pinned by a node
 * selector no node has (so neither the scheduler nor kwok takes it), and the test sets its status
 * (phase, Ready, podIP) through the status subresource. The address annotation points at a real
 * PostgreSQL worker on loopback.
 */
export class WorkerPods {
  readonly core: CoreV1Api;

  constructor(
    kube: KubeTestCluster,
    readonly namespace: string,
  ) {
    this.core = kube.kubeConfig.makeApiClient(CoreV1Api);
  }

  async create(name: string, address: string): Promise<void> {
    const body: V1Pod = {
      metadata: { name, labels: WORKER_LABEL, annotations: { [ADDRESS_ANNOTATION]: address } },
      spec: { nodeSelector: { 'pgdeck.io/no-such-node': 'true' }, containers: [{ name: 'pg', image: 'postgres:15' }] },
    };
    await this.core.createNamespacedPod({ namespace: this.namespace, body });
  }

  /** Sets phase Running and the Ready condition, as the kubelet does; retried on a write race. */
  async setReady(name: string, ready: boolean): Promise<void> {
    await eventually(`pod ${name} status written`, async () => {
      const pod = await this.core.readNamespacedPod({ namespace: this.namespace, name });
      const now = new Date();
      const status = {
        ...pod.status,
        phase: 'Running',
        podIP: '10.244.0.10',
        conditions: [
          ...(pod.status?.conditions ?? []).filter((c) => c.type !== 'Ready'),
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
      };
      try {
        await this.core.replaceNamespacedPodStatus({ namespace: this.namespace, name, body: { ...pod, status } });
        return true;
      } catch (error) {
        if (error instanceof ApiException && error.code === 409) return false;
        throw error;
      }
    });
  }

  /** Points the pod's address annotation elsewhere (its server reached under another name). */
  async setAddress(name: string, address: string): Promise<void> {
    const path = `/metadata/annotations/${ADDRESS_ANNOTATION.replace('/', '~1')}`;
    await this.core.patchNamespacedPod({
      namespace: this.namespace,
      name,
      body: [{ op: 'replace', path, value: address }],
    });
  }

  async delete(name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ namespace: this.namespace, name });
  }

  async get(name: string): Promise<V1Pod | undefined> {
    return orNotFound(this.core.readNamespacedPod({ namespace: this.namespace, name }));
  }
}
