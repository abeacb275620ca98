import type { AgentDefinition, NoMemory } from '../kernel/agent.js';
import type { WatchContext } from '../kernel/context.js';
import type { KeyedReconciler } from '../kernel/reconcile.js';
import { actCitusSync, actWorker, workerErrorPolicy } from './act.js';
import { citusSyncActions } from './actions.js';
import { keyOf, podView, type PodObject } from './address-policy.js';
import { citusSyncCliOptions, citusSyncConfigSchema } from './config.js';
import { decideCitusSync, resyncMs, workerKeys } from './decide/compose.js';
import { decideWorker } from './decide/worker.js';
import { connectCitusSync, type CitusSyncDeps } from './deps.js';
import { observeCitusSync, observeWorker } from './observe.js';
import type {
  CitusSyncAction,
  CitusSyncConfig,
  CitusSyncObserved,
  CitusSyncState,
  WorkerAction,
  WorkerObserved,
} from './types.js';

/**
 * Worker keys reconciled at once. A key mostly waits for the one coordinator connection, where the calls
 * made meanwhile go out as one statement, so this bounds a batch: a burst of pods Ready at once costs a
 * few statements, not one per four pods.
 */
const WORKER_CONCURRENCY = 64;

const workers: KeyedReconciler<
  CitusSyncConfig,
  CitusSyncDeps,
  CitusSyncObserved,
  NoMemory,
  WorkerObserved,
  WorkerAction
> = {
  keys: workerKeys,
  observe: (deps, key) => observeWorker(deps, key),
  decide: (observed, _now, config) => {
    const d = decideWorker(observed);
    return { ...d, requeueAfterMs: Math.min(d.requeueAfterMs ?? Infinity, resyncMs(config)) };
  },
  act: actWorker,
  errorPolicy: workerErrorPolicy,
  concurrency: WORKER_CONCURRENCY,
};

/** A pod event reconciles the addresses it had and has at once, and refreshes the published state. */
function watchPods(deps: CitusSyncDeps, ctx: WatchContext<NoMemory>): void {
  const keyOfPod = (pod: PodObject): string | undefined => {
    const address = podView(pod, deps.config).address;
    return address === null ? undefined : keyOf(address);
  };
  const unsubscribe = deps.pods.subscribe((change) => {
    if (change.kind === 'added' || change.kind === 'deleted' || change.kind === 'modified') {
      const keys = new Set([
        keyOfPod(change.object),
        change.kind === 'modified' ? keyOfPod(change.previous) : undefined,
      ]);
      for (const key of keys) if (key !== undefined) ctx.enqueue(key);
    }
    ctx.wake();
  });
  ctx.signal.addEventListener('abort', unsubscribe, { once: true });
}

/**
 * Citus worker membership that follows the pods: an informer on the worker pods wakes it, each worker
 * address is reconciled on its own (add, re-activate, or the removal policy: disable, remove, drain
 * behind a finalizer), and with several replicas a Lease elects the one that acts.
 */
export const citusSyncAgent: AgentDefinition<
  CitusSyncConfig,
  CitusSyncDeps,
  CitusSyncObserved,
  CitusSyncAction,
  CitusSyncState
> = {
  name: 'citus-sync',
  description: 'Citus worker membership (pg_dist_node) that follows the worker pods, drain-aware',
  configSchema: citusSyncConfigSchema,
  cliOptions: citusSyncCliOptions,
  identify: (config) => ({
    entity: `${config.namespace}/${config.labelSelector}`,
    instance: `${config.namespace}/${config.replica}`,
    label: config.replica,
  }),
  connect: connectCitusSync,
  observe: observeCitusSync,
  decide: decideCitusSync,
  act: actCitusSync,
  reachability: (o) => ({ coordinator: o.nodes !== null, kubernetes: o.podsSynced }),
  wakeOn: watchPods,
  reconcile: workers,
  leaderElection: 'kube-lease',
  actions: citusSyncActions,
  close: async (deps) => {
    await deps.coordinator.close();
    await deps.kube.close();
  },
};
