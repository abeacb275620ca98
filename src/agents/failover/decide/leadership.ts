import { chooseCandidate, demotionFailure, primaryFailure } from '../failover-policy.js';
import type {
  ClusterView,
  DynamicConfig,
  FailoverAction,
  FailoverObserved,
  MemberReport,
  PrimaryRecord,
} from '../types.js';
import { deposeDeadLeader } from './dead-leader.js';
import { completeHistory, historyEntry } from './history.js';
import { step, type Step } from './step.js';
import { onRevision, switchover } from './switchover.js';
import { promoteOptions } from './sync-standbys.js';

/**
 * Paused, or no candidate: the primary is not replaced. A primary that reported its own crash is
 * restarted in place under a new generation (its daemon does not restart it on its own).
 */
function restartInPlace(
  record: PrimaryRecord,
  report: MemberReport | undefined,
  now: number,
  why: string,
  problem: string,
): Step {
  if (report === undefined || report.crashedGeneration !== record.generation)
    return step('leadership', { summary: why, problem });
  return step('leadership', {
    actions: [
      {
        kind: 'set-primary',
        record: { ...record, generation: record.generation + 1, since: now },
        history: null,
        clearSwitchover: false,
        resetSync: false,
      },
    ],
    summary: `${why}: restarting ${record.name} in place`,
    problem,
  });
}

/**
 * Detects a failed primary and names the best candidate in its place (or explains why not). A leader
 * that is the winner promotes in the pass that writes the record, not in its next pass.
 */
function failover(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
  now: number,
  me: string,
): Step {
  const report = cluster.members.find((m) => m.name === record.name);
  const peer = o.peers.find((p) => p.name === record.name);
  const failure = primaryFailure(record.name, record.generation, report, peer);
  if (failure === null)
    return report === undefined
      ? step('leadership', { problem: `daemon of ${record.name} is down; its postgres still serves` })
      : step('leadership');
  const signal = failure.signal;
  if (dyn.paused) return restartInPlace(record, report, now, `automatic failover paused: ${signal}`, signal);
  const choice = chooseCandidate({
    cluster,
    peers: o.peers,
    oldPrimary: record.name,
    config: dyn,
    requested: null,
    planned: false,
  });
  if (choice.winner === null)
    return restartInPlace(record, report, now, `${signal}; no failover: ${choice.reason}`, signal);
  const generation = record.generation + 1;
  const entry = historyEntry({
    kind: 'failover',
    generation,
    oldPrimary: record.name,
    winner: choice.winner,
    signal,
    choice,
    now,
  });
  const oldEndpoint = cluster.endpoints[record.name];
  const fence: FailoverAction[] =
    failure.mayBeAlive && oldEndpoint !== undefined ? [{ kind: 'remote-fence', member: oldEndpoint }] : [];
  const summary = `promoting ${choice.winner}: ${signal}; ${choice.reason}`;
  return step('leadership', {
    actions: [
      ...fence,
      {
        kind: 'set-primary',
        record: { name: choice.winner, generation, since: now, demoting: null },
        history: entry,
        clearSwitchover: false,
        resetSync: dyn.synchronousMode,
        ...(choice.winner === me && o.local.status?.inRecovery === true ? { promote: promoteOptions(dyn) } : {}),
      },
    ],
    summary,
    problem: signal,
    events: [
      {
        severity: 'warn',
        kind: 'failover',
        message: summary,
        fields: { candidates: choice.candidates, bytesLost: choice.bytesLost },
      },
    ],
  });
}

/**
 * The demoting primary crashed before its clean shutdown (it reports the crash, or its processes are
 * gone): no shutdown checkpoint will come, so it is a failover now, not a wait for the demotion to time
 * out. The switchover request is cleared with it; with no candidate, the switchover's own timeout holds.
 */
function crashDuringSwitchover(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
  now: number,
  me: string,
): Step | null {
  const report = cluster.members.find((m) => m.name === record.name);
  const peer = o.peers.find((p) => p.name === record.name);
  if (demotionFailure(record, report, peer) === null) return null;
  const replaced = failover(o, cluster, record, dyn, now, me);
  if (!replaced.actions.some((a) => a.kind === 'set-primary')) return null;
  return {
    ...replaced,
    actions: replaced.actions.map((a) =>
      a.kind === 'set-primary' ? { ...a, clearSwitchover: true, ...onRevision(cluster) } : a,
    ),
    summary: `${record.name} crashed during the switchover: ${replaced.summary ?? 'failing over'}`,
  };
}

/**
 * Leadership: a daemon that does not lead campaigns (and deposes a leader whose daemon is gone).
 * The leader keeps the flight recorder, hands the leadership on when it is the primary's own daemon
 * (a dead primary node then costs no election), drives switchovers, and replaces a failed primary.
 */
export function lead(
  o: FailoverObserved,
  cluster: ClusterView,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  if (!o.etcd.leader) {
    if (!o.etcd.campaigning) return [step('leadership', { actions: [{ kind: 'campaign' }] })];
    const depose = deposeDeadLeader(o, cluster, me);
    return depose === null ? [] : [depose];
  }
  const record = cluster.primary;
  if (record === null) return [];
  const history = completeHistory(cluster, record);
  if (record.name === me && cluster.campaigners > 1 && record.demoting === null && cluster.switchover === null)
    return [...history, step('leadership', { actions: [{ kind: 'resign' }] })];
  if (record.demoting !== null && !dyn.paused) {
    const crash = crashDuringSwitchover(o, cluster, record, dyn, now, me);
    if (crash !== null) return [...history, crash];
  }
  if (cluster.switchover !== null || record.demoting !== null)
    return [...history, ...switchover(o, cluster, record, dyn, now, me)];
  return [...history, failover(o, cluster, record, dyn, now, me)];
}
