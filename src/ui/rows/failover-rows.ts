import type { AgentSnapshot } from '../../agents/kernel/snapshot.js';
import type { FailoverState, HistoryEntry, MemberStatus } from '../../agents/failover/types.js';

export interface MemberRow {
  readonly key: string;
  readonly cluster: string;
  /** The member's name; `name` adds `*` for the leader. */
  readonly member: string;
  readonly name: string;
  readonly role: string;
  readonly state: string;
  readonly timeline: string;
  readonly lsn: string;
  readonly lag: string;
  readonly lagSeconds: string;
  readonly lastSeen: string;
  readonly tone: 'ok' | 'warn' | 'bad' | 'stale';
}

/** The failover agents' published states, read by shape: `state.members` and `state.config` present. */
export function failoverStates(
  agents: readonly AgentSnapshot[],
): { readonly agent: AgentSnapshot; readonly state: FailoverState }[] {
  return agents.flatMap((agent) => {
    const state = agent.state as Partial<FailoverState> | undefined;
    return Array.isArray(state?.members) && state.config !== undefined
      ? [{ agent, state: state as FailoverState }]
      : [];
  });
}

export function memberRows(agents: readonly AgentSnapshot[], now: number): MemberRow[] {
  return failoverStates(agents).flatMap(({ agent, state }) =>
    state.members.map((m) => memberRow(state, m, now, agent.source.stale)),
  );
}

function memberRow(state: FailoverState, m: MemberStatus, now: number, stale: boolean): MemberRow {
  const leader = state.leader?.name === m.name ? '*' : '';
  return {
    key: `${state.cluster}/${m.name}`,
    cluster: state.cluster,
    member: m.name,
    name: `${m.name}${leader}`,
    role: m.sync && m.role === 'replica' ? 'sync replica' : m.role,
    state: m.state,
    timeline: m.timeline === null ? '-' : String(m.timeline),
    lsn: m.receivedLsn === null ? '-' : formatLsn(m.receivedLsn),
    lag: m.lagBytes === null ? '-' : formatBytes(m.lagBytes),
    lagSeconds: m.lagSeconds === null ? '-' : `${m.lagSeconds.toFixed(1)}s`,
    lastSeen: m.lastSeenAt === null ? 'never' : ago(now - m.lastSeenAt),
    tone: stale
      ? 'stale'
      : !m.healthy || m.state === 'crashed' || m.state === 'unreachable'
        ? 'bad'
        : m.state === 'fenced' || (m.lagBytes ?? 0) > state.config.lagBudgetBytes
          ? 'warn'
          : 'ok',
  };
}

/** "leader pg0, lease 4.2 s" for each cluster. */
export function leaderLine(state: FailoverState, now: number): string {
  const paused = state.config.paused ? ' | automatic failover PAUSED' : '';
  if (state.leader === null) return `${state.cluster}: no leader${paused}`;
  const lease =
    state.leader.leaseExpiresAt === null
      ? ''
      : `, lease ${Math.max(0, (state.leader.leaseExpiresAt - now) / 1000).toFixed(1)} s`;
  return `${state.cluster}: leader ${state.leader.name}${lease}, primary ${state.primary ?? 'none'}${state.config.synchronousMode ? ', synchronous' : ''}${paused}`;
}

export interface HistoryRow {
  readonly key: string;
  readonly when: string;
  readonly kind: string;
  readonly change: string;
  readonly signal: string;
  readonly firstWrite: string;
  readonly lost: string;
  readonly outcome: string;
  readonly entry: HistoryEntry;
}

/** The flight recorder of every failover agent, newest first. */
export function historyRows(agents: readonly AgentSnapshot[]): HistoryRow[] {
  const entries = failoverStates(agents).flatMap(({ state }) => state.history);
  return [...entries]
    .sort((a, b) => b.startedAt - a.startedAt)
    .map((e) => ({
      key: e.id,
      when: new Date(e.startedAt).toISOString().slice(11, 19),
      kind: e.kind,
      change: `${e.oldPrimary ?? '?'} -> ${e.newPrimary ?? '?'}`,
      signal: e.signal,
      firstWrite: e.timeToFirstWriteMs === null ? '-' : `${e.timeToFirstWriteMs} ms`,
      lost: e.bytesLost === null ? '?' : formatBytes(e.bytesLost),
      outcome: e.outcome,
      entry: e,
    }));
}

/** The detail pane of one flight-recorder entry, a line each. */
export function historyDetail(e: HistoryEntry): string[] {
  return [
    `${e.kind} ${e.id}: ${e.outcome}${e.message === '' ? '' : ` (${e.message})`}`,
    `signal: ${e.signal}`,
    `reason: ${e.reason}`,
    `primary: ${e.oldPrimary ?? '?'} -> ${e.newPrimary ?? '?'} on timeline ${e.timeline ?? '?'}`,
    `catch-up wait ${e.catchUpWaitMs} ms; time to first write ${e.timeToFirstWriteMs === null ? 'unknown' : `${e.timeToFirstWriteMs} ms`}; lost ${e.bytesLost === null ? 'unknown' : formatBytes(e.bytesLost)}`,
    'candidates:',
    ...e.candidates.map(
      (c) =>
        `  ${c.eligible ? '+' : '-'} ${c.name}  lsn ${c.lsn === null ? '-' : formatLsn(c.lsn)}  lag ${c.lagBytes === null ? '-' : formatBytes(c.lagBytes)}  ${c.reason}`,
    ),
  ];
}

export function formatLsn(lsn: number): string {
  return `${Math.floor(lsn / 2 ** 32)
    .toString(16)
    .toUpperCase()}/${(lsn % 2 ** 32).toString(16).toUpperCase()}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function ago(ms: number): string {
  return ms < 1000 ? 'now' : ms < 60_000 ? `${Math.round(ms / 1000)}s ago` : `${Math.round(ms / 60_000)}m ago`;
}
