import type { ObserveContext } from '../kernel/context.js';
import { ownedKey } from './decide/desired.js';
import { ROLE_LABEL, SCOPE_LABEL } from './decide/labels.js';
import { informersSynced, type OperatorDeps } from './deps.js';
import {
  OWNED_KINDS,
  type ClusterObserved,
  type ClusterRow,
  type MemberView,
  type ObjectView,
  type OperatorMemory,
  type OperatorObserved,
  type PostgresClusterStatus,
} from './types.js';

/** `namespace/name` of a PostgresCluster: the key of its reconcile. */
export const clusterKey = (o: ObjectView): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function splitKey(key: string): [string, string] {
  const at = key.indexOf('/');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** Patroni's REST API port in a Spilo pod. */
const PATRONI_PORT = 8008;
/**
 * A pod annotation naming its Patroni REST API as `host:port`, for pods whose Patroni does not listen on
 * the pod IP (kwok pods, each backed by a real Patroni on loopback). Read only when the config allows it.
 */
export const PATRONI_API_ANNOTATION = 'pgdeck.io/patroni-api';
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Where a pod's Patroni REST API answers: the pod IP on 8008, or its annotation when `allowAnnotation`. */
export function patroniApiOf(pod: ObjectView, allowAnnotation: boolean): string | undefined {
  const annotated = allowAnnotation ? pod.metadata?.annotations?.[PATRONI_API_ANNOTATION] : undefined;
  if (annotated !== undefined && HOST_PORT.test(annotated)) return annotated;
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  return ip === undefined ? undefined : `${ip}:${PATRONI_PORT}`;
}

function member(pod: ObjectView, allowAnnotation: boolean): MemberView {
  const role = pod.metadata?.labels?.[ROLE_LABEL];
  const status = pod.status as { podIP?: string; conditions?: readonly { type: string; status: string }[] } | undefined;
  const ready =
    pod.metadata?.deletionTimestamp === undefined &&
    (status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const api = patroniApiOf(pod, allowAnnotation);
  return {
    name: pod.metadata?.name ?? '',
    role: role === 'master' || role === 'replica' ? role : 'unknown',
    ready,
    ...(status?.podIP === undefined ? {} : { ip: status.podIP }),
    ...(api === undefined ? {} : { api }),
  };
}

/** The members of a cluster: its pods, by Patroni's scope label, sorted by name. */
export function membersOf(deps: OperatorDeps, namespace: string, name: string): readonly MemberView[] {
  return deps.pods
    .list()
    .filter((p) => p.metadata?.namespace === namespace && p.metadata.labels?.[SCOPE_LABEL] === name)
    .filter((p) => p.metadata?.labels?.application === 'spilo')
    .map((p) => member(p, deps.patroniApiAnnotation))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One PostgresCluster and what it owns, read from the informers' caches (no request). */
export function observeCluster(
  deps: OperatorDeps,
  key: string,
  ctx: ObserveContext<OperatorMemory>,
): Promise<ClusterObserved> {
  const [namespace, name] = splitKey(key);
  const cluster = deps.clusters.get(name, namespace) ?? null;
  const uid = cluster?.metadata?.uid;
  const owned: Record<string, ObjectView> = {};
  if (uid !== undefined)
    for (const kind of OWNED_KINDS)
      for (const o of deps.owned[kind].list())
        if (o.metadata?.namespace === namespace && (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid))
          owned[ownedKey(kind, o.metadata.name ?? '')] = o;
  const sts = owned[ownedKey('statefulSets', name)]?.spec as
    { volumeClaimTemplates?: readonly { spec?: { resources?: { requests?: { storage?: string } } } }[] } | undefined;
  const currentStorage = sts?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage;
  return Promise.resolve({
    key,
    synced: informersSynced(deps),
    cluster,
    owned,
    members: membersOf(deps, namespace, name),
    ...(currentStorage === undefined ? {} : { currentStorage }),
    memory: ctx.memory,
  });
}

function row(deps: OperatorDeps, o: ObjectView): ClusterRow {
  const status = (o.status ?? {}) as PostgresClusterStatus;
  const spec = (o.spec ?? {}) as { replicas?: number; paused?: boolean };
  const namespace = o.metadata?.namespace ?? '';
  const name = o.metadata?.name ?? '';
  return {
    namespace,
    name,
    phase: status.phase ?? 'Unknown',
    replicas: spec.replicas ?? 0,
    readyReplicas: status.readyReplicas ?? 0,
    primaryPod: status.primaryPod ?? null,
    paused: spec.paused === true,
    conditions: (status.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    })),
    members: membersOf(deps, namespace, name),
  };
}

/** The agent's own pass: every PostgresCluster, for the keys and the Clusters view. */
export function observeOperator(deps: OperatorDeps): Promise<OperatorObserved> {
  const clusters = deps.clusters
    .list()
    .map((o) => row(deps, o))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return Promise.resolve({ synced: informersSynced(deps), clusters });
}
