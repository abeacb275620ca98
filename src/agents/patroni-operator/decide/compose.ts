import type { KeyDecision } from '../../kernel/reconcile.js';
import {
  HASH_ANNOTATION,
  PGC_FINALIZER,
  type ClusterAction,
  type ClusterObserved,
  type DecideConfig,
  type DesiredObject,
  type ObjectView,
  type Phase,
  type PostgresClusterStatus,
} from '../types.js';
import { desiredObjects, ownedKey, statusEntry } from './desired.js';
import { classify, transition, type ClusterEvent } from './fsm.js';
import { podSelector, selectorString, type ClusterRef } from './labels.js';
import { CREDENTIAL_KEYS, credentials, objectNames } from './resources-access.js';
import { deriveStatus, statusChanged } from './status.js';
import { checkSpec } from './validate.js';

/** An apply recorded this recently covers an object the cache does not show yet (the watch lags). */
export const CACHE_LAG_MS = 5000;
/** While members are starting or moving, look again this often (pod changes also wake the key). */
const SETTLING_REQUEUE_MS = 5000;

type Decision = KeyDecision<ClusterAction>;

const hashOf = (o: ObjectView | undefined): string | undefined => o?.metadata?.annotations?.[HASH_ANNOTATION];

/** Whether the object's intent is in place: its hash is on the object, or we applied it a moment ago. */
function upToDate(o: ClusterObserved, d: DesiredObject, now: number): boolean {
  const seen = o.owned[ownedKey(d.kind, d.name)];
  if (hashOf(seen) === d.hash) return true;
  const applied = o.memory.applied[`${o.key}/${ownedKey(d.kind, d.name)}`];
  return applied !== undefined && applied.hash === d.hash && now - applied.at < CACHE_LAG_MS;
}

function deleting(o: ClusterObserved, cluster: ObjectView, ref: ClusterRef, spec: unknown): Decision {
  if (!(cluster.metadata?.finalizers ?? []).includes(PGC_FINALIZER))
    return { actions: [], summary: 'deleted: waiting for the API server to remove it' };
  const storage = (spec as { storage?: { reclaimPolicy?: string } } | undefined)?.storage;
  const deleteClaims = storage?.reclaimPolicy === 'Delete';
  return {
    actions: [
      {
        kind: 'record-event',
        type: 'Normal',
        reason: 'Deleting',
        note: `cleaning up Patroni's DCS objects${deleteClaims ? ' and the volumes' : ''} of ${ref.name}`,
        topic: 'phase',
        state: 'Deleting',
      },
      {
        kind: 'clean-up',
        selector: selectorString(podSelector(ref)),
        deleteClaims,
        claimSelector: selectorString(podSelector(ref)),
      },
      { kind: 'remove-finalizer' },
    ],
    summary: `deleting: removing Patroni's objects${deleteClaims ? ' and the volumes' : ' (volumes retained)'}, then the finalizer`,
  };
}

/**
 * One PostgresCluster's reconcile, without I/O: the objects to apply, the Secret to create, the status
 * and Events to write. A pass that finds everything in place returns no action (steady state writes nothing).
 */
export function decideCluster(o: ClusterObserved, now: number, config: DecideConfig): Decision {
  if (!o.synced) return { actions: [], summary: 'waiting for the informers to list', requeueAfterMs: 500 };
  const cluster = o.cluster;
  const meta = cluster?.metadata;
  if (cluster === null || meta?.uid === undefined) return { actions: [], summary: 'gone' };
  const ref: ClusterRef = { namespace: meta.namespace ?? '', name: meta.name ?? '', uid: meta.uid };
  if (meta.deletionTimestamp !== undefined) return deleting(o, cluster, ref, cluster.spec);
  if (!(meta.finalizers ?? []).includes(PGC_FINALIZER))
    return { actions: [{ kind: 'add-finalizer' }], summary: `adding the finalizer ${PGC_FINALIZER}` };

  const before = cluster.status as PostgresClusterStatus | undefined;
  const prior: Phase = before?.phase ?? 'Pending';
  const generation = meta.generation ?? 0;
  const check = checkSpec(cluster.spec, o.currentStorage);
  const problems = check.kind === 'invalid' ? check.problems : [];
  const spec = check.kind === 'valid' ? check.spec : undefined;
  const paused = spec?.paused === true;
  const desired = spec === undefined ? [] : desiredObjects(ref, spec, imagesOf(config));
  const pending = paused ? [] : desired.filter((d) => !upToDate(o, d, now));
  const credentialsName = objectNames(ref.name).credentials;
  const wantSecret =
    spec !== undefined &&
    !paused &&
    o.owned[ownedKey('secrets', credentialsName)] === undefined &&
    o.memory.applied[`${o.key}/${ownedKey('secrets', credentialsName)}`] === undefined;
  const wanted = new Set([...desired.map((d) => ownedKey(d.kind, d.name)), ownedKey('secrets', credentialsName)]);
  const extra =
    spec === undefined || paused
      ? []
      : Object.entries(o.owned)
          .filter(([k, v]) => !wanted.has(k) && (v.metadata?.ownerReferences ?? []).some((r) => r.uid === ref.uid))
          .map(([k]) => k);

  const sts = o.owned[ownedKey('statefulSets', objectNames(ref.name).statefulSet)];
  const stsSpec = sts?.spec as { replicas?: number } | undefined;
  const stsStatus = sts?.status as
    | { observedGeneration?: number; updatedReplicas?: number; currentRevision?: string; updateRevision?: string }
    | undefined;
  const replicas = spec?.replicas ?? stsSpec?.replicas ?? 0;
  const rolling =
    sts !== undefined &&
    ((stsStatus?.observedGeneration ?? 0) < (sts.metadata?.generation ?? 0) ||
      (stsStatus?.updatedReplicas ?? 0) < replicas ||
      stsStatus?.currentRevision !== stsStatus?.updateRevision);
  const missing = desired.some((d) => o.owned[ownedKey(d.kind, d.name)] === undefined && !upToDate(o, d, now));
  const event: ClusterEvent = classify({
    deleting: false,
    valid: problems.length === 0,
    retriesExhausted: (before?.retry?.attempts ?? 0) >= config.failedAfterAttempts,
    missing,
    scaling: spec !== undefined && (stsSpec?.replicas !== spec.replicas || o.members.length !== spec.replicas),
    specChanged: generation > (before?.observedGeneration ?? 0) || rolling,
    drifted: pending.length > 0,
    hasPrimary: o.members.some((m) => m.role === 'master' && m.ready),
    allReady: o.members.length === replicas && o.members.every((m) => m.ready),
  });
  const phase = paused ? prior : transition(prior, event);
  const status = deriveStatus(
    {
      phase,
      event,
      problems,
      paused,
      replicas,
      members: o.members,
      generation,
      selector: selectorString(podSelector(ref)),
    },
    before,
    new Date(now).toISOString(),
  );

  const actions: ClusterAction[] = [
    ...(wantSecret
      ? [{ kind: 'create-secret' as const, name: credentialsName, object: credentials(ref), keys: CREDENTIAL_KEYS }]
      : []),
    ...pending.map((d) => ({ kind: 'apply' as const, desired: d })),
    ...extra.map((k) => {
      const [kind, name] = k.split('/') as [DesiredObject['kind'], string];
      return { kind: 'delete' as const, ownedKind: kind, name };
    }),
    ...phaseEvent(prior, phase, reported(before, problems) ? [] : problems, event),
    ...(statusChanged(before, status) && !cacheBehind(o, meta.resourceVersion, now)
      ? [{ kind: 'patch-status' as const, resourceVersion: meta.resourceVersion ?? '', status }]
      : []),
  ];
  const settling = phase !== 'Running' && phase !== 'Failed' && !paused;
  return {
    actions,
    summary: summarize(ref, phase, event, problems, pending.length, paused),
    ...(settling || actions.length > 0 ? { requeueAfterMs: SETTLING_REQUEUE_MS } : {}),
  };
}

/**
 * The cache still shows the resourceVersion our last status patch was conditioned on: the patch went
 * through, so that version is gone, and a patch on it now could only be refused (409). The watch brings
 * the new version and wakes the key.
 */
function cacheBehind(o: ClusterObserved, resourceVersion: string | undefined, now: number): boolean {
  const last = o.memory.applied[statusEntry(o.key)];
  return last !== undefined && last.hash === resourceVersion && now - last.at < CACHE_LAG_MS;
}

function imagesOf(config: DecideConfig): { spilo: string; pgbouncer: string; exporter: string } {
  return { spilo: config.spiloImage, pgbouncer: config.pgbouncerImage, exporter: config.exporterImage };
}

/** The status already says the spec is invalid for these problems (its Warning went out with it). */
function reported(before: PostgresClusterStatus | undefined, problems: readonly string[]): boolean {
  const valid = before?.conditions?.find((c) => c.type === 'ConfigurationValid');
  return problems.length > 0 && valid?.status === 'False' && valid.message === problems.join('; ');
}

function phaseEvent(prior: Phase, phase: Phase, problems: readonly string[], event: ClusterEvent): ClusterAction[] {
  const out: ClusterAction[] = [];
  if (problems.length > 0)
    out.push({
      kind: 'record-event',
      type: 'Warning',
      reason: 'InvalidSpec',
      note: problems.join('; '),
      topic: 'spec',
      state: problems.join('; '),
    });
  else if (phase !== prior)
    out.push({
      kind: 'record-event',
      type: phase === 'Degraded' || phase === 'Failed' ? 'Warning' : 'Normal',
      reason: phase,
      note: `phase ${prior} -> ${phase}: ${event.replace(/-/g, ' ')}`,
      topic: 'phase',
      state: phase,
    });
  return out;
}

function summarize(
  ref: ClusterRef,
  phase: Phase,
  event: ClusterEvent,
  problems: readonly string[],
  applies: number,
  paused: boolean,
): string {
  if (problems.length > 0) return `${phase}: the spec is invalid, nothing changed: ${problems.join('; ')}`;
  if (paused) return `${phase}: paused, no object of ${ref.name} is changed`;
  const writing = applies > 0 ? `, applying ${applies} object(s)` : '';
  return `${phase}: ${event.replace(/-/g, ' ')}${writing}`;
}
