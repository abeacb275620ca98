import type {
  ClusterView,
  DynamicConfig,
  FailoverConfig,
  FailoverObserved,
  FailoverState,
  MemberReport,
  MemberStatus,
} from '../types.js';
import { msPerSecond } from './step.js';
import { writeCopies } from './write-copies.js';

/**
 * The primary of the record whose report has expired (its daemon is gone): still listed, as
 * unreachable at its last recorded optime, so views show it and a manual failover can replace it.
 */
function silentPrimary(name: string, cluster: ClusterView | null): MemberStatus {
  const endpoint = cluster?.endpoints[name];
  return {
    name,
    role: 'primary',
    state: 'unreachable',
    timeline: null,
    receivedLsn: null,
    replayedLsn: null,
    writtenLsn: cluster?.optimeLsn ?? null,
    lagBytes: null,
    lagSeconds: null,
    sync: false,
    healthy: false,
    apiUrl: '',
    pgUrl: endpoint === undefined ? '' : `postgresql://${endpoint.host}:${endpoint.port}/postgres`,
    lastSeenAt: null,
    noFailover: false,
  };
}

/**
 * What `/state`, the TUI and the probes read after this pass: every member, the leader, the history.
 * `servingWithoutEtcd`: etcd could not be read and this writable server still serves as the primary
 * (within its fence margin, or failsafe), so it stays the published primary and `/primary` stays 200.
 */
export function publishState(
  o: FailoverObserved,
  config: FailoverConfig,
  dyn: DynamicConfig,
  self: MemberReport,
  problem: string | null,
  servingWithoutEtcd = false,
): FailoverState {
  const cluster = o.cluster;
  const reports =
    cluster === null
      ? [self]
      : cluster.members.some((m) => m.name === self.name)
        ? cluster.members.map((m) => (m.name === self.name ? self : m))
        : [...cluster.members, self];
  const primaryName = cluster?.primary?.name ?? (servingWithoutEtcd ? config.node : null);
  const primaryLsn = reports.find((m) => m.name === primaryName)?.writtenLsn ?? cluster?.optimeLsn ?? null;
  const onPrimary = (name: string) =>
    reports.find((m) => m.name === primaryName)?.replication.find((r) => r.name === name);
  const members: MemberStatus[] = reports
    .map((m): MemberStatus => ({
      name: m.name,
      role: m.role,
      state: m.state,
      timeline: m.timeline,
      receivedLsn: m.receivedLsn,
      replayedLsn: m.replayedLsn,
      writtenLsn: m.writtenLsn,
      lagBytes:
        m.role === 'replica' && primaryLsn !== null && m.replayedLsn !== null
          ? Math.max(0, primaryLsn - m.replayedLsn)
          : m.role === 'primary'
            ? 0
            : null,
      lagSeconds: m.role === 'primary' ? 0 : (m.replayLagSeconds ?? onPrimary(m.name)?.replayLagSeconds ?? null),
      syncState: onPrimary(m.name)?.syncState ?? null,
      slots: m.slots ?? [],
      sync: m.sync,
      healthy: ['running', 'streaming'].includes(m.state),
      apiUrl: m.apiUrl,
      pgUrl: `postgresql://${m.host}:${m.port}/postgres`,
      lastSeenAt: m.reportedAt,
      noFailover: m.noFailover,
    }))
    .concat(
      primaryName !== null && !reports.some((m) => m.name === primaryName) ? [silentPrimary(primaryName, cluster)] : [],
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const leader = cluster?.leaderName ?? null;
  const writes = writeCopies(
    dyn,
    reports.find((m) => m.name === primaryName),
  );
  return {
    cluster: config.cluster,
    self: config.node,
    leader:
      leader === null
        ? null
        : {
            name: leader,
            leaseExpiresAt:
              o.etcd.leader && o.etcd.renewedAt !== null ? o.etcd.renewedAt + dyn.ttlSeconds * msPerSecond : null,
          },
    primary: primaryName,
    config: dyn,
    members,
    history: [...(cluster?.history ?? [])].sort((a, b) => b.startedAt - a.startedAt),
    etcdReachable: cluster !== null,
    lastProblem: problem,
    ...(writes === null ? {} : { writes }),
  };
}
