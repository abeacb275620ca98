import {
  connectKube,
  kubeSourceOf,
  KUBE_RESOURCES,
  type KubeClient,
  type KubeInformer,
  type KubeResource,
} from '../adapters/kube.js';
import type { EventRecorder } from '../adapters/kube-events.js';
import type { KubeObjects } from '../adapters/kube-write.js';
import type { AgentContext } from '../kernel/context.js';
import {
  MANAGED_BY,
  OWNED_KINDS,
  PGC_GROUP,
  PGC_KIND,
  PGC_PLURAL,
  PGC_VERSION,
  type ObjectView,
  type OperatorConfig,
  type OwnedKind,
} from './types.js';

export const POSTGRES_CLUSTERS: KubeResource = {
  group: PGC_GROUP,
  version: PGC_VERSION,
  plural: PGC_PLURAL,
  kind: PGC_KIND,
  namespaced: true,
};

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = 'pgdeck-patroni-operator';
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;

export interface OperatorDeps {
  readonly kube: KubeClient;
  readonly objects: KubeObjects;
  readonly events: EventRecorder;
  readonly clusters: KubeInformer<ObjectView>;
  readonly owned: Readonly<Record<OwnedKind, KubeInformer<ObjectView>>>;
  readonly pods: KubeInformer<ObjectView>;
  /** `patroniApiAnnotation` of the config: whether pods may name their Patroni REST API. */
  readonly patroniApiAnnotation: boolean;
}

/** Starts the shared informers (PostgresClusters, each owned kind and the pods, by the managed-by label). */
export function connectOperator(config: OperatorConfig, ctx: AgentContext): Promise<OperatorDeps> {
  const kube = connectKube({
    source: kubeSourceOf(config.kubeconfig, config.kubeContext),
    logger: ctx.log,
  });
  const namespace = config.namespace === '' ? {} : { namespace: config.namespace };
  const informer = (resource: KubeResource, labelSelector?: string): KubeInformer<ObjectView> =>
    kube.informers.informer<ObjectView>(
      { resource, ...namespace, ...(labelSelector === undefined ? {} : { labelSelector }) },
      ctx.signal,
    );
  const owned = Object.fromEntries(
    OWNED_KINDS.map((kind) => [kind, informer(KUBE_RESOURCES[kind], MANAGED_SELECTOR)]),
  ) as Record<OwnedKind, KubeInformer<ObjectView>>;
  return Promise.resolve({
    kube,
    objects: kube.objects(FIELD_MANAGER),
    events: kube.events({ controller: 'pgdeck.io/patroni-operator', instance: config.instance }),
    clusters: informer(POSTGRES_CLUSTERS),
    owned,
    pods: informer(KUBE_RESOURCES.pods, MANAGED_SELECTOR),
    patroniApiAnnotation: config.patroniApiAnnotation,
  });
}

/** Every informer has listed and is watching. */
export function informersSynced(deps: OperatorDeps): boolean {
  return (
    deps.clusters.state().synced &&
    deps.pods.state().synced &&
    OWNED_KINDS.every((kind) => deps.owned[kind].state().synced)
  );
}
