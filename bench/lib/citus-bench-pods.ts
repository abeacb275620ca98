import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';

export const BENCH_SELECTOR = 'app=citus-bench-worker';
const ADDRESS_ANNOTATION = 'pgdeck.io/citus-address';

/**
 * Worker pods on the control plane's kwok nodes: the scheduler places each, kwok reports it Running
 * and Ready as a kubelet would, and the bench then flips its Ready condition through the status
 * subresource (kwok leaves a Running pod's status alone). The address annotation points at a real
 * worker on loopback.
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

  /** Creates the pod (kwok makes it Ready); returns when the accepted create was sent. */
  async create(name: string, address: string): Promise<number> {
    const body: V1Pod = {
      metadata: {
        name,
        labels: { app: 'citus-bench-worker' },
        annotations: { [ADDRESS_ANNOTATION]: address },
      },
      spec: { containers: [{ name: 'pg', image: 'postgres:15' }] },
    };
    const sent = performance.now();
    await this.core.createNamespacedPod({ namespace: this.namespace, body });
    return sent;
  }

  /** Phase Running and the Ready condition, as the kubelet writes them; returns when the accepted write was sent. */
  async setReady(name: string, ready: boolean): Promise<number> {
    for (;;) {
      const pod = await this.core.readNamespacedPod({ namespace: this.namespace, name });
      const status = {
        ...pod.status,
        phase: 'Running',
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
