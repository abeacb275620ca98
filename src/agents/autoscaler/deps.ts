import {
  connectKube,
  kubeSourceOf,
  KUBE_RESOURCES,
  type KubeClient,
  type KubeInformer,
  type KubeResource,
} from '../adapters/kube.js';
import { RedisStreams } from '../adapters/redis.js';
import type { AgentContext } from '../kernel/context.js';
import { TaskPodIndex } from './pod-index.js';
import { TASK_POD_SELECTOR } from './task-pods.js';
import type { AutoscalerConfig, TargetKind } from './types.js';

export const FIELD_MANAGER = 'pgdeck-autoscaler';

/** PostgresClusters are scaled through the same scale subresource as the built-in workloads. */
const POSTGRES_CLUSTERS: KubeResource = {
  group: 'pgdeck.io',
  version: 'v1alpha1',
  plural: 'postgresclusters',
  kind: 'PostgresCluster',
  namespaced: true,
};

export const TARGET_RESOURCES: Readonly<Record<TargetKind, KubeResource>> = {
  StatefulSet: KUBE_RESOURCES.statefulSets,
  Deployment: KUBE_RESOURCES.deployments,
  PostgresCluster: POSTGRES_CLUSTERS,
};

export interface AutoscalerDeps {
  readonly config: AutoscalerConfig;
  readonly redis: RedisStreams;
  readonly kube: KubeClient;
  readonly objects: ReturnType<KubeClient['objects']>;
  /** The task pods of this namespace (the shared informer, held until the agent stops). */
  readonly pods: KubeInformer;
  /** The task pods of `pods` by task, with the count in flight, kept up to date change by change. */
  readonly index: TaskPodIndex;
}

export function connectAutoscaler(config: AutoscalerConfig, ctx: AgentContext): Promise<AutoscalerDeps> {
  const r = config.redis;
  const redis = new RedisStreams({
    host: r.host,
    port: r.port,
    ...(r.password === undefined ? {} : { password: r.password }),
    name: `autoscaler-${config.consumer}`,
    onChange: ctx.wake,
  });
  const kube = connectKube({
    source: kubeSourceOf(config.kubeconfig, config.kubeContext),
    logger: ctx.log,
  });
  const pods = kube.informers.informer(
    { resource: KUBE_RESOURCES.pods, namespace: config.namespace, labelSelector: TASK_POD_SELECTOR },
    ctx.signal,
  );
  const index = new TaskPodIndex(pods);
  return Promise.resolve({ config, redis, kube, objects: kube.objects(FIELD_MANAGER), pods, index });
}

export async function closeAutoscaler(deps: AutoscalerDeps): Promise<void> {
  deps.index.close();
  deps.redis.close();
  await deps.kube.close();
}
