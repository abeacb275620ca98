import { CitusError } from '../adapters/citus.js';
import { KUBE_RESOURCES } from '../adapters/kube-resources.js';
import type { NoMemory } from '../kernel/agent.js';
import type { ActContext } from '../kernel/context.js';
import type { ErrorVerdict } from '../kernel/reconcile.js';
import { keyOf } from './address-policy.js';
import type { CitusSyncDeps } from './deps.js';
import type { CitusSyncAction, WorkerAction } from './types.js';

function never(x: never): never {
  throw new Error(`unhandled action ${JSON.stringify(x)}`);
}

export async function actCitusSync(
  deps: CitusSyncDeps,
  action: CitusSyncAction,
  ctx: ActContext<NoMemory>,
): Promise<void> {
  switch (action.kind) {
    case 'set-coordinator-host':
      ctx.log.info('registering the coordinator host', { host: action.host, port: action.port });
      return deps.coordinator.setCoordinatorHost(action.host, action.port);
    default:
      return never(action.kind);
  }
}

/**
 * This agent's marks on a pod (its finalizer, the nodeid it is registered as), by server-side apply as
 * its own field manager: each apply names every mark the pod keeps, since one left out is given up.
 */
async function applyMarks(
  deps: CitusSyncDeps,
  pod: string,
  held: boolean,
  nodeid: number | null,
  signal: AbortSignal,
): Promise<void> {
  const { namespace, finalizer, nodeAnnotation } = deps.config;
  const metadata = {
    name: pod,
    namespace,
    ...(held ? { finalizers: [finalizer] } : {}),
    ...(nodeid === null ? {} : { annotations: { [nodeAnnotation]: String(nodeid) } }),
  };
  await deps.objects.apply(KUBE_RESOURCES.pods, { metadata }, { signal });
}

export async function actWorker(
  deps: CitusSyncDeps,
  key: string,
  action: WorkerAction,
  ctx: ActContext<NoMemory>,
): Promise<void> {
  const c = deps.coordinator;
  switch (action.kind) {
    case 'add-node': {
      const nodeid = await c.addNode(action.address.host, action.address.port);
      ctx.log.info('added worker', { key, nodeid });
      return applyMarks(deps, action.pod, action.held, nodeid, ctx.signal);
    }
    case 'update-node': {
      await c.updateNode(action.nodeid, action.address.host, action.address.port);
      ctx.log.info('renamed worker', { key, nodeid: action.nodeid, from: keyOf(action.from) });
      return;
    }
    case 'activate-node':
      await c.activateNode(action.address.host, action.address.port);
      ctx.log.info('activated worker', { key });
      return;
    case 'disable-node':
      await c.disableNode(action.address.host, action.address.port);
      ctx.log.info('disabled worker', { key });
      return;
    case 'drain-node':
      ctx.log.info('draining worker', { key, shards: action.shards });
      await c.drainNode(action.address.host, action.address.port);
      return;
    case 'remove-node':
      await c.removeNode(action.address.host, action.address.port);
      ctx.log.info('removed worker', { key });
      return;
    case 'record-node':
      return applyMarks(deps, action.pod, action.held, action.nodeid, ctx.signal);
    case 'add-finalizer':
      return applyMarks(deps, action.pod, true, action.nodeid, ctx.signal);
    case 'release-finalizer':
      await applyMarks(deps, action.pod, false, null, ctx.signal);
      ctx.log.info('released the pod', { key, pod: action.pod });
      return;
    default:
      return never(action);
  }
}

/** Citus refusing to remove the only placement of a shard: retried when the pod or the node changes, not before. */
export function workerErrorPolicy(_key: string, error: unknown): ErrorVerdict {
  if (error instanceof CitusError && error.kind === 'conflict')
    return { kind: 'give-up', reason: 'the node holds the only placement of a shard; retried when something changes' };
  return { kind: 'backoff' };
}
