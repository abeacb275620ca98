import type { KeyDecision } from '../../kernel/reconcile.js';
import { keyOf } from '../address-policy.js';
import type { DistNode, PodView, WorkerAction, WorkerObserved } from '../types.js';

const decision = (summary: string, actions: readonly WorkerAction[] = []): KeyDecision<WorkerAction> => ({
  actions,
  summary,
});

/** A pod that should be a member: ready and not being deleted. */
export function isLive(pod: PodView): boolean {
  return pod.ready && !pod.deleting;
}

/** Finalizers to release: this agent's, on pods that are going away. */
function releases(pods: readonly PodView[]): WorkerAction[] {
  return pods.filter((p) => p.held && p.deleting).map((p) => ({ kind: 'release-finalizer', pod: p.name }));
}

function rename(o: WorkerObserved, pod: PodView, former: DistNode, hold: WorkerAction[]): KeyDecision<WorkerAction> {
  const from = { host: former.nodename, port: former.nodeport };
  const moved = `pod ${pod.name} moved from ${keyOf(from)} to ${o.key}`;
  return {
    ...decision(`${moved}: renaming node ${former.nodeid} (citus_update_node keeps its id and shards)`, [
      ...hold,
      { kind: 'update-node', nodeid: former.nodeid, from, address: o.address },
    ]),
    events: [{ severity: 'warn', kind: 'node-renamed', message: `${moved}: node ${former.nodeid} renamed` }],
  };
}

function convergeLive(o: WorkerObserved, pod: PodView): KeyDecision<WorkerAction> {
  const { address, node } = o;
  const hold: WorkerAction[] =
    o.policy === 'drain' && !pod.held ? [{ kind: 'add-finalizer', pod: pod.name, nodeid: pod.recordedNode }] : [];
  const held = pod.held || hold.length > 0;
  if (node === null && o.former !== null) return rename(o, pod, o.former, hold);
  if (node === null)
    return decision(`pod ${pod.name} is ready: adding ${o.key}`, [
      ...hold,
      { kind: 'add-node', address, pod: pod.name, held },
    ]);
  const record: WorkerAction[] =
    pod.recordedNode === node.nodeid ? [] : [{ kind: 'record-node', pod: pod.name, nodeid: node.nodeid, held }];
  if (!node.isactive)
    return decision(`pod ${pod.name} is ready again: activating node ${node.nodeid}`, [
      ...hold,
      { kind: 'activate-node', address },
      ...record,
    ]);
  if (hold.length > 0 || record.length > 0)
    return decision(
      `pod ${pod.name}: ${hold.length > 0 ? 'holding it with the drain finalizer' : `recording node ${node.nodeid} on it`}`,
      [...hold, ...record],
    );
  const drained = node.shouldhaveshards ? '' : ' (drained: gets no new shards)';
  return decision(`node ${node.nodeid} active for pod ${pod.name}${drained}`);
}

function convergeGone(o: WorkerObserved): KeyDecision<WorkerAction> {
  const { address, node, pods } = o;
  const release = releases(pods);
  const why = pods.length === 0 ? 'no pod' : `pod ${pods.map((p) => p.name).join(', ')} ${gone(pods)}`;
  if (node !== null && o.movedTo !== null)
    return decision(`${why}: node ${node.nodeid} moves to ${o.movedTo.key} with pod ${o.movedTo.pod}`, release);
  if (node === null)
    return release.length > 0
      ? decision(`${why}: not registered, releasing the pod`, release)
      : decision(`${why}: not registered`);
  switch (o.policy) {
    case 'disable':
      if (!node.isactive) return decision(`${why}: node ${node.nodeid} disabled`, release);
      return decision(`${why}: disabling node ${node.nodeid}`, [{ kind: 'disable-node', address }, ...release]);
    case 'remove':
      return decision(`${why}: removing node ${node.nodeid}`, [{ kind: 'remove-node', address }, ...release]);
    case 'drain': {
      const drain: WorkerAction[] =
        node.shards > 0 || node.shouldhaveshards ? [{ kind: 'drain-node', address, shards: node.shards }] : [];
      const moving =
        node.shards > 0
          ? `draining ${node.shards} shard placement(s) off node ${node.nodeid}, then removing it`
          : `removing node ${node.nodeid}`;
      return decision(`${why}: ${moving}`, [...drain, { kind: 'remove-node', address }, ...release]);
    }
  }
}

function gone(pods: readonly PodView[]): string {
  if (pods.every((p) => p.deleting)) return 'is being deleted';
  return 'is not ready';
}

/**
 * One worker address, pure: a ready pod gets its node added or re-activated; an address whose pods
 * are gone or not ready gets the removal policy (disable, remove, or drain then remove), and this
 * agent's finalizer is released once the node is out. Nothing is done while the pod list is not
 * synced (a missing pod may only be missing from the cache), nor for two live pods on one address.
 */
export function decideWorker(o: WorkerObserved): KeyDecision<WorkerAction> {
  if (o.node !== null && o.node.groupid === 0) return decision(`${o.key} is the coordinator: not a worker`);
  if (!o.podsSynced) return decision(`${o.key}: waiting for the pod list to sync`);
  const live = o.pods.filter(isLive);
  if (live.length > 1)
    return {
      ...decision(
        `${o.key} is claimed by ${live.length} ready pods (${live.map((p) => p.name).join(', ')}): doing nothing`,
      ),
      events: [
        {
          severity: 'warn',
          kind: 'address-conflict',
          message: `${o.key} is claimed by pods ${live.map((p) => p.name).join(', ')}`,
        },
      ],
    };
  const pod = live[0];
  return pod === undefined ? convergeGone(o) : convergeLive(o, pod);
}
