import type { LeaderElectorFactory } from '../kernel/leader.js';
import type { Logger } from '../kernel/logger.js';
import { loadKubeConfig, type KubeSource } from './kube-config.js';
import { EventRecorder, type EventRecorderOptions } from './kube-events.js';
import type { InformerOptions } from './kube-informer.js';
import { InformerRegistry } from './kube-informers.js';
import { KubeLeases } from './kube-lease.js';
import {
  KubeLeaseElector,
  kubeLeaseElectorFactory,
  type KubeLeaseElectorFactoryOptions,
  type KubeLeaseElectorOptions,
} from './kube-leader.js';
import type { RequestCounter } from './kube-request-counter.js';
import type { KubeResource } from './kube-resources.js';
import {
  openServiceProxy,
  type ServiceProxy,
  type ServiceProxyOptions,
  type ServiceProxyTarget,
} from './kube-service-proxy.js';
import { openPortForward, type PortForwardRelay, type PortForwardTarget } from './kube-port-forward.js';
import { KubeTransport } from './kube-transport.js';
import { KubeObjects } from './kube-write.js';
import { KubeDiscovery } from './kube-discovery.js';

export { kubeSourceOf, type KubeSource } from './kube-config.js';
export type { ServiceProxy, ServiceProxyOptions, ServiceProxyTarget } from './kube-service-proxy.js';
export type { PortForwardRelay, PortForwardTarget } from './kube-port-forward.js';
export type { InformerChange, InformerSpec, InformerState, KubeInformer } from './kube-informer.js';
export type { KubeObject, KubeResource } from './kube-resources.js';
export { KUBE_RESOURCES } from './kube-resources.js';
export type { CreateResult, KubeObjects, KubeScale, WriteResult } from './kube-write.js';

export interface KubeClientOptions {
  readonly source: KubeSource;
  /** Deadline of each request (default 10 s); a server that does not answer is `unavailable` after it. */
  readonly requestTimeoutMs?: number;
  readonly informer?: InformerOptions;
  readonly logger?: Logger;
}

/**
 * pgdeck's one handle on a Kubernetes API server: shared informers, writes as a field manager,
 * Events, Leases and leader election, and a count of every request by verb and resource. Nothing
 * outside src/agents/adapters sees a client-node type.
 */
export interface KubeClient {
  readonly server: string;
  readonly context: string;
  /** The context's namespace (the pod's own, in-cluster). */
  readonly namespace: string;
  /** `requests.snapshot()`: `{'patch statefulsets': 3, 'watch pods': 1}`. */
  readonly requests: RequestCounter;
  readonly informers: InformerRegistry;
  readonly leases: KubeLeases;
  /** Reads and writes as `fieldManager` (one per agent). */
  objects(fieldManager: string): KubeObjects;
  events(options: EventRecorderOptions): EventRecorder;
  elector(options: Omit<KubeLeaseElectorOptions, 'informers'>): KubeLeaseElector;
  leaderElectorFactory(options: Omit<KubeLeaseElectorFactoryOptions, 'informers'>): LeaderElectorFactory;
  /** The REST resource of an apiVersion and kind, from discovery (`fresh`: ask again, after a CRD was added). */
  resolve(apiVersion: string, kind: string, options?: { readonly fresh?: boolean }): Promise<KubeResource>;
  /** A loopback URL relaying to a Service port through the API server's service proxy (close it). */
  serviceProxy(target: ServiceProxyTarget, options: ServiceProxyOptions): Promise<ServiceProxy>;
  /** A loopback URL relaying to a Pod's port through the API server's `pods/portforward` (close it). */
  portForward(target: PortForwardTarget): Promise<PortForwardRelay>;
  /** Stops every informer and closes kept-alive connections. */
  close(): Promise<void>;
}

/** Loads the credentials (a `config` error names the key on a mistake) and returns the client; sends nothing yet. */
export function connectKube(options: KubeClientOptions): KubeClient {
  const loaded = loadKubeConfig(options.source);
  const transport = new KubeTransport(loaded.config, loaded.server, options.requestTimeoutMs ?? 10_000);
  const logged = options.logger === undefined ? {} : { logger: options.logger };
  const informers = new InformerRegistry(transport, { ...logged, ...options.informer });
  const discovery = new KubeDiscovery(transport);
  return {
    server: loaded.server,
    context: loaded.context,
    namespace: loaded.namespace,
    requests: transport.counter,
    informers,
    leases: new KubeLeases(transport),
    objects: (fieldManager) => new KubeObjects(transport, fieldManager),
    events: (recorder) => new EventRecorder(transport, recorder),
    elector: (elector) => new KubeLeaseElector(transport, { ...logged, ...elector, informers }),
    leaderElectorFactory: (factory) => kubeLeaseElectorFactory(transport, { ...logged, ...factory, informers }),
    resolve: (apiVersion, kind, resolveOptions) => discovery.resolve(apiVersion, kind, resolveOptions),
    serviceProxy: (target, proxy) => openServiceProxy(loaded.config, loaded.server, target, proxy),
    portForward: (target) => openPortForward(loaded.config, target),
    close: async () => {
      await informers.stopAll();
      transport.close();
    },
  };
}
