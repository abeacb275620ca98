import type {
  DynamicConfig,
  FailoverState,
  HistoryEntry,
  MemberStatus,
  WriteCopies,
} from '../../../agents/failover/types.js';
import type { SourceView } from '../../module.js';

/** Where a merged member row came from. */
export type RowOrigin = 'own' | 'cluster' | 'stale';

export interface MergedMember extends MemberStatus {
  /** `cluster/member`: the agent instance of its daemon. */
  readonly instance: string;
  /** `own`: its daemon's report; `cluster`: a live daemon's view of it; `stale`: only a stale copy lists it. */
  readonly origin: RowOrigin;
  /** Its own daemon as a source: answering, away, or not attached. */
  readonly daemon: 'live' | 'away' | 'none';
  readonly daemonWhy: string | undefined;
  readonly daemonSource: string | undefined;
  readonly leader: boolean;
}

export interface DaemonInfo {
  readonly label: string;
  readonly sourceId: string;
  readonly live: boolean;
  readonly why: string | undefined;
  readonly where: string;
}

/** One failover cluster as its daemons see it together. */
export interface MergedCluster {
  readonly cluster: string;
  readonly primary: string | null;
  readonly leader: { readonly name: string; readonly leaseExpiresAt: number | null } | null;
  /** A leader the views still name whose own daemon does not answer: not shown as leader. */
  readonly leaderAway: string | null;
  readonly config: DynamicConfig | null;
  readonly members: readonly MergedMember[];
  readonly history: readonly HistoryEntry[];
  readonly daemons: readonly DaemonInfo[];
  /** Some daemon of the cluster answers: the view is current. */
  readonly live: boolean;
  readonly etcdReachable: boolean | null;
  readonly problem: string | null;
  /** Where the primary's writes live (its sentence when they have a single copy); null when unknown. */
  readonly writes: WriteCopies | null;
}

interface View {
  readonly source: SourceView;
  readonly state: FailoverState;
}

export function isFailoverState(state: unknown): state is FailoverState {
  const s = state as Partial<FailoverState> | undefined;
  return typeof s?.cluster === 'string' && Array.isArray(s.members) && Array.isArray(s.history);
}

/**
 * A daemon's snapshot may ride along with others for this long before it is pushed alone (the wire's
 * refresh): a member report newer than its daemon's last snapshot by more shows the daemon still at work.
 */
const SNAPSHOT_REFRESH_MS = 5000;

const newestFirst = (a: View, b: View): number =>
  Number(b.source.live) - Number(a.source.live) || b.source.snapshot.updatedAt - a.source.snapshot.updatedAt;

/**
 * Merges the views of one cluster's daemons: each member's own live report wins for its own row,
 * the cluster's view (the live leader's, else the freshest live one) for the rest; a member only a
 * stale copy still lists stays, as unreachable; a leader whose daemon is away is not shown as leader;
 * only the cluster's primary is shown as primary; history is de-duplicated by entry id.
 */
export function mergeCluster(sources: readonly SourceView[]): MergedCluster {
  const views: View[] = sources.flatMap((source) =>
    isFailoverState(source.snapshot.state) ? [{ source, state: source.snapshot.state }] : [],
  );
  const ordered = [...views].sort(newestFirst);
  const live = ordered.filter((v) => v.source.live);
  const ref = live.find((v) => v.state.leader?.name === v.state.self) ?? ordered[0];
  const cluster = ref?.state.cluster ?? sources[0]?.snapshot.identity.entity ?? '?';
  const daemons: DaemonInfo[] = sources
    .map((s) => ({
      label: s.snapshot.identity.label,
      sourceId: s.id,
      live: s.live,
      why: s.why,
      where: s.where,
    }))
    .sort((a, b) => a.label.localeCompare(b.label) || Number(b.live) - Number(a.live));
  const daemonOf = (name: string): DaemonInfo | undefined => daemons.find((d) => d.label === name);
  const isAway = (name: string): boolean => {
    const d = daemonOf(name);
    return d !== undefined && !d.live;
  };

  const primary = ref?.state.primary ?? null;
  const named = live.length > 0 ? (ref?.state.leader ?? null) : null;
  const leaderAway = named !== null && isAway(named.name) ? named.name : null;
  const leaderView = live.find((v) => v.state.self === named?.name && v.state.leader?.name === v.state.self);
  const leader =
    named === null || leaderAway !== null
      ? null
      : { name: named.name, leaseExpiresAt: leaderView?.state.leader?.leaseExpiresAt ?? named.leaseExpiresAt };

  const names = [...new Set(views.flatMap((v) => v.state.members.map((m) => m.name)))].sort();
  const members = names.map((name) => {
    const pick = pickRow(name, live, ref, ordered, lastWordOf(name, views));
    const d = daemonOf(name);
    const row = pick.row;
    return {
      ...row,
      role: row.role === 'primary' && name !== primary ? ('unknown' as const) : row.role,
      instance: `${cluster}/${name}`,
      origin: pick.origin,
      daemon: d === undefined ? ('none' as const) : d.live ? ('live' as const) : ('away' as const),
      daemonWhy: d?.why,
      daemonSource: d?.sourceId,
      leader: leader?.name === name,
    };
  });
  return {
    cluster,
    primary,
    leader,
    leaderAway,
    config: ref?.state.config ?? null,
    members: withLag(members, primary),
    history: mergeHistory(ordered),
    daemons,
    live: live.length > 0,
    etcdReachable: ref === undefined || live.length === 0 ? null : ref.state.etcdReachable,
    problem: live.length === 0 ? null : (ref?.state.lastProblem ?? null),
    writes: live.length === 0 ? null : (ref?.state.writes ?? null),
  };
}

/** When the member's own daemon, attached but away, last published: undefined when it answers or is not attached. */
function lastWordOf(name: string, views: readonly View[]): number | undefined {
  const own = views.filter((v) => v.source.snapshot.identity.label === name && v.state.self === name);
  if (own.length === 0 || own.some((v) => v.source.live)) return undefined;
  return Math.max(...own.map((v) => v.source.snapshot.updatedAt));
}

const unreachable = (row: MemberStatus): MemberStatus => ({
  ...row,
  state: 'unreachable',
  healthy: false,
  lagBytes: null,
  lagSeconds: null,
});

/**
 * A member's row: its own live daemon's report, else the cluster's view of it, else the freshest
 * stale copy (unreachable). A member whose own daemon stopped answering is unreachable too, until
 * the cluster's view carries a report of it clearly newer than its daemon's last snapshot (its
 * daemon is still at work and only the console lost it), so a kill -9 shows at once, not a pass later.
 */
function pickRow(
  name: string,
  live: readonly View[],
  ref: View | undefined,
  ordered: readonly View[],
  lastWord: number | undefined,
): { row: MemberStatus; origin: RowOrigin } {
  const find = (v: View | undefined): MemberStatus | undefined => v?.state.members.find((m) => m.name === name);
  const own = find(live.find((v) => v.source.snapshot.identity.label === name && v.state.self === name));
  if (own !== undefined) return { row: own, origin: 'own' };
  const silent = (row: MemberStatus): MemberStatus =>
    lastWord !== undefined && (row.lastSeenAt ?? 0) <= lastWord + SNAPSHOT_REFRESH_MS ? unreachable(row) : row;
  const fromRef = ref?.source.live === true ? find(ref) : undefined;
  if (fromRef !== undefined) return { row: silent(fromRef), origin: 'cluster' };
  const freshest = (list: readonly View[]): MemberStatus | undefined =>
    list
      .map(find)
      .filter((m): m is MemberStatus => m !== undefined)
      .sort((a, b) => (b.lastSeenAt ?? 0) - (a.lastSeenAt ?? 0))[0];
  const fromLive = freshest(live);
  if (fromLive !== undefined) return { row: silent(fromLive), origin: 'cluster' };
  return { row: unreachable(freshest(ordered)!), origin: 'stale' };
}

/** Lag recomputed against the merged primary's position, so rows from different daemons agree. */
function withLag(members: readonly MergedMember[], primary: string | null): MergedMember[] {
  const p = members.find((m) => m.name === primary);
  const at = p === undefined || p.origin === 'stale' ? null : (p.writtenLsn ?? p.receivedLsn);
  return members.map((m) =>
    m.role === 'replica' && at !== null && m.replayedLsn !== null && m.origin !== 'stale'
      ? { ...m, lagBytes: Math.max(0, at - m.replayedLsn) }
      : m,
  );
}

/** Each entry once, as the freshest live view has it; newest first. */
function mergeHistory(ordered: readonly View[]): HistoryEntry[] {
  const byId = new Map<string, HistoryEntry>();
  for (const v of ordered) for (const e of v.state.history) if (!byId.has(e.id)) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => b.startedAt - a.startedAt);
}
