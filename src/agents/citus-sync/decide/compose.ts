import type { Decision } from '../../kernel/agent.js';
import { coordinatorCandidates, keyOf } from '../address-policy.js';
import { formerRow, movedTo, recordedCandidate } from '../move-policy.js';
import { decideWorker } from './worker.js';
import type {
  CitusSyncAction,
  CitusSyncConfig,
  CitusSyncObserved,
  CitusSyncState,
  DistNode,
  PodView,
  WorkerObserved,
  WorkerRow,
} from '../types.js';

/** Rows of pg_dist_node this agent manages: primaries outside the coordinator's group 0. */
export function workerNodes(nodes: readonly DistNode[]): readonly DistNode[] {
  return nodes.filter((n) => n.groupid !== 0 && n.noderole === 'primary');
}

/** Every worker key of a pass: the addresses of the pods and of the registered workers. */
export function workerKeys(o: CitusSyncObserved): readonly string[] {
  const keys = new Set<string>();
  for (const p of o.pods) if (p.address !== null) keys.add(keyOf(p.address));
  for (const n of workerNodes(o.nodes ?? [])) keys.add(keyOf({ host: n.nodename, port: n.nodeport }));
  return [...keys].sort();
}

/** The same observation a key's own reconcile makes, put together from the pass's. */
export function workerObservation(o: CitusSyncObserved, key: string, node: DistNode | null): WorkerObserved {
  const pods = o.pods.filter((p) => p.address !== null && keyOf(p.address) === key);
  const address = node === null ? pods[0]!.address! : { host: node.nodename, port: node.nodeport };
  const candidate = recordedCandidate(pods, node);
  const row = candidate === null ? null : (o.nodes?.find((n) => n.nodeid === candidate) ?? null);
  return {
    key,
    address,
    pods,
    node,
    podsSynced: o.podsSynced,
    policy: o.config.policy,
    former: formerRow(key, row, o.pods),
    movedTo: movedTo(key, node, o.pods),
  };
}

function rows(o: CitusSyncObserved): WorkerRow[] {
  const byKey = new Map(workerNodes(o.nodes ?? []).map((n) => [keyOf({ host: n.nodename, port: n.nodeport }), n]));
  return workerKeys(o).map((key) => {
    const node = byKey.get(key) ?? null;
    const observed = workerObservation(o, key, node);
    const pod: PodView | undefined = observed.pods.find((p) => p.ready && !p.deleting) ?? observed.pods[0];
    const decided = o.nodes === null ? undefined : decideWorker(observed);
    return {
      key,
      pod: pod?.name ?? null,
      phase: pod?.phase ?? null,
      ready: pod?.ready ?? false,
      deleting: pod?.deleting ?? false,
      address: key,
      nodeid: node?.nodeid ?? null,
      isactive: node?.isactive ?? null,
      shouldhaveshards: node?.shouldhaveshards ?? null,
      shards: node?.shards ?? null,
      pending: decided?.actions.map((a) => a.kind) ?? [],
      summary: decided?.summary ?? 'coordinator unreachable',
    };
  });
}

function coordinatorAction(o: CitusSyncObserved, config: CitusSyncConfig): CitusSyncAction[] {
  if (o.nodes === null || o.nodes.some((n) => n.groupid === 0)) return [];
  const [first] = coordinatorCandidates(config);
  if (first === undefined) return [];
  return [{ kind: 'set-coordinator-host', host: config.coordinatorHost ?? first.host, port: first.port }];
}

/**
 * The single pass, pure: publishes every worker (its pod joined with its row and what its own
 * reconcile will do), and registers the coordinator's host when it is unset. Membership itself is
 * converged per worker by the keyed reconcile.
 */
export function decideCitusSync(
  o: CitusSyncObserved,
  _now: number,
  config: CitusSyncConfig,
): Decision<CitusSyncAction, CitusSyncState> {
  const workers = rows(o);
  const publish: CitusSyncState = {
    coordinator: {
      reachable: o.nodes !== null,
      at: o.coordinatorAt,
      error: o.coordinatorError === null ? null : `${o.coordinatorError.kind}: ${o.coordinatorError.message}`,
    },
    pods: { synced: o.podsSynced, error: o.podsError },
    policy: o.config.policy,
    addressing: o.config.addressing,
    namespace: o.config.namespace,
    labelSelector: o.config.labelSelector,
    workers,
    unaddressed: o.pods.flatMap((p) => (p.addressProblem === null ? [] : [{ pod: p.name, problem: p.addressProblem }])),
  };
  const actions = coordinatorAction(o, config);
  const active = workers.filter((w) => w.isactive === true).length;
  const pending = workers.filter((w) => w.pending.length > 0).length;
  const summary =
    o.nodes === null
      ? `coordinator unreachable (${publish.coordinator.error ?? 'no answer'}): ${o.pods.length} pods seen`
      : `${active}/${workers.length} workers active, ${pending} to converge${actions.length > 0 ? '; registering the coordinator host' : ''}`;
  return { actions, summary, publish, requeueAfterMs: resyncMs(config) };
}

/** The resync that repairs drift (SCAN_INTERVAL_SECONDS): the published state (shards, rows) and each key. */
export const resyncMs = (config: Pick<CitusSyncConfig, 'scanIntervalSeconds'>): number =>
  config.scanIntervalSeconds * 1000;
