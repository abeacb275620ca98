import { keyOf } from './address-policy.js';
import { isLive } from './decide/worker.js';
import type { DistNode, PodView } from './types.js';

// A pod keeps the nodeid it was registered as in an annotation; when its address changes, the row is
// renamed (citus_update_node) instead of a second row being added for the same server. Pure: both the
// per-key observation and the pass's published rows use these.

/** The nodeid recorded on the one live pod of `key`, when `key` itself has no row: a candidate rename. */
export function recordedCandidate(claiming: readonly PodView[], node: DistNode | null): number | null {
  const live = claiming.filter(isLive);
  return node === null && live.length === 1 ? live[0]!.recordedNode : null;
}

/** `row` (the candidate's row) as the node to rename to `key`: a worker under another address no live pod claims. */
export function formerRow(key: string, row: DistNode | null, pods: readonly PodView[]): DistNode | null {
  if (row === null || row.groupid === 0) return null;
  const at = keyOf({ host: row.nodename, port: row.nodeport });
  if (at === key) return null;
  return pods.some((p) => isLive(p) && p.address !== null && keyOf(p.address) === at) ? null : row;
}

/** A live pod elsewhere recorded as `node`: the node is moving to the pod's address. */
export function movedTo(
  key: string,
  node: DistNode | null,
  pods: readonly PodView[],
): { readonly pod: string; readonly key: string } | null {
  if (node === null) return null;
  const pod = pods.find(
    (p) => isLive(p) && p.recordedNode === node.nodeid && p.address !== null && keyOf(p.address) !== key,
  );
  return pod === undefined ? null : { pod: pod.name, key: keyOf(pod.address!) };
}
