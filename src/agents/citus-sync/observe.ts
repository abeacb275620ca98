import type { DistNode } from '../adapters/citus.js';
import type { ObserveContext } from '../kernel/context.js';
import { errorKind, errorMessage, PgdeckError } from '../kernel/errors.js';
import type { NoMemory } from '../kernel/agent.js';
import { addressOfKey, keyOf, podView } from './address-policy.js';
import type { CitusSyncDeps } from './deps.js';
import { formerRow, movedTo, recordedCandidate } from './move-policy.js';
import type { CitusSyncConfig, CitusSyncObserved, PodView, WorkerObserved } from './types.js';

function podsOf(deps: CitusSyncDeps, config: CitusSyncConfig): readonly PodView[] {
  return deps.pods
    .list()
    .map((p) => podView(p, config))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every worker pod from the informer's cache and every row of pg_dist_node; an outage is a field. */
export async function observeCitusSync(
  deps: CitusSyncDeps,
  _ctx: ObserveContext<NoMemory>,
): Promise<CitusSyncObserved> {
  const { config } = deps;
  const informer = deps.pods.state();
  let nodes: readonly DistNode[] | null = null;
  let coordinatorError: CitusSyncObserved['coordinatorError'] = null;
  try {
    nodes = await deps.coordinator.nodes();
  } catch (error) {
    coordinatorError = { kind: errorKind(error), message: errorMessage(error) };
  }
  return {
    pods: podsOf(deps, config),
    podsSynced: informer.synced,
    podsError: informer.lastError === null ? null : `${informer.lastError.kind}: ${informer.lastError.message}`,
    nodes,
    coordinatorError,
    coordinatorAt: deps.coordinator.connectedTo ?? null,
    config: {
      policy: config.policy,
      addressing: config.addressing,
      namespace: config.namespace,
      labelSelector: config.labelSelector,
    },
  };
}

/** One worker address: the pods of the cache that claim it and its row, read now (a failure throws). */
export async function observeWorker(deps: CitusSyncDeps, key: string): Promise<WorkerObserved> {
  const { config } = deps;
  const address = addressOfKey(key);
  if (address === null) throw new PgdeckError('invalid-argument', `not a worker key: ${key}`);
  const podsSynced = deps.pods.state().synced;
  const all = podsOf(deps, config);
  const pods = all.filter((p) => p.address !== null && keyOf(p.address) === key);
  const node = (await deps.coordinator.node(address.host, address.port)) ?? null;
  const candidate = recordedCandidate(pods, node);
  const row = candidate === null ? null : ((await deps.coordinator.nodeById(candidate)) ?? null);
  return {
    key,
    address,
    pods,
    node,
    podsSynced,
    policy: config.policy,
    former: formerRow(key, row, all),
    movedTo: movedTo(key, node, all),
  };
}
