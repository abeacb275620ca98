import { randomBytes } from 'node:crypto';
import { KUBE_RESOURCES } from '../adapters/kube.js';
import type { ActContext } from '../kernel/context.js';
import { errorKind, errorMessage, PgdeckError } from '../kernel/errors.js';
import type { ErrorVerdict } from '../kernel/reconcile.js';
import { ownedKey, statusEntry } from './decide/desired.js';
import { POSTGRES_CLUSTERS, type OperatorDeps } from './deps.js';
import {
  PGC_FINALIZER,
  type ClusterAction,
  type ObjectView,
  type OperatorMemory,
  type PostgresClusterStatus,
} from './types.js';

/** A lost optimistic-concurrency race is looked at again this soon. */
const CONFLICT_REQUEUE_MS = 200;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

function splitKey(key: string): { namespace: string; name: string } {
  const at = key.indexOf('/');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
}

/** When a failed reconcile of a cluster runs again: a conflict soon, anything else doubling up to a minute. */
export function operatorErrorPolicy(_key: string, error: unknown, attempts: number): ErrorVerdict {
  if (errorKind(error) === 'conflict') return { kind: 'requeue', afterMs: CONFLICT_REQUEUE_MS };
  return { kind: 'requeue', afterMs: Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1)) };
}

function remember(ctx: ActContext<OperatorMemory>, entry: string, hash: string): void {
  ctx.remember({ applied: { ...ctx.memory.applied, [entry]: { hash, at: ctx.clock.now() } } });
}

/** A password of 32 URL-safe characters from the system's CSPRNG. */
const password = (): string => randomBytes(24).toString('base64url');

/** Performs one action of a cluster's reconcile, idempotently, as the operator's field manager. */
export async function actCluster(
  deps: OperatorDeps,
  key: string,
  action: ClusterAction,
  ctx: ActContext<OperatorMemory>,
): Promise<void> {
  const { namespace, name } = splitKey(key);
  const signal = { signal: ctx.signal };
  switch (action.kind) {
    case 'add-finalizer':
    case 'remove-finalizer':
      await deps.objects.apply(
        POSTGRES_CLUSTERS,
        { metadata: { name, namespace, finalizers: action.kind === 'add-finalizer' ? [PGC_FINALIZER] : [] } },
        signal,
      );
      return;
    case 'apply':
      await deps.objects.apply(KUBE_RESOURCES[action.desired.kind], action.desired.object, signal);
      remember(ctx, `${key}/${ownedKey(action.desired.kind, action.desired.name)}`, action.desired.hash);
      return;
    case 'create-secret': {
      const stringData = Object.fromEntries(action.keys.map((k) => [k, password()]));
      await deps.objects.create(KUBE_RESOURCES.secrets, { ...action.object, stringData }, signal);
      remember(ctx, `${key}/${ownedKey('secrets', action.name)}`, 'created');
      return;
    }
    case 'delete':
      await deps.objects.delete({ resource: KUBE_RESOURCES[action.ownedKind], namespace, name: action.name }, signal);
      return;
    case 'patch-status': {
      const result = await deps.objects.patchStatus(
        POSTGRES_CLUSTERS,
        namespace,
        name,
        action.status,
        { resourceVersion: action.resourceVersion },
        signal,
      );
      if (result.kind === 'requeue') throw new PgdeckError('conflict', `status of ${key}: ${result.reason}`);
      remember(ctx, statusEntry(key), action.resourceVersion);
      return;
    }
    case 'record-event': {
      const regarding = deps.clusters.get(name, namespace);
      if (regarding === undefined) return;
      await deps.events.recordTransition(
        regarding,
        action.topic,
        action.state,
        { type: action.type, reason: action.reason, action: 'Reconcile', note: action.note },
        ctx.signal,
      );
      return;
    }
    case 'clean-up':
      await deps.objects.deleteCollection(KUBE_RESOURCES.configMaps, namespace, action.selector, signal);
      await deps.objects.deleteCollection(KUBE_RESOURCES.endpoints, namespace, action.selector, signal);
      if (action.deleteClaims)
        await deps.objects.deleteCollection(
          KUBE_RESOURCES.persistentVolumeClaims,
          namespace,
          action.claimSelector,
          signal,
        );
      return;
    default: {
      const unknown: never = action;
      throw new PgdeckError('internal', `unknown action ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Records a failed reconcile in the cluster's status (attempts, last error, next retry), best effort:
 * a status that cannot be written either is left to the next attempt.
 */
export async function recordFailure(
  deps: OperatorDeps,
  key: string,
  error: unknown,
  ctx: ActContext<OperatorMemory>,
): Promise<void> {
  if (errorKind(error) === 'conflict' || errorKind(error) === 'aborted') return;
  const { namespace, name } = splitKey(key);
  const cluster: ObjectView | undefined = deps.clusters.get(name, namespace);
  const rv = cluster?.metadata?.resourceVersion;
  if (cluster === undefined || rv === undefined) return;
  const attempts = ((cluster.status as PostgresClusterStatus | undefined)?.retry?.attempts ?? 0) + 1;
  const verdict = operatorErrorPolicy(key, error, attempts);
  const after = verdict.kind === 'requeue' ? verdict.afterMs : 0;
  const retry = {
    attempts,
    lastError: `${errorKind(error)}: ${errorMessage(error)}`.slice(0, 1024),
    nextRetryAt: new Date(ctx.clock.now() + after).toISOString(),
  };
  await deps.objects
    .patchStatus(POSTGRES_CLUSTERS, namespace, name, { retry }, { resourceVersion: rv }, { signal: ctx.signal })
    .catch(() => undefined);
}
