import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';

export const BENCH_SELECTOR = 'app=citus-bench-worker';
const ADDRESS_ANNOTATION = 'pgdeck.io/citus-address';

/**
 * Worker pods as a kubelet would report them, without a kubelet (as in the tests): pinned by a node
 * selector no node has, their status set through the status subresource, the address annotation
 * pointing at a real worker on loopback.
 */
export class BenchPods {
  private readonly core: CoreV1Api;

  constructor(
    kubeconfigYaml: string,
    readonly namespace: string,
  ) {
    const config = new KubeConfig();
    config.loadFromString(kubeconfigYaml);
    this.core = config.makeApiClient(CoreV1Api);
  }

  async namespaceReady(): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    for (const deadline = Date.now() + 30_000; ;) {
      try {
        await this.core.readNamespacedServiceAccount({ namespace: this.namespace, name: 'default' });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async create(name: string, address: string): Promise<void> {
    const body: V1Pod = {
      metadata: {
        name,
        labels: { app: 'citus-bench-worker' },
        annotations: { [ADDRESS_ANNOTATION]: address },
      },
      spec: { nodeSelector: { 'pgdeck.io/no-such-node': 'true' }, containers: [{ name: 'pg', image: 'postgres:15' }] },
    };
    await this.core.createNamespacedPod({ namespace: this.namespace, body });
  }

  /** Phase Running and the Ready condition, as the kubelet writes them; returns when the accepted write was sent. */
  async setReady(name: string, ready: boolean): Promise<number> {
    for (;;) {
      const pod = await this.core.readNamespacedPod({ namespace: this.namespace, name });
      const status = {
        ...pod.status,
        phase: 'Running',
        podIP: '10.244.0.10',
        conditions: [
          ...(pod.status?.conditions ?? []).filter((c) => c.type !== 'Ready'),
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date() },
        ],
      };
      const sent = performance.now();
      try {
        await this.core.replaceNamespacedPodStatus({ namespace: this.namespace, name, body: { ...pod, status } });
        return sent;
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 409)) throw error;
      }
    }
  }

  async delete(name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ namespace: this.namespace, name });
  }
}
