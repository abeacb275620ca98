import { CoreV1Api } from '@kubernetes/client-node';
import { networkInterfaces } from 'node:os';
import { KUBE_RESOURCES } from '../../src/agents/adapters/kube.js';
import { adminKube, type KubeTestCluster } from './kube.js';

/**
 * Endpoints refuse loopback addresses, and the API server proxies to no loopback address: an agent
 * reached through the service proxy listens on this machine's own non-loopback address.
 */
export function localAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no non-loopback IPv4 address on this machine');
}

export interface AgentServiceTarget {
  /** The Service's name; its Pod is `${name}-0`. */
  readonly name: string;
  /** The `app.kubernetes.io/component` label: the agent's name. */
  readonly component: string;
  readonly ip: string;
  readonly port: number;
}

/**
 * An agent Service as manifests/ labels it (part of pgdeck, port `api`), selector-less, with Endpoints
 * to ip:port whose targetRef is a Pod no scheduler takes with `ip` as its status: the service proxy
 * only follows an address whose targetRef is a Pod with that IP.
 */
export async function registerAgentService(cluster: KubeTestCluster, ns: string, t: AgentServiceTarget): Promise<void> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const labels = { 'app.kubernetes.io/part-of': 'pgdeck', 'app.kubernetes.io/component': t.component };
  const pod = `${t.name}-0`;
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: t.name, labels }, spec: { ports: [{ name: 'api', port: 8008 }] } },
  });
  const created = await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: pod, labels },
      spec: { schedulerName: 'nobody', containers: [{ name: 'agent', image: 'pgdeck:test' }] },
    },
  });
  const admin = adminKube(cluster);
  try {
    await admin
      .objects('test')
      .patchStatus(
        KUBE_RESOURCES.pods,
        ns,
        pod,
        { podIP: t.ip, podIPs: [{ ip: t.ip }] },
        { resourceVersion: created.metadata?.resourceVersion ?? '' },
      );
  } finally {
    await admin.close();
  }
  await core.createNamespacedEndpoints({
    namespace: ns,
    body: {
      metadata: { name: t.name, labels },
      subsets: [
        {
          addresses: [{ ip: t.ip, targetRef: { kind: 'Pod', namespace: ns, name: pod } }],
          ports: [{ name: 'api', port: t.port }],
        },
      ],
    },
  });
}

/** The Secret `pgdeck-api-token` (key `token`) that `attach --kube` reads. */
export async function createTokenSecret(cluster: KubeTestCluster, ns: string, token: string): Promise<void> {
  await cluster.kubeConfig
    .makeApiClient(CoreV1Api)
    .createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'pgdeck-api-token' }, stringData: { token } } });
}
