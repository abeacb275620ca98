import type { ClusterView, FailoverObserved, PeerView } from '../types.js';
import { step, warn, type Step } from './step.js';

/**
 * Whether the peer's daemon process is gone: its API port refuses connections (the host answered
 * with a reset, so no process listens there) while its host is reachable (its postgres answers, or
 * refuses too). A frozen daemon keeps its listening socket, so the kernel accepts and the request
 * times out; a partitioned one does not answer at all: neither is ever taken for dead.
 */
export function daemonGone(peer: PeerView | undefined): boolean {
  return peer !== undefined && peer.api === 'refused' && (peer.pg === 'ok' || peer.pg === 'refused');
}

/**
 * A campaigning daemon deposes a leader whose process is gone instead of waiting for its election
 * lease to run out: it deletes the leader's election key by compare-and-set on its create revision,
 * and the next campaign in line is elected at once. Deposing cannot make two leaders act: every
 * leader write is a transaction that requires the writer's own election key to exist, and a
 * deposed key never comes back.
 */
export function deposeDeadLeader(o: FailoverObserved, cluster: ClusterView, me: string): Step | null {
  const name = cluster.leaderName;
  const campaign = cluster.leaderCampaign;
  if (name === null || name === me || campaign === null) return null;
  if (!daemonGone(o.peers.find((p) => p.name === name))) return null;
  const reason = `the daemon of ${name} is gone (its API refuses connections, its host answers)`;
  const summary = `deposing leader ${name}: ${reason}`;
  return step('leadership', {
    actions: [{ kind: 'depose-leader', name, key: campaign.key, createRevision: campaign.createRevision, reason }],
    summary,
    problem: reason,
    events: [warn('leader-deposed', summary)],
  });
}
